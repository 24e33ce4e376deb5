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
from lib_qfix.types import Region, ScoreResult


@dataclass(frozen=True)
class InpaintParams:
    """How an inpaint pass samples the masked crop.

    ``padding``: context around the mask box in pixels; ``resolution``: long side of the sampled
    crop in pixels (snapped to 8 by the adapter); ``denoise`` in 0..1; ``steps``/``cfg_scale``/
    ``sampler``/``scheduler``: 0 or "" means "the same as the image being fixed".
    """

    padding: int = 32
    resolution: int = 512
    denoise: float = 0.4
    steps: int = 0
    cfg_scale: float = 0.0
    sampler: str = ""
    scheduler: str = ""

    @classmethod
    def from_options(cls, options: Options) -> InpaintParams:
        return cls(int(options.inpaint_padding), int(options.inpaint_resolution), float(options.denoise),
                   int(options.steps), float(options.cfg_scale), str(options.sampler), str(options.scheduler))


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
