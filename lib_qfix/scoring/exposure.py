"""Exposure measurements of the offline score, all from 8-bit histograms (see :func:`exposure`):
exposure level (mean luma, clipped fractions, EV of the mean and of the quantiles) and exposure
damage (tonal entropy, tonal gaps). Re-exported by :mod:`lib_qfix.scoring.signals`."""

from __future__ import annotations

import cv2
import numpy as np

#: luma levels (0..255) at or beyond which a pixel counts as clipped shadow / highlight
CLIP_LOW, CLIP_HIGH = 5.0, 250.0


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
    if gray is None:  # the caller's signals.luma8(image) when it has one
        gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
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
