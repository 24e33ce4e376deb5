"""MediaPipe legacy ``solutions`` objects: imported and built on first use, one lock each.

MediaPipe graphs are not thread-safe, so every call goes through :class:`LockedSolution`, which
also converts the protobuf results to plain Python while it still holds the lock. Objects are
cached per process by their construction parameters (the confidence floor is one of them).
Needs mediapipe 0.10.9–0.10.21 (the versions whose wheel ships the ``.tflite`` models).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

_pool: dict[tuple, LockedSolution] = {}
_pool_lock = threading.Lock()


def import_mediapipe() -> Any:
    """``mediapipe`` with the legacy solutions API, or ImportError saying which version is needed."""
    try:
        import mediapipe as mp
    except ImportError as e:
        raise ImportError(f"MediaPipe detectors need mediapipe>=0.10.9,<=0.10.21 ({e})") from e
    if not hasattr(mp, "solutions"):
        raise ImportError(f"mediapipe {getattr(mp, '__version__', '?')} has no `solutions` API (and no bundled "
                          "models); install mediapipe>=0.10.9,<=0.10.21")
    return mp


class LockedSolution:
    """One MediaPipe solution object, built lazily, used by one thread at a time."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._obj: Any = None
        self._lock = threading.Lock()

    def run(self, rgb: np.ndarray, convert: Callable[[Any], Any]) -> Any:
        """``convert(solution.process(rgb))`` under the lock; ``rgb`` is (H, W, 3) uint8."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        with self._lock:
            if self._obj is None:
                self._obj = self._factory()
            return convert(self._obj.process(rgb))


def solution(kind: str, **params: Any) -> LockedSolution:
    """The shared solution ``kind`` ("face_detection", "face_mesh", "hands") for these parameters."""
    key = (kind, tuple(sorted(params.items())))
    with _pool_lock:
        found = _pool.get(key)
        if found is None:
            found = _pool[key] = LockedSolution(lambda: _build(kind, params))
        return found


def _build(kind: str, params: dict[str, Any]) -> Any:
    mp = import_mediapipe()
    if kind == "face_detection":
        return mp.solutions.face_detection.FaceDetection(**params)
    if kind == "face_mesh":
        return _raw_landmark_lists(mp.solutions.face_mesh.FaceMesh(static_image_mode=True, **params))
    if kind == "hands":
        return mp.solutions.hands.Hands(static_image_mode=True, **params)
    raise ValueError(f"unknown MediaPipe solution {kind!r}; allowed: face_detection, face_mesh, hands")


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


def confidence_floor(value: float) -> float:
    """Detector build threshold for a requested confidence: rounded down to 0.05 so a handful of
    objects serve every option value; results are filtered at the exact value afterwards."""
    return max(0.05, float(np.floor(float(value) * 20) / 20))


def check_image(image: Any) -> np.ndarray:
    """The image as a contiguous (H, W, 3) uint8 array, or ValueError saying what is allowed."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image: {type(image).__name__} is not allowed; allowed: a numpy (H, W, 3) uint8 RGB array")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: shape {image.shape} dtype {image.dtype} is not allowed; "
                         "allowed: (H, W, 3) uint8 RGB")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"image: {image.shape[1]}x{image.shape[0]} is too small; allowed: at least 8x8 pixels")
    return np.ascontiguousarray(image)
