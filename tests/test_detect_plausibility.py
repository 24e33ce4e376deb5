"""Hand plausibility rules: real and anatomical hands pass, mild jitter passes, perturbed hands fail."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.detect.hand_plausibility import check_hand, segments_cross


def canonical_hand() -> np.ndarray:
    """An open right hand, palm to the viewer, from adult anatomy (palm length 100 px)."""
    pts = {0: (0, 0)}
    pts.update({1: (-22, -25), 2: (-45, -45), 3: (-60, -65), 4: (-70, -85)})
    fingers = {5: ((-30, -95), (40, 24, 20), -4), 9: ((-5, -100), (45, 28, 22), 0),
               13: ((18, -95), (42, 27, 21), 4), 17: ((38, -85), (33, 20, 18), 9)}
    for base, ((x, y), lens, deg) in fingers.items():
        a = np.radians(deg)
        d = np.array([np.sin(a), -np.cos(a)])
        p = np.array([x, y], float)
        pts[base] = tuple(p)
        for k, length in enumerate(lens, start=1):
            p = p + d * length
            pts[base + k] = tuple(p)
    arr = np.array([[*pts[i], 0.0] for i in range(21)], dtype=np.float64)
    arr[:, :2] += 200
    return arr


@pytest.fixture(scope="module")
def mediapipe_hand() -> tuple[np.ndarray, float]:
    """Landmarks MediaPipe itself puts on a rendered open hand (a real model output)."""
    from bench.fixtures_detect import render_hand
    from lib_qfix.detect.hands import run_hands

    img = render_hand(256, 1.0)
    hands = run_hands(img, (0, 0, 256, 256), 1, 0.3, "test")
    assert len(hands) == 1
    return hands[0].points, hands[0].score


def test_anatomical_hand_is_plausible():
    r = check_hand(canonical_hand())
    assert r.plausible, r.reasons
    assert r.defects == ()
    assert 0.8 < r.measures["middle_length"] < 1.1


def test_mediapipe_hand_is_plausible(mediapipe_hand):
    pts, score = mediapipe_hand
    assert check_hand(pts, score).plausible


@pytest.mark.parametrize("seed", range(15))
def test_mild_jitter_stays_plausible(seed, mediapipe_hand):
    rng = np.random.default_rng(seed)
    for base in (canonical_hand(), mediapipe_hand[0]):
        palm = np.linalg.norm(base[9] - base[0])
        jittered = base + rng.normal(0, 0.02 * palm, base.shape)
        r = check_hand(jittered)
        assert r.plausible, r.reasons


def _collapse_middle(p):
    p[10:13] = p[9] + (p[10:13] - p[9]) * 0.1
    return p


def _long_index(p):
    p[8] = p[7] + (p[8] - p[7]) * 6
    return p


def _sideways_ring(p):
    d = p[15] - p[14]
    p[15] = p[14] + np.array([np.linalg.norm(d), 0, 0])
    p[16] = p[15] + np.array([20.0, 0, 0])
    return p


def _cross_base(p):
    p[[6, 10]] = p[[10, 6]]
    return p


def _fuse_ring_middle(p):
    p[14:17] = p[10:13] + 1.0
    return p


def _fold_back(p):
    p[12] = p[11] + (p[10] - p[11]) * 0.9 + np.array([2.0, 0, 0])
    return p


def _thumb_other_side(p):
    p[1:5, 0] = 2 * p[0, 0] - p[1:5, 0] + 40
    return p


def _knuckles_shuffled(p):
    p[[9, 13]] = p[[13, 9]]
    return p


@pytest.mark.parametrize("perturb, expect", [
    (_collapse_middle, "missing_fingers"),
    (_long_index, "malformed_hand"),
    (_sideways_ring, "malformed_hand"),
    (_cross_base, "malformed_hand"),
    (_fuse_ring_middle, "fused_fingers"),
    (_fold_back, "malformed_hand"),
    (_thumb_other_side, "malformed_hand"),
    (_knuckles_shuffled, "malformed_hand"),
])
def test_perturbed_hands_are_flagged(perturb, expect, mediapipe_hand):
    for base in (canonical_hand(), mediapipe_hand[0]):
        r = check_hand(perturb(base.copy()))
        assert not r.plausible, perturb.__name__
        assert "malformed_hand" in r.defects and expect in r.defects
        assert r.reasons


def test_specific_reasons_name_the_finger():
    r = check_hand(_collapse_middle(canonical_hand()))
    assert any("middle finger collapsed" in x for x in r.reasons)
    r = check_hand(_fuse_ring_middle(canonical_hand()))
    assert any("middle and ring fingers fused" in x for x in r.reasons)


def test_low_handedness_alone_is_only_a_note():
    r = check_hand(canonical_hand(), handedness_score=0.51)
    assert r.plausible and any("left/right uncertain" in x for x in r.reasons)


def test_bad_landmarks_raise_naming_the_shape():
    with pytest.raises(ValueError, match=r"hand landmarks: shape \(20, 3\)"):
        check_hand(np.zeros((20, 3)))
    bad = canonical_hand()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        check_hand(bad)


def test_segments_cross():
    a, b = np.array([0.0, 0.0]), np.array([10.0, 10.0])
    assert segments_cross(a, b, np.array([0.0, 10.0]), np.array([10.0, 0.0]))
    assert not segments_cross(a, b, np.array([20.0, 0.0]), np.array([30.0, 10.0]))
