"""The plain-Python results both MediaPipe backends return (so the backends and the runtime that
picks between them share them without importing each other)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the solution kinds every backend builds (:func:`lib_qfix.detect.mediapipe_runtime.solution`)
KINDS = ("face_detection", "face_mesh", "hands", "pose")


def unknown_kind(kind: str) -> ValueError:
    """The error for a solution kind no backend builds."""
    return ValueError(f"unknown MediaPipe solution {kind!r}; allowed: {', '.join(KINDS)}")


@dataclass(frozen=True)
class FaceBox:
    """One face detection. ``box`` (x0, y0, x1, y1) and ``keypoints`` (six (x, y), MediaPipe's order)
    as fractions of the input image's width and height (may reach past 0..1); ``score`` 0..1."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class HandPoints:
    """One hand: ``points`` (21, 3) with x, y as fractions of the input image and z MediaPipe's
    relative depth on x's scale; ``label`` "Left"/"Right" as MediaPipe names it; ``score`` its 0..1."""

    points: np.ndarray
    label: str
    score: float
