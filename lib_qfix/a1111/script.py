"""The always-on script "QFix" for txt2img and img2img.

All work happens in ``postprocess_image`` (after hires fix and A1111's own face restoration):
score -> diagnose -> fix loop -> ``pp.image`` replaced by the best result. A generation never fails
because of QFix: every error leaves the image untouched and is written to the infotext as
``QFix error: <field>: <why>``.
"""

from __future__ import annotations

import logging
from typing import Any

from modules import scripts

from lib_qfix import diagnose as diagnosis  # the module: tests and hosts may swap its diagnose
from lib_qfix.a1111 import settings
from lib_qfix.a1111.args import ParsedArgs, parse_args
from lib_qfix.a1111.inpainter import A1111Inpainter, A1111Regenerator, image_index, stop_reason
from lib_qfix.a1111.restorer import A1111FaceRestorer
from lib_qfix.a1111.upscaler import upscale_for
from lib_qfix.fix.infotext import WARNINGS, error_infotext, outcome_infotext
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.fix.upscale_step import upscale_infotext
from lib_qfix.imageio import to_rgb_array
from lib_qfix.scoring import per_image, scorer_for

log = logging.getLogger("qfix")
TITLE = "QFix"


def set_infotext(p: Any, index: int, pairs: dict[str, Any]) -> None:
    """Write ``pairs`` for image ``index`` as per-image lists in ``p.extra_generation_params``
    (``create_infotext`` picks ``value[index]``; None entries are left out)."""
    n = max(int(p.n_iter) * int(p.batch_size), index + 1)
    params = p.extra_generation_params
    for key, value in pairs.items():
        cur = params.get(key)
        if not isinstance(cur, list):
            cur = []
        if len(cur) < n:
            cur = cur + [None] * (n - len(cur))
            params[key] = cur
        cur[index] = value


class QFixScript(scripts.Script):
    # Forge: the panel's place in the UI only. When the hooks run (after the scripts that change the
    # image) is declared in metadata.ini, which A1111 and Forge both read.
    sorting_priority = 20

    def __init__(self) -> None:
        super().__init__()
        self.infotext_fields: list[tuple[Any, str]] = []
        self.paste_field_names: list[str] = []

    def title(self) -> str:
        return TITLE

    def show(self, is_img2img: bool) -> Any:
        return scripts.AlwaysVisible

    def ui(self, is_img2img: bool) -> list[Any]:
        from lib_qfix.a1111.ui import build_panel

        components, fields = build_panel(is_img2img)
        self.infotext_fields = fields
        self.paste_field_names = [key for _, key in fields]
        return components

    def postprocess_image(self, p: Any, pp: Any, *args: Any) -> None:
        index = 0
        parsed: ParsedArgs | None = None
        try:
            index = image_index(p)
            parsed = parse_args(args, settings.default_preset(), settings.user_preset_dir())
            if not parsed.options.enable:
                return
            self._fix(p, pp, index, parsed)
        except Exception as e:  # never fail the generation; say why in the infotext
            log.warning("QFix: image %s left untouched: %s", index, e, exc_info=parsed is not None)
            try:
                set_infotext(p, index, error_infotext(e, parsed.options if parsed else None,
                                                      parsed.baseline if parsed else None))
            except Exception:
                log.exception("QFix: could not write the error to the infotext")

    def _fix(self, p: Any, pp: Any, index: int, parsed: ParsedArgs) -> None:
        import numpy as np
        from PIL import Image

        options = settings.apply_device(parsed.options)
        models = settings.use_models_dir()
        prompt = p.all_prompts[index]
        negative = p.all_negative_prompts[index]
        seed = int(p.all_seeds[index])
        image = to_rgb_array(pp.image)
        scorer, warnings = scorer_for(options, models)
        scorer = per_image(scorer)  # the LLM judge: at most judge_calls calls for this image's versions

        def diag(img: np.ndarray) -> Any:
            return diagnosis.diagnose(img, options, scorer=scorer, prompt=prompt)

        regenerate = None
        if options.regenerate and options.regenerate_rounds > 0:
            try:
                regenerate = A1111Regenerator(p, index)
            except TypeError as e:
                warnings.append(str(e))
        inpainter = A1111Inpainter(p, index)
        outcome = run_fix_loop(image, options, diagnose=diag, inpainter=inpainter,
                               restorer=A1111FaceRestorer(), prompt=prompt, negative=negative, seed=seed,
                               regenerate=regenerate, should_stop=stop_reason)
        # the optional last step (upscale + tiled detail pass), judged at its own size; off: (None, [])
        up, up_notes = upscale_for(p, inpainter, outcome.image, options, scorer, prompt, negative, seed)
        pairs = outcome_infotext(outcome, options, parsed.baseline)
        pairs.update(upscale_infotext(up) if up is not None else {})
        save_before = settings.save_before() and not p.do_not_save_samples
        # ControlNet: units used per pass, notes; control images saved with the "before" copy
        pairs.update(inpainter.controlnet.finish(index, save_before))
        notes = list(warnings) + list(outcome.report_before.warnings) + up_notes
        if notes:
            pairs[WARNINGS] = settings.public_text("; ".join(notes))
        if outcome.changed or up is not None:
            if save_before:
                self._save_before(p, pp.image, index)
            pp.image = Image.fromarray(outcome.image if up is None else up.image)
        set_infotext(p, index, pairs)

    @staticmethod
    def _save_before(p: Any, before: Any, index: int) -> None:
        from modules import images, processing, shared

        try:
            # the image's own generation parameters (its QFix keys are not set yet), so the copy can be
            # pasted back and re-created; without info= A1111 writes the text "None"
            info = processing.create_infotext(p, p.all_prompts, p.all_seeds, p.all_subseeds, index=index)
            images.save_image(before, p.outpath_samples, "", p.all_seeds[index], p.all_prompts[index],
                              shared.opts.samples_format, info=info, p=p, suffix="-qfix-before")
        except Exception as e:  # saving the "before" copy is a convenience; the fix still counts
            log.warning("QFix: could not save the before image: %s", e)
