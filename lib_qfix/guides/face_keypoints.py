"""OpenPose's 70 face keypoints from MediaPipe's face mesh.

OpenPose's face model uses the 68-point layout of the iBUG 300-W annotation plus two pupils:
jaw 0-16 (from the subject's right ear, round the chin, to the left ear), right brow 17-21 (outer to
inner), left brow 22-26 (inner to outer), nose bridge 27-30 (top to tip), nose base 31-35 (right to
left), right eye 36-41 (outer corner, upper lid x2, inner corner, lower lid x2), left eye 42-47 (inner
corner, upper lid x2, outer corner, lower lid x2), outer lips 48-59 (right corner, upper lip to the
left corner, lower lip back), inner lips 60-67 (same walk), pupils 68 (right) and 69 (left). "Right"
is the subject's right (the image's left in a frontal photo), as in MediaPipe.

Each group is resampled at even arc length along a MediaPipe mesh contour (index paths below, from
MediaPipe's face-mesh connection sets: face oval, brows, eye rings, lip rings), so the points sit where
the annotation puts them rather than on arbitrary mesh vertices. Pupils are the refined mesh's iris
centres (468, 473) or, on a 468-point mesh, the eye-ring centroids.
"""

from __future__ import annotations

import numpy as np

from lib_qfix.landmarks import LEFT_EYE_RING, RIGHT_EYE_RING

MESH_POINTS = 468
#: lower face oval from the subject's right ear round the chin to the left ear
JAW = (127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361,
       323, 454, 356)
#: brows, outer to inner: the lower and upper edges (OpenPose's point lies between them)
RIGHT_BROW = ((46, 53, 52, 65, 55), (70, 63, 105, 66, 107))
LEFT_BROW = ((276, 283, 282, 295, 285), (300, 293, 334, 296, 336))
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 1)
NOSE_BASE = (98, 97, 2, 326, 327)
#: eye lids, from the outer to the inner corner
RIGHT_UPPER_LID = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_LOWER_LID = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_UPPER_LID = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_LOWER_LID = (263, 249, 390, 373, 374, 380, 381, 382, 362)
#: lips from the subject's right mouth corner to the left one
OUTER_UPPER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
INNER_UPPER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
IRIS_CENTRES = (468, 473)
FACE_KEYPOINTS = 70


def resample(path: np.ndarray, n: int) -> np.ndarray:
    """``n`` points at even arc length along the polyline ``path`` (k, 2), both ends included."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 1e-9:
        return np.repeat(path[:1], n, axis=0)
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, path[:, 0]), np.interp(t, s, path[:, 1])], axis=1)


def _inner(path: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` interior points of ``path`` cut into ``n + 1`` equal pieces (ends excluded)."""
    return resample(path, n + 2)[1:-1]


def face_keypoints(mesh: np.ndarray) -> np.ndarray:
    """(70, 2) OpenPose face keypoints (pixels) from a MediaPipe face mesh (468 or 478, 2+) in pixels.
    Raises ValueError for fewer than 468 points or non-finite values."""
    m = np.asarray(mesh, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < MESH_POINTS or m.shape[1] < 2 or not np.all(np.isfinite(m[:, :2])):
        raise ValueError(f"face mesh: shape {m.shape} is not allowed; allowed: (468+, 2+) finite values")
    m = m[:, :2]

    def at(idx: tuple[int, ...]) -> np.ndarray:
        return m[list(idx)]

    right_brow = resample((at(RIGHT_BROW[0]) + at(RIGHT_BROW[1])) / 2, 5)
    left_brow = resample((at(LEFT_BROW[0]) + at(LEFT_BROW[1])) / 2, 5)[::-1]  # inner to outer
    if m.shape[0] > max(IRIS_CENTRES):
        pupils = m[list(IRIS_CENTRES)]
    else:
        pupils = np.stack([at(RIGHT_EYE_RING).mean(axis=0), at(LEFT_EYE_RING).mean(axis=0)])
    parts = [
        resample(at(JAW), 17),
        right_brow, left_brow,
        resample(at(NOSE_BRIDGE), 4),
        at(NOSE_BASE),
        m[[33]], _inner(at(RIGHT_UPPER_LID), 2), m[[133]], _inner(at(RIGHT_LOWER_LID), 2)[::-1],
        m[[362]], _inner(at(LEFT_UPPER_LID), 2)[::-1], m[[263]], _inner(at(LEFT_LOWER_LID), 2),
        m[[61]], _inner(at(OUTER_UPPER_LIP), 5), m[[291]], _inner(at(OUTER_LOWER_LIP), 5)[::-1],
        m[[78]], _inner(at(INNER_UPPER_LIP), 3), m[[308]], _inner(at(INNER_LOWER_LIP), 3)[::-1],
        pupils,
    ]
    out = np.concatenate(parts, axis=0)
    assert out.shape == (FACE_KEYPOINTS, 2)
    return out
