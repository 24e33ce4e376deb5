"""Local image statistics that judge one repainted region against what was there before.

Pure numpy/OpenCV, no detector. Images are (H, W, 3) uint8 RGB crops; masks (H, W) uint8 0..255 as the
planner feathers them (>= 128 is "inside": the hard region before feathering, give or take a pixel).
Every measure is in 8-bit grey levels (0..255) or a dimensionless ratio, as each docstring says.

- :func:`sharpness`: 90th percentile |Laplacian| inside the region (the face detector's blur measure,
  restricted to a mask);
- :func:`noise_sigma`: Immerkaer's fast noise estimate (a 3x3 second-difference filter that cancels
  planes and ramps) inside the region; edges raise it a little, noise a lot;
- :func:`border_steps`: for each point along the mask border, how different the two sides look
  (local mean colour just inside vs just outside the feathered edge). A seam is a border step that
  the image did not have before the pass;
- :func:`misalignment`: whether the content just inside the border is the old content displaced;
- :func:`band_noise`: the noise estimate inside the region over that of the ring around it (a
  repainted band should look like its surroundings).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lib_qfix.scoring.signals import IMMERKAER_SCALE, immerkaer, luminance

#: width (px) of the rings compared on either side of the feathered mask edge
RING_PX = 6
#: a border point counts when both rings fill at least this fraction of its window
MIN_RING_FILL = 0.05


def inside(mask: np.ndarray) -> np.ndarray:
    """The hard region of a feathered mask: a bool (H, W) array."""
    return np.asarray(mask) >= 128


def sharpness(gray: np.ndarray, where: np.ndarray) -> float:
    """90th percentile of |Laplacian| (3x3) over the pixels ``where`` is True (grey levels; ~100 for a
    sharp photo, ~10 after a Gaussian blur of sigma 3). 0 for an empty selection."""
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))[where]
    return float(np.percentile(lap, 90)) if lap.size else 0.0


def noise_sigma(gray: np.ndarray, where: np.ndarray) -> float:
    """Immerkaer's noise estimate (grey levels, the std of additive white noise) over ``where``:
    ~0.5..4 for clean photos, ~ the noise std for noise. 0 for an empty selection."""
    resp = immerkaer(gray)[where]
    return float(IMMERKAER_SCALE * resp.mean()) if resp.size else 0.0


def texture(gray: np.ndarray) -> np.ndarray:
    """Per-pixel texture energy: |gradient| (Sobel 3x3, scaled to grey levels per pixel)."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3) / 8
    return np.asarray(np.hypot(gx, gy), np.float32)


@dataclass(frozen=True)
class Rings:
    """Pixel sets around a feathered mask edge (bool (H, W) arrays): ``core`` the region away from
    the feather ramp, ``inner``/``outer`` rings just inside/outside the ramp, ``edge`` the hard
    region's own edge pixels; ``window`` (px, odd) the square that pairs the rings around an edge point."""

    core: np.ndarray
    inner: np.ndarray
    outer: np.ndarray
    edge: np.ndarray
    window: int


def rings(mask: np.ndarray, feather_px: int, ring_px: int = RING_PX) -> Rings:
    """The rings of ``mask`` whose edge ramp is ``feather_px`` wide on each side."""
    hard = inside(mask)
    din = cv2.distanceTransform(hard.astype(np.uint8), cv2.DIST_L2, 3)
    dout = cv2.distanceTransform((~hard).astype(np.uint8), cv2.DIST_L2, 3)
    lo, hi = max(1, feather_px) + 1, max(1, feather_px) + 1 + ring_px
    return Rings(hard & (din >= lo), hard & (din >= lo) & (din < hi), ~hard & (dout >= lo) & (dout < hi),
                 hard & (din < 1.5), 2 * hi + 1)


def _local_mean(values: np.ndarray, sel: np.ndarray, window: int) -> np.ndarray:
    """Mean of the (H, W, C) ``values`` over the ``sel`` pixels in each ``window`` square."""
    k = (window, window)
    fill = cv2.blur(sel.astype(np.float32), k, borderType=cv2.BORDER_CONSTANT)
    s = cv2.blur(values * sel[..., None], k, borderType=cv2.BORDER_CONSTANT)
    return np.asarray(s / np.maximum(fill, 1e-6)[..., None])


def border_points(rg: Rings) -> np.ndarray:
    """Edge points whose window holds both rings: where the two sides of the border are compared
    (bool (H, W)). Depends on the mask only, so a before/after pair is compared point by point."""
    k = (rg.window, rg.window)
    fin = cv2.blur(rg.inner.astype(np.float32), k, borderType=cv2.BORDER_CONSTANT)
    fout = cv2.blur(rg.outer.astype(np.float32), k, borderType=cv2.BORDER_CONSTANT)
    return (fin >= MIN_RING_FILL) & (fout >= MIN_RING_FILL) & rg.edge


def border_steps(image: np.ndarray, rg: Rings, points: np.ndarray) -> np.ndarray:
    """How different the two sides of the border of ``rg`` look at ``points`` (see
    :func:`border_points`): the mean absolute RGB difference between the local mean colours of the
    inner and the outer ring (grey levels, one value per point)."""
    rgb = image.astype(np.float32)
    cin = _local_mean(rgb, rg.inner, rg.window)
    cout = _local_mean(rgb, rg.outer, rg.window)
    return np.asarray(np.abs(cin - cout).mean(axis=-1)[points])


#: largest displacement (px) searched by :func:`misalignment`
MAX_SHIFT_PX = 8
#: pixels whose texture energy (grey levels per pixel) is below this carry no structure to align
STRUCTURE_FLOOR = 6.0
#: fewer structured pixels than this: nothing visible could be misaligned
MIN_STRUCTURE_PX = 40
#: at most this many pixels are compared per displacement (17 x 17 displacements are tried)
MAX_STRUCTURE_PX = 20000


def misalignment(before: np.ndarray, after: np.ndarray, mask: np.ndarray, feather_px: int,
                 max_shift: int = MAX_SHIFT_PX) -> tuple[tuple[int, int], float, float]:
    """Does the repainted content just inside the border continue the old content displaced?

    Over structured pixels of the inner band (past the feather ramp), the mean |after(x) -
    before(x - d)| in grey levels is computed for every displacement d within ``max_shift`` px.
    Returns (best d as (dx, dy), error at d = 0, error at the best d); a good repaint is best
    aligned at (0, 0) or matches nothing better anywhere, a pasted patch that slipped a few pixels
    matches best at its slip. ((0, 0), 0, 0) when there is too little structure to tell."""
    gb, ga = luminance(before), luminance(after)
    hard = inside(mask)
    din = cv2.distanceTransform(hard.astype(np.uint8), cv2.DIST_L2, 3)
    lo = max(1, feather_px) + 1
    band = hard & (din >= lo) & (din < lo + 2 * RING_PX)
    band &= np.maximum(texture(gb), texture(ga)) >= STRUCTURE_FLOOR
    m = max_shift
    band[:m], band[-m:], band[:, :m], band[:, -m:] = False, False, False, False
    ys, xs = np.nonzero(band)
    if ys.size < MIN_STRUCTURE_PX:
        return (0, 0), 0.0, 0.0
    step = -(-ys.size // MAX_STRUCTURE_PX)  # a long border: every step-th pixel bounds the cost
    ys, xs = ys[::step], xs[::step]
    target = ga[ys, xs]
    best, err0, best_err = (0, 0), 0.0, float("inf")
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            err = float(np.abs(target - gb[ys - dy, xs - dx]).mean())
            if dx == 0 and dy == 0:
                err0 = err
            if err < best_err - 1e-6:
                best, best_err = (dx, dy), err
    return best, err0, best_err


def band_noise(image: np.ndarray, mask: np.ndarray, feather_px: int, ring_px: int = 2 * RING_PX) -> float:
    """log of (noise estimate inside the region's core) / (noise estimate in the ring around it),
    each floored at 0.5 grey levels: 0 when alike, > 0 when the inside is noisier, < 0 when it is
    smoother (a blurred patch). 0 when either part is empty."""
    rg = rings(mask, feather_px, ring_px)
    if not rg.core.any() or not rg.outer.any():
        return 0.0
    g = luminance(image)
    return float(np.log((noise_sigma(g, rg.core) + 0.5) / (noise_sigma(g, rg.outer) + 0.5)))
