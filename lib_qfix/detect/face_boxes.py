"""Raw MediaPipe face detections (boxes, scores, 6 keypoints), shared by the face and hand detectors.

Full-range detection (model_selection=1, faces up to ~5 m) runs first; the short-range model
(model_selection=0, close-ups) runs only when full-range finds nothing, which keeps the common case
at one call. When no face is found, or the faces found are small (short side <
:data:`GROUP_FACE_FRACTION` of the image's long side: a group photo), full-range also runs on a 2x2
grid of overlapping tiles, because the model sees the image at 192 px and misses faces of ~40 px in
a 512 px image. (Images without faces therefore cost five detector calls, ~25 ms at 512 px.) Results for the last few images are memoised by content digest, so the hand detector
(which uses faces as person anchors) does not pay for a second face pass on the same image.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from lib_qfix.detect.mediapipe_runtime import backend, confidence_floor, solution
from lib_qfix.detect.mp_results import FaceBox
from lib_qfix.detect.nms import nms

#: MediaPipe face-detection keypoint order
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")


@dataclass(frozen=True)
class RawFace:
    """One face: ``box`` in pixels as MediaPipe gives it (may extend past the frame: a cut face),
    ``score`` in 0..1, ``keypoints`` six (x, y) pixels in :data:`KEYPOINTS` order, ``model``
    "full" or "short"."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...]
    model: str


GROUP_FACE_FRACTION = 0.1
TILE_FRACTION = 0.6


def grid_tiles(width: int, height: int, fraction: float = TILE_FRACTION) -> list[tuple[int, int, int, int]]:
    """Four overlapping tiles (each ``fraction`` of each side) covering the image."""
    tw, th = int(round(width * fraction)), int(round(height * fraction))
    return [(x, y, x + tw, y + th) for y in (0, height - th) for x in (0, width - tw)]


_memo: OrderedDict[tuple, tuple[RawFace, ...]] = OrderedDict()
_memo_lock = threading.Lock()


def _digest(image: np.ndarray) -> bytes:
    return hashlib.blake2b(image.tobytes(), digest_size=16).digest()


def _to_pixels(found: list[FaceBox], width: int, height: int, model: str, dx: int = 0,
               dy: int = 0) -> list[RawFace]:
    """Backend results (fractions of a ``width`` x ``height`` input placed at ``dx``, ``dy``) in pixels."""
    out = []
    for f in found:
        x0, y0, x1, y1 = f.box
        kps = tuple((x * width + dx, y * height + dy) for x, y in f.keypoints)
        out.append(RawFace((x0 * width + dx, y0 * height + dy, x1 * width + dx, y1 * height + dy), f.score, kps, model))
    return out


def detect_face_boxes(image: np.ndarray, min_confidence: float) -> tuple[RawFace, ...]:
    """Faces in ``image`` ((H, W, 3) uint8 RGB) with score >= ``min_confidence``, best first."""
    h, w = image.shape[:2]
    floor = confidence_floor(min_confidence)
    key = (_digest(image), image.shape, floor, backend())
    with _memo_lock:
        if key in _memo:
            found = _memo[key]
            return tuple(f for f in found if f.score >= min_confidence)
    full = solution("face_detection", model_selection=1, min_detection_confidence=floor)
    faces = _to_pixels(full.run(image), w, h, "full")
    if not faces:
        faces = _to_pixels(solution("face_detection", model_selection=0, min_detection_confidence=floor).run(image),
                           w, h, "short")
    small = [min(f.box[2] - f.box[0], f.box[3] - f.box[1]) < GROUP_FACE_FRACTION * max(h, w) for f in faces]
    if min(h, w) >= 256 and (not faces or any(small)):
        for x0, y0, x1, y1 in grid_tiles(w, h):
            faces += _to_pixels(full.run(image[y0:y1, x0:x1]), x1 - x0, y1 - y0, "full", x0, y0)
    keep = nms([f.box for f in faces], [f.score for f in faces], 0.3, 0.6)
    found = tuple(faces[i] for i in keep)
    with _memo_lock:
        _memo[key] = found
        while len(_memo) > 4:
            _memo.popitem(last=False)
    return tuple(f for f in found if f.score >= min_confidence)


def clear_memo() -> None:
    """Forget memoised detections (benchmarks timing a cold pass; tests)."""
    with _memo_lock:
        _memo.clear()
