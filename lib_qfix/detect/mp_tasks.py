"""MediaPipe's Tasks API (the only API of mediapipe >= 0.10.30 and 1.x; present since 0.10.9 too).

Each kind of :mod:`lib_qfix.detect.mediapipe_runtime` maps to a Tasks runner and a model file from
:mod:`lib_qfix.detect.mp_models` (fetched on first use):

- ``face_detection``: ``FaceDetector``. ``model_selection=0``: BlazeFace short-range; ``1``: the
  full-range sparse model the legacy API bundles, on mediapipe >= 0.10.33 (older Tasks graphs
  hard-code the short-range anchors and fail on it), else the short-range model. The score floor
  is legacy's fixed one (:data:`LEGACY_FACE_FLOOR`), whatever ``min_detection_confidence`` says;
- ``face_mesh``: ``FaceLandmarker`` with ``face_landmarker.task`` (Face Mesh V2: always 478 points
  with iris, so ``refine_landmarks`` has no effect). Legacy's attention mesh has no Tasks form;
- ``hands``: ``HandLandmarker`` with ``hand_landmarker.task``: the same palm/landmark models as
  legacy ``model_complexity=1``. Complexity 0 (lite) has no Tasks form (the lite palm detector lacks
  the normalization metadata the Tasks graph needs), so every pass uses the full models;
- ``pose``: ``PoseLandmarker`` with ``pose_landmarker_full.task`` (:mod:`lib_qfix.detect.mp_pose`).

Results become the backend-neutral values of :mod:`lib_qfix.detect.mediapipe_runtime`, in legacy's
conventions: handedness labels swapped back (:data:`LEGACY_HANDEDNESS`), face boxes un-truncated
and un-clamped (:func:`_faces`). Built
objects are closed at interpreter exit (mediapipe 1.x printed a traceback for Tasks objects that
were garbage-collected after its dispatcher had shut down).
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from lib_qfix.detect import mp_models, mp_pose
from lib_qfix.detect.mp_results import FaceBox, HandPoints, unknown_kind

#: first mediapipe whose Tasks face detector runs the full-range (192 px) model
FULL_RANGE_SINCE = (0, 10, 33)
SHORT_RANGE = "blaze_face_short_range.tflite"
FULL_RANGE = "face_detection_full_range_sparse.tflite"
FACE_LANDMARKER = "face_landmarker.task"
HAND_LANDMARKER = "hand_landmarker.task"
#: face presence threshold of the landmark step; legacy's default ``min_tracking_confidence``
PRESENCE = 0.5
#: score floor of legacy face detection by model_selection: its graphs fix these and ignore
#: ``min_detection_confidence`` (measured on 0.10.9: no score below them at 0.1, none dropped at 0.9)
LEGACY_FACE_FLOOR = {0: 0.5, 1: 0.6}
#: legacy names the hand as if the image were mirrored (selfie camera); Tasks names the other one
LEGACY_HANDEDNESS = {"Left": "Right", "Right": "Left"}

_open: list[Any] = []
_open_lock = threading.Lock()
_exit_hook: list[bool] = []


def available(mp: Any) -> bool:
    """Does this ``mediapipe`` have the Tasks vision API?"""
    try:
        from mediapipe.tasks.python import vision  # noqa: F401
    except ImportError:
        return False
    return hasattr(mp, "Image")


def version(mp: Any) -> tuple[int, ...]:
    """``mp.__version__`` as numbers ("0.10.33rc1" -> (0, 10, 33)); () when unknown."""
    found = re.match(r"\d+(?:\.\d+)*", str(getattr(mp, "__version__", "")))
    return tuple(int(p) for p in found.group(0).split(".")) if found else ()


def normalize(mp: Any, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that change a Tasks object (pool key): legacy-only ones dropped."""
    if kind == "face_detection":
        full = params.get("model_selection", 0) == 1 and version(mp) >= FULL_RANGE_SINCE
        return {"model_selection": int(full)}
    if kind == "face_mesh":
        return {"max_num_faces": params.get("max_num_faces", 1),
                "min_detection_confidence": params.get("min_detection_confidence", 0.5)}
    if kind == "hands":
        return {"max_num_hands": params.get("max_num_hands", 2),
                "min_detection_confidence": params.get("min_detection_confidence", 0.5)}
    if kind == "pose":
        return mp_pose.normalize(params)
    raise unknown_kind(kind)


def build(mp: Any, kind: str, params: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    """The process function for ``kind`` with :func:`normalize`'d parameters; (H, W, 3) uint8 RGB in."""
    from mediapipe.tasks.python import BaseOptions, vision

    def base(name: str) -> Any:
        return BaseOptions(model_asset_path=str(mp_models.model_path(name)))

    params = normalize(mp, kind, params)
    if kind == "pose":
        return mp_pose.build_tasks(mp, params, str(mp_models.model_path(mp_pose.POSE_LANDMARKER)), PRESENCE, _keep)
    if kind == "face_detection":
        selection = params["model_selection"]
        obj = vision.FaceDetector.create_from_options(vision.FaceDetectorOptions(
            base_options=base(FULL_RANGE if selection == 1 else SHORT_RANGE),
            min_detection_confidence=LEGACY_FACE_FLOOR[selection]))
        convert: Callable[[Any, int, int], Any] = _faces
    elif kind == "face_mesh":
        obj = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
            base_options=base(FACE_LANDMARKER), num_faces=int(params["max_num_faces"]),
            min_face_detection_confidence=float(params["min_detection_confidence"]),
            min_face_presence_confidence=PRESENCE))
        convert = _mesh
    else:
        obj = vision.HandLandmarker.create_from_options(vision.HandLandmarkerOptions(
            base_options=base(HAND_LANDMARKER), num_hands=int(params["max_num_hands"]),
            min_hand_detection_confidence=float(params["min_detection_confidence"]),
            min_hand_presence_confidence=PRESENCE))
        convert = _hands
    _keep(obj)

    def process(rgb: np.ndarray) -> Any:
        h, w = rgb.shape[:2]
        return convert(obj.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)), w, h)

    return process


def _keep(obj: Any) -> None:
    """Remember a built Tasks object so that :func:`close_all` closes it at exit."""
    with _open_lock:
        if not _exit_hook:
            atexit.register(close_all)
            _exit_hook.append(True)
        _open.append(obj)


def _faces(result: Any, w: int, h: int) -> list[FaceBox]:
    """Tasks boxes are whole pixels, truncated, with the origin clamped at 0 (the width is not).
    Half a pixel back on each truncated value removes the bias (measured against legacy: origin
    -0.4 px, far edge -0.8 px on average). A clamped origin of a face cut by the left or top edge
    is recovered from the centre of the first four keypoints (eyes, nose, mouth), which is within
    ~4 % of the box side of legacy's box centre (measured on the detector fixtures)."""
    out = []
    for det in result.detections or ():
        b = det.bounding_box
        kps = tuple((float(k.x), float(k.y)) for k in det.keypoints or ())
        x0, y0, bw, bh = b.origin_x + 0.5, b.origin_y + 0.5, b.width + 0.5, b.height + 0.5
        if len(kps) >= 4:
            if b.origin_x == 0:
                x0 = min(x0, sum(k[0] for k in kps[:4]) / 4 * w - bw / 2)
            if b.origin_y == 0:
                y0 = min(y0, sum(k[1] for k in kps[:4]) / 4 * h - bh / 2)
        out.append(FaceBox((x0 / w, y0 / h, (x0 + bw) / w, (y0 + bh) / h), float(det.categories[0].score), kps))
    return out


def _mesh(result: Any, w: int, h: int) -> np.ndarray | None:
    if not result.face_landmarks:
        return None
    return np.array([[p.x, p.y, p.z] for p in result.face_landmarks[0]], dtype=np.float64)


def _hands(result: Any, w: int, h: int) -> list[HandPoints]:
    out = []
    for lm, hd in zip(result.hand_landmarks or (), result.handedness or (), strict=False):
        pts = np.array([[p.x, p.y, p.z] for p in lm], dtype=np.float64)
        name = str(hd[0].category_name)
        out.append(HandPoints(pts, LEGACY_HANDEDNESS.get(name, name), float(hd[0].score)))
    return out


def close_all() -> None:
    """Close every Tasks object built so far (at exit; also for tests). The pool must be cleared too."""
    with _open_lock:
        objs, _open[:] = list(_open), []
    for obj in objs:
        try:
            obj.close()
        except Exception:  # closing at exit must never raise
            pass
