"""Extra fingers: more fingers on a hand's silhouette than its 21 landmarks can explain.

MediaPipe's hand model always returns 21 landmarks (five fingers), so a sixth finger never shows in
them; it does show in the hand's outline. Steps, on the hand's box grown by 0.6 palm lengths:

1. silhouette (:func:`silhouette`): GrabCut seeded by the landmarks (bones and palm: hand; farther
   than ~0.6 palm lengths from every bone: background), then every pixel classified again by
   colour alone (GrabCut's smoothness fills the gaps between touching fingers), the component
   holding the palm centre kept. The hand is not judged when the result is not hand-shaped (area
   outside 0.7..3x the landmark hull) or spills into the background (more than 12 % of it farther
   than 0.3 palm lengths from every bone: a background of the hand's colour);
2. fingers (:func:`finger_count`): on four circles around the palm centre, between the knuckles
   and the finger tips, the runs of finger width along the circle, the forearm's direction left
   out; the largest count over the circles;
3. more than five is ``extra_fingers`` (the landmarks explain five).

Only hands whose palm (wrist to middle knuckle) is at least :data:`MIN_PALM_PX` pixels are judged.
Limits: measured on rendered hands (plain and photo backgrounds) with a drawn sixth finger; on real
photos skin-coloured backgrounds, sleeves and touching hands merge into the silhouette, and nothing
in the bundled photos shows a bare hand to measure false alarms on (see the README).
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_PALM_PX = 40
#: palm length (px) the silhouette is worked out at (larger hands are shrunk first)
WORK_PALM_PX = 48
#: circles on which fingers are counted: the knuckles' distance from the palm centre plus these
#: fractions of the median finger length (fingers touch at the base and part towards the tips)
SCAN_AT = (0.35, 0.5, 0.65, 0.8)
#: a run along a circle counts as a finger when its width is within this range (times the palm length)
RUN_WIDTH = (0.08, 0.45)
FOREARM_DEG = 40.0
GRABCUT_ITERATIONS = 3
AREA_RANGE = (0.7, 3.0)
#: silhouette pixels farther than SPILL_PALM palm lengths from every bone are "spill"; above
#: MAX_SPILL of the silhouette the background merges with the hand
SPILL_PALM = 0.3
MAX_SPILL = 0.12
TIPS = (4, 8, 12, 16, 20)
BONES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (9, 10), (10, 11), (11, 12),
         (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20), (5, 9), (9, 13), (13, 17))
PALM = (0, 1, 5, 9, 13, 17)


def _angle_diff(a: np.ndarray | float, b: float) -> np.ndarray:
    return np.abs((np.asarray(a) - b + 180.0) % 360.0 - 180.0)


def silhouette(crop: np.ndarray, pts: np.ndarray, palm: float) -> np.ndarray | None:
    """Skin mask (H, W) bool of the hand in ``crop`` (RGB uint8) with landmarks ``pts`` (21, 2) in
    crop pixels (GrabCut seeded by the landmarks), or None when the result is not hand-shaped (its
    area outside 0.7..3x the landmark hull's: the hand and its background could not be told apart)."""
    h, w = crop.shape[:2]
    seed = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    near = np.zeros((h, w), np.uint8)
    core = np.zeros((h, w), np.uint8)
    for a, b in BONES:
        pa, pb = tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b])
        cv2.line(near, pa, pb, 255, max(3, int(0.7 * palm)))
        cv2.line(core, pa, pb, 255, max(1, int(palm / 10)))
    palm_poly = np.zeros((h, w), np.uint8)
    cv2.fillPoly(palm_poly, [np.round(pts[list(PALM)]).astype(np.int32)], 255)
    core |= cv2.erode(palm_poly, np.ones((3, 3), np.uint8), iterations=max(1, int(palm / 8)))
    far = cv2.dilate(near, np.ones((3, 3), np.uint8), iterations=max(1, int(palm / 4)))
    seed[near > 0] = cv2.GC_PR_FGD
    seed[far == 0] = cv2.GC_BGD
    seed[core > 0] = cv2.GC_FGD
    if not (seed == cv2.GC_BGD).any():
        return None
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(crop[..., ::-1]), seed, None, bgd, fgd, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    mask = ((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)).astype(np.uint8)
    # GrabCut's smoothness fills the thin gaps between touching fingers; each pixel is classified
    # again by colour alone (nearer class in Lab, robust per-class spread), inside the cut grown by 2 px
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    fg, bg = lab[mask.ravel() > 0], lab[mask.ravel() == 0]
    if len(fg) < 20 or len(bg) < 20:
        return None
    dist = []
    for part in (fg, bg):
        centre = np.median(part, axis=0)
        spread = np.median(np.abs(part - centre), axis=0) * 1.4826 + 2.0
        dist.append((((lab - centre) / spread) ** 2).sum(axis=1))
    mask &= (dist[0] < dist[1]).reshape(h, w).astype(np.uint8)
    mask &= cv2.dilate(((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)).astype(np.uint8), np.ones((5, 5), np.uint8))
    k = max(1, int(palm / 12))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels = cv2.connectedComponents(mask)
    cx, cy = (int(v) for v in np.clip(pts[list(PALM)].mean(axis=0), 0, [w - 1, h - 1]))
    label = labels[cy, cx]
    if label == 0:
        return None
    out = labels == label
    hull_area = float(cv2.contourArea(cv2.convexHull(np.round(pts).astype(np.float32))))
    if not AREA_RANGE[0] * hull_area <= out.sum() <= AREA_RANGE[1] * hull_area:
        return None
    # background of the hand's colour joins the silhouette far from every bone: then runs on the
    # scan circles are not fingers, and the hand is not judged
    bones = np.full((h, w), 255, np.uint8)
    for a, b in BONES:
        cv2.line(bones, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), 0, 1)
    far_px = cv2.distanceTransform(bones, cv2.DIST_L2, 3) > SPILL_PALM * palm
    return None if float((out & far_px).sum()) > MAX_SPILL * float(out.sum()) else out


def finger_count(mask: np.ndarray, centre: np.ndarray, radius: float, finger: float, palm: float,
                 skip: float) -> int:
    """How many fingers cross circles around ``centre``: at each radius ``radius + f * finger`` (the
    knuckles' distance plus the fractions :data:`SCAN_AT` of a finger's length) the silhouette's runs of finger width (:data:`RUN_WIDTH` x ``palm``)
    along the circle are counted, leaving out +-:data:`FOREARM_DEG` around angle ``skip`` (the
    forearm); the largest count is returned. Parallel fingers stay apart on a circle even where
    their directions from the palm centre are only a few degrees apart."""
    h, w = mask.shape
    best = 0
    for f in SCAN_AT:
        r = radius + f * finger
        steps = max(90, int(2 * np.pi * r))
        ang = np.arange(steps) * 360.0 / steps
        keep = _angle_diff(ang, skip) >= FOREARM_DEG
        xs = np.round(centre[0] + r * np.cos(np.radians(ang))).astype(int)
        ys = np.round(centre[1] + r * np.sin(np.radians(ang))).astype(int)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        on = np.zeros(steps, bool)
        on[inside] = mask[ys[inside], xs[inside]]
        on &= keep
        # runs on a circle: start after an "off" sample so that no run straddles the ends
        if not on.all():
            first_off = int(np.argmin(on))
            on = np.roll(on, -first_off)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
        runs = (edges[1::2] - edges[0::2]) * 2 * np.pi * r / steps
        best = max(best, int(np.sum((runs >= RUN_WIDTH[0] * palm) & (runs <= RUN_WIDTH[1] * palm))))
    return best


def extra_finger_reason(image: np.ndarray, points: np.ndarray) -> tuple[str | None, dict[str, float]]:
    """A reason when the hand with landmarks ``points`` ((21, 2+) pixels) has finger tips on its
    silhouette that the landmarks do not explain, else None; plus what was measured."""
    p = np.asarray(points, np.float64)[:, :2]
    palm = float(np.linalg.norm(p[9] - p[0]))
    if palm < MIN_PALM_PX:
        return None, {"palm_px": palm}
    h, w = image.shape[:2]
    pad = 0.6 * palm
    x0, y0 = int(max(0, p[:, 0].min() - pad)), int(max(0, p[:, 1].min() - pad))
    x1, y1 = int(min(w, p[:, 0].max() + pad)), int(min(h, p[:, 1].max() + pad))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None, {"palm_px": palm}
    # the silhouette is cut at a working size (palm WORK_PALM_PX long): GrabCut's cost grows with pixels
    scale = min(1.0, WORK_PALM_PX / palm)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    local = (p - (x0, y0)) * scale
    work_palm = palm * scale
    mask = silhouette(crop, local, work_palm)
    if mask is None:
        return None, {"palm_px": palm, "separable": 0.0}
    centre = local[list(PALM)].mean(axis=0)
    radius = float(np.median(np.linalg.norm(local[[5, 9, 13, 17]] - centre, axis=1)))
    wrist = local[0] - centre
    finger = float(np.median([np.linalg.norm(local[t] - local[t - 3]) for t in TIPS[1:]]))
    count = finger_count(mask, centre, radius, finger, work_palm,
                         float(np.degrees(np.arctan2(wrist[1], wrist[0])) % 360))
    measures = {"palm_px": palm, "separable": 1.0, "fingers": float(count)}
    if count <= len(TIPS):
        return None, measures
    return f"extra finger: {count} fingers cross a circle around the palm on the hand's outline (a hand has 5)", measures
