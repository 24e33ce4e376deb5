"""Fast no-reference image measurements, one function per distortion family.

The spatial functions take the luminance plane ``y``: (H, W) float32 in 0..255 (see
:func:`luminance`); :func:`exposure` (from :mod:`lib_qfix.scoring.exposure`) takes the RGB image.
Each is designed to be monotone in its own distortion and little moved by image content; units and
ranges are in each docstring.
Nothing here knows thresholds or verdicts: :mod:`lib_qfix.scoring.offline` does.
"""

from __future__ import annotations

import cv2
import numpy as np

# the exposure family lives in its own module; its names stay importable from here
from lib_qfix.scoring.exposure import CLIP_HIGH, CLIP_LOW, exposure, tonal_gaps  # noqa: F401

# Immerkaer's noise operator: the difference of two Laplacians, blind to planes and to edges'
# linear parts. For white noise of std s, E|conv| = s * 6 * sqrt(2/pi).
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
IMMERKAER_SCALE = float(np.sqrt(np.pi / 2.0) / 6.0)


def luma8(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 luma (BT.601, the JPEG Y) of an (H, W, 3) uint8 RGB image."""
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def luminance(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma (BT.601, the JPEG Y) in 0..255 from an (H, W, 3) uint8 RGB image."""
    return luma8(image).astype(np.float32)


def immerkaer(y: np.ndarray) -> np.ndarray:
    """Per-pixel |Immerkaer response| of float32 luma ``y``; a mean of it times
    :data:`IMMERKAER_SCALE` estimates the std of additive white noise (8-bit units)."""
    out = cv2.filter2D(y, -1, _IMMERKAER, borderType=cv2.BORDER_REFLECT)
    return np.abs(out, out=out)


def _block_means(a: np.ndarray, block: int) -> np.ndarray:
    """Means over non-overlapping ``block`` x ``block`` tiles (the ragged edge is dropped)."""
    h, w = (a.shape[0] // block) * block, (a.shape[1] // block) * block
    if h == 0 or w == 0:
        return np.array([[float(a.mean())]], np.float32)
    return cv2.resize(a[:h, :w], (w // block, h // block), interpolation=cv2.INTER_AREA)


def noise_sigma(y: np.ndarray, block: int = 16, percentile: float = 10.0) -> float:
    """Std of additive white noise, 8-bit units (0 = clean, ~1 = sensor grain, 5+ = clearly noisy).

    Immerkaer's estimate averaged per ``block`` tile; the ``percentile``-th tile is kept, so
    textured tiles (which inflate the estimate) are ignored as long as some flat areas exist.
    Tiles whose mean is within max(8, 2.5 sigma) of black or white are skipped (sigma from a first
    pass): clipping hides the noise there.
    """
    if min(y.shape) < 3:
        return 0.0
    tiles = _block_means(immerkaer(y), block).ravel() * IMMERKAER_SCALE
    means = _block_means(y, block).ravel()
    sigma = percentile_of(tiles, percentile)
    for _ in range(2):
        margin = max(8.0, 2.5 * sigma)
        keep = tiles[(means > margin) & (means < 255.0 - margin)]
        if keep.size == 0:
            break
        sigma = percentile_of(keep, percentile)
    return sigma


def percentile_of(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear method) of a 1-D array without NaN, the same float bit
    for bit (numpy's own steps and promotions) at ~1/15 of its cost (~3 instead of ~50 us)."""
    n = values.size
    vi = (n - 1) * np.true_divide(q, 100)  # float64, as numpy's "linear" virtual index
    lo = np.floor(vi)
    i = n - 1 if vi >= n - 1 else max(int(lo), 0)
    j = i if vi >= n - 1 or vi < 0 else i + 1
    part = np.partition(values, (i, j) if j != i else i)
    a, b, t = part[i], part[j], np.asarray(vi - lo)
    d = np.subtract(b, a)
    return float(np.subtract(b, d * (1 - t)) if t >= 0.5 else np.add(a, d * t))


# Neighbour differences in four directions (x, y and the two diagonals), as pairs of views into the
# plane padded by one replicated row on top and column on the left: a - b is the difference at each
# pixel (first: the pixel, second: its neighbour; the anti-diagonal pairs the left and upper ones).
_DIFF_PAIRS = (
    ((slice(1, None), slice(1, None)), (slice(1, None), slice(None, -1))),
    ((slice(1, None), slice(1, None)), (slice(None, -1), slice(1, None))),
    ((slice(1, None), slice(1, None)), (slice(None, -1), slice(None, -1))),
    ((slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None))),
)


def _clip_negative(a: np.ndarray) -> np.ndarray:
    """``a`` with negative values set to 0, in place (float32; OpenCV's threshold is ~7x numpy's maximum)."""
    cv2.threshold(a, 0.0, 0.0, cv2.THRESH_TOZERO, dst=a)
    return a


def _reblur_maps(y: np.ndarray, sigma: float, tile: int) -> tuple[np.ndarray, np.ndarray]:
    """Per ``tile`` x ``tile`` tile and direction (x, y, two diagonals): the neighbour-difference
    energy (tiles, 4) and the fraction of it that a Gaussian re-blur of ``sigma`` px removes
    (tiles, 4). Sharp edges lose much (~0.5+), blurred ones little."""
    h, w = y.shape
    padded = [np.empty((h + 1, w + 1), y.dtype) for _ in range(2)]
    np.copyto(padded[0][1:, 1:], y)
    # the blur is written straight into its padded plane: one pass less than padding a copy
    yb = cv2.GaussianBlur(y, (0, 0), sigma, dst=padded[1][1:, 1:], borderType=cv2.BORDER_REFLECT)
    if not np.may_share_memory(yb, padded[1]):  # OpenCV chose its own output after all
        np.copyto(padded[1][1:, 1:], yb)
    for p in padded:  # replicate the first row and column (as cv2.BORDER_REPLICATE)
        p[0, 1:] = p[1, 1:]
        p[:, 0] = p[:, 1]
    # Two work planes reused for every direction, all operations in place: fresh temporaries cost
    # more in page faults than the arithmetic (~8 ms against ~1 ms at 512x512, bench/filter.py).
    d, db = np.empty_like(y), np.empty_like(y)
    totals, losts = [], []
    for first, second in _DIFF_PAIRS:
        # Differences shrunk by one 8-bit level: along a heavily blurred direction what is left is
        # sparse quantisation steps, which a re-blur spreads out and would read as sharpness.
        for src, out in zip(padded, (d, db), strict=True):
            cv2.absdiff(src[first], src[second], dst=out)
            out -= 1.0
            _clip_negative(out)
        totals.append(_block_means(d, tile).ravel())
        np.subtract(d, db, out=db)
        losts.append(_block_means(_clip_negative(db), tile).ravel())
    total, lost = np.stack(totals, axis=1), np.stack(losts, axis=1)
    return total, np.where(total > 1e-6, lost / np.maximum(total, 1e-6), 0.0)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cw = np.cumsum(weights[order])
    if cw[-1] <= 0:
        return float(np.median(values))
    return float(values[order][min(int(np.searchsorted(cw, q * cw[-1])), len(values) - 1)])


def blur_index(y: np.ndarray, quantile: float = 0.5, half: np.ndarray | None = None) -> float:
    """Perceived blur, 0..1 (~0.35-0.55 typical sharp photo, >= 0.72 clearly blurred, 1 = flat).

    A re-blur test (the idea of Crete et al. 2007): blurring an already blurred image changes its
    neighbour differences little. Measured in four directions so that motion blur (which leaves
    edges along the motion sharp) counts (the worst direction for half, the mean for the other
    half), at full and half scale so that heavy blur still moves it, and per 32 px tile: the
    image's value is the edge-energy-weighted ``quantile`` over tiles, i.e. the sharp parts
    decide, so an in-focus subject before a soft background (bokeh) is not called blurred.
    ``half``: :func:`half_size` of ``y`` when the caller has it (:func:`detail_ratio` needs it too).
    """
    scores = []
    for img, tile in ((y, 32), (half_size(y) if half is None else half, 16)):
        if min(img.shape) < 4:
            continue
        totals, losses = _reblur_maps(img, 1.0, min(tile, *img.shape))
        b = 1.0 - losses
        per_tile = 0.5 * b.max(axis=1) + 0.5 * b.mean(axis=1)
        scores.append(_weighted_quantile(per_tile, totals.sum(axis=1), quantile))
    return float(np.mean(scores)) if scores else 0.0


def half_size(y: np.ndarray) -> np.ndarray:
    """``y`` at half size (each side halved, at least 1 px), 2x2 area means."""
    h, w = y.shape
    return cv2.resize(y, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def detail_ratio(y: np.ndarray, half: np.ndarray | None = None) -> float:
    """Energy of the finest octave over the next one (dimensionless, >= 0).

    Natural photos are roughly scale invariant, so this ratio is fairly stable across content
    (~0.4-2 for a sharp full-resolution photo); an upscaled or softened image has lost its top
    octave (-> 0), white noise raises it. "Effective resolution" in one number. ``half``: as
    :func:`blur_index` takes it.
    """
    h, w = y.shape
    if min(h, w) < 8:
        return 0.0
    if half is None:  # the same as half_size(y) for images of 8+ px a side
        half = cv2.resize(y, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    quarter = cv2.resize(half, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    up_half = cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)
    up_quarter = cv2.resize(cv2.resize(quarter, (w // 2, h // 2), interpolation=cv2.INTER_LINEAR),
                            (w, h), interpolation=cv2.INTER_LINEAR)
    # 8-bit rounding is white noise of variance 1/12; about 3/4 of it lands in the finest octave
    # and 3/16 in the next. Without this floor a heavily blurred image reads as detailed again.
    n = float(h * w)
    fine = max(cv2.norm(y, up_half, cv2.NORM_L2SQR) / n - 0.75 / 12.0, 0.0)
    mid = max(cv2.norm(up_half, up_quarter, cv2.NORM_L2SQR) / n - 0.19 / 12.0, 0.0)
    return fine / mid if mid > 1e-3 else 0.0


def blockiness(y: np.ndarray) -> float:
    """8x8 block-boundary discontinuity, >= 0 (~1.0-1.1 = none, >= 1.45 = visible JPEG blocks).

    Mean absolute neighbour differences, folded by position modulo 8, per axis; for each phase the
    ratio to the largest other phase of the same parity (so that the period-2 and period-4
    ripples of 2x/4x upscaling do not count), the strongest phase taken. Horizontal and vertical
    are averaged. Pairs with a clipped pixel (luma <= 5 or >= 250) are left out: clipping flattens
    the blocks it covers without undoing the compression of the rest, so an over- or
    under-exposed JPEG keeps its blockiness instead of looking cleaner.
    """
    g = y if y.dtype == np.uint8 else np.clip(np.rint(y), 0, 255).astype(np.uint8)
    # 255 where a pixel is not clipped; uint8 throughout: cheap, and exact for 8-bit luma
    valid = cv2.inRange(g, int(CLIP_LOW) + 1, int(CLIP_HIGH) - 1)
    vals = []
    for axis in (1, 0):
        if g.shape[axis] < 17 or g.shape[1 - axis] < 1:  # fewer than two 8 px periods
            continue
        a, b = (g[:, 1:], g[:, :-1]) if axis == 1 else (g[1:, :], g[:-1, :])
        va, vb = (valid[:, 1:], valid[:, :-1]) if axis == 1 else (valid[1:, :], valid[:-1, :])
        v = cv2.bitwise_and(va, vb)
        d = cv2.bitwise_and(cv2.absdiff(a, b), v)
        # exact integer sums either way; 32-bit ones are ~2x faster and hold 255 * 2^24
        acc = np.uint32 if g.shape[1 - axis] < 1 << 24 else np.int64
        num = d.sum(axis=1 - axis, dtype=acc).astype(np.float64)
        den = v.sum(axis=1 - axis, dtype=acc) / 255.0
        n = (num.size // 8) * 8
        den8 = den[:n].reshape(-1, 8).sum(axis=0)
        if den8.min() < 16:  # (almost) everything clipped: nothing left to measure
            continue
        folded = num[:n].reshape(-1, 8).sum(axis=0) / den8 + 1e-3
        ratios = [folded[k] / max(folded[(k + 2) % 8], folded[(k + 4) % 8], folded[(k + 6) % 8])
                  for k in range(8)]
        vals.append(max(ratios))
    return float(np.mean(vals)) if vals else 1.0
