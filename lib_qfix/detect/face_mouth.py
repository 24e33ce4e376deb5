"""Mouth and teeth from the face mesh: dark gaps in the teeth ("missing_teeth") and teeth drawn as
one flat band ("fused_teeth"). Weak signals, see the limits below.

Only an open mouth showing teeth is judged: inner lip gap (mesh 13-14) at least :data:`MIN_OPEN`
of the inner mouth width (78-308), that width at least :data:`MIN_MOUTH_PX`, head yaw <= 0.35.
The inner-lip polygon is resampled to :data:`CANON_W` pixels wide; its bright pixels (Otsu on
luminance inside the polygon) are the teeth, which must cover :data:`MIN_TEETH` of it.

- ``missing_teeth``: within the middle 70 % of the mouth, a run of columns with almost no teeth
  (< 20 % of the column) at least :data:`GAP_WIDTH` of the mouth wide, with teeth (> 50 %) on both
  sides: a dark hole in the row of teeth;
- ``fused_teeth``: teeth spanning at least half the mouth whose inner vertical-edge energy (mean
  |d/dx| of luminance inside the eroded teeth mask) is below :data:`FUSED_EDGES` of the teeth's
  contrast against the dark mouth: no lines between teeth.

Limits (measured in bench/detect.py): the only real smile that ships with the installed packages
is the astronaut's (mouth 40 px wide, each tooth ~6 px), so thresholds rest on one face and its
edited copies; small mouths, braces, tongues and dark lipstick are not modelled, and a real gap
tooth reads as "missing".
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.detect.face_checks import head_yaw, mesh_box, rescale
from lib_qfix.scoring.signals import luminance

#: inner lip outline, MediaPipe face mesh indices (upper lip left to right, then lower right to left)
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
MIN_MOUTH_PX = 30
MIN_OPEN = 0.1
MAX_YAW = 0.35
CANON_W = 96
MIN_TEETH = 0.25
GAP_WIDTH = 0.07
FUSED_EDGES = 0.04


def mouth_measures(image: np.ndarray, mesh: np.ndarray) -> dict[str, float] | None:
    """Teeth measures of the face with ``mesh`` ((N, 2+) pixels) in ``image`` (RGB uint8): ``open``
    (lip gap / width), ``teeth`` (fraction of the opening), ``gap`` (widest tooth-free run in the
    middle, fraction of the width), ``span`` (teeth columns / width), ``edges`` (inner edge energy /
    contrast); None when the mouth is not judged (closed, small, turned, no teeth showing)."""
    m = np.asarray(mesh, np.float64)[:, :2]
    width = float(np.linalg.norm(m[308] - m[78]))
    opening = float(np.linalg.norm(m[14] - m[13])) / max(width, 1e-6)
    if width < MIN_MOUTH_PX or opening < MIN_OPEN or head_yaw(mesh) > MAX_YAW:
        return None
    poly = m[list(INNER_LIPS)]
    box = mesh_box(poly, image.shape)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    scale = CANON_W / width
    y = luminance(rescale(image[y0:y1, x0:x1], scale))
    inside = np.zeros(y.shape, np.uint8)
    cv2.fillPoly(inside, [np.round((poly - (x0, y0)) * scale).astype(np.int32)], 255)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8))
    values = np.clip(y[inside > 0], 0, 255).astype(np.uint8)
    if values.size < 100:
        return None
    level, _ = cv2.threshold(values.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    teeth = (y > level) & (inside > 0)
    dark = (y <= level) & (inside > 0)
    share = float(teeth.sum()) / float((inside > 0).sum())
    if share < MIN_TEETH or dark.sum() < 10:
        return None
    cols = np.flatnonzero((inside > 0).any(axis=0))
    frac = teeth[:, cols].sum(axis=0) / np.maximum((inside[:, cols] > 0).sum(axis=0), 1)
    n = len(cols)
    mid = frac[int(0.15 * n):int(0.85 * n)]
    gap = _widest_flanked_gap(mid) / max(n, 1)
    span = float((frac > 0.5).sum()) / max(n, 1)
    core = cv2.erode(teeth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    dx = np.abs(cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)) / 8
    contrast = float(np.median(y[teeth]) - np.median(y[dark]))
    edges = float(dx[core].mean()) / max(contrast, 1.0) if core.any() else 0.0
    return {"open": opening, "teeth": share, "gap": gap, "span": span, "edges": edges, "mouth_px": width}


def _widest_flanked_gap(frac: np.ndarray) -> int:
    """Widest run of columns with teeth < 20 % that has a column with teeth > 50 % on each side."""
    best = run = 0
    seen_teeth = False
    for f in frac:
        if f > 0.5:
            if seen_teeth:
                best = max(best, run)
            seen_teeth, run = True, 0
        elif f < 0.2 and seen_teeth:
            run += 1
    return best


def teeth_verdict(image: np.ndarray, mesh: np.ndarray) -> tuple[str | None, str | None, dict[str, float]]:
    """(reason, defect, measures): ``missing_teeth`` or ``fused_teeth`` with its reason, or
    (None, None, measures) when the teeth look normal or the mouth is not judged."""
    found = mouth_measures(image, mesh)
    if found is None:
        return None, None, {}
    if found["gap"] >= GAP_WIDTH:
        return (f"gap in the teeth: {found['gap']:.0%} of the mouth width shows no teeth between teeth "
                f"(>= {GAP_WIDTH:.0%})"), "missing_teeth", found
    if found["span"] >= 0.5 and found["edges"] < FUSED_EDGES:
        return (f"teeth as one band: inner edge energy {found['edges']:.3f} of their contrast "
                f"(< {FUSED_EDGES})"), "fused_teeth", found
    return None, None, found
