"""MediaPipe objects for the detectors: one backend per process, built on first use, one lock each.

Two backends give the same three kinds ("face_detection", "face_mesh", "hands") and the same
plain-Python results (:class:`FaceBox`, an (N, 3) mesh array, :class:`HandPoints`, coordinates as
fractions of the input image):

- ``legacy``: the ``solutions`` API of mediapipe 0.10.9-0.10.21, models inside the wheel
  (:mod:`lib_qfix.detect.mp_legacy`);
- ``tasks``: the Tasks API, the only one of mediapipe >= 0.10.30 and 1.x, with model files fetched on
  first use into the models folder (:mod:`lib_qfix.detect.mp_tasks`, :mod:`lib_qfix.detect.mp_models`).

:func:`backend` picks ``legacy`` when this mediapipe has it, else ``tasks``; ``QFIX_MEDIAPIPE``
(``legacy``/``tasks``/``auto``) or :func:`set_backend` (tests, equivalence measurements) override.
MediaPipe graphs are not thread-safe, so every call goes through :class:`LockedSolution`, which
also converts the result while it still holds the lock. Objects are cached per process by
(backend, kind, construction parameters); the confidence floor is one of the parameters.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from lib_qfix.detect import mp_legacy, mp_tasks
from lib_qfix.detect.mp_results import KINDS, unknown_kind
from lib_qfix.imageio import check_rgb

BACKENDS = ("legacy", "tasks")

_pool: dict[tuple, LockedSolution] = {}
_pool_lock = threading.Lock()
_override: str | None = None
_auto: str | None = None


def import_mediapipe() -> Any:
    """``mediapipe``, or ImportError saying what is needed."""
    try:
        import mediapipe as mp
    except ImportError as e:
        raise ImportError(f"MediaPipe detectors need mediapipe>=0.10.9 ({e})") from e
    return mp


def set_backend(name: str | None) -> None:
    """Force ``legacy`` or ``tasks`` for objects built from now on; None: back to automatic."""
    global _override
    if name is not None and name not in BACKENDS:
        raise ValueError(f"MediaPipe backend {name!r} is not allowed; allowed: {', '.join(BACKENDS)} or None")
    _override = name


def backend() -> str:
    """The backend in use: :func:`set_backend`'s, else ``QFIX_MEDIAPIPE``'s, else ``legacy`` when this
    mediapipe has it, else ``tasks``. ImportError when mediapipe is missing or has neither."""
    global _auto
    if _override:
        return _override
    env = os.environ.get("QFIX_MEDIAPIPE", "auto").strip().lower() or "auto"
    if env in BACKENDS:
        return env
    if env != "auto":
        raise ValueError(f"QFIX_MEDIAPIPE={env!r} is not allowed; allowed: auto, {', '.join(BACKENDS)}")
    if _auto is None:
        mp = import_mediapipe()
        if mp_legacy.available(mp):
            _auto = "legacy"
        elif mp_tasks.available(mp):
            _auto = "tasks"
        else:
            raise ImportError(f"mediapipe {getattr(mp, '__version__', '?')} has neither the `solutions` API "
                              "nor the Tasks API; install mediapipe>=0.10.9")
    return _auto


class LockedSolution:
    """One MediaPipe object, built lazily, used by one thread at a time."""

    def __init__(self, factory: Callable[[], Callable[[np.ndarray], Any]]):
        self._factory = factory
        self._process: Callable[[np.ndarray], Any] | None = None
        self._lock = threading.Lock()

    def run(self, rgb: np.ndarray) -> Any:
        """The backend-neutral result for ``rgb`` ((H, W, 3) uint8): a list of :class:`FaceBox`
        ("face_detection"), an (N, 3) array or None ("face_mesh"), a list of :class:`HandPoints`."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        with self._lock:
            if self._process is None:
                self._process = self._factory()
            return self._process(rgb)


def solution(kind: str, **params: Any) -> LockedSolution:
    """The shared object ``kind`` ("face_detection", "face_mesh", "hands", "pose") for these legacy-style
    parameters (``model_selection``, ``min_detection_confidence``, ``max_num_faces``,
    ``refine_landmarks``, ``max_num_hands``, ``model_complexity``; ``max_num_poses`` for "pose", see
    :mod:`lib_qfix.detect.mp_pose`) on the current :func:`backend`."""
    name = backend()
    if name == "tasks":
        mp = import_mediapipe()
        params = mp_tasks.normalize(mp, kind, params)
    elif kind not in KINDS:
        raise unknown_kind(kind)
    key = (name, kind, tuple(sorted(params.items())))
    with _pool_lock:
        found = _pool.get(key)
        if found is None:
            found = _pool[key] = LockedSolution(lambda: _build(name, kind, params))
        return found


def hand_models(complexities: tuple[int, ...]) -> tuple[int, ...]:
    """The hand model complexities (0 lite, 1 full) that are distinct models on the current backend:
    the Tasks API has only the full one, so a lite pass there would repeat the full pass."""
    return complexities if backend() != "tasks" else (1,)


def _build(name: str, kind: str, params: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    mp = import_mediapipe()
    if name == "tasks":
        return mp_tasks.build(mp, kind, params)

    if not mp_legacy.available(mp):
        raise ImportError(f"mediapipe {getattr(mp, '__version__', '?')} has no `solutions` API with bundled "
                          "models (mediapipe 0.10.9-0.10.21); QFix uses the Tasks API instead unless "
                          "QFIX_MEDIAPIPE=legacy")
    return mp_legacy.build(mp, kind, params)


def clear() -> None:
    """Drop every cached object (closing Tasks objects) and the automatic choice (tests)."""
    global _auto
    with _pool_lock:
        _pool.clear()
        _auto = None

    mp_tasks.close_all()


def confidence_floor(value: float) -> float:
    """Detector build threshold for a requested confidence: rounded down to 0.05 so a handful of
    objects serve every option value; results are filtered at the exact value afterwards."""
    return max(0.05, float(np.floor(float(value) * 20) / 20))


def check_image(image: Any) -> np.ndarray:
    """The image as a contiguous (H, W, 3) uint8 array of at least 8x8 pixels (MediaPipe's floor)."""
    return check_rgb(image, "image", min_side=8)
