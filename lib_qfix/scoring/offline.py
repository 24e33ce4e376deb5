"""The offline quality score: classical measurements, no model download, ~10-30 ms per 512² image.

Each family of defects gets a *severity* z (dimensionless): z = 0 sits where the defect is clearly
visible on a 512² image, each unit beyond is about one more "notch", clean photos sit at
z <= -1.5. A severity becomes a penalty ``p = softplus(2z + 1) / 2`` (smooth and strictly
increasing, so that mild distortions still order correctly; ~0.02 at z = -2, 0.66 at z = 0,
~z + 0.5 beyond; see :func:`family_penalty` for the exposure families) and the quality is
``exp(-sum p)``: exactly the product of the per-family qualities ``q_<family> = exp(-p)``.

Families: ``blur``, ``noise``, ``jpeg``, ``low_resolution``, ``naturalness`` (BRISQUE),
``tone`` and ``clipping`` (exposure *damage*: tonal levels merged or clipped), ``overexposed`` and
``underexposed`` (exposure *level*; they count only past the verdict line).

Signals (``ScoreResult.signals``; measurements from :mod:`lib_qfix.scoring.signals` and
:mod:`lib_qfix.scoring.nss`):

- ``blur``: re-blur index 0..1 (sharp photos ~0.35-0.55, clearly blurred >= 0.72).
- ``noise_sigma``: luminance noise std in 8-bit units (clean < 1.5, clearly noisy >= 5).
- ``blockiness``: JPEG 8x8 boundary ratio (clean ~1.0-1.1, clearly blocky >= 1.6).
- ``detail``: finest-octave / next-octave energy (sharp ~0.4-2, upscaled/soft <= 0.3).
- ``megapixels``: width * height / 1e6 (below 0.1 counts against resolution).
- ``brisque``: BRISQUE score, ~0-100, lower is better (clean photos mostly < 40).
- ``mean_luma``, ``clipped_highlights``, ``clipped_shadows``, ``highlight_load``,
  ``shadow_load``: fractions in 0..1; ``ev_mean``, ``ev_high``, ``ev_low``: stops (<= 0);
  ``tonal_entropy``: bits, 0..8; ``tonal_gaps``: 0..1, empty levels between filled ones (see
  :func:`lib_qfix.scoring.signals.exposure`).
- ``z_<family>``: each family's severity; ``q_<family>``: its quality factor in 0..1.

Regions: one global region (``box=None``) per kind "blur", "noise", "jpeg", "exposure",
"low_resolution" (defects "blur", "noise", "jpeg", "overexposed"/"underexposed",
"low_resolution"); ``confidence`` = sigmoid(2z), how clearly the defect shows (0.5 at z = 0);
the verdict is "defect" only when z >= ``DEFECT_Z`` (conservative: clean photos stay "ok").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lib_qfix.imageio import check_rgb
from lib_qfix.scoring import nss
from lib_qfix.scoring import signals as sig
from lib_qfix.types import DEFECT, OK, Region, ScoreResult

#: Severity from which a family's region gets the "defect" verdict.
DEFECT_Z = 0.5


def _softplus(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def penalty(z: float) -> float:
    """Penalty >= 0 of a severity z: smooth, strictly increasing, ~z + 0.5 for z >> 0."""
    return _softplus(2.0 * z + 1.0) / 2.0


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 60.0), -60.0)))


def measure(image: np.ndarray) -> dict[str, float]:
    """The raw measurements of one (H, W, 3) uint8 RGB image (see the module docstring)."""
    gray = sig.luma8(image)
    y = gray.astype(np.float32)  # = sig.luminance(image)
    half = sig.half_size(y)  # blur and detail both look at the next octave
    out = {
        "blur": sig.blur_index(y, half=half),
        "noise_sigma": sig.noise_sigma(y),
        "blockiness": sig.blockiness(gray),
        "detail": sig.detail_ratio(y, half=half),
        "megapixels": image.shape[0] * image.shape[1] / 1e6,
        "brisque": nss.brisque_score(image),
    }
    out.update(sig.exposure(image, gray))
    return out


def severities(m: dict[str, float]) -> dict[str, float]:
    """Severity z per family from the measurements ``m`` (0 = clearly visible defect).

    ``tone`` and ``clipping`` measure exposure *damage* (levels merged or clipped);
    ``overexposed`` and ``underexposed`` measure exposure *level* and decide the exposure verdict
    (their penalties start only there, see :func:`family_penalty`).
    """
    noise = max(m["noise_sigma"], 0.05)
    block = max(m["blockiness"], 0.5)
    detail = max(m["detail"], 0.01)
    # Resolution: the lost top octave saturates (a blurred image is also "soft"; the blur family
    # counts that), plus a pixel-count term for genuinely small images (< 0.1 MP).
    res_detail = -math.log2(detail / 0.3) / 0.4
    res_pixels = -math.log2(max(m["megapixels"], 1e-4) / 0.1) / 0.5
    # Exposure level in stops below a well exposed photo's: highlights (99th percentile) mostly,
    # mean luminance (mid grey ~ -2.3 EV) partly.
    deficit = -0.6 * m["ev_high"] - 0.4 * (m["ev_mean"] + 2.3)
    return {
        "blur": (m["blur"] - 0.68) / 0.08,
        "noise": math.log2(noise / 5.0) / 0.75,
        "jpeg": (math.log(block) - math.log(1.6)) / 0.2,
        "tone": (8.0 - m["tonal_entropy"] - 4.0) / 0.5,
        "clipping": (math.log10(m["clipped_highlights"] + 1e-3) + 0.5) / 0.5,
        "low_resolution": max(res_pixels, 0.0) + 4.0 * _sigmoid(res_detail) - 3.0,
        "naturalness": (m["brisque"] - 70.0) / 25.0,
        "overexposed": (m["ev_mean"] + 1.2) / 0.5 + (m["clipped_highlights"] - 0.08) / 0.08,
        "underexposed": (deficit - 2.0) / 0.5 + m["clipped_shadows"] / 0.2,
    }


#: Families whose penalties make the quality.
QUALITY_FAMILIES = ("blur", "noise", "jpeg", "tone", "clipping", "low_resolution", "naturalness",
                    "overexposed", "underexposed")
#: Bits of tonal entropy lost, per unit of penalty, on top of the tone hinge: a gentle slope that
#: orders every exposure change, however small, and rates flat, low-contrast images a bit lower.
TONE_SLOPE = 0.1
#: Penalty per unit of ``tonal_gaps`` (levels stretched apart), also in the tone family: raising
#: exposure without clipping loses no level, so this is what orders its first steps (~0.05 per
#: +0.35 EV) for photos whose highlights sit well below white.
GAP_WEIGHT = 0.5


def family_penalty(family: str, z: float, m: dict[str, float]) -> float:
    """The penalty of one family. Exposure *level* (a dark photo is not damaged by being dark)
    only counts once it is clearly wrong: a sharp hinge at the verdict line, so that a dark photo
    made brighter is not scored as improving. Tonal damage counts always (see TONE_SLOPE and
    GAP_WEIGHT)."""
    if family in ("overexposed", "underexposed"):
        return _softplus(4.0 * (z - DEFECT_Z)) / 4.0
    if family == "tone":
        return (penalty(z) + TONE_SLOPE * max(8.0 - m["tonal_entropy"], 0.0)
                + GAP_WEIGHT * m.get("tonal_gaps", 0.0))
    return penalty(z)


_FAMILY_KIND = {
    "blur": "blur", "noise": "noise", "jpeg": "jpeg", "overexposed": "exposure",
    "underexposed": "exposure", "low_resolution": "low_resolution",
}

_REASON = {
    "blur": "blurry: re-blur index {blur:.2f} (sharp photos < 0.55)",
    "noise": "noisy: noise std {noise_sigma:.1f} (clean < 1.5)",
    "jpeg": "JPEG blocks: 8x8 boundary ratio {blockiness:.2f} (clean ~1.0)",
    "overexposed": "overexposed: {clipped_highlights:.0%} clipped highlights, mean luma {mean_luma:.2f}",
    "underexposed": "underexposed: {clipped_shadows:.0%} crushed shadows, mean luma {mean_luma:.2f}",
    "low_resolution": "low resolution: {megapixels:.2f} MP, fine-detail ratio {detail:.2f}",
}


def _regions(z: dict[str, float], m: dict[str, float], scorer: str) -> tuple[Region, ...]:
    regions = []
    for kind in ("blur", "noise", "jpeg", "exposure", "low_resolution"):
        families = [f for f, k in _FAMILY_KIND.items() if k == kind]
        worst = max(families, key=lambda f: z[f])
        bad = [f for f in families if z[f] >= DEFECT_Z]
        regions.append(Region(
            kind=kind, box=None, confidence=_sigmoid(2.0 * z[worst]),
            verdict=DEFECT if bad else OK,
            reasons=tuple(_REASON[f].format(**m) for f in bad),
            defects=tuple(bad), detector=scorer,
        ))
    return tuple(regions)


def _as_rgb(image: np.ndarray, index: int) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"images[{index}]: dtype {a.dtype} not allowed; expected uint8 0..255")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return check_rgb(a, f"images[{index}]", also=" (also accepted: (H, W) gray, (H, W, 4) RGBA)")


class OfflineScorer:
    """Quality in 0..1 from blur, noise, JPEG blocking, exposure and resolution measurements.

    No weights, no downloads, deterministic; ``prompts`` are accepted and ignored (this score does
    not look at content).
    """

    name = "offline"
    version = "offline-3"  # bump whenever measurements, severities or penalties change

    def score(self, images: Sequence[np.ndarray], prompts: Sequence[str] | None = None) -> list[ScoreResult]:
        """One :class:`ScoreResult` per image, in order."""
        if prompts is not None and len(prompts) != len(images):
            raise ValueError(f"prompts: {len(prompts)} given for {len(images)} images; "
                             "expected one per image or None")
        return [self._score_one(_as_rgb(img, i)) for i, img in enumerate(images)]

    def _score_one(self, image: np.ndarray) -> ScoreResult:
        m = measure(image)
        z = severities(m)
        penalties = {f: family_penalty(f, z[f], m) for f in QUALITY_FAMILIES}
        quality = math.exp(-sum(penalties.values()))
        signals = dict(m)
        signals.update({f"z_{f}": v for f, v in z.items()})
        signals.update({f"q_{f}": math.exp(-p) for f, p in penalties.items()})
        regions = _regions(z, m, self.name)
        reasons = tuple(r for reg in regions for r in reg.reasons)
        return ScoreResult(quality=quality, scorer=self.name, signals=signals, reasons=reasons,
                           regions=regions)
