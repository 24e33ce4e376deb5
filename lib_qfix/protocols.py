"""The ports the core talks through, and the small parameter records each one receives.

Adapters (A1111, diffusers, tests' fakes) implement the protocols; the fix loop builds each
parameter record once from the options, so no adapter reads an option name.
Images are (H, W, 3) uint8 RGB numpy arrays; masks are (H, W) uint8 with 0..255.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from lib_qfix.options import Options
from lib_qfix.options.groups import CONTROL_MODES as CONTROL_MODES  # re-exported: the option's choices
from lib_qfix.types import Region, ScoreResult


class PassStopped(Exception):
    """Raised by an adapter when the user interrupted or skipped the generation during a pass: the
    pass's output is discarded and the fix loop ends with the best image so far. Not a failure.
    ``reason``: what the infotext says, e.g. "interrupted" or "skipped"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class ControlUnit:
    """One ControlNet unit for an inner pass, host-neutral (the A1111/Forge/diffusers adapters map
    it onto their own unit type).

    ``kind``: the QFix option group it came from ("hand", "face", "body", "inpaint", "tile",
    "depth"); ``module``: preprocessor name ("none" when ``image`` is QFix's own rendering);
    ``model``: "auto" (first installed model whose name contains ``kind``'s keyword) or an exact
    model name; ``weight`` in 0..2; ``guidance_start``/``guidance_end`` in 0..1 (fractions of the
    sampling steps); ``control_mode`` one of :data:`CONTROL_MODES`; ``image``: (H, W, 3) uint8 RGB
    control image at the size of the image being fixed, or None to let ControlNet use the pass's
    own init image and mask (what ``inpaint_only`` and ``tile`` want).
    ``target``: the region kind of the pass it guides ("hand", "face", "text", ...; infotext and
    file names); ``keywords``: words an ``auto`` model name must contain, the most specific first
    (e.g. ("depth_hand", "depth")); the last one names the unit in the infotext.
    """

    kind: str
    module: str = "none"
    model: str = "auto"
    weight: float = 1.0
    guidance_start: float = 0.0
    guidance_end: float = 1.0
    control_mode: str = "balanced"
    image: np.ndarray | None = None
    target: str = ""
    keywords: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The unit's name in the infotext, e.g. "openpose"."""
        return self.keywords[-1] if self.keywords else self.kind


@dataclass(frozen=True)
class InpaintParams:
    """How an inpaint pass samples the masked crop.

    ``padding``: context around the mask box in pixels; ``resolution``: long side of the sampled
    crop in pixels (snapped to 8 by the adapter; with ``guide_size`` > 0 the upper bound);
    ``denoise`` in 0..1; ``steps``/``cfg_scale``/``sampler``/``scheduler``: 0 or "" means "the same
    as the image being fixed".
    """

    padding: int = 32
    resolution: int = 512
    denoise: float = 0.4
    steps: int = 0
    cfg_scale: float = 0.0
    sampler: str = ""
    scheduler: str = ""
    #: ControlNet units for this pass (empty: unguided); the loop fills them per region kind
    units: tuple[ControlUnit, ...] = ()
    #: minimum sampled long side in pixels for small crops (0 = off: always ``resolution``); the
    #: rule is :func:`lib_qfix.fix.sampling.sampled_long_side`
    guide_size: int = 0

    @classmethod
    def from_options(cls, options: Options) -> InpaintParams:
        return cls(int(options.inpaint_padding), int(options.inpaint_resolution), float(options.denoise),
                   int(options.steps), float(options.cfg_scale), str(options.sampler), str(options.scheduler),
                   guide_size=int(options.guide_size))


@dataclass(frozen=True)
class RestoreParams:
    """Face restoration: ``restorer`` is a restorer name ("none" = off); ``visibility`` in 0..1 is
    the blend of the restored face; ``codeformer_weight`` in 0..1 (0 = most restoration)."""

    restorer: str = "none"
    visibility: float = 1.0
    codeformer_weight: float = 0.5

    @classmethod
    def from_options(cls, options: Options) -> RestoreParams:
        return cls(str(options.face_restorer), float(options.restore_visibility),
                   float(options.codeformer_weight))

    @property
    def enabled(self) -> bool:
        return self.restorer != "none"


@runtime_checkable
class Scorer(Protocol):
    """Scores images for quality. ``name`` and ``version`` identify results in caches."""

    name: str
    version: str

    def score(self, images: Sequence[np.ndarray], prompts: Sequence[str] | None = None) -> list[ScoreResult]:
        """One :class:`ScoreResult` per image, in order; ``quality`` in 0..1."""
        ...


@runtime_checkable
class Detector(Protocol):
    """Finds regions of one family (faces, hands, text) and judges them ok/defect."""

    name: str

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Regions found in ``image`` under ``options`` (confidence, size limits, …)."""
        ...


@runtime_checkable
class Inpainter(Protocol):
    """Repaints the masked part of an image (A1111: an inner img2img "only masked" pass)."""

    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
                params: InpaintParams) -> np.ndarray:
        """The image with the masked area repainted; same size as ``image``."""
        ...


@runtime_checkable
class FaceRestorer(Protocol):
    """Restores faces (A1111: GFPGAN/CodeFormer through modules.face_restoration)."""

    def restore(self, image: np.ndarray, mask: np.ndarray, params: RestoreParams) -> np.ndarray:
        """The image with faces inside ``mask`` restored; same size as ``image``."""
        ...


@runtime_checkable
class Upscaler(Protocol):
    """Enlarges a whole image (A1111: one of ``shared.sd_upscalers``, e.g. R-ESRGAN 4x+, Lanczos)."""

    def upscale(self, image: np.ndarray, factor: float, name: str) -> np.ndarray:
        """``image`` enlarged ``factor`` times (1..4) with the upscaler called ``name``; the result is
        exactly :func:`lib_qfix.fix.upscale_step.target_size` of the input. Raises LookupError when the
        host has no upscaler of that name (the caller falls back to a Lanczos resize and says so)."""
        ...
