"""A synthetic distortion ladder (KADID-style): seven distortions, five levels each.

Every function takes an (H, W, 3) uint8 RGB image and a level 1..5 (1 = mild, 5 = severe) and
returns a new (H, W, 3) uint8 RGB image of the same size. Everything is deterministic: noise uses
a fixed seed, motion blur a caller-chosen angle. Exposure changes are applied in linear light
(sRGB decoded, scaled by 2**EV, clipped, re-encoded), as a camera's exposure would act.

``python -m testkit.distortions OUT_DIR`` writes the ladder of one bundled photo for a look.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

LEVELS = (1, 2, 3, 4, 5)

#: Level parameters, index 0 = level 1. Units in each function's docstring.
GAUSSIAN_SIGMA = (0.6, 1.0, 1.6, 2.6, 4.2)
MOTION_LENGTH = (3, 5, 9, 15, 25)
NOISE_SIGMA = (4.0, 8.0, 14.0, 24.0, 40.0)
JPEG_QUALITY = (60, 40, 25, 12, 5)
OVER_EV = (0.35, 0.7, 1.05, 1.5, 2.0)
UNDER_EV = (-0.5, -1.0, -1.5, -2.0, -3.0)
DOWNSCALE = (1.5, 2.0, 3.0, 4.0, 6.0)


def _param(table: tuple, level: int):
    if level not in LEVELS:
        raise ValueError(f"level={level!r}: allowed levels are {LEVELS}")
    return table[level - 1]


def gaussian_blur(img: np.ndarray, level: int) -> np.ndarray:
    """Isotropic Gaussian blur, sigma 0.6..4.2 px."""
    return cv2.GaussianBlur(img, (0, 0), _param(GAUSSIAN_SIGMA, level), borderType=cv2.BORDER_REFLECT)


def motion_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalised line kernel ``length`` px long at ``angle_deg`` (0 = horizontal)."""
    size = length if length % 2 else length + 1
    k = np.zeros((size * 4, size * 4), np.float32)  # drawn 4x oversampled, then reduced: smooth ends
    c = size * 2 - 0.5
    dx, dy = np.cos(np.radians(angle_deg)), -np.sin(np.radians(angle_deg))
    half = (length * 4 - 1) / 2
    p0 = (int(round((c - dx * half) * 16)), int(round((c - dy * half) * 16)))
    p1 = (int(round((c + dx * half) * 16)), int(round((c + dy * half) * 16)))
    cv2.line(k, p0, p1, 1.0, thickness=4, lineType=cv2.LINE_AA, shift=4)
    k = cv2.resize(k, (size, size), interpolation=cv2.INTER_AREA)
    return k / k.sum()


def motion_blur(img: np.ndarray, level: int, angle_deg: float = 30.0) -> np.ndarray:
    """Linear camera-shake blur, 3..25 px long, at ``angle_deg``."""
    k = motion_kernel(_param(MOTION_LENGTH, level), angle_deg)
    return cv2.filter2D(img, -1, k, borderType=cv2.BORDER_REFLECT)


def gaussian_noise(img: np.ndarray, level: int, seed: int = 0) -> np.ndarray:
    """Additive white Gaussian noise, sigma 4..40 (8-bit units), independent per channel."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, _param(NOISE_SIGMA, level), img.shape).astype(np.float32)
    return np.clip(img.astype(np.float32) + noise + 0.5, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, level: int) -> np.ndarray:
    """JPEG round trip (Pillow, 4:2:0), quality 60..5."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=int(_param(JPEG_QUALITY, level)))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _exposure_lut(ev: float) -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    lin = np.clip(lin * 2.0 ** ev, 0.0, 1.0)
    out = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def overexposure(img: np.ndarray, level: int) -> np.ndarray:
    """Exposure raised by +0.35..+2 EV in linear light, highlights clipped."""
    return cv2.LUT(img, _exposure_lut(_param(OVER_EV, level)))


def underexposure(img: np.ndarray, level: int) -> np.ndarray:
    """Exposure lowered by -0.5..-3 EV in linear light (8-bit quantisation of the shadows)."""
    return cv2.LUT(img, _exposure_lut(_param(UNDER_EV, level)))


def downscale_upscale(img: np.ndarray, level: int) -> np.ndarray:
    """Down by 1.5..6x (area), back up to the original size (bicubic): lost resolution."""
    h, w = img.shape[:2]
    f = _param(DOWNSCALE, level)
    small = cv2.resize(img, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


DISTORTIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "gaussian_blur": gaussian_blur,
    "motion_blur": motion_blur,
    "gaussian_noise": gaussian_noise,
    "jpeg": jpeg,
    "overexposure": overexposure,
    "underexposure": underexposure,
    "downscale": downscale_upscale,
}


def ladder(img: np.ndarray, name: str, **kwargs) -> list[np.ndarray]:
    """The five distorted versions of ``img`` (levels 1..5) for distortion ``name``."""
    if name not in DISTORTIONS:
        raise ValueError(f"distortion={name!r}: allowed are {', '.join(DISTORTIONS)}")
    fn = DISTORTIONS[name]
    return [fn(img, level, **kwargs) for level in LEVELS]


if __name__ == "__main__":
    from lib_qfix.samples import skimage_photo

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "ladder_samples")
    out.mkdir(parents=True, exist_ok=True)
    base = skimage_photo("astronaut")
    for dist in DISTORTIONS:
        for level, im in zip(LEVELS, ladder(base, dist), strict=True):
            Image.fromarray(im).save(out / f"{dist}_{level}.png")
    print(f"wrote {len(DISTORTIONS) * len(LEVELS)} images to {out}")
