"""Hand detector on rendered hands (MediaPipe finds them) and multi-person scenes built from photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lib_qfix.detect.hands import HandDetector, person_crops, run_hands
from lib_qfix.detect.nms import iou
from lib_qfix.options import DEFAULTS
from testkit.fixtures_detect import coffee_with_hand, hand_mask, multi_person_scenes, photo, render_hand
from tests.concurrency import detect_in_threads


@pytest.fixture(scope="module")
def det() -> HandDetector:
    return HandDetector()


@pytest.fixture(scope="module")
def hand_on_coffee() -> np.ndarray:
    return coffee_with_hand()


def test_rendered_hand_is_found_and_plausible(det, hand_on_coffee):
    regions = det.detect(hand_on_coffee, DEFAULTS)
    assert len(regions) == 1
    r = regions[0]
    assert r.kind == "hand" and r.detector == "hand" and r.verdict == "ok", r.reasons
    assert r.confidence >= DEFAULTS.hand_confidence
    assert 150 <= r.box[0] and r.box[2] <= 360 and 150 <= r.box[1] and r.box[3] <= 352
    assert len(r.landmarks) == 21
    poly = np.array(r.polygon, np.float32)
    # the grown hull covers every landmark (the mask must cover the fingers' width)
    assert all(cv2.pointPolygonTest(poly, (float(x), float(y)), False) >= 0 for x, y in r.landmarks)
    assert cv2.contourArea(poly) > 1.1 * cv2.contourArea(cv2.convexHull(np.array(r.landmarks, np.float32)))


def test_no_hands_in_clean_photos(det, coffee, astronaut):
    assert det.detect(coffee, DEFAULTS) == []
    assert det.detect(astronaut, DEFAULTS) == []


def test_hand_cut_by_the_frame(det, hand_on_coffee):
    # fingertips and the top of the fingers cut off (at 195-200 the tips sit 2-6 px inside the frame,
    # where the 1 % margin decides by a pixel which way a landmark set falls)
    cut = np.ascontiguousarray(hand_on_coffee[210:, :])
    found = det.detect(cut, DEFAULTS)
    assert found and "cropped_hand" in found[0].defects and found[0].verdict == "defect"
    assert not any("cropped_hand" in r.defects for r in det.detect(cut, DEFAULTS.replace(detect_cropping=False)))


def test_options_filter_hands(det, hand_on_coffee):
    assert det.detect(hand_on_coffee, DEFAULTS.replace(hand_confidence=1.0)) == []
    assert det.detect(hand_on_coffee, DEFAULTS.replace(hand_max_area=0.01)) == []


def test_crops_find_more_hands_in_a_group_scene(det):
    def truth(tile):
        return [tuple(int(v) for v in h.box) for h in run_hands(tile, (0, 0, tile.shape[1], tile.shape[0]), 4, 0.5, "gt")
                if h.score >= 0.5]

    scene = multi_person_scenes(truth, grids=((2, 3),))[0]
    gt = scene.truth["hand"]
    assert len(gt) >= 8

    def recall(regions):
        return sum(any(iou(r.box, t) > 0.3 for r in regions) for t in gt)

    full = recall(det.detect(scene.image, DEFAULTS.replace(hand_crops=False)))
    crops = recall(det.detect(scene.image, DEFAULTS))
    assert crops >= full + 3, (full, crops, len(gt))


def test_person_crops_follow_the_faces():
    crops = person_crops([(100, 50, 140, 90)], 1000, 1000)
    assert len(crops) == 1
    x0, y0, x1, y1 = crops[0]
    assert x0 < 100 and x1 > 140 and y0 < 50 and y1 > 200  # around and below the face
    # a face filling the image gives no crop: it would enlarge nothing
    assert person_crops([(100, 100, 400, 400)], 512, 512) == []
    # many people: a fixed 2x2 grid covering the image
    many = person_crops([(i * 60, 10, i * 60 + 30, 40) for i in range(8)], 512, 512)
    assert len(many) == 4 and many[0][:2] == (0, 0) and many[-1][2:] == (512, 512)


def test_two_threads_share_one_detector(det, hand_on_coffee):
    other = cv2.resize(photo("rocket"), (512, 512))
    hand = render_hand(220, 0.8, skin=(190, 130, 95), angle=-20)
    mask = hand_mask(hand)
    other[250:470, 40:260][mask] = hand[mask]
    images = (hand_on_coffee, other)
    expected = [[r.box for r in det.detect(img, DEFAULTS)] for img in images]
    results, errors = detect_in_threads(det, DEFAULTS, images, repeats=4)
    assert not errors and len(results) == 8
    assert all(expected), expected
    assert all([r.box for r in regions] == expected[i] for i, regions in results), (results, expected)
