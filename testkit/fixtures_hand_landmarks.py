"""Hand landmark sets for the plausibility check: (21, 3) pixels, z like x.

:func:`canonical_hand` is an open right hand from adult anatomy; :data:`PERTURBATIONS` are changes
that make any 21-landmark set implausible in one named way (each maps to the defect it must produce).
"""

from __future__ import annotations

import numpy as np


def canonical_hand() -> np.ndarray:
    """An open right hand, palm to the viewer, from adult anatomy (palm length 100 px)."""
    pts = {0: (0, 0)}
    pts.update({1: (-22, -25), 2: (-45, -45), 3: (-60, -65), 4: (-70, -85)})
    fingers = {5: ((-30, -95), (40, 24, 20), -4), 9: ((-5, -100), (45, 28, 22), 0),
               13: ((18, -95), (42, 27, 21), 4), 17: ((38, -85), (33, 20, 18), 9)}
    for base, ((x, y), lens, deg) in fingers.items():
        a = np.radians(deg)
        d = np.array([np.sin(a), -np.cos(a)])
        p = np.array([x, y], float)
        pts[base] = tuple(p)
        for k, length in enumerate(lens, start=1):
            p = p + d * length
            pts[base + k] = tuple(p)
    arr = np.array([[*pts[i], 0.0] for i in range(21)], dtype=np.float64)
    arr[:, :2] += 200
    return arr


def _collapse_middle(p):
    p[10:13] = p[9] + (p[10:13] - p[9]) * 0.1
    return p


def _long_index(p):
    p[8] = p[7] + (p[8] - p[7]) * 6
    return p


def _sideways_ring(p):
    d = p[15] - p[14]
    p[15] = p[14] + np.array([np.linalg.norm(d), 0, 0])
    p[16] = p[15] + np.array([20.0, 0, 0])
    return p


def _cross_base(p):
    p[[6, 10]] = p[[10, 6]]
    return p


def _fuse_ring_middle(p):
    p[14:17] = p[10:13] + 1.0
    return p


def _fold_back(p):
    p[12] = p[11] + (p[10] - p[11]) * 0.9 + np.array([2.0, 0, 0])
    return p


def _thumb_other_side(p):
    p[1:5, 0] = 2 * p[0, 0] - p[1:5, 0] + 40
    return p


def _knuckles_shuffled(p):
    p[[9, 13]] = p[[13, 9]]
    return p


#: perturbation -> the defect it must produce (all also produce "malformed_hand")
PERTURBATIONS = {_collapse_middle: "missing_fingers", _long_index: "malformed_hand", _sideways_ring: "malformed_hand",
                 _cross_base: "malformed_hand", _fuse_ring_middle: "fused_fingers", _fold_back: "malformed_hand",
                 _thumb_other_side: "malformed_hand", _knuckles_shuffled: "malformed_hand"}
