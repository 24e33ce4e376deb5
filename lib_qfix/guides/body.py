"""OpenPose's 18-keypoint body skeleton from MediaPipe's 33 pose landmarks (for "bad anatomy" fixes).

OpenPose (COCO-18) order: 0 nose, 1 neck, 2-4 right shoulder/elbow/wrist, 5-7 left, 8-10 right
hip/knee/ankle, 11-13 left, 14/15 right/left eye, 16/17 right/left ear ("right" = the subject's).
MediaPipe has no neck: it is the shoulders' midpoint, present only when both shoulders are.

Drawing follows ControlNet's OpenPose body renderer: the 17 limbs as filled ellipses (half-width
4 px at 512, more on larger images) in OpenPose's fixed palette (:data:`BODY_RGB`, red through
the wheel to pink), the limb layer dimmed to 60 %, then each keypoint a radius-4 dot in full colour;
black background. Keypoints whose MediaPipe visibility is below ``min_visibility`` are left out.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.guides.draw import blank

#: MediaPipe pose index for each OpenPose keypoint (the neck, -1, is computed)
FROM_MEDIAPIPE = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
POSE_POINTS = 33
#: OpenPose limbs (0-based keypoint pairs), in the renderer's order
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
#: OpenPose's body palette, one colour per keypoint (and per limb, in order)
BODY_RGB = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
            (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
            (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
LIMB_DIM = 0.6


def body_keypoints(points: np.ndarray, visibility: np.ndarray | None = None,
                   min_visibility: float = 0.5) -> np.ndarray:
    """(18, 2) OpenPose body keypoints (pixels) from MediaPipe's (33, 2+) pose landmarks in pixels;
    a keypoint not seen (visibility < ``min_visibility``, 0..1) is NaN. Raises ValueError for other
    shapes."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != POSE_POINTS or p.shape[1] < 2:
        raise ValueError(f"pose landmarks: shape {p.shape} is not allowed; allowed: (33, 2+)")
    vis = np.ones(POSE_POINTS) if visibility is None else np.asarray(visibility, dtype=np.float64).reshape(-1)
    if vis.shape != (POSE_POINTS,):
        raise ValueError(f"pose visibility: shape {vis.shape} is not allowed; allowed: (33,)")
    seen = np.where((vis >= min_visibility)[:, None] & np.isfinite(p[:, :2]), p[:, :2], np.nan)
    out = np.array([seen[i] if i >= 0 else (seen[11] + seen[12]) / 2 for i in FROM_MEDIAPIPE])
    return out


def draw_body(canvas: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Draw (18, 2) keypoints (NaN = missing) on ``canvas`` the OpenPose way; returns the new canvas."""
    scale = max(1.0, max(canvas.shape[:2]) / 512)
    stick, dot = max(1, round(4 * scale)), max(1, round(4 * scale))
    ok = np.all(np.isfinite(keypoints) & (np.abs(keypoints) < 1e5), axis=1)  # OpenCV draws in int32
    for (a, b), colour in zip(LIMBS, BODY_RGB, strict=False):
        if not (ok[a] and ok[b]):
            continue
        d = keypoints[b] - keypoints[a]
        centre = (keypoints[a] + keypoints[b]) / 2
        half = int(round(float(np.hypot(*d)) / 2))
        angle = float(np.degrees(np.arctan2(d[1], d[0])))
        cv2.ellipse(canvas, (int(round(centre[0])), int(round(centre[1]))), (half, stick), angle, 0, 360, colour, -1)
    canvas = (canvas * LIMB_DIM).astype(np.uint8)
    for k, seen, colour in zip(keypoints, ok, BODY_RGB, strict=True):
        if seen:
            cv2.circle(canvas, (int(round(k[0])), int(round(k[1]))), dot, colour, -1)
    return canvas


def body_guide(points: np.ndarray, size: tuple[int, int], visibility: np.ndarray | None = None,
               min_visibility: float = 0.5) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB OpenPose body skeleton on black at ``size = (width, height)`` from
    MediaPipe's 33 pose landmarks (pixels; ``visibility`` 0..1 each), or None when fewer than two
    connected keypoints are seen. Raises ValueError for bad shapes or ``size``."""
    canvas = blank(size)
    k = body_keypoints(points, visibility, min_visibility)
    ok = np.all(np.isfinite(k), axis=1)
    if not any(ok[a] and ok[b] for a, b in LIMBS):
        return None
    return draw_body(canvas, k)
