"""Hand-scale windows (lib_qfix/detect/hand_windows.py) and what they cost and find in the hand detector."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import lib_qfix.detect.hands as hands_module
from lib_qfix.detect.face_boxes import detect_face_boxes
from lib_qfix.detect.hand_windows import MAX_WINDOWS, WINDOW_FACES, hand_windows
from lib_qfix.detect.hands import HandDetector
from lib_qfix.detect.nms import iou
from lib_qfix.options import DEFAULTS
from testkit.fixtures_detect import hand_mask, photo, render_hand


def test_one_person_gets_two_by_two_windows_of_hand_scale():
    face = (480, 200, 520, 240)  # 40 px face in a 1200 px image
    wins = hand_windows([face], 1200, 1000)
    assert len(wins) == 4
    for x0, y0, x1, y1 in wins:
        assert x1 - x0 == y1 - y0 == round(WINDOW_FACES * 40)
    # together they cover the person's region: 3.2 face widths either side, 1.2 above to 4.5 below
    xs0, ys0 = min(w[0] for w in wins), min(w[1] for w in wins)
    xs1, ys1 = max(w[2] for w in wins), max(w[3] for w in wins)
    assert (xs0, ys0) == (500 - 128, 220 - 48) and (xs1, ys1) == (500 + 128, 220 + 180)
    # neighbours overlap by at least 20 % of a side, so a hand on a seam is whole in one of them
    left, right = sorted({w[0] for w in wins})
    assert right - left <= 0.8 * WINDOW_FACES * 40


def test_windows_that_would_enlarge_nothing_are_skipped():
    # a single portrait at 512 px: windows of 3.6 x 105 px would be 74 % of the side
    assert hand_windows([(173, 67, 278, 172)], 512, 512) == []
    # tiny slivers at the border are skipped too
    assert hand_windows([(0, 0, 4, 4)], 1000, 1000) == []


def test_groups_share_windows_and_are_capped():
    row = [(100 + 60 * i, 100, 130 + 60 * i, 130) for i in range(10)]  # ten 30 px faces side by side
    wins = hand_windows(row, 1000, 1000)
    assert len(wins) <= MAX_WINDOWS
    assert all(iou(a, b) <= 0.6 for i, a in enumerate(wins) for b in wins[i + 1:])
    # a crowd: the fixed 2x2 grid over the image
    crowd = hand_windows([(i * 38, 10, i * 38 + 30, 40) for i in range(13)], 512, 512)
    assert len(crowd) == 4 and crowd[0][:2] == (0, 0) and crowd[-1][2:] == (512, 512)


def test_a_512_portrait_costs_only_the_full_frame_passes(astronaut, monkeypatch):
    """The windows must not add MediaPipe passes where they enlarge nothing (the overhead budget):
    the whole frame once per model in FULL_FRAME_MODELS."""
    calls = []
    real = hands_module.run_hands
    monkeypatch.setattr(hands_module, "run_hands", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    assert HandDetector().detect(astronaut, DEFAULTS) == []
    assert calls == [(0, 0, 512, 512)] * len(hands_module.hand_models(hands_module.FULL_FRAME_MODELS))


@pytest.fixture(scope="module")
def small_people_scene() -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A 1280x960 scene: two photo heads (~60 px faces) with a rendered hand beside and below each."""
    from testkit.fixtures_detect import FACE_LABELS

    canvas = cv2.resize(photo("coffee"), (1280, 960))
    hands = []
    for k, (name, x) in enumerate((("astronaut", 250), ("grace_hopper", 800))):
        fx0, fy0, fx1, fy1 = FACE_LABELS[name]
        src = photo(name)
        side = max(fx1 - fx0, fy1 - fy0)
        cx, cy = (fx0 + fx1) // 2, (fy0 + fy1) // 2
        head = cv2.resize(src[max(0, cy - side):cy + side, max(0, cx - side):cx + side], (140, 140))
        canvas[200:340, x:x + 140] = head
        hand = render_hand(72, 1.0, angle=-20 + 40 * k)
        mask = hand_mask(hand)
        hx, hy = x + 170, 400
        canvas[hy:hy + 72, hx:hx + 72][mask] = hand[mask]
        ys, xs = np.nonzero(mask)  # the drawn hand's own box, not its square
        hands.append((hx + int(xs.min()), hy + int(ys.min()), hx + int(xs.max()) + 1, hy + int(ys.max()) + 1))
    return canvas, hands


def test_windows_find_small_hands_the_person_crop_misses(small_people_scene, monkeypatch):
    image, truth = small_people_scene
    assert len(detect_face_boxes(image, 0.5)) >= 2  # the person anchors

    def found(regions):
        return sum(any(iou(r.box, t) >= 0.3 for r in regions) for t in truth)

    with_windows = found(HandDetector().detect(image, DEFAULTS))
    monkeypatch.setattr(hands_module, "hand_windows", lambda faces, w, h: [])
    without = found(HandDetector().detect(image, DEFAULTS))
    assert with_windows == 2, with_windows
    assert without < with_windows  # the person crops alone find one of the two
