"""ControlNet control images from QFix's own detections: OpenPose hand skeletons and face keypoints.

Nothing is downloaded and no annotator runs: the points come from the MediaPipe landmarks the
detectors already keep on each :class:`~lib_qfix.types.Region` (``landmarks``, pixel (x, y) in the
image the region was found in). Guides are drawn at ``size = (width, height)`` of that image, so a
guide lines up with the image pixel for pixel (ControlNet crops and resizes both together).
"""

from __future__ import annotations

import numpy as np

from lib_qfix.guides.draw import blank, draw_face, draw_hand
from lib_qfix.guides.face_keypoints import MESH_POINTS, face_keypoints
from lib_qfix.guides.hand_model import plausible_hand
from lib_qfix.types import Region

HAND_POINTS = 21
#: landmarks spread over less than this (px) are no usable hand or face
MIN_EXTENT_PX = 2.0


def _points(region: Region, kind: str, count: int) -> np.ndarray | None:
    if region.kind != kind or not region.landmarks or len(region.landmarks) < count:
        return None
    p = np.asarray(region.landmarks, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        return None
    p = p[:, :2]
    if not np.all(np.isfinite(p)) or float(np.ptp(p, axis=0).max()) < MIN_EXTENT_PX:
        return None
    return p


def hand_points(region: Region) -> np.ndarray | None:
    """The (21, 2) points a hand guide draws: the detected landmarks for a hand judged ok, a
    :func:`~lib_qfix.guides.hand_model.plausible_hand` fitted to them for a defective one; None
    when the region is not a hand or has no usable landmarks (missing, not 21, non-finite, < 2 px)."""
    p = _points(region, "hand", HAND_POINTS)
    if p is None or p.shape[0] != HAND_POINTS:
        return None
    return plausible_hand(p) if region.is_defect else p


def hand_guide(region: Region, size: tuple[int, int]) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB OpenPose-style hand skeleton on black at ``size = (width, height)`` from
    the region's 21 MediaPipe hand landmarks; for a defective region a plausible hand fitted to the
    detection (:func:`hand_points`). None when the region has no usable landmarks. Raises ValueError
    for a bad ``size``."""
    canvas = blank(size)
    p = hand_points(region)
    return None if p is None else draw_hand(canvas, p)


def face_points(region: Region) -> np.ndarray | None:
    """(70, 2) OpenPose face keypoints from a face region's mesh landmarks (468 or 478 points), or
    None when the region is not a face or carries no mesh (small faces, faces the mesh missed)."""
    p = _points(region, "face", MESH_POINTS)
    return None if p is None else face_keypoints(p)


def face_guide(region: Region, size: tuple[int, int]) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB: OpenPose's 70 face keypoints (jaw, brows, nose, eyes, lips, pupils) as
    white dots on black at ``size = (width, height)``; None without face-mesh landmarks. Raises
    ValueError for a bad ``size``."""
    canvas = blank(size)
    p = face_points(region)
    return None if p is None else draw_face(canvas, p)
