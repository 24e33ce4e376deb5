"""The :class:`~lib_qfix.protocols.Upscaler` port on A1111's own upscalers (``shared.sd_upscalers``).

Facts (A1111 1.10.1 ``modules/upscaler.py``, docs/a1111.md "Upscalers"): each entry is an
``UpscalerData`` with ``.name`` and ``.scaler.upscale(img, scale, data_path)``; the result is snapped
down to multiples of 8, so it is resized here to exactly the size asked for. Model upscalers
(R-ESRGAN, ESRGAN, SwinIR) load their weights through spandrel from ``models/<kind>``, or download
them on first use; a model that cannot load makes A1111 return a plain Lanczos resize silently.
A name the host does not list raises LookupError naming what it has (the step then resizes with
Lanczos itself and notes it). Names match exactly, else case-insensitively.

:func:`upscale_for` runs the step (:mod:`lib_qfix.fix.upscale_step`) for one image of ``p``, with
the script's inpainter (the loaded model) for the detail pass; :func:`skip_reason` says when it must not run: img2img
inpainting composites its output over the original *at the original size* after
``postprocess_image`` (``apply_overlay``: ``alpha_composite`` needs equal sizes, and "only masked"
resizes the output into the paste box), so a larger image there would fail the generation or be
shrunk back.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PIL import Image

from lib_qfix.a1111.inpainter import A1111Inpainter, stop_reason
from lib_qfix.errors import error_text
from lib_qfix.fix.upscale_step import UpscaleOutcome, lanczos, run_upscale, target_size, wanted
from lib_qfix.imageio import to_rgb_array
from lib_qfix.options import Options
from lib_qfix.protocols import Scorer

log = logging.getLogger("qfix")
#: names listed in the "not found" note before it says how many more there are
_LISTED = 8


def find_upscaler(name: str) -> Any:
    """The host's ``UpscalerData`` called ``name``; LookupError naming the available ones if none."""
    from modules import shared

    found = list(getattr(shared, "sd_upscalers", None) or [])
    for match in (lambda u: u.name == name, lambda u: str(u.name).lower() == name.strip().lower()):
        hit = next((u for u in found if match(u)), None)
        if hit is not None:
            return hit
    names = [str(u.name) for u in found]
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    have = ", ".join(repr(n) for n in names[:_LISTED]) + more if names else "none"
    raise LookupError(f"upscaler {name!r} not found (the host has {have})")


class A1111Upscaler:
    """:class:`~lib_qfix.protocols.Upscaler` through ``shared.sd_upscalers``."""

    def upscale(self, image: np.ndarray, factor: float, name: str) -> np.ndarray:
        data = find_upscaler(name)
        h, w = image.shape[:2]
        out = data.scaler.upscale(Image.fromarray(image), factor, data.data_path)
        _free_memory()
        return lanczos(to_rgb_array(out), target_size(w, h, factor))


def _free_memory() -> None:
    """Free the upscaler model's GPU memory before the detail pass samples (as SD upscale does)."""
    try:
        from modules import devices
    except ImportError:  # outside A1111 (the fake host has no devices module)
        return
    devices.torch_gc()


def skip_reason(p: Any) -> str | None:
    """Why the upscale step must not run for ``p`` (a note for the infotext), or None."""
    from modules import shared

    stop = stop_reason()
    if stop:
        return f"upscale: skipped ({stop})"
    if getattr(p, "overlay_images", None) and getattr(shared.opts, "overlay_inpaint", True):
        return "upscale: skipped (img2img inpainting composites the result over the original at its size)"
    return None


def upscale_for(p: Any, inpainter: A1111Inpainter, image: np.ndarray, options: Options, scorer: Scorer,
                prompt: str, negative: str, seed: int) -> tuple[UpscaleOutcome | None, list[str]]:
    """The upscale step for the image ``inpainter`` fixes (the script's own inpainter, so that the
    detail pass's ControlNet units are recorded with the fixes'): (outcome, notes), or (None, notes)
    when the step is off (``upscale`` off, mode "score_only") or must be skipped (:func:`skip_reason`).
    The score is the fix loop's scorer on the image's own prompt; Interrupt/Skip stop between tiles."""
    if not wanted(options):
        return None, []
    skip = skip_reason(p)
    if skip:
        return None, [skip]

    def score(img: np.ndarray) -> float | None:
        return scorer.score([img], [prompt])[0].quality

    try:
        out = run_upscale(image, options, upscaler=A1111Upscaler(), score=score, inpainter=inpainter,
                          prompt=prompt, negative=negative, seed=seed, should_stop=stop_reason)
    except Exception as e:  # the fixes before it still count: the image stays at its size, with a note
        log.warning("QFix: upscale failed: %s", e, exc_info=True)
        return None, [f"upscale: failed ({error_text(e)})"]
    return out, list(out.notes)
