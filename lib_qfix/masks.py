"""Inpaint masks: shapes -> masks, grow/shrink, feather, merge, region selection, crop boxes.

Masks are (H, W) uint8 arrays, 0 = keep, 255 = repaint (values in between after feathering are
partial). Boxes are ``(x0, y0, x1, y1)`` pixel ints with exclusive ends; points are ``(x, y)``
pixels. Shapes are ``(H, W)`` and image sizes ``(W, H)``, as the names say.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import cv2
import numpy as np

from lib_qfix.landmarks import LEFT_EYE_RING, RIGHT_EYE_RING
from lib_qfix.options import DEFAULTS, Options
from lib_qfix.types import Box, box_area

#: "eyes" face masks without landmarks: the band of the face box that holds the eyes,
#: as fractions of the box height from its top (MediaPipe face boxes run brow-to-chin).
EYE_BAND = (0.20, 0.55)
#: half-axes of each eye ellipse, as fractions of the distance between the eye centres
EYE_AXES = (0.45, 0.30)
#: an eye outline from the face mesh is the lid opening; this scale takes in lids and lashes
EYE_HULL_SCALE = 1.6
#: points in a MediaPipe face mesh (478 with iris refinement)
MESH_POINTS = 468


def _shape(shape_hw: Sequence[int]) -> tuple[int, int]:
    h, w = (int(v) for v in shape_hw[:2])
    if h <= 0 or w <= 0:
        raise ValueError(f"shape_hw: {tuple(shape_hw)!r} is not allowed; allowed: positive (height, width)")
    return h, w


def _as_mask(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"{name}: shape {m.shape} is not allowed; allowed: (H, W)")
    if m.dtype == bool:
        return m.astype(np.uint8) * 255
    if m.dtype != np.uint8:
        raise ValueError(f"{name}: dtype {m.dtype} is not allowed; allowed: uint8 0..255 or bool")
    return m


def box_mask(shape_hw: Sequence[int], box: Box) -> np.ndarray:
    """255 inside ``box`` (clamped to the image), 0 elsewhere; a box outside the image gives an
    empty mask. ``x1 < x0`` or ``y1 < y0`` is an error."""
    h, w = _shape(shape_hw)
    x0, y0, x1, y1 = (int(v) for v in box)
    if x1 < x0 or y1 < y0:
        raise ValueError(f"box: {tuple(box)!r} is not allowed; allowed: (x0, y0, x1, y1) with x0<=x1, y0<=y1")
    out = np.zeros((h, w), np.uint8)
    out[max(0, y0):max(0, min(h, y1)), max(0, x0):max(0, min(w, x1))] = 255
    return out


def polygon_mask(shape_hw: Sequence[int], points: Sequence[Sequence[float]]) -> np.ndarray:
    """255 inside the polygon through ``points`` (at least 3 (x, y) points; parts outside the
    image are cut off). Points need not be convex; they are rounded to whole pixels."""
    h, w = _shape(shape_hw)
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.isfinite(pts).all():
        raise ValueError(f"points: {len(pts)} point(s) of shape {pts.shape} is not allowed; "
                         "allowed: at least 3 finite (x, y) points")
    out = np.zeros((h, w), np.uint8)
    cv2.fillPoly(out, [np.round(pts).astype(np.int32)], 255)
    return out


def ellipse_mask(shape_hw: Sequence[int], center: Sequence[float], axes: Sequence[float]) -> np.ndarray:
    """255 inside the axis-aligned ellipse with ``center`` (x, y) and half-axes ``axes`` (px)."""
    h, w = _shape(shape_hw)
    out = np.zeros((h, w), np.uint8)
    c = (int(round(center[0])), int(round(center[1])))
    a = (max(1, int(round(axes[0]))), max(1, int(round(axes[1]))))
    cv2.ellipse(out, c, a, 0, 0, 360, 255, thickness=-1)
    return out


def dilate(mask: np.ndarray, px: int) -> np.ndarray:
    """Grow the mask by ``px`` pixels with a round (elliptic) kernel; negative ``px`` shrinks
    (erodes) it; 0 returns a copy."""
    m = _as_mask(mask)
    px = int(px)
    if px == 0:
        return m.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(px) + 1, 2 * abs(px) + 1))
    op = cv2.dilate if px > 0 else cv2.erode
    # border value 0 for erosion too: pixels at the frame edge are not repainted "for free"
    return op(m, k, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def feather(mask: np.ndarray, px: int) -> np.ndarray:
    """Soften the mask edge with a Gaussian blur: the ramp is about ``px`` pixels wide on each side
    (sigma = px / 2, kernel 2*px+1). 0 returns a copy."""
    m = _as_mask(mask)
    px = int(px)
    if px < 0:
        raise ValueError(f"feather px: {px} is not allowed; allowed: 0 or more")
    if px == 0:
        return m.copy()
    return cv2.GaussianBlur(m, (2 * px + 1, 2 * px + 1), px / 2.0, borderType=cv2.BORDER_REPLICATE)


def merge(masks: Iterable[np.ndarray]) -> np.ndarray:
    """Pixel-wise maximum of masks of one shape."""
    ms = [_as_mask(m, f"masks[{i}]") for i, m in enumerate(masks)]
    if not ms:
        raise ValueError("masks: an empty list is not allowed; allowed: one or more masks")
    shapes = {m.shape for m in ms}
    if len(shapes) > 1:
        raise ValueError(f"masks: shapes {sorted(shapes)} differ; allowed: masks of one shape")
    return np.maximum.reduce(ms)


def keep_largest(regions: Iterable[Any], k: int) -> list[Any]:
    """The ``k`` regions with the largest boxes, largest first (ties keep their order);
    ``k <= 0`` keeps all of them, in the same order. Global regions count as area 0."""
    regs = list(regions)
    ordered = sorted(regs, key=lambda r: -box_area(r.box))
    return ordered if k <= 0 else ordered[:k]


def filter_by_area(regions: Iterable[Any], image_area: int, min_frac: float, max_frac: float) -> list[Any]:
    """Regions whose box covers ``min_frac..max_frac`` (inclusive) of ``image_area`` pixels, in order.
    Global regions (``box is None``) pass unchanged: the filter is about local detections."""
    if image_area <= 0:
        raise ValueError(f"image_area: {image_area!r} is not allowed; allowed: a positive pixel count")
    if not 0.0 <= min_frac <= max_frac <= 1.0:
        raise ValueError(f"area fractions: ({min_frac!r}, {max_frac!r}) are not allowed; "
                         "allowed: 0 <= min_frac <= max_frac <= 1")
    return [r for r in regions
            if r.box is None or min_frac <= box_area(r.box) / image_area <= max_frac]


def mask_bbox(mask: np.ndarray) -> Box | None:
    """The tight box around the non-zero pixels, or ``None`` for an empty mask."""
    m = _as_mask(mask)
    ys, xs = np.nonzero(m)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _snap_axis(a: int, b: int, size: int, multiple: int) -> tuple[int, int]:
    target = min(size, math.ceil((b - a) / multiple) * multiple)
    a -= (target - (b - a)) // 2  # grow evenly on both sides...
    b = a + target
    if a < 0:  # ...then slide back inside the image
        a, b = 0, target
    if b > size:
        a, b = size - target, size
    return a, b


def crop_box(mask: np.ndarray, padding: int, image_wh: Sequence[int], multiple: int = 8) -> Box:
    """The "only masked" crop: the mask's box grown by ``padding`` px on every side, clamped to the
    image, then grown to a multiple of ``multiple`` px on each axis and slid back inside the image.

    Where the image side is shorter than the snapped size (an image narrower than 8 px, or a box
    that would need more room than the side has), the crop spans that whole side, whose length
    need not be a multiple. A box touching a border grows away from it. An empty mask is an error.
    """
    w, h = (int(v) for v in image_wh[:2])
    m = _as_mask(mask)
    if m.shape != (h, w):
        raise ValueError(f"mask: shape {m.shape} does not match image_wh {(w, h)}; allowed: (H, W) = ({h}, {w})")
    if padding < 0 or multiple < 1:
        raise ValueError(f"padding/multiple: ({padding!r}, {multiple!r}) are not allowed; "
                         "allowed: padding >= 0, multiple >= 1")
    box = mask_bbox(m)
    if box is None:
        raise ValueError("mask: it is empty; allowed: a mask with at least one non-zero pixel")
    x0, y0, x1, y1 = box
    x0, y0 = max(0, x0 - padding), max(0, y0 - padding)
    x1, y1 = min(w, x1 + padding), min(h, y1 + padding)
    x0, x1 = _snap_axis(x0, x1, w, multiple)
    y0, y1 = _snap_axis(y0, y1, h, multiple)
    return x0, y0, x1, y1


def _eye_hull_mask(shape_hw: Sequence[int], pts: np.ndarray) -> np.ndarray:
    centre = pts.mean(axis=0)
    grown = centre + (pts - centre) * EYE_HULL_SCALE
    hull = cv2.convexHull(np.round(grown).astype(np.int32)).reshape(-1, 2)
    return polygon_mask(shape_hw, hull) if len(hull) >= 3 else np.zeros(_shape(shape_hw), np.uint8)


def eyes_mask(region: Any, shape_hw: Sequence[int]) -> np.ndarray:
    """Eyes-only mask of a face region, from the best information the region carries:

    1. a MediaPipe face mesh in ``region.landmarks`` (>= 468 pixel points): the hull of each eye
       outline ring, scaled by :data:`EYE_HULL_SCALE` about its centre to take in lids and lashes;
    2. fewer landmarks (2..467, e.g. MediaPipe face *detection* keypoints, whose first two are the
       eye centres): one ellipse per eye, half-axes :data:`EYE_AXES` x the eye distance;
    3. ``region.polygon`` (a detector that outlines the eyes itself);
    4. otherwise the :data:`EYE_BAND` rows of the face box, full box width.
    """
    lm = np.asarray(region.landmarks, dtype=np.float64) if region.landmarks else None
    if lm is not None and lm.ndim == 2 and lm.shape[1] >= 2 and len(lm) >= MESH_POINTS:
        return merge([_eye_hull_mask(shape_hw, lm[list(ring), :2]) for ring in (RIGHT_EYE_RING, LEFT_EYE_RING)])
    if lm is not None and lm.ndim == 2 and lm.shape[1] >= 2 and len(lm) >= 2:
        (ax, ay), (bx, by) = lm[0, :2], lm[1, :2]
        d = math.hypot(bx - ax, by - ay)
        if d >= 2:
            axes = (EYE_AXES[0] * d, EYE_AXES[1] * d)
            return merge([ellipse_mask(shape_hw, (ax, ay), axes), ellipse_mask(shape_hw, (bx, by), axes)])
    if region.polygon is not None and len(region.polygon) >= 3:
        return polygon_mask(shape_hw, region.polygon)
    x0, y0, x1, y1 = region.box
    bh = y1 - y0
    return box_mask(shape_hw, (x0, y0 + int(round(EYE_BAND[0] * bh)), x1, y0 + int(round(EYE_BAND[1] * bh))))


def shape_mask(region: Any, shape_hw: Sequence[int], face_mask: str = "hull") -> np.ndarray:
    """The hard (0/255) mask of a local region before dilation and feathering.

    Faces follow ``face_mask``: "hull" = ``region.polygon`` if present else the box; "box" = the
    box; "eyes" = :func:`eyes_mask`. Other kinds use the polygon if present, else the box.
    """
    if region.box is None:
        raise ValueError(f"region: a global {region.kind!r} region has no box and no mask; "
                         "allowed: a local region (face, hand, watermark, text)")
    if region.kind == "face" and face_mask == "eyes":
        return eyes_mask(region, shape_hw)
    if region.polygon is not None and len(region.polygon) >= 3 and not (region.kind == "face" and face_mask == "box"):
        return polygon_mask(shape_hw, region.polygon)
    return box_mask(shape_hw, region.box)


def region_mask(region: Any, shape_hw: Sequence[int], options: Options | None = None) -> np.ndarray:
    """The inpaint mask of ``region``: :func:`shape_mask` with ``options.face_mask``, grown by
    ``options.mask_dilation`` px (negative shrinks), then feathered by ``options.mask_feather`` px."""
    if options is None:
        options = DEFAULTS
    m = shape_mask(region, shape_hw, options.face_mask)
    return feather(dilate(m, options.mask_dilation), options.mask_feather)
