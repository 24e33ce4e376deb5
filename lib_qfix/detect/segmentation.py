"""Subject segmentation: MediaPipe's selfie segmentation (general model, 256x256 input), one mask
per image, memoised by content for the last 4 images (as the face boxes are).

Backends follow :func:`lib_qfix.detect.mediapipe_runtime.backend`: ``legacy`` runs
``mp.solutions.selfie_segmentation`` (model inside mediapipe 0.10.9-0.10.21 wheels); ``tasks`` runs
the Tasks ``ImageSegmenter`` on ``selfie_segmentation.tflite`` fetched once into the models folder
(:mod:`lib_qfix.detect.mp_models`: the same file the legacy wheels bundle, pinned by SHA-256; both
give identical masks). The model is trained on people, but it marks most salient foreground
subjects (animals, a cup); masks of non-people are softer (:attr:`Subject.decisiveness`).
~5-15 ms per 512 px image on one core.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from lib_qfix.detect import mp_models
from lib_qfix.detect.mediapipe_runtime import LockedSolution, backend, import_mediapipe

MODEL = "selfie_segmentation.tflite"
#: mask value from which a pixel belongs to the subject
THRESHOLD = 0.5
_solutions: dict[str, LockedSolution] = {}
_lock = threading.Lock()
_memo: OrderedDict[tuple, Subject] = OrderedDict()


@dataclass(frozen=True, eq=False)
class Subject:
    """The segmentation of one image. ``mask``: (H, W) float32 0..1 at the image size; ``box``:
    the bounding box (x0, y0, x1, y1) of mask >= :data:`THRESHOLD` (None when empty); ``area``:
    that fraction of the image; ``decisiveness``: mean |2 m - 1| over the subject's surroundings
    (0..1: 1 = a crisp mask, as on people; animals and objects score 0.6-0.8)."""

    mask: np.ndarray
    box: tuple[int, int, int, int] | None
    area: float
    decisiveness: float

    @property
    def binary(self) -> np.ndarray:
        return self.mask >= THRESHOLD


def _build(name: str) -> Any:
    mp = import_mediapipe()
    if name == "legacy":
        seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        return lambda rgb: np.asarray(seg.process(rgb).segmentation_mask, np.float32)
    from mediapipe.tasks.python import BaseOptions, vision

    obj = vision.ImageSegmenter.create_from_options(vision.ImageSegmenterOptions(
        base_options=BaseOptions(model_asset_path=str(mp_models.model_path(MODEL))),
        output_confidence_masks=True, output_category_mask=False))
    atexit.register(_close, obj)  # as mp_tasks does: a Tasks object collected after shutdown prints a traceback

    def run(rgb: np.ndarray) -> np.ndarray:
        out = obj.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        return np.array(out.confidence_masks[0].numpy_view(), np.float32).reshape(rgb.shape[:2])

    return run


def _close(obj: Any) -> None:
    try:
        obj.close()
    except Exception:  # closing at exit must never raise
        pass


def _solution() -> LockedSolution:
    name = backend()
    with _lock:
        if name not in _solutions:
            _solutions[name] = LockedSolution(lambda: _build(name))
        return _solutions[name]


def subject(image: np.ndarray) -> Subject:
    """The subject of an (H, W, 3) uint8 RGB image (memoised for the last 4 images)."""
    key = (hashlib.blake2b(image.tobytes(), digest_size=16).digest(), image.shape, backend())
    with _lock:
        if key in _memo:
            return _memo[key]
    mask = np.clip(_solution().run(image), 0.0, 1.0)
    on = mask >= THRESHOLD
    ys, xs = np.nonzero(on)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if xs.size else None
    found = Subject(mask, box, float(on.mean()), _decisiveness(mask))
    with _lock:
        _memo[key] = found
        while len(_memo) > 4:
            _memo.popitem(last=False)
    return found


def _decisiveness(mask: np.ndarray) -> float:
    """Mean |2 m - 1| where the mask is not plain background (m > 0.05): how crisp the subject is."""
    near = mask > 0.05
    if not near.any():
        return 1.0
    return float(np.abs(2.0 * mask[near] - 1.0).mean())


def clear() -> None:
    """Forget memoised masks and built segmenters (tests switching backends)."""
    with _lock:
        _memo.clear()
        _solutions.clear()
