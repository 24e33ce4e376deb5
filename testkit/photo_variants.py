"""Renderings of a photo that a distortion ladder should also hold on: bright, dim, JPEG.

The bundled public-domain photos are mostly mid-toned PNGs. Real photos often have large bright
areas that are not clipped (overcast sky, a white wall, snow, a high-key portrait), are a little
dark, and are JPEGs. Each function here takes an (H, W, 3) uint8 RGB photo and returns a new one of
the same size, deterministically. Tone curves are applied as a camera would, at high bit depth
(the 8-bit input is dithered by +-0.5 level first), so that they leave no combed histogram: the
rendering is a plausible photo, not an already-edited one.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image


def _to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _to_srgb(lin: np.ndarray) -> np.ndarray:
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.maximum(lin, 0.0) ** (1 / 2.4) - 0.055)


def _tone(img: np.ndarray, curve: Callable[[np.ndarray], np.ndarray], seed: int = 1) -> np.ndarray:
    """``curve`` (linear light 0..1 -> 0..1) applied to dithered input, rounded to 8 bits."""
    rng = np.random.default_rng(seed)
    v = np.clip((img.astype(np.float64) + rng.uniform(-0.5, 0.5, img.shape)) / 255.0, 0.0, 1.0)
    out = _to_srgb(curve(_to_linear(v)))
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def high_key(img: np.ndarray, ev: float = 1.0, knee: float = 0.5, peak: float = 0.9) -> np.ndarray:
    """+``ev`` stops with a soft highlight shoulder: linear light above ``knee`` rolls off towards
    ``peak`` (0.9 linear ~ level 243), so large areas end up bright and none is clipped."""
    def curve(lin: np.ndarray) -> np.ndarray:
        lin = lin * 2.0 ** ev
        return np.where(lin < knee, lin, knee + (peak - knee) * (1 - np.exp(-(lin - knee) / (peak - knee))))
    return _tone(img, curve)


def dim(img: np.ndarray, ev: float = -0.6) -> np.ndarray:
    """Exposure lowered by ``ev`` stops (a dim but usable photo; not crushed)."""
    return _tone(img, lambda lin: np.clip(lin * 2.0 ** ev, 0.0, 1.0))


def bright_area(img: np.ndarray, fraction: float = 0.45, lo: float = 205.0, hi: float = 246.0,
                quality: int = 88) -> np.ndarray:
    """The top ``fraction`` of the photo replaced by a smooth bright gradient (levels ``hi`` at the
    top to ``lo``; a sky or a lit wall) with fine grain and a faint ripple, then saved as a
    JPEG of ``quality``: a large bright area, nothing clipped."""
    h, w = img.shape[:2]
    out = img.copy()
    n = max(1, int(h * fraction))
    ramp = np.linspace(hi, lo, n)[:, None, None] * np.array([0.93, 0.97, 1.0])[None, None, :]
    rng = np.random.default_rng(0)
    ripple = 3.0 * np.sin(np.arange(w) / 40.0)[None, :, None]
    out[:n] = np.clip(ramp + ripple + rng.normal(0.0, 1.5, (n, w, 3)), 0, 255).astype(np.uint8)
    return _jpeg(out, quality)


def jpeg80(img: np.ndarray) -> np.ndarray:
    """A JPEG round trip at quality 80 (what a phone or a web page delivers)."""
    return _jpeg(img, 80)


#: name -> rendering; "plain" is the photo itself.
VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "plain": lambda img: img,
    "high_key": high_key,
    "bright_sky": bright_area,
    "bright_wall": lambda img: bright_area(img, fraction=0.6, lo=232.0, hi=244.0),
    "jpeg80": jpeg80,
    "dim": dim,
}
