"""Raw MediaPipe face detections (boxes, scores, 6 keypoints), shared by the face and hand detectors.

Full-range detection (model_selection=1, faces up to ~5 m) runs first; the short-range model
(model_selection=0, close-ups) runs only when full-range finds nothing, which keeps the common case
at one call. Results for the last few images are memoised by content digest, so the hand detector
(which uses faces as person anchors) does not pay for a second face pass on the same image.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from lib_qfix.detect.mediapipe_runtime import confidence_floor, solution
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


_memo: OrderedDict[tuple, tuple[RawFace, ...]] = OrderedDict()
_memo_lock = threading.Lock()


def _digest(image: np.ndarray) -> bytes:
    return hashlib.blake2b(image.tobytes(), digest_size=16).digest()


def _converter(width: int, height: int, model: str):
    def convert(result) -> list[RawFace]:
        out = []
        for det in result.detections or ():
            rb = det.location_data.relative_bounding_box
            box = (rb.xmin * width, rb.ymin * height, (rb.xmin + rb.width) * width, (rb.ymin + rb.height) * height)
            kps = tuple((k.x * width, k.y * height) for k in det.location_data.relative_keypoints)
            out.append(RawFace(box, float(det.score[0]), kps, model))
        return out
    return convert


def detect_face_boxes(image: np.ndarray, min_confidence: float) -> tuple[RawFace, ...]:
    """Faces in ``image`` ((H, W, 3) uint8 RGB) with score >= ``min_confidence``, best first."""
    h, w = image.shape[:2]
    floor = confidence_floor(min_confidence)
    key = (_digest(image), image.shape, floor)
    with _memo_lock:
        if key in _memo:
            found = _memo[key]
            return tuple(f for f in found if f.score >= min_confidence)
    faces = solution("face_detection", model_selection=1, min_detection_confidence=floor).run(
        image, _converter(w, h, "full"))
    if not faces:
        faces = solution("face_detection", model_selection=0, min_detection_confidence=floor).run(
            image, _converter(w, h, "short"))
    keep = nms([f.box for f in faces], [f.score for f in faces], 0.3)
    found = tuple(faces[i] for i in keep)
    with _memo_lock:
        _memo[key] = found
        while len(_memo) > 4:
            _memo.popitem(last=False)
    return tuple(f for f in found if f.score >= min_confidence)
