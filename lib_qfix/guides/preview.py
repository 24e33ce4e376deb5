"""Guides drawn over each detection, for people to judge them (``qfix diagnose --html``).

One square tile per hand or face with landmarks: the region's surroundings (box grown
:data:`CONTEXT` times, black past the image's edge) scaled to ``side`` px and darkened, with the
guide QFix would hand ControlNet drawn over it at the tile's scale (so lines stay crisp in a small
tile). A defective hand shows the fitted plausible hand, and its detected skeleton in grey under it.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.guides.draw import draw_face, draw_hand
from lib_qfix.guides.images import face_points, hand_points
from lib_qfix.types import Region

CONTEXT = 1.5
DIM = 0.45
GREY = (110, 110, 110)


def _tile_transform(box: tuple[int, int, int, int], side: int) -> tuple[float, float, float]:
    """(x0, y0, scale) of the square tile around ``box``: tile px = (image px - (x0, y0)) * scale."""
    x0, y0, x1, y1 = box
    half = CONTEXT * max(x1 - x0, y1 - y0, 2) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - half, cy - half, side / (2 * half)


def _crop(image: np.ndarray, ox: float, oy: float, scale: float, side: int) -> np.ndarray:
    m = np.array([[scale, 0.0, -ox * scale], [0.0, scale, -oy * scale]])
    tile = cv2.warpAffine(image, m, (side, side), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return (tile.astype(np.float32) * DIM).astype(np.uint8)


def _over(tile: np.ndarray, guide: np.ndarray) -> np.ndarray:
    drawn = guide.any(axis=2)
    tile[drawn] = guide[drawn]
    return tile


def guide_tile(image: np.ndarray, region: Region, side: int = 192) -> np.ndarray | None:
    """A (side, side, 3) uint8 RGB tile of ``region`` with its guide drawn over it, or None when the
    region gives no guide (not a hand/face, no landmarks)."""
    if region.box is None or region.kind not in ("hand", "face"):
        return None
    pts = hand_points(region) if region.kind == "hand" else face_points(region)
    if pts is None:
        return None
    ox, oy, scale = _tile_transform(region.box, side)
    tile = _crop(image, ox, oy, scale, side)
    guide = np.zeros_like(tile)
    if region.kind == "face":
        draw_face(guide, (pts - (ox, oy)) * scale)
        return _over(tile, guide)
    if region.is_defect and region.landmarks:  # the malformed detection, for comparison
        detected = (np.asarray(region.landmarks, np.float64)[:, :2] - (ox, oy)) * scale
        shadow = draw_hand(np.zeros_like(tile), detected)
        tile[shadow.any(axis=2)] = GREY
    draw_hand(guide, (pts - (ox, oy)) * scale)
    return _over(tile, guide)


def caption(region: Region) -> str:
    """What a tile shows, in a few words (e.g. "hand 0.91: fitted (grey: detected)")."""
    what = {"face": "70 keypoints"}.get(region.kind, "fitted (grey: detected)" if region.is_defect else "as detected")
    return f"{region.kind} {region.confidence:.2f}: {what}"


def guide_tiles(image: np.ndarray, regions: list[Region] | tuple[Region, ...],
                side: int = 192) -> list[tuple[Region, np.ndarray]]:
    """(region, tile) for every region of ``regions`` that gives a guide, in order."""
    out = []
    for r in regions:
        tile = guide_tile(image, r, side)
        if tile is not None:
            out.append((r, tile))
    return out

