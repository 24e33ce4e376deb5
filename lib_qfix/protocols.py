"""The ports the core talks through. Adapters (A1111, tests' fakes) implement them.

Images are (H, W, 3) uint8 RGB numpy arrays; masks are (H, W) uint8 with 0..255.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from lib_qfix.types import Region, ScoreResult


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

    def detect(self, image: np.ndarray, options: Any, prompt: str = "") -> list[Region]:
        """Regions found in ``image`` under ``options`` (confidence, size limits, …)."""
        ...


@runtime_checkable
class Inpainter(Protocol):
    """Repaints the masked part of an image (A1111: an inner img2img "only masked" pass)."""

    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
                options: Any) -> np.ndarray:
        """The image with the masked area repainted; same size as ``image``."""
        ...


@runtime_checkable
class FaceRestorer(Protocol):
    """Restores faces (A1111: GFPGAN/CodeFormer through modules.face_restoration)."""

    def restore(self, image: np.ndarray, mask: np.ndarray, options: Any) -> np.ndarray:
        """The image with faces inside ``mask`` restored; same size as ``image``."""
        ...
