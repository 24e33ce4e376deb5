"""Logo detector (registry name "logo"): compact, high-contrast, flat-coloured marks placed in a
corner or at the middle of an edge, as brand marks, badges and channel bugs are. Classical (no
model), ~5-15 ms at 512 px.

Per search window (the 4 corners and the middle of the top and bottom edges, squares of
:data:`WINDOW` of the short side, at :data:`ANALYSIS_SIDE` px): pixels whose Lab morphological
gradient (3x3 max - min, Euclidean over L, a, b) is at least :data:`EDGE` are strong edges; each
connected group of them (3x3 closing) is a candidate, kept as a logo when all of these hold:

- **isolated**: it keeps off the window's border, and a ring around it (15 % of its side) holds
  almost no other strong edges (>= :data:`MIN_ISOLATION` free): natural things run on or are busy;
- **compact**: side 3-22 % of the short side, aspect <= :data:`MAX_ASPECT` (long wordmarks are text,
  the text detector's business), its outline (holes filled) covering >= 30 % of its box;
- **flat**: >= :data:`MIN_FLAT` of its inside (away from edges) has a 5x5 Lab spread under 4, and
  >= :data:`MIN_FEW` of it lies within 15 of one of 4 colours (k-means): painted, not shaded;
- **contrast**: the 75th percentile Lab distance of its pixels to the ring's median colour is >=
  :data:`MIN_CONTRAST`.

Confidence = mean of flatness, colour concentration and min(1, contrast / 80) (0..1); regions of at
least ``options.logo_confidence``: kind "watermark" (repainted like watermarks), defect "logo"; one per
window, the most confident. When the prompt asks for a logo (``ignore_text_in_prompt`` and one of
the words of :data:`_LOGO_WORDS`) the verdict is "ok". Shaded or gradient logos and logos on busy
textures are missed (see the README's measured recall).
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from lib_qfix.detect.downscale import downscale, scale_to
from lib_qfix.detect.mediapipe_runtime import check_image
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, OK, Region

ANALYSIS_SIDE = 512
WINDOW = 0.3
EDGE = 35.0
MIN_ISOLATION = 0.9
MIN_FILL = 0.3
MIN_FLAT = 0.5
MIN_FEW = 0.7
MIN_CONTRAST = 35.0
MAX_ASPECT = 2.5
SIDE_RANGE = (0.03, 0.22)
_K3 = np.ones((3, 3), np.uint8)
_LOGO_WORDS = re.compile(r"\b(logos?|emblems?|badges?|insignias?|brand(?:ing|ed)?|trademarks?|icons?)\b", re.I)


def windows(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The search windows (x0, y0, x1, y1): 4 corners, then the middle of the top and bottom edges."""
    s = int(WINDOW * min(width, height))
    mid = (width - s) // 2
    return [(0, 0, s, s), (width - s, 0, width, s), (0, height - s, s, height), (width - s, height - s, width, height),
            (mid, 0, mid + s, s), (mid, height - s, mid + s, height)]


def _few_colours(pixels: np.ndarray) -> float:
    """Fraction of Lab ``pixels`` (N, 3) within 15 of one of their 4 k-means colours."""
    if len(pixels) < 8:
        return 0.0
    cv2.setRNGSeed(0)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    _, lab, centres = cv2.kmeans(pixels, 4, None, crit, 1, cv2.KMEANS_PP_CENTERS)
    return float((np.linalg.norm(pixels - centres[lab.ravel()], axis=1) < 15).mean())


def find_mark(lab: np.ndarray, short: int) -> tuple[tuple[int, int, int, int], float, str] | None:
    """(box in window pixels, confidence 0..1, reason) of the best logo in one Lab window, or None."""
    h, w = lab.shape[:2]
    f = lab.astype(np.float32)
    grad = np.sqrt(sum((cv2.dilate(f[..., c], _K3) - cv2.erode(f[..., c], _K3)) ** 2 for c in range(3)))
    strong = (grad >= EDGE).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(strong, _K3), connectivity=8)
    mean, sq = cv2.blur(f, (5, 5)), cv2.blur(f * f, (5, 5))
    spread = np.sqrt(np.maximum(sq - mean * mean, 0).sum(axis=2))
    best: tuple[tuple[int, int, int, int], float, str] | None = None
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        side = max(bw, bh)
        if x <= 2 or y <= 2 or x + bw >= w - 2 or y + bh >= h - 2:
            continue  # runs into the window's border: part of the scene
        if not SIDE_RANGE[0] * short <= side <= SIDE_RANGE[1] * short or side > MAX_ASPECT * min(bw, bh):
            continue
        r = max(3, int(0.15 * side))
        x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + bw + r), min(h, y + bh + r)
        ring = np.ones((y1 - y0, x1 - x0), bool)
        ring[y - y0:y - y0 + bh, x - x0:x - x0 + bw] = False
        other = (labels[y0:y1, x0:x1] != i) & (strong[y0:y1, x0:x1] > 0)
        isolation = 1.0 - float(other[ring].mean())
        if isolation < MIN_ISOLATION:
            continue
        comp = (labels[y:y + bh, x:x + bw] == i).astype(np.uint8)
        outline, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        region = np.zeros_like(comp)
        cv2.drawContours(region, outline, -1, 1, -1)
        inside = region > 0
        fill = float(inside.mean())
        away = inside & (cv2.dilate(strong[y:y + bh, x:x + bw], np.ones((5, 5), np.uint8)) == 0)
        if fill < MIN_FILL or away.sum() <= 10:
            continue
        flat = float((spread[y:y + bh, x:x + bw][away] < 4).mean())
        centre = np.median(f[y0:y1, x0:x1][ring], axis=0)
        pixels = f[y:y + bh, x:x + bw][inside]
        contrast = float(np.percentile(np.linalg.norm(pixels - centre, axis=1), 75))
        if flat < MIN_FLAT or contrast < MIN_CONTRAST:
            continue
        few = _few_colours(pixels)
        if few < MIN_FEW:
            continue
        confidence = (flat + few + min(1.0, contrast / 80)) / 3
        if best is None or confidence > best[1]:
            why = (f"compact mark ({bw}x{bh} px at {ANALYSIS_SIDE} px) standing alone: {flat:.0%} flat, {few:.0%} "
                   f"in 4 colours, contrast {contrast:.0f}")
            best = ((x, y, x + bw, y + bh), confidence, why)
    return best


class LogoDetector:
    """Registry name "logo"."""

    name = "logo"

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Logos in an (H, W, 3) uint8 RGB image, one per search window at most."""
        image = check_image(image)
        h, w = image.shape[:2]
        s = scale_to(image, ANALYSIS_SIDE)
        lab = cv2.cvtColor(downscale(image, s), cv2.COLOR_RGB2LAB)
        sh, sw = lab.shape[:2]
        wanted = bool(options.ignore_text_in_prompt and _LOGO_WORDS.search(prompt or ""))
        out: list[Region] = []
        for x0, y0, x1, y1 in windows(sw, sh):
            found = find_mark(lab[y0:y1, x0:x1], min(sw, sh))
            if found is None or found[1] < options.logo_confidence:
                continue
            (a, b, c, d), conf, why = found
            box = (int((x0 + a) / s), int((y0 + b) / s), min(w, int(np.ceil((x0 + c) / s))),
                   min(h, int(np.ceil((y0 + d) / s))))
            if any(r.box == box for r in out):
                continue  # the middle windows overlap the corners on narrow images
            if wanted:
                out.append(Region("watermark", box, conf, OK, (why, "the prompt asks for a logo"), (), self.name))
            else:
                out.append(Region("watermark", box, conf, DEFECT, (why,), ("logo",), self.name))
        return out
