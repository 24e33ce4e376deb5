"""Fix images with a diffusers pipeline from a script or a notebook.

>>> from lib_qfix.diffusers_host import fix_image
>>> outcome = fix_image(image, pipe=pipe, prompt="a portrait", seed=42)
>>> outcome.image, outcome.result(), outcome.fixed_summary()

``pipe`` is any Stable Diffusion text-to-image (or inpaint) pipeline the caller already has, on the
device and in the precision the caller chose; QFix derives the inpaint and ControlNet pipelines from
it (shared weights, :class:`~lib_qfix.diffusers_host.inpainter.PipelineViews`) and never moves it.
The result is the same :class:`~lib_qfix.fix.outcome.FixOutcome` the A1111 script works with.
:class:`DiffusersFixer` also returns the infotext pairs QFix writes (``qfix fix`` uses it).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from lib_qfix import diagnose as diagnosis
from lib_qfix.diffusers_host.controlnet import ControlNets, ControlRecord
from lib_qfix.diffusers_host.inpainter import (
    DiffusersInpainter,
    DiffusersRegenerator,
    PipelineViews,
    Sampling,
)
from lib_qfix.fix.infotext import WARNINGS, outcome_infotext
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.fix.outcome import FixOutcome
from lib_qfix.imageio import check_rgb, to_rgb_array
from lib_qfix.options import DEFAULTS, Options
from lib_qfix.scoring import per_image, scorer_config, scorer_for
from lib_qfix.types import ImageReport

#: what the A1111 host does that this one does not; said in the image's notes when asked for
NO_RESTORER = "face restoration: no restorer outside A1111 (skipped)"
NO_UPSCALE = "upscale step: only inside A1111 (skipped)"


@dataclass(frozen=True, eq=False)
class FixRun:
    """One image's fix: the loop's ``outcome`` and the QFix infotext ``pairs`` for the result
    (options, scores, what was fixed, ControlNet units used, notes and warnings)."""

    outcome: FixOutcome
    pairs: dict[str, Any]


class DiffusersFixer:
    """The fix loop on one diffusers pipeline (built once, then :meth:`run` per image).
    ``controlnets``: name -> model folder/file/hub id or loaded ``ControlNetModel`` (names as in
    ``--controlnet``, e.g. "openpose"); ``models_dir``: where the scorer looks for weights."""

    def __init__(self, pipe: Any, controlnets: ControlNets | Mapping[str, Any] | None = None,
                 models_dir: str | None = None):
        self.views = PipelineViews(pipe)
        if controlnets is not None and not isinstance(controlnets, ControlNets):
            controlnets = ControlNets(controlnets, getattr(pipe, "device", None), getattr(pipe, "dtype", None))
        self.controlnets = controlnets
        self.models_dir = models_dir
        self._scorers: dict[str, tuple[Any, list[str]]] = {}

    def scorer(self, options: Options) -> tuple[Any, list[str]]:
        """(scorer, warnings) for ``options``, built once per scorer configuration."""
        key = repr((options.scorer, scorer_config(options, self.models_dir)))
        if key not in self._scorers:
            self._scorers[key] = scorer_for(options, self.models_dir)
        return self._scorers[key]

    def run(self, image: np.ndarray, options: Options, *, prompt: str = "", negative: str = "", seed: int = 0,
            sampling: Sampling = Sampling(), baseline: Options | None = None,
            diagnose: Callable[[np.ndarray], ImageReport] | None = None,
            should_stop: Callable[[], str | None] | None = None) -> FixRun:
        """Fix one (H, W, 3) uint8 RGB image generated from ``prompt``/``negative`` on ``seed``.
        ``diagnose`` replaces the real diagnosis (score + detectors); ``baseline``: the preset the
        infotext's option keys are a difference from."""
        image = check_rgb(image)
        scorer, warnings = self.scorer(options)
        scorer = per_image(scorer)
        if diagnose is None:
            def diagnose(img: np.ndarray) -> ImageReport:
                return diagnosis.diagnose(img, options, scorer=scorer, prompt=prompt)

        record = ControlRecord()
        if options.face_restorer != "none":
            record.note(NO_RESTORER)
        if options.upscale:
            record.note(NO_UPSCALE)
        inpainter = DiffusersInpainter(self.views, sampling, self.controlnets, record)
        regenerate = None
        if options.regenerate and options.regenerate_rounds > 0:
            regenerate = DiffusersRegenerator(self.views, prompt, (image.shape[1], image.shape[0]), sampling, record)
        kwargs: dict[str, Any] = {"should_stop": should_stop} if should_stop is not None else {}
        outcome = run_fix_loop(image, options, diagnose=diagnose, inpainter=inpainter, restorer=None, prompt=prompt,
                               negative=negative, seed=int(seed), regenerate=regenerate, **kwargs)
        pairs = outcome_infotext(outcome, options, baseline)
        pairs.update(record.pairs())
        notes = list(warnings) + list(outcome.report_before.warnings)
        if notes:
            pairs[WARNINGS] = "; ".join(notes)
        return FixRun(outcome, pairs)


_fixers: weakref.WeakKeyDictionary[Any, DiffusersFixer] = weakref.WeakKeyDictionary()


def fix_image(image: np.ndarray | Image.Image, pipe: Any, options: Options | None = None, *, prompt: str = "",
              negative: str = "", seed: int = 0, steps: int = 0, cfg_scale: float = 0.0, sampler: str = "",
              schedule: str = "", controlnets: Mapping[str, Any] | None = None,
              diagnose: Callable[[np.ndarray], ImageReport] | None = None) -> FixOutcome:
    """Diagnose and fix ``image`` (RGB array or PIL image) with ``pipe``; returns the
    :class:`~lib_qfix.fix.outcome.FixOutcome` (``outcome.image`` is the best result, never worse
    than the input). ``options``: QFix options (default: the defaults; QFix is switched on whatever
    ``enable`` says). ``steps``/``cfg_scale``/``sampler``/``schedule``: how the image was sampled
    (0/"" = 20 steps, CFG 7, the pipeline's scheduler); ``controlnets``: name -> ControlNet model."""
    arr = to_rgb_array(image) if isinstance(image, Image.Image) else image
    opts = (options or DEFAULTS).replace(enable=True)
    fixer = _fixers.get(pipe) if controlnets is None else None
    if fixer is None:
        fixer = DiffusersFixer(pipe, controlnets)
        if controlnets is None:
            _fixers[pipe] = fixer
    sampling = Sampling(steps or Sampling.steps, cfg_scale or Sampling.cfg_scale, sampler, schedule)
    return fixer.run(arr, opts, prompt=prompt, negative=negative, seed=seed, sampling=sampling,
                     diagnose=diagnose).outcome
