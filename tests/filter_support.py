"""Helpers for the filter tests: a small real scorer (sharpness) and a folder of varied JPEGs.

The scorer is deterministic and cheap so engine tests need neither weights nor the offline scorer;
it still measures something real (Laplacian variance), so decisions follow the image content.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from lib_qfix.types import DEFECT, Region, ScoreResult


class SharpnessScorer:
    """quality = 1 - exp(-var(Laplacian of gray) / 300); 'blur' defect below 0.5. Counts calls."""

    name = "test-sharpness"
    version = "1"

    def __init__(self):
        self.images_scored = 0
        self.calls = 0

    def score(self, images, prompts=None):
        self.calls += 1
        out = []
        for img in images:
            self.images_scored += 1
            gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            var = float(cv2.Laplacian(gray, cv2.CV_64F).var())
            q = float(1.0 - np.exp(-var / 300.0))
            regions = ()
            if q < 0.5:
                regions = (Region("blur", None, 1.0 - q, DEFECT, (f"laplacian variance {var:.1f} < 208",),
                                  ("blur",), self.name),)
            out.append(ScoreResult(q, self.name, {"laplacian_var": var}, (), regions))
        return out


def make_variants(photo: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` 256x256 crops of ``photo`` with varied blur, noise and brightness."""
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for i in range(n):
        y, x = int(rng.integers(0, h - 256 + 1)), int(rng.integers(0, w - 256 + 1))
        img = photo[y:y + 256, x:x + 256].astype(np.float32)
        if i % 3 == 1:
            img = cv2.GaussianBlur(img, (0, 0), 1.0 + (i % 5))
        if i % 4 == 2:
            img = img + rng.normal(0, 12, img.shape)
        img = np.clip(img * (0.8 + 0.1 * (i % 4)), 0, 255).astype(np.uint8)
        out.append(img)
    return out


def write_folder(folder: Path, images: list[np.ndarray], sub_every: int = 0, fmt: str = "JPEG") -> list[Path]:
    """Write images as ``img_000.jpg`` …; every ``sub_every``-th goes into ``sub/``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        d = folder / "sub" if sub_every and i % sub_every == 0 else folder
        d.mkdir(exist_ok=True)
        p = d / (f"img_{i:03d}.jpg" if fmt == "JPEG" else f"img_{i:03d}.png")
        Image.fromarray(img).save(p, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        paths.append(p)
    return paths
