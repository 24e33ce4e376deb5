"""Drawing keypoints the way ControlNet's OpenPose renderer does (what OpenPose models were trained on).

Hand: the 20 bones of the 21-point hand, bone ``i`` in the fully saturated colour of hue ``i / 20``
(red at the wrist -> thumb CMC bone, round the wheel to the pinky tip), then every keypoint as a
blue (0, 0, 255) dot; black background. Face: every keypoint a white dot. Canvases are (H, W, 3)
uint8 RGB; points are pixels (x, y); points outside the canvas are clipped by the drawing.

Sizes: ControlNet draws 2-px bones and 4-px dots at its ~512 px detection size. QFix draws at the
image's own size, so widths follow the hand: ``round(palm / 30)`` px clamped to 2..4 (more for
images larger than 512 px, so the lines survive ControlNet's resize), and never past a tenth of the
palm (a tiny hand stays a skeleton, not a blob).
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

#: OpenPose hand bones (MediaPipe's order is the same): wrist to each chain, then along the chain
HAND_EDGES = tuple((0 if k == 0 else base + k - 1, base + k) for base in (1, 5, 9, 13, 17) for k in range(4))
HAND_EDGE_RGB = tuple(tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0))
                      for i in range(len(HAND_EDGES)))
HAND_POINT_RGB = (0, 0, 255)
FACE_POINT_RGB = (255, 255, 255)


def blank(size: tuple[int, int]) -> np.ndarray:
    """A black (height, width, 3) uint8 canvas for ``size = (width, height)``, each 1..16384 px."""
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(v, (int, np.integer)) and 1 <= v <= 16384 for v in size)):
        raise ValueError(f"guide size: {size!r} is not allowed; allowed: (width, height), integers 1..16384")
    return np.zeros((int(size[1]), int(size[0]), 3), np.uint8)


def hand_line_width(points: np.ndarray, size: tuple[int, int]) -> int:
    """Bone width in px for a hand (21, 2) drawn on a canvas of ``size`` (see the module doc)."""
    palm = float(np.linalg.norm(points[9] - points[0]))
    top = max(4, round(4 * max(size) / 512))
    return int(max(1, min(np.clip(round(palm / 30), 2, top), round(palm / 10))))


def _pt(p: np.ndarray) -> tuple[int, int]:
    # clip far-away points: OpenCV draws with int32 coordinates
    return int(round(float(np.clip(p[0], -1e5, 1e5)))), int(round(float(np.clip(p[1], -1e5, 1e5))))


def draw_hand(canvas: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Draw a (21, 2) hand skeleton on ``canvas`` in place and return it."""
    width = hand_line_width(points, (canvas.shape[1], canvas.shape[0]))
    for (a, b), colour in zip(HAND_EDGES, HAND_EDGE_RGB, strict=True):
        cv2.line(canvas, _pt(points[a]), _pt(points[b]), colour, width)
    for p in points:
        cv2.circle(canvas, _pt(p), width + 1, HAND_POINT_RGB, -1)
    return canvas


def face_dot_radius(points: np.ndarray, size: tuple[int, int]) -> int:
    """Dot radius in px: ControlNet's 3 px for a face ~150 px wide at 512 (more on larger images),
    down to 1 px for small faces."""
    width = float(np.ptp(points[:17, 0]))  # jaw width
    return int(np.clip(round(width / 50), 1, max(3, round(3 * max(size) / 512))))


def draw_face(canvas: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Draw (70, 2) face keypoints on ``canvas`` in place as white dots and return it."""
    r = face_dot_radius(points, (canvas.shape[1], canvas.shape[0]))
    for p in points:
        cv2.circle(canvas, _pt(p), r, FACE_POINT_RGB, -1)
    return canvas
