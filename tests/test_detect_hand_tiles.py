"""Whole-image tiles and the second look around found hands (lib_qfix/detect/hand_windows.py, hands.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

import lib_qfix.detect.hands as hands_module
from lib_qfix.detect.hand_windows import TILE_MIN_SIDE, image_tiles, refine_window
from lib_qfix.detect.hands import HandDetector, RawHand, _mark_cut, _merge
from lib_qfix.detect.nms import coverage, iou
from lib_qfix.options import DEFAULTS
from testkit.fixtures_detect import coffee_with_hand, hand_mask, photo, render_hand
from testkit.people_photos import read_rgb


def _hand_at(x0: float, y0: float, side: float, score: float, source: str) -> RawHand:
    """A stand-in hand whose landmark box is (x0, y0, x0 + side, y0 + side)."""
    pts = np.zeros((21, 3))
    pts[:, 0] = np.linspace(x0, x0 + side, 21)
    pts[:, 1] = np.linspace(y0, y0 + side, 21)
    return RawHand(pts, "Left", score, source)


def test_tiles_only_on_large_images_and_not_over_the_person_windows():
    assert image_tiles(512, 768, []) == []  # a 512x768 render keeps its single full-frame pass
    assert image_tiles(2000, TILE_MIN_SIDE - 1, []) == []
    tiles = image_tiles(1280, 960, [])
    coarse = [t for t, model in tiles if model == 0]  # 2x2 of 0.6, lite model
    fine = [t for t, model in tiles if model == 1]  # 3x3 of 0.4, full model
    assert len(coarse) == 4 and all(t[2] - t[0] == 768 and t[3] - t[1] == 576 for t in coarse)
    assert len(fine) == 9 and all(t[2] - t[0] == 512 and t[3] - t[1] == 384 for t in fine)
    assert coverage(fine, 1280, 960).all() and coverage(coarse, 1280, 960).all()
    # a tile the person windows already cover is not run again
    assert len([t for t, model in image_tiles(1280, 960, [(0, 0, 800, 600)]) if model == 0]) == 3
    assert (0, 0, 512, 384) not in [t for t, _ in image_tiles(1280, 960, [(0, 0, 800, 600)])]
    assert image_tiles(1280, 960, [(0, 0, 1280, 960)]) == []


def test_refine_window_is_centred_and_inside_the_image():
    assert refine_window((100, 100, 140, 160), 1000, 1000) == (30, 40, 210, 220)  # 3 x 60 px around (120, 130)
    assert refine_window((0, 0, 40, 60), 1000, 1000)[:2] == (0, 0)  # shifted in, not cut
    assert refine_window((0, 0, 400, 400), 1000, 1000) is None  # 3x would enlarge nothing
    assert refine_window((10, 10, 14, 14), 1000, 1000) is None  # under 32 px


def test_a_hand_cut_by_a_crop_edge_loses_to_a_whole_one():
    crop = (500, 0, 1000, 500)
    cut = _mark_cut(_hand_at(505, 100, 80, 0.99, "crop"), crop, 1000, 1000)  # touches the crop's left edge
    whole = _mark_cut(_hand_at(600, 100, 80, 0.9, "crop"), crop, 1000, 1000)
    at_image_edge = _mark_cut(_hand_at(910, 100, 89, 0.9, "crop"), crop, 1000, 1000)  # the frame's edge
    assert (cut.source, whole.source, at_image_edge.source) == ("cut", "crop", "crop")
    # a partial box scored higher must not suppress the whole hand found elsewhere
    full = _hand_at(470, 95, 120, 0.8, "full")
    assert [f.source for f in _merge([cut, full])] == ["full"]
    # a second look's box, centred on the hand, wins over the finds it repeats
    refined = _hand_at(472, 96, 118, 0.6, "refine")
    assert [f.source for f in _merge([full, refined])] == ["refine"]


@pytest.fixture(scope="module")
def faceless_scene() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 1280x960 rocket photo with a 96 px rendered hand and no face: a person whose face is not found."""
    canvas = cv2.resize(photo("rocket"), (1280, 960))
    hand = render_hand(96, 1.0, angle=10)
    mask = hand_mask(hand)
    canvas[300:396, 900:996][mask] = hand[mask]
    ys, xs = np.nonzero(mask)
    return canvas, (900 + int(xs.min()), 300 + int(ys.min()), 900 + int(xs.max()) + 1, 300 + int(ys.max()) + 1)


def test_tiles_find_a_hand_without_a_face_that_the_full_frame_misses(faceless_scene, monkeypatch):
    image, truth = faceless_scene
    calls: list[tuple[tuple[int, int, int, int], str]] = []
    real = hands_module.run_hands
    monkeypatch.setattr(hands_module, "run_hands", lambda *a, **k: calls.append((a[1], a[4])) or real(*a, **k))
    found = HandDetector().detect(image, DEFAULTS)
    assert any(iou(r.box, truth) >= 0.3 for r in found), [r.box for r in found]
    assert any(c[1] == "crop" and c[0] not in ((0, 0, 1280, 960),) for c in calls), calls  # tiles ran
    full = [f for f in real(image, (0, 0, 1280, 960), 6, 0.3, "full") if f.score >= DEFAULTS.hand_confidence]
    assert not any(iou(f.box, truth) >= 0.3 for f in full)  # what the detector found before the tiles


def test_a_hand_cut_by_a_tile_gets_a_second_look_that_replaces_it(monkeypatch):
    """A tile holding part of a hand: the second look, centred on it, gives the box that is kept."""
    image = np.full((1000, 1000, 3), 90, np.uint8)  # no face, short side >= TILE_MIN_SIDE: tiles only
    calls = []

    def fake_run(img, box, max_hands, floor, source, complexity=1):
        calls.append((box, source))
        if source == "crop" and box == (0, 0, 600, 600):
            return [_hand_at(540, 300, 59, 0.99, "crop")]  # reaches the tile's right edge (x 600)
        if source == "refine":
            return [_hand_at(545, 290, 100, 0.7, "refine")]
        return []

    monkeypatch.setattr(hands_module, "run_hands", fake_run)
    hands = HandDetector().raw_hands(image, DEFAULTS)
    assert [c for c in calls if c[1] == "refine"] == [((481, 241, 658, 418), "refine")]  # 3 x 59 px around it
    assert [(h.source, tuple(round(v) for v in h.box)) for h in hands] == [("refine", (545, 290, 645, 390))]


def test_a_512_photo_with_a_hand_costs_only_the_two_full_frame_passes(monkeypatch):
    """No tiles and no second look where nothing would be enlarged (the A1111 overhead budget): the
    whole frame once with each model."""
    image = coffee_with_hand()
    calls = []
    real = hands_module.run_hands
    monkeypatch.setattr(hands_module, "run_hands", lambda *a, **k: calls.append((a[1], a[5] if len(a) > 5 else k.get("complexity", 1))) or real(*a, **k))
    assert len(HandDetector().detect(image, DEFAULTS)) == 1
    assert sorted(calls) == [((0, 0, 512, 512), 0), ((0, 0, 512, 512), 1)]


def test_a_cut_out_photo_is_read_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = (10, 200, 30)  # colour stored under transparent pixels
    rgba[:2, :, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    out = read_rgb(tmp_path / "cut.png")
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    assert (out[:2] == (10, 200, 30)).all() and (out[2:] == 255).all()


def test_the_lite_full_frame_pass_finds_a_hand_the_full_model_misses():
    """A 56 px hand turned 90 deg on the 512 px rocket photo: MediaPipe's full model misses it on the
    whole frame, the lite one finds it, so the detector (both models) does."""
    canvas = cv2.resize(photo("rocket"), (512, 512))
    hand = cv2.resize(render_hand(112, 1.0, angle=90), (56, 56))
    mask = hand_mask(hand)
    canvas[300:356, 100:156][mask] = hand[mask]
    ys, xs = np.nonzero(mask)
    truth = (100 + int(xs.min()), 300 + int(ys.min()), 100 + int(xs.max()) + 1, 300 + int(ys.max()) + 1)
    full_only = hands_module.run_hands(canvas, (0, 0, 512, 512), 6, 0.3, "full", 1)
    assert not any(iou(h.box, truth) >= 0.3 and h.score >= DEFAULTS.hand_confidence for h in full_only)
    assert any(iou(r.box, truth) >= 0.3 for r in HandDetector().detect(canvas, DEFAULTS))


def test_a_person_crop_runs_even_when_it_holds_two_full_frame_hands(monkeypatch):
    """The crop also holds a neighbour's hands, so two full-frame finds in it say nothing about this
    person's: it still runs (the old skip lost a hand on bench/hands.py's halved group photo)."""
    image = np.full((900, 1200, 3), 90, np.uint8)
    faces = [(300.0, 200.0, 360.0, 260.0), (700.0, 200.0, 760.0, 260.0)]
    monkeypatch.setattr(hands_module, "detect_face_boxes",
                        lambda *a, **k: [type("F", (), {"box": f})() for f in faces])
    ran = []

    def fake_run(img, box, max_hands, floor, source, complexity=1):
        ran.append((box, source))
        if source == "full" and complexity == 1:
            return [_hand_at(250, 380, 40, 0.99, "full"), _hand_at(420, 380, 40, 0.99, "full")]
        return []

    monkeypatch.setattr(hands_module, "run_hands", fake_run)
    HandDetector().raw_hands(image, DEFAULTS)
    crops = hands_module.person_crops(faces, 1200, 900)
    assert crops and all((c, "crop") in ran for c in crops)
