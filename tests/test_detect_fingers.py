"""Extra fingers from the hand's silhouette (rendered hands with five and six fingers)."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.detect.hand_silhouette import extra_finger_reason
from lib_qfix.detect.hands import HandDetector, run_hands
from lib_qfix.options import DEFAULTS
from testkit.fixtures_parts import six_finger_hand

ON = DEFAULTS.replace(detect_extra_fingers=True)


def _points(img: np.ndarray) -> np.ndarray:
    found = run_hands(img, (0, 0, img.shape[1], img.shape[0]), 1, 0.3, "test")
    assert found, "MediaPipe found no hand on the rendered image"
    return found[0].points


@pytest.mark.parametrize("spread,angle", [(1.0, -10), (1.4, 30)])
def test_a_sixth_finger_is_counted_and_five_are_not(spread, angle):
    five = six_finger_hand(256, spread, angle=angle, extra=False)
    six = six_finger_hand(256, spread, angle=angle, extra=True)
    reason, measures = extra_finger_reason(five, _points(five))
    assert reason is None and measures["fingers"] == 5
    reason, measures = extra_finger_reason(six, _points(six))
    assert reason and "6 fingers" in reason and measures["fingers"] == 6


def test_small_hands_and_unseparable_backgrounds_are_not_judged():
    six = six_finger_hand(256, 1.0)
    small = np.ascontiguousarray(six[::4, ::4])
    pts = _points(six) / 4
    assert extra_finger_reason(small, pts) == (None, {"palm_px": pytest.approx(np.linalg.norm(pts[9, :2] - pts[0, :2]))})
    # a background of the hand's own colour: the silhouette spills, nothing is claimed
    same = six_finger_hand(256, 1.0, background=np.full((256, 256, 3), (214, 160, 128), np.uint8))
    assert extra_finger_reason(same, _points(six))[0] is None


def test_the_hand_detector_reports_extra_fingers_only_when_asked():
    six = six_finger_hand(256, 1.0, angle=10)
    det = HandDetector()
    (region,) = det.detect(six, ON)
    assert "extra_fingers" in region.defects and region.is_defect
    assert any("extra finger" in r for r in region.reasons)
    (plain,) = det.detect(six, DEFAULTS)
    assert "extra_fingers" not in plain.defects
