"""MediaPipe's legacy ``solutions`` API (mediapipe 0.10.9-0.10.21: models inside the wheel).

:func:`build` makes a process function for one kind ("face_detection", "face_mesh", "hands") that
runs the solution and converts its protobuf result into the backend-neutral values of
:mod:`lib_qfix.detect.mediapipe_runtime` (coordinates as fractions of the input image). The
caller holds the object's lock while it runs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lib_qfix.detect import mp_pose
from lib_qfix.detect.mp_results import FaceBox, HandPoints, unknown_kind

#: a model file the legacy API needs from the wheel (absent in wheels that dropped ``solutions``)
BUNDLED_MODEL = ("modules", "face_detection", "face_detection_short_range.tflite")


def available(mp: Any) -> bool:
    """Does this ``mediapipe`` module have the legacy solutions API and its bundled models?"""
    if getattr(mp, "solutions", None) is None or not getattr(mp, "__file__", None):
        return False
    return Path(mp.__file__).parent.joinpath(*BUNDLED_MODEL).is_file()


def build(mp: Any, kind: str, params: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    """The process function for ``kind`` with these solution parameters; (H, W, 3) uint8 RGB in."""
    if kind == "face_detection":
        det = mp.solutions.face_detection.FaceDetection(**params)
        return lambda rgb: _faces(det.process(rgb))
    if kind == "face_mesh":
        mesh = _raw_landmark_lists(mp.solutions.face_mesh.FaceMesh(static_image_mode=True, **params))
        return lambda rgb: _mesh(mesh.process(rgb))
    if kind == "hands":
        hands = mp.solutions.hands.Hands(static_image_mode=True, **params)
        return lambda rgb: _hands(hands.process(rgb))
    if kind == "pose":
        return mp_pose.build_legacy(mp, params)
    raise unknown_kind(kind)


def _faces(result: Any) -> list[FaceBox]:
    out = []
    for det in result.detections or ():
        rb = det.location_data.relative_bounding_box
        kps = tuple((k.x, k.y) for k in det.location_data.relative_keypoints)
        out.append(FaceBox((rb.xmin, rb.ymin, rb.xmin + rb.width, rb.ymin + rb.height), float(det.score[0]), kps))
    return out


def _mesh(result: Any) -> np.ndarray | None:
    if not result.multi_face_landmarks:
        return None
    first = result.multi_face_landmarks[0]
    if isinstance(first, bytes):  # the fast path, see _raw_landmark_lists
        return landmarks_from_bytes(first)
    return np.array([[p.x, p.y, p.z] for p in first.landmark], dtype=np.float64)


def _hands(result: Any) -> list[HandPoints]:
    out = []
    for lm, hd in zip(result.multi_hand_landmarks or (), result.multi_handedness or (), strict=False):
        c = hd.classification[0]
        pts = np.array([[p.x, p.y, p.z] for p in lm.landmark], dtype=np.float64)
        out.append(HandPoints(pts, c.label, float(c.score)))
    return out


def _raw_landmark_lists(obj: Any) -> Any:
    """Make ``obj.process`` return landmark lists as serialized bytes instead of protobuf messages.

    With protobuf 3.20 (A1111's pin) on Python 3.11 protobuf runs in pure Python, and parsing one
    478-point face mesh into messages costs a few milliseconds (up to ~10 ms on a busy CPU, as much
    as the model); :func:`landmarks_from_bytes` decodes the same bytes, to identical values, in a
    fraction of that. Uses a private MediaPipe binding present in
    0.10.9-0.10.21; without it the object is returned unchanged (messages, slower).
    """
    try:
        from mediapipe.python._framework_bindings import packet_getter as raw
        from mediapipe.python.solution_base import PacketDataType
    except ImportError:
        return obj
    if not hasattr(raw, "_get_serialized_proto_list"):
        return obj
    original = obj._get_packet_content

    def content(packet_type: Any, packet: Any) -> Any:
        if packet_type == PacketDataType.PROTO_LIST and not packet.is_empty():
            return list(raw._get_serialized_proto_list(packet))
        return original(packet_type, packet)

    obj._get_packet_content = content
    return obj


def landmarks_from_bytes(data: bytes) -> np.ndarray:
    """(N, 3) float x, y, z from a serialized ``NormalizedLandmarkList`` (repeated field 1, each a
    message of float fields 1=x, 2=y, 3=z, 4=visibility, 5=presence)."""
    out: list[tuple[float, float, float]] = []
    i, n = 0, len(data)
    while i < n:
        if data[i] != 0x0A:
            raise ValueError(f"landmark list: unexpected field tag {data[i]:#x} at byte {i}")
        length, i = _varint(data, i + 1)
        end, xyz = i + length, [0.0, 0.0, 0.0]
        while i < end:
            tag = data[i]
            if tag & 7 != 5:
                raise ValueError(f"landmark: unexpected wire type in tag {tag:#x} at byte {i}")
            field = tag >> 3
            if field <= 3:
                xyz[field - 1] = struct.unpack_from("<f", data, i + 1)[0]
            i += 5
        out.append((xyz[0], xyz[1], xyz[2]))
    return np.array(out, dtype=np.float64).reshape(-1, 3)


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return value, i
        shift += 7
