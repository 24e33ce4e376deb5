"""Hand guides drawn from real MediaPipe detections: bones along the segments between keypoints in
OpenPose's hue order, blue keypoint dots, black elsewhere, the requested size."""

from __future__ import annotations

import colorsys
from dataclasses import replace

import numpy as np
import pytest

from lib_qfix.guides import hand_guide, hand_points, plausible_hand
from lib_qfix.guides.draw import HAND_EDGE_RGB, HAND_EDGES, HAND_POINT_RGB, blank, draw_hand, hand_line_width
from lib_qfix.types import Region
from tests.guides_support import detected_hands, hand_region, segment_distance


@pytest.fixture(scope="module")
def hands():
    found = detected_hands()
    assert len(found) >= 12  # MediaPipe finds the rendered hands (and their mirror images)
    return found


def _near(img: np.ndarray, x: float, y: float, r: int = 1) -> set[tuple[int, ...]]:
    xi, yi = int(round(x)), int(round(y))
    patch = img[max(0, yi - r):yi + r + 1, max(0, xi - r):xi + r + 1].reshape(-1, 3)
    return {tuple(int(v) for v in c) for c in patch}


def test_bone_colours_step_round_the_hue_wheel():
    assert len(HAND_EDGES) == 20 and HAND_EDGES[0] == (0, 1) and HAND_EDGES[4] == (0, 5) and HAND_EDGES[-1] == (19, 20)
    hues = [colorsys.rgb_to_hsv(*(c / 255 for c in rgb)) for rgb in HAND_EDGE_RGB]
    assert all(s == 1.0 and v == 1.0 for _, s, v in hues)
    assert [round(h * 20) for h, _, _ in hues] == list(range(20))  # hue i/20 for bone i
    assert HAND_EDGE_RGB[0] == (255, 0, 0)


def test_skeleton_lies_on_the_detected_segments(hands):
    for image, _, pts in hands:
        h, w = image.shape[:2]
        p = pts[:, :2]
        guide = hand_guide(hand_region(p), (w, h))
        assert guide is not None and guide.shape == (h, w, 3) and guide.dtype == np.uint8
        width = hand_line_width(p, (w, h))
        seen_hues = []
        for i, (a, b) in enumerate(HAND_EDGES):
            mid = (p[a] + p[b]) / 2
            if not (0 <= mid[0] < w and 0 <= mid[1] < h) or np.linalg.norm(p[b] - p[a]) < 2 * width + 5:
                continue  # outside, or so short that the joints' dots cover it
            colours = _near(guide, *mid)
            # a later bone may cross this one's midpoint (the wrist fan); then the quarter points show it
            points = [mid, p[a] + (p[b] - p[a]) * 0.35, p[a] + (p[b] - p[a]) * 0.65]
            if not any(HAND_EDGE_RGB[i] in _near(guide, *q) for q in points):
                pytest.fail(f"bone {i} ({a}-{b}) not drawn at its midpoint: {colours}")
            seen_hues.append(colorsys.rgb_to_hsv(*(c / 255 for c in HAND_EDGE_RGB[i]))[0])
        assert len(seen_hues) >= 12 and seen_hues == sorted(seen_hues)  # hue order follows the bone order
        for q in p:  # keypoints: blue dots
            if 0 <= q[0] < w and 0 <= q[1] < h:
                assert HAND_POINT_RGB in _near(guide, *q)
        # black everywhere farther from every bone than the dot radius plus anti-aliasing slack
        dist = np.min([segment_distance(h, w, p[a], p[b]) for a, b in HAND_EDGES], axis=0)
        far = dist > width + 3
        assert far.mean() > 0.5
        assert not guide[far].any()
        assert guide[dist <= width / 2].any(axis=1).mean() > 0.95  # and the bones are solid


def test_size_is_width_by_height_and_points_outside_are_clipped(hands):
    _, _, pts = hands[0]
    guide = hand_guide(hand_region(pts), (300, 180))
    assert guide.shape == (180, 300, 3)
    moved = hand_region(pts[:, :2] + (-150.0, 0.0))  # half the hand off the left edge
    assert hand_guide(moved, (300, 180)).any()
    far = hand_region(pts[:, :2] + 1e7)  # absurd coordinates draw nothing and do not fail
    assert not hand_guide(far, (64, 64)).any()


def test_defective_hand_draws_the_plausible_fit(hands):
    _, _, pts = hands[0]
    bent = pts[:, :2].copy()
    bent[10:13] = bent[9] + (bent[10:13] - bent[9]) * 0.1  # a collapsed middle finger
    region = hand_region(bent, defect=True)
    fitted = plausible_hand(bent)
    np.testing.assert_allclose(hand_points(region), fitted)
    expect = draw_hand(blank((256, 256)), fitted)
    np.testing.assert_array_equal(hand_guide(region, (256, 256)), expect)
    ok = replace(region, verdict="ok")  # an ok hand is traced as detected
    np.testing.assert_allclose(hand_points(ok), bent)


@pytest.mark.parametrize("region", [
    Region("hand", (0, 0, 10, 10), 0.9),  # no landmarks
    Region("face", (0, 0, 10, 10), 0.9, landmarks=((1.0, 1.0),) * 21),  # not a hand
    Region("hand", (0, 0, 10, 10), 0.9, landmarks=((1.0, 1.0),) * 20),  # not 21 points
    Region("hand", (0, 0, 10, 10), 0.9, landmarks=((1.0, float("nan")),) * 21),
    Region("hand", (0, 0, 10, 10), 0.9, landmarks=((5.0, 5.0),) * 21),  # collapsed to a point
])
def test_no_guide_without_usable_landmarks(region):
    assert hand_guide(region, (32, 32)) is None
    assert hand_points(region) is None


@pytest.mark.parametrize("size", [(0, 10), (10,), (10.5, 10), "512x512", (10, 10**6), None])
def test_bad_size_is_a_clear_error(size):
    with pytest.raises(ValueError, match="guide size"):
        hand_guide(Region("hand", (0, 0, 10, 10), 0.9), size)


def test_line_width_follows_the_hand():
    p = np.zeros((21, 2))
    for palm, size, expect in ((60, (512, 512), 2), (120, (512, 512), 4), (300, (512, 512), 4),
                               (300, (1024, 1024), 8), (12, (512, 512), 1)):
        p[9] = (0, palm)
        assert hand_line_width(p, size) == expect
