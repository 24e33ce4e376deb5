"""Raw MediaPipe face detections (boxes, scores, 6 keypoints), shared by the face and hand detectors.

Full-range detection (model_selection=1, faces up to ~5 m) runs first; the short-range model
(model_selection=0, close-ups) runs only when full-range finds nothing, which keeps the common case
(one face of normal size) at one call. When no face is found, or the faces found are small (short
side < :data:`GROUP_FACE_FRACTION` of the image's long side: a group photo), a fine pass runs:
short-range on a :data:`FINE_GRID` x :data:`FINE_GRID` grid of overlapping tiles
(:data:`FINE_FRACTION` of each side: 160 px at 512). Both models see their input at 192/128 px, so
a 24 px face in a 512 px image is 15 px to full-range on a 0.6 tile (the 2x2 grid this pass
replaced) and is missed; short-range on a 160 px tile sees it at 19 px and finds it. Short-range on
such tiles also fires on a headlight, cat and cheetah fur, board details (scores 0.5-0.86), so a face
the fine pass adds (one no earlier pass found) is kept only when full-range finds it again on a
square crop :data:`CONFIRM_ZOOM` times its side around it; it then carries full-range's box (hand
person anchors stay as before) and model :data:`ZOOMED`. Measured on bench/detect.py's 33 faces and
bench/hands.py's photos: every real face confirmed (lowest full-range score 0.64), every fine-pass
false face scored 0 there (a 4x crop let the headlight through at 0.62).
Cost at 512 px (CPU, 2 cores): one call (~5 ms) for a normal face; images without faces ~32 ms
(full + short + 16 short-range tiles, was ~27 ms with the 2x2 grid); tiny faces add one full-range
call each. bench/detect.py faces: recall 33/33 (29/33 with the 2x2 grid).
Results for the last few images are memoised by content digest, so the hand detector (which uses
faces as person anchors) does not pay for a second face pass on the same image.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from lib_qfix.detect.mediapipe_runtime import LockedSolution, backend, confidence_floor, solution
from lib_qfix.detect.mp_results import FaceBox
from lib_qfix.detect.nms import iou, nms, square_inside

#: MediaPipe face-detection keypoint order
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")


@dataclass(frozen=True)
class RawFace:
    """One face: ``box`` in pixels as MediaPipe gives it (may extend past the frame: a cut face),
    ``score`` in 0..1, ``keypoints`` six (x, y) pixels in :data:`KEYPOINTS` order, ``model``
    "full", "short" or :data:`ZOOMED` (a fine-pass face full-range found again on a zoomed crop)."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...]
    model: str


#: RawFace.model of a face the fine pass found and full-range confirmed on a zoomed crop
ZOOMED = "zoomed"
GROUP_FACE_FRACTION = 0.1
#: the 2x2 grid of :func:`grid_tiles` (hands and anatomy use it; the face passes no longer do)
TILE_FRACTION = 0.6
#: fine pass: FINE_GRID x FINE_GRID tiles, each FINE_FRACTION of each side (0.31: 160 px of a 512 px
#: image, neighbours overlap by ~45 px, so a face of up to ~40 px lies whole in one tile)
FINE_GRID = 4
FINE_FRACTION = 0.31
#: a fine-pass face must be found again by full-range on a centred square crop this many times its side
CONFIRM_ZOOM = 3.0


def grid_tiles(width: int, height: int, fraction: float = TILE_FRACTION) -> list[tuple[int, int, int, int]]:
    """Four overlapping tiles (each ``fraction`` of each side) covering the image."""
    tw, th = int(round(width * fraction)), int(round(height * fraction))
    return [(x, y, x + tw, y + th) for y in (0, height - th) for x in (0, width - tw)]


def fine_tiles(width: int, height: int, n: int = FINE_GRID,
               fraction: float = FINE_FRACTION) -> list[tuple[int, int, int, int]]:
    """``n`` x ``n`` evenly spaced, overlapping tiles (each ``fraction`` of each side) covering the image."""
    tw, th = int(round(width * fraction)), int(round(height * fraction))
    xs = [round(i * (width - tw) / (n - 1)) for i in range(n)]
    ys = [round(i * (height - th) / (n - 1)) for i in range(n)]
    return [(x, y, x + tw, y + th) for y in ys for x in xs]


def _zoom_crop(box: tuple[float, float, float, float], zoom: float, width: int,
               height: int) -> tuple[int, int, int, int]:
    """A square of ``zoom`` times the box's long side around its centre, shifted (then clipped) into the image."""
    side = int(round(zoom * max(box[2] - box[0], box[3] - box[1])))
    fx0, fy0, fx1, fy1 = square_inside(box, side, width, height)
    x0, y0 = int(round(fx0)), int(round(fy0))
    return x0, y0, x0 + round(fx1 - fx0), y0 + round(fy1 - fy0)


def _confirmed(image: np.ndarray, face: RawFace, full: LockedSolution) -> RawFace | None:
    """Full-range's detection of ``face`` (IoU >= 0.3) on a square crop :data:`CONFIRM_ZOOM` times its
    side around it, or None when it is not found again. Short-range on 160 px tiles also fires on a
    headlight, cat and cheetah fur, board details; on the benchmarks' photos none of those survived a
    3x crop and every real face did (lowest full-range score 0.64). Returning full-range's box keeps
    boxes (person anchors for hands) as the full-range passes gave them before the fine pass existed;
    the score is the better of the candidate's and the confirmation's (short-range scores higher)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = _zoom_crop(face.box, CONFIRM_ZOOM, w, h)
    again = [(iou(f.box, face.box), f) for f in
             _to_pixels(full.run(image[y0:y1, x0:x1]), x1 - x0, y1 - y0, "full", x0, y0)]
    overlap, best = max(again, key=lambda a: a[0], default=(0.0, None))
    if best is None or overlap < 0.3:
        return None
    return RawFace(best.box, max(face.score, best.score), best.keypoints, ZOOMED)


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
        short = solution("face_detection", model_selection=0, min_detection_confidence=floor)
        fine: list[RawFace] = []
        for x0, y0, x1, y1 in fine_tiles(w, h):
            fine += _to_pixels(short.run(image[y0:y1, x0:x1]), x1 - x0, y1 - y0, "short", x0, y0)
        keep = nms([f.box for f in fine], [f.score for f in fine], 0.3, 0.6)
        for f in (fine[i] for i in keep):  # faces found before keep their box; new ones need confirming
            if not any(iou(f.box, g.box) >= 0.3 for g in faces) and (sure := _confirmed(image, f, full)):
                faces.append(sure)
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
