"""The tiling core of the detail pass (lib_qfix/fix/tiles.py): the grid covers the image with the
asked overlap, an unchanged tile returns the input exactly, a tile that came back different fades
into its neighbours without a visible seam. Also the guide-size rule (lib_qfix/fix/sampling.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.fix.sampling import crop_sample_size, sampled_long_side
from lib_qfix.fix.tiles import MIN_TILE, refine_tiled, tile_grid, tile_weights

SIZES = [(1024, 1024), (1000, 600), (2048, 1536), (300, 200), (513, 512), (1537, 700), (96, 2000)]


@pytest.mark.parametrize("width, height", SIZES)
@pytest.mark.parametrize("tile, overlap", [(512, 64), (256, 32), (512, 0), (128, 64)])
def test_grid_covers_the_image_with_at_least_the_overlap(width, height, tile, overlap):
    g = tile_grid(width, height, tile, overlap)
    cover = np.zeros((height, width), np.int32)
    for t in g.tiles:
        assert 0 <= t.x and t.x + t.w <= width and 0 <= t.y and t.y + t.h <= height
        assert (t.w, t.h) == (min(tile, width), min(tile, height))
        cover[t.y:t.y + t.h, t.x:t.x + t.w] += 1
    assert cover.min() >= 1  # every pixel refined
    for starts, size in ((g.xs, g.tile_w), (g.ys, g.tile_h)):
        assert starts[0] == 0 and list(starts) == sorted(set(starts))
        shared = [a + size - b for a, b in zip(starts, starts[1:], strict=False)]
        assert all(s >= g.overlap for s in shared)  # neighbours share at least the overlap
    assert [t.index for t in g.tiles] == list(range(g.cols * g.rows))


def test_grid_counts_as_a1111_split_grid_does():
    # cols = ceil((w - overlap) / (tile - overlap)), the last tile flush with the border
    g = tile_grid(1024, 1024, 512, 64)
    assert (g.cols, g.rows, g.xs) == (3, 3, (0, 256, 512))
    assert tile_grid(2048, 1024, 512, 64).cols == 5
    one = tile_grid(300, 200, 512, 64)
    assert (one.cols, one.rows, one.tile_w, one.tile_h) == (1, 1, 300, 200)
    assert one.describe() == "1 tile (1x1, 300x200 px, overlap 64 px)"
    assert tile_grid(1000, 600, 512, 64).describe() == "6 tiles (3x2, 512x512 px, overlap 64 px)"
    assert tile_grid(1024, 1024, 256, 200).overlap == 128  # at most half a tile


@pytest.mark.parametrize("args, words", [((0, 10, 512, 64), "image"), ((100, 100, MIN_TILE - 1, 0), "tile_size"),
                                         ((100, 100, 64, -1), "tile_overlap")])
def test_bad_grid_arguments_name_the_field(args, words):
    with pytest.raises(ValueError, match=words):
        tile_grid(*args)


@pytest.mark.parametrize("width, height", SIZES)
def test_unchanged_tiles_return_the_input_exactly(width, height):
    img = np.random.default_rng(width * height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    seen = []
    out = refine_tiled(img, tile_grid(width, height, 256, 48), lambda px, t: seen.append(t.index) or px)
    assert np.array_equal(out, img) and out.dtype == np.uint8
    assert seen == sorted(seen)  # row-major order


def test_weights_of_neighbours_sum_to_one_and_are_never_zero():
    g = tile_grid(2048, 1536, 512, 64)  # neighbours overlap only pairwise here
    total = np.zeros((g.height, g.width), np.float64)
    for t in g.tiles:
        w = tile_weights(g, t)
        assert w.min() > 0 and w.max() <= 1.0
        total[t.y:t.y + t.h, t.x:t.x + t.w] += w
    assert np.allclose(total, 1.0, atol=1e-5)


@pytest.mark.parametrize("width, height, tile, overlap", [(1024, 1024, 512, 64), (1000, 600, 512, 64),
                                                          (1536, 1024, 512, 32), (1000, 1000, 512, 64)])
def test_an_offset_per_tile_leaves_no_visible_seam(width, height, tile, overlap):
    """Each tile comes back brighter or darker by up to 30 levels (what a low-denoise pass does to
    the tone of a tile): the blend spreads each difference over the whole shared band, so no step
    between neighbouring pixels exceeds the largest difference divided by the overlap (plus one
    level of rounding); pasting tiles hard would leave steps of up to 60."""
    flat = np.full((height, width, 3), 120, np.uint8)
    g = tile_grid(width, height, tile, overlap)
    offsets = {t.index: int(v) for t, v in zip(g.tiles, np.random.default_rng(1).integers(-30, 31, len(g.tiles)), strict=True)}

    def shift(px, t):
        return np.clip(px.astype(np.int16) + offsets[t.index], 0, 255).astype(np.uint8)

    out = refine_tiled(flat, g, shift).astype(np.int16)
    spread = max(offsets.values()) - min(offsets.values())
    bound = spread / g.overlap + 1
    steps = max(np.abs(np.diff(out, axis=0)).max(), np.abs(np.diff(out, axis=1)).max())
    assert steps <= bound, (steps, bound)
    for t in g.tiles:  # far from any neighbour a tile keeps its own offset
        cy, cx = t.y + t.h // 2, t.x + t.w // 2
        if len(g.tiles) == 1:
            assert out[cy, cx, 0] == 120 + offsets[t.index]


def test_a_tile_of_another_shape_or_a_failing_tile_is_an_error():
    img = np.zeros((300, 300, 3), np.uint8)
    g = tile_grid(300, 300, 128, 16)
    with pytest.raises(ValueError, match="tile 0"):
        refine_tiled(img, g, lambda px, t: px[:-1])
    with pytest.raises(RuntimeError, match="boom"):
        refine_tiled(img, g, lambda px, t: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(ValueError, match="does not match"):
        refine_tiled(np.zeros((10, 10, 3), np.uint8), g, lambda px, t: px)


# ---------------------------------------------------------------- guide size (sampling.py)

def test_guide_size_off_samples_every_crop_at_inpaint_resolution():
    for crop in (40, 104, 512, 900, 3000):
        assert sampled_long_side(crop, 512, 0) == 512
    assert crop_sample_size(104, 52, 512) == (512, 256)


def test_guide_size_scales_small_crops_up_and_keeps_mid_sized_ones():
    # a 40-px face with 32 px padding on each side: a 104-px crop, sampled at 512 and pasted back
    assert sampled_long_side(104, 1024, 512) == 512
    assert crop_sample_size(104, 80, 1024, 512) == (512, 392)
    assert sampled_long_side(700, 1024, 512) == 700  # between guide and resolution: its own size
    assert sampled_long_side(1500, 1024, 512) == 1024  # larger: capped at the inpaint resolution
    assert sampled_long_side(300, 512, 768) == 768  # the guide wins over a smaller resolution
    assert crop_sample_size(30, 20, 512, 512) == (512, 344)  # snapped to 8
    assert min(crop_sample_size(2000, 10, 512, 0)) == 64  # at least one 8x8 latent
    with pytest.raises(ValueError, match="crop"):
        sampled_long_side(0, 512, 512)


def test_the_a1111_inpainter_samples_by_the_guide_rule(monkeypatch, tmp_path):
    from testkit.fake_a1111 import install

    install(monkeypatch, tmp_path)
    from lib_qfix.a1111.inpainter import sample_size

    mask = np.zeros((1024, 1024), np.uint8)
    mask[500:540, 500:540] = 255  # a 40-px face
    assert sample_size(mask, 32, 512) == (512, 512)
    assert sample_size(mask, 32, 1024, guide_size=512) == (512, 512)
    big = np.zeros((1024, 1024), np.uint8)
    big[100:800, 100:700] = 255
    assert sample_size(big, 0, 1024, guide_size=512) == (600, 704)  # sampled at its own size
    assert sample_size(big, 0, 512) == (440, 512)  # off: scaled down as before
