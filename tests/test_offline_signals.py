"""The measurements behind the offline score, each against a known distortion, and the fast
BRISQUE against the ``brisque`` package it reuses the model of."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.scoring import nss
from lib_qfix.scoring import signals as sig
from testkit import distortions as dist


def _y(img):
    return sig.luminance(img)


def test_noise_sigma_recovers_added_noise(astronaut):
    base = sig.noise_sigma(_y(astronaut))
    assert base < 1.5
    # The luma of independent per-channel noise of std s has std s * |(0.299, 0.587, 0.114)|.
    luma_gain = float(np.linalg.norm([0.299, 0.587, 0.114]))
    for level in (2, 4):
        true = dist.NOISE_SIGMA[level - 1] * luma_gain
        est = sig.noise_sigma(_y(dist.gaussian_noise(astronaut, level)))
        assert est == pytest.approx(true, rel=0.25), (level, est, true)


def test_blur_index_rises_with_blur_and_not_with_noise(coffee):
    clean = sig.blur_index(_y(coffee))
    blurred = [sig.blur_index(_y(dist.gaussian_blur(coffee, lv))) for lv in (1, 3, 5)]
    assert clean < blurred[0] < blurred[1] < blurred[2] <= 1.0
    assert sig.blur_index(_y(dist.gaussian_noise(coffee, 3))) < clean  # noise is not blur


def test_blur_index_sees_directional_motion_blur(astronaut):
    clean = sig.blur_index(_y(astronaut))
    for angle in (0.0, 90.0):
        assert sig.blur_index(_y(dist.motion_blur(astronaut, 4, angle_deg=angle))) > clean + 0.15


def test_sharp_subject_before_soft_background_is_not_blur(astronaut):
    import cv2

    from lib_qfix.scoring.offline import OfflineScorer

    soft = cv2.GaussianBlur(astronaut, (0, 0), 6)
    mask = np.zeros(astronaut.shape[:2], np.float32)
    mask[128:384, 128:384] = 1.0  # a sharp subject on a quarter of the frame (bokeh portrait)
    mask = cv2.GaussianBlur(mask, (0, 0), 8)[:, :, None]
    bokeh = (astronaut * mask + soft * (1 - mask)).astype(np.uint8)
    clean = sig.blur_index(_y(astronaut))
    assert sig.blur_index(_y(bokeh)) < clean + 0.1 < sig.blur_index(_y(soft))
    defects = {d for r in OfflineScorer().score([bokeh, soft])[0].regions for d in r.defects}
    assert "blur" not in defects
    assert "blur" in {d for r in OfflineScorer().score([soft])[0].regions for d in r.defects}


def test_blockiness_finds_jpeg_grid_not_upscaling(camera_like):
    clean = sig.blockiness(_y(camera_like))
    assert clean < 1.15
    assert sig.blockiness(_y(dist.jpeg(camera_like, 4))) > 1.6
    # 2x and 4x upscaling ripple with periods 2 and 4; that is not an 8x8 grid
    for level in (2, 4):
        assert sig.blockiness(_y(dist.downscale_upscale(camera_like, level))) < 1.2


def test_blockiness_finds_a_shifted_grid(camera_like):
    shifted = dist.jpeg(camera_like[3:, 5:], 4)  # grid no longer at the image origin
    assert sig.blockiness(_y(shifted)) > 1.6


def test_detail_ratio_falls_with_lost_resolution(astronaut):
    values = [sig.detail_ratio(_y(astronaut))]
    values += [sig.detail_ratio(_y(dist.downscale_upscale(astronaut, lv))) for lv in (1, 3, 5)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False)), values


def test_exposure_values_move_by_the_stops_applied(astronaut):
    clean = sig.exposure(astronaut)
    for level, ev in zip(dist.LEVELS, dist.UNDER_EV, strict=True):
        e = sig.exposure(dist.underexposure(astronaut, level))
        assert e["ev_mean"] - clean["ev_mean"] == pytest.approx(ev, abs=0.12)
        assert e["ev_high"] - clean["ev_high"] == pytest.approx(ev, abs=0.12)


def test_tonal_entropy_is_lost_both_ways(grace_hopper):
    clean = sig.exposure(grace_hopper)["tonal_entropy"]
    under = [sig.exposure(dist.underexposure(grace_hopper, lv))["tonal_entropy"] for lv in (1, 3, 5)]
    over = [sig.exposure(dist.overexposure(grace_hopper, lv))["tonal_entropy"] for lv in (1, 3, 5)]
    assert clean > under[0] > under[1] > under[2]
    assert clean > over[0] > over[1] > over[2]


def test_exposure_clipping_fractions():
    img = np.zeros((10, 10, 3), np.uint8)
    img[:3] = 255
    img[3:5] = 128
    e = sig.exposure(img)
    assert e["clipped_highlights"] == pytest.approx(0.3)
    assert e["clipped_shadows"] == pytest.approx(0.5)
    assert e["tonal_entropy"] == pytest.approx(-(0.3 * np.log2(0.3) + 0.2 * np.log2(0.2) + 0.5 * np.log2(0.5)))


def test_fast_brisque_matches_the_brisque_package(astronaut):
    from brisque import BRISQUE

    ref = BRISQUE(url=False)
    for img in (astronaut, dist.gaussian_noise(astronaut, 3), dist.gaussian_blur(astronaut, 3)):
        assert nss.brisque_score(img) == pytest.approx(float(ref.score(img)), abs=0.05)


def test_fast_brisque_ranks_noise_as_worse(coffee):
    scores = [nss.brisque_score(dist.gaussian_noise(coffee, lv)) for lv in (1, 3, 5)]
    assert scores[0] < scores[1] < scores[2]


@pytest.fixture(scope="module")
def camera_like():
    from lib_qfix.samples import skimage_photo

    return skimage_photo("camera")


def test_tonal_gaps_see_stretched_levels_not_merged_ones(astronaut):
    def gaps(img):
        return sig.exposure(img)["tonal_gaps"]

    assert gaps(astronaut) < 0.03
    over = [gaps(dist.overexposure(astronaut, lv)) for lv in (1, 2, 3)]
    assert 0.05 < over[0] < over[1] < over[2], over
    assert all(gaps(dist.underexposure(astronaut, lv)) < 0.03 for lv in (1, 2, 3))


def test_blockiness_survives_clipping(camera_like):
    blocky = dist.jpeg(camera_like, 3)
    before = sig.blockiness(_y(blocky))
    for level in (2, 4):
        assert sig.blockiness(_y(dist.overexposure(blocky, level))) == pytest.approx(before, rel=0.1)
