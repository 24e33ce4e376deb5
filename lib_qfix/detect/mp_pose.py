"""MediaPipe pose (BlazePose GHUM, 33 body landmarks) on both backends, kind "pose".

- legacy: ``mp.solutions.pose.Pose`` with ``model_complexity=1``: the only pose landmark model
  inside the 0.10.9-0.10.21 wheels (``pose_landmark_full.tflite``; complexity 0 and 2 download
  their models at construction, so QFix never asks for them). One person per call.
- tasks: ``PoseLandmarker`` with ``pose_landmarker_full.task`` (the same "full" model, fetched on
  first use through :mod:`lib_qfix.detect.mp_models`), ``num_poses`` people per call.

Both give :class:`PosePoints`: ``points`` (33, 3) with x, y as fractions of the input image and z
MediaPipe's relative depth on x's scale, ``visibility`` (33,) 0..1, and ``world`` (33, 3) metres
around the hip centre (foreshortening-free, what bone lengths and joint angles are measured on).
Landmark order (MediaPipe's): 0 nose, 1-6 eyes, 7-8 ears, 9-10 mouth, 11/12 shoulders, 13/14
elbows, 15/16 wrists, 17-22 hand points, 23/24 hips, 25/26 knees, 27/28 ankles, 29/30 heels,
31/32 foot tips; odd = the subject's left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Tasks model file (see :data:`lib_qfix.detect.mp_models.MODELS`)
POSE_LANDMARKER = "pose_landmarker_full.task"
#: the only legacy complexity whose model ships in the wheel
LEGACY_COMPLEXITY = 1
N_POINTS = 33


@dataclass(frozen=True)
class PosePoints:
    """One body. ``points`` (33, 3): x, y fractions of the input image, z relative depth (x's
    scale); ``visibility`` (33,) 0..1; ``world`` (33, 3) metres, hip-centred (None if absent)."""

    points: np.ndarray
    visibility: np.ndarray
    world: np.ndarray | None


def normalize(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that change a pose object: ``max_num_poses`` (Tasks only; legacy finds one)
    and ``min_detection_confidence``."""
    return {"max_num_poses": int(params.get("max_num_poses", 1)),
            "min_detection_confidence": float(params.get("min_detection_confidence", 0.5))}


def _arrays(landmarks: Any, world: Any) -> PosePoints:
    pts = np.array([[p.x, p.y, p.z] for p in landmarks], dtype=np.float64).reshape(-1, 3)
    vis = np.array([p.visibility for p in landmarks], dtype=np.float64)
    w = None if world is None else np.array([[p.x, p.y, p.z] for p in world], dtype=np.float64).reshape(-1, 3)
    return PosePoints(pts, vis, w)


def build_legacy(mp: Any, params: dict[str, Any]) -> Callable[[np.ndarray], list[PosePoints]]:
    """Legacy process function (RGB uint8 in, at most one :class:`PosePoints` out)."""
    p = normalize(params)
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=LEGACY_COMPLEXITY,
                                  enable_segmentation=False,
                                  min_detection_confidence=p["min_detection_confidence"])

    def process(rgb: np.ndarray) -> list[PosePoints]:
        result = pose.process(rgb)
        if result.pose_landmarks is None:
            return []
        world = result.pose_world_landmarks.landmark if result.pose_world_landmarks is not None else None
        return [_arrays(result.pose_landmarks.landmark, world)]

    return process


def build_tasks(mp: Any, params: dict[str, Any], model_file: str, presence: float,
                keep: Callable[[Any], None]) -> Callable[[np.ndarray], list[PosePoints]]:
    """Tasks process function; ``model_file`` the .task path, ``keep`` registers the object for
    closing at exit (:mod:`lib_qfix.detect.mp_tasks`)."""
    from mediapipe.tasks.python import BaseOptions, vision

    p = normalize(params)
    obj = vision.PoseLandmarker.create_from_options(vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_file), num_poses=p["max_num_poses"],
        min_pose_detection_confidence=p["min_detection_confidence"], min_pose_presence_confidence=presence,
        output_segmentation_masks=False))
    keep(obj)

    def process(rgb: np.ndarray) -> list[PosePoints]:
        result = obj.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        worlds = list(result.pose_world_landmarks or ())
        return [_arrays(lm, worlds[i] if i < len(worlds) else None)
                for i, lm in enumerate(result.pose_landmarks or ())]

    return process
