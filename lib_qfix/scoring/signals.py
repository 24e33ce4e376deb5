"""Fast no-reference image measurements, one function per distortion family.

The spatial functions take the luminance plane ``y``: (H, W) float32 in 0..255 (see
:func:`luminance`); :func:`exposure` takes the RGB image. Each is designed to be monotone in its
own distortion and little moved by image content; units and ranges are in each docstring.
Nothing here knows thresholds or verdicts: :mod:`lib_qfix.scoring.offline` does.
"""

from __future__ import annotations

import cv2
import numpy as np

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
    sigma = float(np.percentile(tiles, percentile))
    for _ in range(2):
        margin = max(8.0, 2.5 * sigma)
        keep = tiles[(means > margin) & (means < 255.0 - margin)]
        if keep.size == 0:
            break
        sigma = float(np.percentile(keep, percentile))
    return sigma


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
    yb = cv2.GaussianBlur(y, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    padded = [cv2.copyMakeBorder(a, 1, 0, 1, 0, cv2.BORDER_REPLICATE) for a in (y, yb)]
    # Two work planes reused for every direction, all operations in place: fresh temporaries cost
    # more in page faults than the arithmetic (~8 ms against ~1 ms at 512x512, bench/filter.py).
    d, db = np.empty_like(y), np.empty_like(y)
    totals, losses = [], []
    for first, second in _DIFF_PAIRS:
        # Differences shrunk by one 8-bit level: along a heavily blurred direction what is left is
        # sparse quantisation steps, which a re-blur spreads out and would read as sharpness.
        for src, out in zip(padded, (d, db), strict=True):
            cv2.absdiff(src[first], src[second], dst=out)
            out -= 1.0
            _clip_negative(out)
        total = _block_means(d, tile).ravel()
        np.subtract(d, db, out=db)
        lost = _block_means(_clip_negative(db), tile).ravel()
        totals.append(total)
        losses.append(np.where(total > 1e-6, lost / np.maximum(total, 1e-6), 0.0))
    return np.stack(totals, axis=1), np.stack(losses, axis=1)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cw = np.cumsum(weights[order])
    if cw[-1] <= 0:
        return float(np.median(values))
    return float(values[order][min(int(np.searchsorted(cw, q * cw[-1])), len(values) - 1)])


def blur_index(y: np.ndarray, quantile: float = 0.5) -> float:
    """Perceived blur, 0..1 (~0.35-0.55 typical sharp photo, >= 0.72 clearly blurred, 1 = flat).

    A re-blur test (the idea of Crete et al. 2007): blurring an already blurred image changes its
    neighbour differences little. Measured in four directions so that motion blur (which leaves
    edges along the motion sharp) counts (the worst direction for half, the mean for the other
    half), at full and half scale so that heavy blur still moves it, and per 32 px tile: the
    image's value is the edge-energy-weighted ``quantile`` over tiles, i.e. the sharp parts
    decide, so an in-focus subject before a soft background (bokeh) is not called blurred.
    """
    scores = []
    for img, tile in ((y, 32), (_half(y), 16)):
        if min(img.shape) < 4:
            continue
        totals, losses = _reblur_maps(img, 1.0, min(tile, *img.shape))
        b = 1.0 - losses
        per_tile = 0.5 * b.max(axis=1) + 0.5 * b.mean(axis=1)
        scores.append(_weighted_quantile(per_tile, totals.sum(axis=1), quantile))
    return float(np.mean(scores)) if scores else 0.0


def _half(y: np.ndarray) -> np.ndarray:
    h, w = y.shape
    return cv2.resize(y, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def detail_ratio(y: np.ndarray) -> float:
    """Energy of the finest octave over the next one (dimensionless, >= 0).

    Natural photos are roughly scale invariant, so this ratio is fairly stable across content
    (~0.4-2 for a sharp full-resolution photo); an upscaled or softened image has lost its top
    octave (-> 0), white noise raises it. "Effective resolution" in one number.
    """
    h, w = y.shape
    if min(h, w) < 8:
        return 0.0
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


#: luma levels (0..255) at or beyond which a pixel counts as clipped shadow / highlight
CLIP_LOW, CLIP_HIGH = 5.0, 250.0


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
        num = d.sum(axis=1 - axis, dtype=np.int64).astype(np.float64)
        den = v.sum(axis=1 - axis, dtype=np.int64) / 255.0
        n = (num.size // 8) * 8
        den8 = den[:n].reshape(-1, 8).sum(axis=0)
        if den8.min() < 16:  # (almost) everything clipped: nothing left to measure
            continue
        folded = num[:n].reshape(-1, 8).sum(axis=0) / den8 + 1e-3
        ratios = [folded[k] / max(folded[(k + 2) % 8], folded[(k + 4) % 8], folded[(k + 6) % 8])
                  for k in range(8)]
        vals.append(max(ratios))
    return float(np.mean(vals)) if vals else 1.0


def _srgb_to_linear_lut() -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


_LINEAR = _srgb_to_linear_lut()
_EV_FLOOR = 2.0 ** -12  # linear light floor so that black has a finite EV
_LEVELS = np.arange(256, dtype=np.float64) / 255.0
_HIGHLIGHT_W = np.square(np.maximum(_LEVELS - 0.6, 0.0) / 0.4)
_SHADOW_W = np.square(np.maximum(0.35 - _LEVELS, 0.0) / 0.35)
_GAP_LEVELS = (np.arange(1, 255) > CLIP_LOW) & (np.arange(1, 255) < CLIP_HIGH)


def _hist(channel: np.ndarray) -> np.ndarray:
    return cv2.calcHist([channel], [0], None, [256], [0, 256]).ravel().astype(np.float64)


def exposure(image: np.ndarray, gray: np.ndarray | None = None) -> dict[str, float]:
    """Exposure measurements of an (H, W, 3) uint8 RGB ``image`` (all from 8-bit histograms).

    Fractions in 0..1: ``mean_luma`` (mean luminance / 255), ``clipped_highlights`` (luminance
    >= 250: white, detail lost), ``clipped_shadows`` (luminance <= 5), ``highlight_load`` (mean of
    ((max channel / 255 - 0.6) / 0.4)^2, a smooth measure of how much sits near the top) and
    ``shadow_load`` (mean of ((0.35 - luminance / 255) / 0.35)^2, near the bottom).
    Exposure values in stops (EV, log2 of linear light; 0 = white, ~-2.5 = mid grey):
    ``ev_mean`` (of the mean linear luminance), ``ev_high`` (99th percentile: where the
    highlights sit, -1..0 in a well exposed photo) and ``ev_low`` (5th percentile: the shadows).
    A change of exposure by k stops moves all three by k until clipping stops them.
    ``tonal_entropy``: mean over R, G, B of the 8-bit histogram's entropy, bits (0..8; ~6.5-7.8
    for photos). Raising exposure maps levels one-to-one until they clip, lowering it merges
    levels: both lose entropy, so this measures exposure *damage* rather than brightness.
    ``tonal_gaps``: 0..1, see :func:`tonal_gaps` (levels stretched apart in 8 bits).
    """
    if gray is None:  # the caller's luma8(image) when it has one
        gray = luma8(image)
    r, g, b = cv2.split(image)
    hist = _hist(gray)
    n = float(hist.sum())
    cdf = np.cumsum(hist) / n
    vhist = _hist(cv2.max(cv2.max(r, g), b))
    channel_hists = [_hist(c) for c in (r, g, b)]
    mean_lin = float((hist * _LINEAR).sum() / n)
    return {
        "mean_luma": float((hist * _LEVELS).sum() / n),
        "clipped_highlights": float(max(1.0 - cdf[249], 0.0)),
        "clipped_shadows": float(cdf[5]),
        "highlight_load": float((vhist * _HIGHLIGHT_W).sum() / n),
        "shadow_load": float((hist * _SHADOW_W).sum() / n),
        "ev_mean": float(np.log2(max(mean_lin, _EV_FLOOR))),
        "ev_high": _ev_at(cdf, 0.99),
        "ev_low": _ev_at(cdf, 0.05),
        "tonal_entropy": float(np.mean([_entropy(h) for h in channel_hists])),
        "tonal_gaps": tonal_gaps(channel_hists),
    }


#: a level holding less than this fraction of its neighbours' mean count is a gap
GAP_DEPTH = 0.25
#: neighbours' mean count from which a level is judged (Poisson: 32 +- 6, so a gap is >= 4 sigma)
GAP_MIN_COUNT = 32.0


def tonal_gaps(hists: list[np.ndarray]) -> float:
    """Fraction 0..1 of the tonal range left empty between filled levels (pixel-weighted), over
    the 8-bit channel histograms ``hists``, levels 6..249 (clipping is measured separately).

    Raising exposure (or contrast) of an 8-bit image by a factor s > 1 spreads its levels apart
    and leaves ~1 - 1/s of them empty: the combed histogram behind banding in gradients. Nothing
    merges, so the entropy cannot see it, while lowering exposure merges levels and leaves none
    empty. Natural and generated photos have (near) none: ~0 - 0.02; +0.35 EV gives ~0.1, +1 EV
    ~0.3. Flat-colour graphics can show some.
    """
    gap = total = 0.0
    for h in hists:
        m = 0.5 * (h[:-2] + h[2:])  # neighbours' mean for levels 1..254
        judged = (m >= GAP_MIN_COUNT) & _GAP_LEVELS
        total += float(m[judged].sum())
        gap += float(m[judged & (h[1:-1] < GAP_DEPTH * m)].sum())
    return gap / total if total > 0 else 0.0


def _entropy(hist: np.ndarray) -> float:
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def _ev_at(cdf: np.ndarray, q: float) -> float:
    """EV of the ``q`` quantile of an 8-bit histogram's cdf, interpolated inside the bin so that
    small exposure changes still move it."""
    i = min(int(np.searchsorted(cdf, q)), 255)
    lo = cdf[i - 1] if i > 0 else 0.0
    frac = (q - lo) / max(cdf[i] - lo, 1e-12)  # where inside bin i the quantile falls
    value = min(max(i - 0.5 + frac, 0.0), 255.0)
    a = int(np.floor(value))
    b = min(a + 1, 255)
    lin = _LINEAR[a] + (_LINEAR[b] - _LINEAR[a]) * (value - a)
    return float(np.log2(max(lin, _EV_FLOOR)))
