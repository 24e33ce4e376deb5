"""Hand plausibility rules: real and anatomical hands pass, mild jitter passes, perturbed hands fail."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.detect.hand_plausibility import check_hand, segments_cross
from testkit.fixtures_hand_landmarks import (
    _collapse_middle,
    _cross_base,
    _fold_back,
    _fuse_ring_middle,
    _knuckles_shuffled,
    _long_index,
    _sideways_ring,
    _thumb_other_side,
    canonical_hand,
)


@pytest.fixture(scope="module")
def mediapipe_hand() -> tuple[np.ndarray, float]:
    """Landmarks MediaPipe itself puts on a rendered open hand (a real model output)."""
    from lib_qfix.detect.hands import run_hands
    from testkit.fixtures_detect import render_hand

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
