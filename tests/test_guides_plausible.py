"""The plausible hand: the plausibility checker accepts every fitted hand -- on real MediaPipe
detections, on the malformed ones the detector must flag, and on random noise -- and the fit keeps
the detection's wrist and middle MCP (so the palm frame's origin, axis and size) exactly, its
chirality, and stays close to a detection that was plausible already."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lib_qfix.detect.hand_plausibility import check_hand
from lib_qfix.guides import plausible_hand
from lib_qfix.guides.hand_model import BLEND_STEPS, TEMPLATE, detected_pose, palm_frame
from testkit.fixtures_hand_landmarks import PERTURBATIONS, canonical_hand
from tests.guides_support import chirality, detected_hands, palm_length, with_z

#: how far (palm lengths) a fitted hand may sit from a detection that was plausible already
CLOSE_TO_PLAUSIBLE = 0.15


@pytest.fixture(scope="module")
def bases() -> list[np.ndarray]:
    """Real MediaPipe detections (both chiralities) and the anatomical hand."""
    return [p for _, _, p in detected_hands()] + [canonical_hand()]


def assert_fits(detected: np.ndarray, fitted: np.ndarray) -> None:
    """Accepted by the checker; same wrist, middle MCP (palm frame and size) and chirality."""
    assert fitted.shape == (21, 2) and np.all(np.isfinite(fitted))
    verdict = check_hand(with_z(fitted))
    assert verdict.plausible, verdict.reasons
    assert verdict.reasons == ()
    np.testing.assert_allclose(fitted[0], detected[0, :2], atol=1e-6)
    extent = float(np.ptp(detected[:, :2], axis=0).max())
    if palm_length(detected) < 0.05 * extent:  # a collapsed palm: its frame comes from the knuckles
        assert palm_length(fitted) == pytest.approx(max(0.5 * extent, 1.0), rel=0.35)
        return
    np.testing.assert_allclose(fitted[9], detected[9, :2], atol=1e-6)
    assert palm_length(fitted) == pytest.approx(palm_length(detected), rel=1e-9)


def test_template_is_a_plausible_hand():
    verdict = check_hand(with_z(TEMPLATE.points() * 100))
    assert verdict.plausible and verdict.reasons == ()
    assert 0.9 < verdict.measures["middle_length"] < 1.0


def test_real_detections_stay_close(bases):
    for p in bases:
        assert check_hand(with_z(p)).plausible
        fitted = plausible_hand(p)
        assert_fits(p, fitted)
        assert chirality(fitted) == chirality(p)
        worst = np.linalg.norm(fitted - p[:, :2], axis=1).max() / palm_length(p)
        assert worst < CLOSE_TO_PLAUSIBLE, worst


@pytest.mark.parametrize("perturb", list(PERTURBATIONS), ids=lambda f: f.__name__.strip("_"))
def test_the_detectors_malformed_hands_are_fitted(perturb, bases):
    for p in bases:
        bad = perturb(p.copy())
        fitted = plausible_hand(bad)
        assert_fits(bad, fitted)
        if perturb.__name__ not in ("_knuckles_shuffled",):  # the middle MCP itself moved there
            assert chirality(fitted) == chirality(p)


def _bend_all(p: np.ndarray) -> np.ndarray:
    """Every finger folded 100 deg in the image plane at the PIP (an impossible sideways curl)."""
    out = p.copy()
    c, s = np.cos(np.radians(100)), np.sin(np.radians(100))
    for mcp in (5, 9, 13, 17):
        pip = out[mcp + 1, :2]
        d = out[mcp + 2:mcp + 4, :2] - pip
        out[mcp + 2:mcp + 4, :2] = pip + d @ np.array([[c, s], [-s, c]])
    return out


def _swap_fingers(p: np.ndarray) -> np.ndarray:
    out = p.copy()
    out[[6, 7, 8, 18, 19, 20]] = p[[18, 19, 20, 6, 7, 8]]  # index and pinky phalanges swapped
    return out


def _collapse_all(p: np.ndarray) -> np.ndarray:
    out = p.copy()
    for mcp in (5, 9, 13, 17):
        out[mcp + 1:mcp + 4] = out[mcp] + (out[mcp + 1:mcp + 4] - out[mcp]) * 0.05
    return out


def _zigzag(p: np.ndarray) -> np.ndarray:
    """Fingers bent alternately left and right at every joint."""
    out = p.copy()
    palm = palm_length(p)
    for k, mcp in enumerate((5, 9, 13, 17)):
        for j in (1, 2, 3):
            out[mcp + j, 0] += (-1) ** (j + k) * 0.12 * palm
    return out


def _extra_long(p: np.ndarray) -> np.ndarray:
    out = p.copy()
    for mcp in (1, 5, 9, 13, 17):
        out[mcp + 1:mcp + 4] = out[mcp] + (out[mcp + 1:mcp + 4] - out[mcp]) * 2.5
    return out


@pytest.mark.parametrize("malform", [_bend_all, _swap_fingers, _collapse_all, _zigzag, _extra_long])
def test_badly_malformed_hands_are_fitted(malform, bases):
    for p in bases:
        bad = malform(p)
        fitted = plausible_hand(bad)
        assert_fits(bad, fitted)
        assert chirality(fitted) == chirality(p)


def test_flexion_is_taken_from_the_detection_and_clamped(bases):
    p = bases[0]
    frame = palm_frame(p)
    gentle = detected_pose(frame.to_frame(p[:, :2]))
    bent = detected_pose(frame.to_frame(_bend_all(p)[:, :2]))
    assert np.all(np.abs(bent.bends[1:, 0]) <= 25.0) and np.all(np.abs(bent.bends[1:, 1]) <= 15.0)
    assert np.all(np.abs(bent.bends[1:, 1]) <= np.abs(bent.bends[1:, 0]) + 1e-9)  # monotone
    signs = np.sign(bent.bends[1:][bent.bends[1:] != 0])
    assert len(set(signs)) <= 1  # the four fingers curl one way
    assert np.abs(bent.bends[1:]).sum() > np.abs(gentle.bends[1:]).sum()  # the detected curl is kept
    assert np.all(np.diff(bent.directions[1:]) >= 1.0 - 1e-9)  # fanned in order: no crossing


def test_geometry_is_equivariant(bases):
    """Rotating, scaling, moving or mirroring the detection does the same to the fitted hand."""
    p = _bend_all(bases[0])[:, :2]
    a = np.radians(37)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * 1.7
    moved = p @ rot.T + (40.0, -13.0)
    np.testing.assert_allclose(plausible_hand(moved), plausible_hand(p) @ rot.T + (40.0, -13.0), atol=1e-6)
    mirrored = p * (-1.0, 1.0)
    np.testing.assert_allclose(plausible_hand(mirrored), plausible_hand(p) * (-1.0, 1.0), atol=1e-6)


def test_edge_on_palm_takes_its_side_from_the_thumb_then_the_label(bases):
    p = bases[0][:, :2].copy()
    edge_on = p.copy()
    axis = (p[9] - p[0]) / palm_length(p)
    for i in range(1, 21):  # squash the palm across its axis: knuckles on one line
        rel = edge_on[i] - p[0]
        along = rel @ axis
        edge_on[i] = p[0] + along * axis + (rel - along * axis) * (0.02 if i >= 5 else 1.0)
    assert chirality(plausible_hand(edge_on)) == chirality(p)  # the thumb still shows the side
    edge_on[1:5] = p[0] + ((edge_on[1:5] - p[0]) @ axis)[:, None] * axis  # thumb on the axis too
    assert chirality(plausible_hand(edge_on, "Right")) == 1.0
    assert chirality(plausible_hand(edge_on, "left")) == -1.0


def test_collapsed_hand_still_gives_a_hand():
    p = np.full((21, 2), 50.0)
    p[1:] += np.random.default_rng(0).normal(0, 0.5, (20, 2))
    fitted = plausible_hand(p)
    assert check_hand(with_z(fitted)).plausible


@pytest.mark.parametrize("bad", [np.zeros((20, 2)), np.zeros((21, 4)), np.full((21, 2), np.nan), np.zeros(42)])
def test_bad_points_are_a_clear_error(bad):
    with pytest.raises(ValueError, match="hand landmarks"):
        plausible_hand(bad)
    with pytest.raises(ValueError, match="handedness"):
        plausible_hand(np.zeros((21, 2)), "ambidextrous")


@settings(max_examples=150, deadline=None)
@given(base=st.integers(0, 1000), seed=st.integers(0, 2**32 - 1), sigma=st.floats(0.0, 1.5),
       angle=st.floats(-180, 180), scale=st.floats(0.05, 20.0), mirror=st.booleans())
@example(base=0, seed=22, sigma=1.0, angle=0.0, scale=1.0, mirror=False)  # a collapsed palm (CI found it)
def test_random_noise_always_gives_an_accepted_hand(bases_cache, base, seed, sigma, angle, scale, mirror):
    """Any detection -- a real one under Gaussian noise up to 1.5 palm lengths per point, turned,
    scaled and mirrored -- gives a hand the checker accepts, with the detection's wrist and palm."""
    p = bases_cache[base % len(bases_cache)][:, :2]
    rng = np.random.default_rng(seed)
    a = np.radians(angle)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * scale * (np.array([-1.0, 1.0]) if mirror else 1.0)
    noisy = (p + rng.normal(0, sigma * palm_length(p), p.shape)) @ m.T
    assert_fits(noisy, plausible_hand(noisy))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_uniform_random_points_give_an_accepted_hand(seed):
    p = np.random.default_rng(seed).uniform(0, 200, (21, 2))
    fitted = plausible_hand(p)
    assert check_hand(with_z(fitted)).plausible
    np.testing.assert_allclose(fitted[0], p[0])


@pytest.fixture(scope="module")
def bases_cache(bases):
    return bases


def test_detection_share_is_used_on_noisy_hands(bases):
    """The template fallback is rare: on noise of 0.2 palm lengths nearly every fit keeps the
    detection's full share (BLEND_STEPS[0])."""
    rng = np.random.default_rng(5)
    full = 0
    for k in range(60):
        p = bases[k % len(bases)][:, :2]
        noisy = p + rng.normal(0, 0.2 * palm_length(p), p.shape)
        frame = palm_frame(noisy)
        q = detected_pose(frame.to_frame(noisy)).blend(TEMPLATE, BLEND_STEPS[0]).points()
        full += check_hand(with_z(frame.to_image(q))).plausible
    assert full >= 54
