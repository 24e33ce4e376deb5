"""Tiles with overlap over a large image, and their feathered recombination (pure numpy).

The detail pass after an upscale refines a large image tile by tile, so the model never samples
more than one tile at a time. :func:`tile_grid` lays tiles of one size over the image: along each
axis as few tiles as cover it with at least ``overlap`` pixels shared by neighbours, spread evenly
(the first starts at 0, the last ends at the border), as A1111's ``images.split_grid`` does.
:func:`refine_tiled` runs a function on every tile and blends the results back: each tile's
weight ramps up linearly across the pixels it shares with its previous neighbour and down across
those it shares with the next (separably in x and y), the result is the weight-normalised sum.
Two neighbours' ramps over the same pixels sum to 1, so an unchanged tile returns the input
exactly and a tile that came back brighter fades into its neighbour over the whole overlap: a
difference ``d`` between two tiles leaves steps of at most ``d / overlap`` per pixel (A1111's
``combine_grid`` blends only the first ``overlap`` pixels of a wider shared band, and pastes the
rest hard).

Sizes and positions are in pixels; images are (H, W, 3) uint8. Memory: two float32 planes of the
image size (16 bytes per pixel) besides the tiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: the smallest tile side the grid accepts (pixels): a latent of 8x8
MIN_TILE = 64


@dataclass(frozen=True)
class Tile:
    """One tile: top-left ``x``, ``y`` and size ``w`` x ``h`` in pixels; ``index`` in row-major order."""

    index: int
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class TileGrid:
    """Tiles of ``tile_w`` x ``tile_h`` covering a ``width`` x ``height`` image in ``rows`` x ``cols``;
    ``overlap`` is the minimum number of pixels neighbours share (they may share more, since tiles
    are spread evenly)."""

    width: int
    height: int
    tile_w: int
    tile_h: int
    overlap: int
    xs: tuple[int, ...]
    ys: tuple[int, ...]

    @property
    def cols(self) -> int:
        return len(self.xs)

    @property
    def rows(self) -> int:
        return len(self.ys)

    @property
    def tiles(self) -> tuple[Tile, ...]:
        return tuple(Tile(r * self.cols + c, x, y, self.tile_w, self.tile_h)
                     for r, y in enumerate(self.ys) for c, x in enumerate(self.xs))

    def describe(self) -> str:
        """E.g. ``"6 tiles (3x2, 512x512 px, overlap 64 px)"``."""
        n = self.cols * self.rows
        return (f"{n} tile{'s' if n != 1 else ''} ({self.cols}x{self.rows}, {self.tile_w}x{self.tile_h} px, "
                f"overlap {self.overlap} px)")


def _starts(length: int, tile: int, overlap: int) -> tuple[int, ...]:
    """Tile starts along one axis: as few tiles as cover ``length`` with ``overlap`` shared pixels."""
    if length <= tile:
        return (0,)
    n = math.ceil((length - overlap) / (tile - overlap))
    step = (length - tile) / (n - 1)
    return tuple(int(round(i * step)) for i in range(n))


def tile_grid(width: int, height: int, tile: int, overlap: int) -> TileGrid:
    """The grid for a ``width`` x ``height`` image with square tiles of side ``tile`` (clipped to the
    image) sharing at least ``overlap`` pixels; ``overlap`` is reduced to half a tile at most (a
    larger one would make every pixel belong to three tiles). Raises ValueError for sizes below
    :data:`MIN_TILE` or a negative overlap."""
    if width < 1 or height < 1:
        raise ValueError(f"image: size {width}x{height}; allowed: at least 1x1")
    if tile < MIN_TILE:
        raise ValueError(f"tile_size: {tile}; allowed: at least {MIN_TILE}")
    if overlap < 0:
        raise ValueError(f"tile_overlap: {overlap}; allowed: 0 or more")
    tw, th = min(tile, width), min(tile, height)
    ov = min(overlap, tile // 2)
    return TileGrid(width, height, tw, th, ov, _starts(width, tw, ov), _starts(height, th, ov))


def _ramp(starts: tuple[int, ...], size: int, i: int) -> np.ndarray:
    """Weights (float64, > 0) along one axis of tile ``i``: linear across what it shares with its
    neighbours, 1 elsewhere. Pixel k of an n-pixel shared band gets (k + 0.5) / n in the later tile
    and 1 - that in the earlier one, so the two sum to 1 and no weight is 0."""
    w = np.ones(size, np.float64)
    if i > 0:
        n = starts[i - 1] + size - starts[i]
        if n > 0:
            w[:n] = np.minimum(w[:n], (np.arange(n) + 0.5) / n)
    if i + 1 < len(starts):
        n = starts[i] + size - starts[i + 1]
        if n > 0:
            w[size - n:] = np.minimum(w[size - n:], 1.0 - (np.arange(n) + 0.5) / n)
    return w


def tile_weights(grid: TileGrid, tile: Tile) -> np.ndarray:
    """The (h, w) float32 blending weight of ``tile`` (separable linear ramps, see the module doc)."""
    wx = _ramp(grid.xs, grid.tile_w, tile.index % grid.cols)
    wy = _ramp(grid.ys, grid.tile_h, tile.index // grid.cols)
    return np.outer(wy, wx).astype(np.float32)


#: refine(tile_pixels, tile) -> the refined tile, same shape
RefineTile = Callable[[np.ndarray, Tile], np.ndarray]


def refine_tiled(image: np.ndarray, grid: TileGrid, refine: RefineTile) -> np.ndarray:
    """Run ``refine`` on every tile of ``image`` (row-major order) and blend the results (see the
    module doc). Exceptions from ``refine`` propagate (the caller decides what a failed tile means);
    a tile returned with another shape raises ValueError."""
    h, w = image.shape[:2]
    if (w, h) != (grid.width, grid.height):
        raise ValueError(f"image: {w}x{h} does not match the grid's {grid.width}x{grid.height}")
    acc = np.zeros(image.shape, np.float32)
    total = np.zeros((h, w), np.float32)
    for t in grid.tiles:
        box = (slice(t.y, t.y + t.h), slice(t.x, t.x + t.w))
        out = refine(image[box].copy(), t)
        if out.shape != (t.h, t.w, image.shape[2]):
            raise ValueError(f"tile {t.index}: refined to shape {out.shape}, expected {(t.h, t.w, image.shape[2])}")
        weight = tile_weights(grid, t)
        acc[box] += out.astype(np.float32) * weight[..., None]
        total[box] += weight
    return np.clip(np.rint(acc / total[..., None]), 0, 255).astype(np.uint8)
