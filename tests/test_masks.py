"""Masks: shapes, dilation/erosion, feathering, merging, region selection, only-masked crop boxes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_qfix import masks as M
from lib_qfix.options import validate
from lib_qfix.types import Region


def test_box_mask_exclusive_ends_and_clamping():
    m = M.box_mask((20, 30), (5, 2, 10, 6))
    assert m.dtype == np.uint8 and m.shape == (20, 30)
    assert (m > 0).sum() == 5 * 4 and m[2, 5] == 255 and m[6, 5] == 0 and m[2, 10] == 0
    assert (M.box_mask((20, 30), (-5, -5, 3, 3)) > 0).sum() == 9
    assert M.box_mask((20, 30), (40, 40, 50, 50)).sum() == 0
    with pytest.raises(ValueError, match="box: .*x0<=x1"):
        M.box_mask((20, 30), (10, 0, 5, 5))
    with pytest.raises(ValueError, match="shape_hw"):
        M.box_mask((0, 30), (0, 0, 1, 1))


def test_polygon_mask():
    tri = M.polygon_mask((100, 100), [(10, 10), (90, 10), (10, 90)])
    area = (tri > 0).sum()
    assert abs(area - 80 * 80 / 2) < 130  # rasterised triangle, edges included
    assert tri[20, 20] == 255 and tri[80, 80] == 0
    with pytest.raises(ValueError, match="points: 2 point"):
        M.polygon_mask((10, 10), [(0, 0), (5, 5)])


def test_dilate_and_erode_change_area_by_the_border():
    m = M.box_mask((100, 100), (40, 40, 60, 60))
    grown = M.dilate(m, 5)
    assert (grown > 0).sum() > (m > 0).sum()
    assert grown[40, 35] == 255 and grown[40, 34] == 0           # exactly 5 px to the left
    assert grown[35, 35] == 0                                     # round kernel: corners stay round
    shrunk = M.dilate(m, -5)
    assert (shrunk > 0).sum() == 10 * 10 and shrunk[45, 45] == 255 and shrunk[44, 45] == 0
    assert np.array_equal(M.dilate(m, 0), m) and M.dilate(m, 0) is not m
    # erosion does not treat the frame as masked: a mask touching the border shrinks from it too
    edge = M.box_mask((50, 50), (0, 0, 20, 20))
    assert M.dilate(edge, -3)[0, 0] == 0


def test_feather_soft_edge():
    m = M.box_mask((100, 100), (30, 30, 70, 70))
    f = M.feather(m, 8)
    assert f[50, 50] == 255 and f[50, 5] == 0
    edge = f[50, 22:38]
    assert np.all(np.diff(edge.astype(int)) >= 0) and 0 < edge[4] < 255 and 100 < f[50, 30] < 160
    assert np.array_equal(M.feather(m, 0), m)
    with pytest.raises(ValueError, match="feather px: -1"):
        M.feather(m, -1)


def test_merge_and_validation():
    a = M.box_mask((10, 10), (0, 0, 5, 5))
    b = M.box_mask((10, 10), (3, 3, 8, 8))
    mm = M.merge([a, b])
    assert (mm > 0).sum() == 25 + 25 - 4
    assert M.merge([np.zeros((10, 10), bool), a]).max() == 255  # bool masks accepted
    with pytest.raises(ValueError, match="shapes .* differ"):
        M.merge([a, np.zeros((5, 5), np.uint8)])
    with pytest.raises(ValueError, match="empty list"):
        M.merge([])
    with pytest.raises(ValueError, match=r"masks\[0\]: dtype float64"):
        M.merge([np.zeros((3, 3))])


def reg(kind, box, **kw):
    return Region(kind, box, 0.9, **kw)


def test_keep_largest_and_area_filter():
    small, mid, big = reg("hand", (0, 0, 5, 5)), reg("hand", (0, 0, 10, 10)), reg("hand", (0, 0, 20, 20))
    glob = reg("blur", None)
    assert M.keep_largest([small, big, mid], 2) == [big, mid]
    assert M.keep_largest([small, big, mid], 0) == [big, mid, small]
    assert M.keep_largest([glob, small], 1) == [small]
    kept = M.filter_by_area([small, mid, big, glob], 1000, 0.05, 0.2)
    assert kept == [mid, glob]  # 25/1000 too small, 400/1000 too big, 100/1000 kept
    with pytest.raises(ValueError, match="image_area: 0"):
        M.filter_by_area([small], 0, 0, 1)
    with pytest.raises(ValueError, match="area fractions"):
        M.filter_by_area([small], 100, 0.5, 0.1)


def test_crop_box_padding_snap_and_borders():
    m = M.box_mask((512, 512), (200, 200, 230, 215))
    x0, y0, x1, y1 = M.crop_box(m, 32, (512, 512))
    assert (x1 - x0) % 8 == 0 and (y1 - y0) % 8 == 0
    assert x0 <= 168 and y0 <= 168 and x1 >= 262 and y1 >= 247       # padding kept
    assert (x1 - x0) - (230 - 200 + 64) < 8 and (y1 - y0) - (215 - 200 + 64) < 8
    # touching the top-left corner: grows away from the border, stays inside
    c = M.crop_box(M.box_mask((100, 100), (0, 0, 13, 13)), 0, (100, 100))
    assert c == (0, 0, 16, 16)
    # touching the bottom-right corner
    c = M.crop_box(M.box_mask((100, 100), (90, 90, 100, 100)), 3, (100, 100))
    assert c[2:] == (100, 100) and (c[2] - c[0]) % 8 == 0 and c[0] <= 87
    # image narrower than 8 px: the whole side, not a multiple of 8
    assert M.crop_box(M.box_mask((6, 50), (1, 1, 3, 3)), 0, (50, 6)) == (0, 0, 8, 6)
    # padding larger than the image: the whole image
    assert M.crop_box(M.box_mask((30, 41), (10, 10, 12, 12)), 100, (41, 30)) == (0, 0, 41, 30)


def test_crop_box_errors():
    with pytest.raises(ValueError, match="empty"):
        M.crop_box(np.zeros((10, 10), np.uint8), 4, (10, 10))
    with pytest.raises(ValueError, match="does not match image_wh"):
        M.crop_box(np.full((10, 12), 255, np.uint8), 4, (10, 12))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.data())
def test_crop_box_properties(w, h, data):
    x0 = data.draw(st.integers(0, w - 1))
    y0 = data.draw(st.integers(0, h - 1))
    x1 = data.draw(st.integers(x0 + 1, w))
    y1 = data.draw(st.integers(y0 + 1, h))
    pad = data.draw(st.integers(0, 64))
    m = M.box_mask((h, w), (x0, y0, x1, y1))
    cx0, cy0, cx1, cy1 = M.crop_box(m, pad, (w, h))
    assert 0 <= cx0 <= x0 and 0 <= cy0 <= y0 and x1 <= cx1 <= w and y1 <= cy1 <= h   # contains mask
    assert cx0 <= max(0, x0 - pad) and cx1 >= min(w, x1 + pad)                        # and padding
    for lo, hi, side in ((cx0, cx1, w), (cy0, cy1, h)):
        assert (hi - lo) % 8 == 0 or (lo, hi) == (0, side)                          # snapped or whole


def test_region_mask_face_modes():
    shape = (200, 200)
    poly = ((100, 40), (150, 100), (100, 170), (50, 100))
    face = reg("face", (50, 40, 150, 170), polygon=poly, landmarks=((80, 90), (120, 90), (100, 120)))
    hard = validate({"mask_dilation": 0, "mask_feather": 0})
    hull = M.region_mask(face, shape, hard.replace(face_mask="hull"))
    box = M.region_mask(face, shape, hard.replace(face_mask="box"))
    eyes = M.region_mask(face, shape, hard.replace(face_mask="eyes"))
    assert (hull > 0).sum() < (box > 0).sum() == 100 * 130
    assert hull[40, 50] == 0 and box[40, 50] == 255
    assert eyes[90, 80] == 255 and eyes[90, 120] == 255 and eyes[90, 100] == 0 and eyes[150, 100] == 0
    # without landmarks: the eye band of the box
    band = M.region_mask(reg("face", (50, 40, 150, 140)), shape, hard.replace(face_mask="eyes"))
    ys = np.nonzero(band)[0]
    assert ys.min() == 60 and ys.max() == 94


def test_region_mask_applies_dilation_and_feather():
    hand = reg("hand", (50, 50, 100, 100))
    plain = M.region_mask(hand, (160, 160), validate({"mask_dilation": 0, "mask_feather": 0}))
    grown = M.region_mask(hand, (160, 160), validate({"mask_dilation": 10, "mask_feather": 0}))
    soft = M.region_mask(hand, (160, 160), validate({"mask_dilation": 10, "mask_feather": 6}))
    assert (grown > 0).sum() > (plain > 0).sum() and grown[75, 41] == 255 and grown[75, 39] == 0
    assert len(np.unique(soft)) > 10 and soft[75, 75] == 255
    with pytest.raises(ValueError, match="global 'blur' region has no box"):
        M.region_mask(reg("blur", None), (10, 10))


def test_masks_on_a_real_photo_crop(astronaut):
    # the mask, crop and paste-back geometry fit a real image (512x512)
    h, w = astronaut.shape[:2]
    face = reg("face", (170, 30, 260, 140))
    m = M.region_mask(face, (h, w))
    box = M.crop_box(m, 32, (w, h))
    crop = astronaut[box[1]:box[3], box[0]:box[2]]
    assert crop.shape[0] % 8 == 0 and crop.shape[1] % 8 == 0
    assert m[box[1]:box[3], box[0]:box[2]].sum() == m.sum()  # the crop holds the whole mask


def test_eyes_mask_from_a_synthetic_face_mesh():
    from lib_qfix.landmarks import LEFT_EYE_RING, RIGHT_EYE_RING

    mesh = np.full((478, 2), 100.0)  # every other point on the nose
    angles = np.linspace(0, 2 * np.pi, len(RIGHT_EYE_RING), endpoint=False)
    for ring, cx in ((RIGHT_EYE_RING, 70.0), (LEFT_EYE_RING, 130.0)):
        mesh[list(ring)] = np.stack([cx + 10 * np.cos(angles), 80 + 4 * np.sin(angles)], axis=1)
    face = reg("face", (40, 30, 160, 180), landmarks=tuple(map(tuple, mesh)))
    m = M.region_mask(face, (200, 200), validate({"face_mask": "eyes", "mask_dilation": 0, "mask_feather": 0}))
    assert m[80, 70] == 255 and m[80, 130] == 255 and m[80, 100] == 0 and m[100, 100] == 0
    assert m[80, 85] == 255 and m[80, 87] == 0  # ring radius 10 scaled by EYE_HULL_SCALE = 16 px
    n, _ = __import__("cv2").connectedComponents(m)
    assert n - 1 == 2  # two eyes


def test_eyes_mask_from_a_real_face_mesh(astronaut):
    # the face detector's mesh (MediaPipe, bundled models) gives two eye blobs in the upper face
    from lib_qfix.registry import create_detector

    options = validate({"face_mask": "eyes", "mask_dilation": 0, "mask_feather": 0})
    faces = [r for r in create_detector("face").detect(astronaut, options) if r.landmarks]
    assert faces, "the astronaut photo has a face with a mesh"
    face = faces[0]
    m = M.region_mask(face, astronaut.shape[:2], options)
    n, labels = __import__("cv2").connectedComponents(m)
    assert n - 1 == 2
    x0, y0, x1, y1 = face.box
    ys, xs = np.nonzero(m)
    assert x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() < (y0 + y1) / 2 + 10
    assert 0.005 < (m > 0).sum() / ((x1 - x0) * (y1 - y0)) < 0.15
