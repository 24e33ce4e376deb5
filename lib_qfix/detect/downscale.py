"""The reduced copy of an image that the classical scene detectors (logo, lighting, composition)
analyse: their thresholds are set at one working size, so a large image is brought down to it."""

from __future__ import annotations

import cv2
import numpy as np

#: the smallest side a reduced copy keeps, pixels (MediaPipe's floor, as in ``check_image``)
MIN_SIDE = 8


def scale_to(image: np.ndarray, side: int) -> float:
    """The scale (<= 1) that brings the long side of ``image`` down to ``side`` pixels."""
    h, w = image.shape[:2]
    return min(1.0, side / max(h, w))


def downscale(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` reduced by ``scale`` (area averaging, at least :data:`MIN_SIDE` px a side), or
    ``image`` itself when ``scale`` >= 1."""
    if scale >= 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale))),
                      interpolation=cv2.INTER_AREA)
