"""OfflineScorer: monotone in its distortions, clean photos not flagged, defined on odd inputs."""

from __future__ import annotations

import math
import subprocess
import sys

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lib_qfix.protocols import Scorer
from lib_qfix.registry import create_scorer
from lib_qfix.samples import all_photos, skimage_photo
from lib_qfix.scoring.offline import QUALITY_FAMILIES, OfflineScorer
from lib_qfix.types import DEFECT, GLOBAL_KINDS, VERDICTS
from testkit import distortions as dist
from testkit import photo_variants

KINDS = ("blur", "noise", "jpeg", "exposure", "low_resolution")
DEFECT_NAMES = {"blur", "noise", "jpeg", "overexposed", "underexposed", "low_resolution"}


@pytest.fixture(scope="module")
def scorer() -> OfflineScorer:
    return OfflineScorer()


def _score(scorer, img):
    return scorer.score([img])[0]


def _defects(result) -> set[str]:
    return {d for r in result.regions if r.verdict == DEFECT for d in r.defects}


def _assert_well_formed(result):
    assert 0.0 <= result.quality <= 1.0
    assert result.scorer == "offline"
    for k, v in result.signals.items():
        assert isinstance(v, float) and math.isfinite(v), (k, v)
    assert [r.kind for r in result.regions] == list(KINDS)
    for r in result.regions:
        assert r.kind in GLOBAL_KINDS and r.box is None
        assert 0.0 <= r.confidence <= 1.0
        assert r.verdict in VERDICTS
        assert set(r.defects) <= DEFECT_NAMES
        assert r.detector == "offline"
        assert bool(r.reasons) == (r.verdict == DEFECT) == bool(r.defects)


@pytest.mark.parametrize("name", ["gaussian_noise", "jpeg", "gaussian_blur", "underexposure"])
def test_quality_falls_with_each_level(scorer, astronaut, name):
    qualities = [_score(scorer, im).quality for im in dist.ladder(astronaut, name)]
    assert all(a > b for a, b in zip(qualities, qualities[1:], strict=False)), qualities
    assert qualities[-1] < 0.5 * qualities[0]


@pytest.mark.parametrize("photo,variant", [("coffee", "high_key"), ("coffee", "dim"), ("retina", "bright_wall"),
                                           ("moon", "bright_wall"), ("text", "jpeg80")])
def test_overexposure_ladder_is_monotone_on_bright_and_dim_renderings(scorer, photo, variant):
    # a large bright area that is not clipped (its JPEG blocks must not vanish into the clipping),
    # a JPEG, a dim photo whose first steps clip nothing (only the stretched levels show them)
    img = cv2.resize(skimage_photo(photo), (512, 512), interpolation=cv2.INTER_AREA)
    base = photo_variants.VARIANTS[variant](img)
    qualities = [_score(scorer, im).quality for im in dist.ladder(base, "overexposure")]
    assert all(a > b for a, b in zip(qualities, qualities[1:], strict=False)), qualities


def test_clean_photo_scores_above_its_distorted_versions(scorer, coffee):
    clean = _score(scorer, coffee).quality
    worst = [_score(scorer, dist.DISTORTIONS[n](coffee, 5)).quality for n in dist.DISTORTIONS]
    assert all(clean > w for w in worst), (clean, worst)


def test_bundled_clean_photos_are_not_flagged(scorer):
    photos = all_photos()
    assert len(photos) >= 5
    for name, img in photos.items():
        res = _score(scorer, img)
        _assert_well_formed(res)
        assert _defects(res) == set(), (name, res.reasons)
        assert res.quality > 0.8, (name, res.quality)


@pytest.mark.parametrize("name, level, expected", [
    ("gaussian_noise", 5, "noise"),
    ("jpeg", 5, "jpeg"),
    ("gaussian_blur", 4, "blur"),
    ("underexposure", 5, "underexposed"),
    ("overexposure", 3, "overexposed"),
    ("downscale", 5, "low_resolution"),
])
def test_clear_distortions_are_flagged(scorer, astronaut, name, level, expected):
    res = _score(scorer, dist.DISTORTIONS[name](astronaut, level))
    _assert_well_formed(res)
    assert expected in _defects(res), (name, res.signals)
    region = next(r for r in res.regions if expected in r.defects)
    assert region.confidence > 0.5
    assert any(expected.replace("_", " ")[:5] in reason.lower() for reason in res.reasons)


def test_breakdown_keys_and_ranges(scorer, astronaut):
    res = _score(scorer, astronaut)
    s = res.signals
    for key in ("blur", "noise_sigma", "blockiness", "detail", "megapixels", "brisque", "mean_luma",
                "clipped_highlights", "clipped_shadows", "tonal_entropy", "ev_mean", "ev_high"):
        assert key in s
    assert 0.0 <= s["blur"] <= 1.0
    for key in ("mean_luma", "clipped_highlights", "clipped_shadows", "highlight_load", "shadow_load"):
        assert 0.0 <= s[key] <= 1.0, key
    assert 0.0 <= s["tonal_entropy"] <= 8.0
    assert s["ev_mean"] <= 0.0 and s["ev_high"] <= 0.0
    assert s["megapixels"] == pytest.approx(512 * 512 / 1e6)
    product = 1.0
    for fam in QUALITY_FAMILIES:
        assert 0.0 < s[f"q_{fam}"] <= 1.0
        assert f"z_{fam}" in s
        product *= s[f"q_{fam}"]
    assert res.quality == pytest.approx(product, rel=1e-9)  # quality is exactly the product
    for fam in ("overexposed", "underexposed"):
        assert f"z_{fam}" in s


def test_batch_equals_one_by_one(scorer, astronaut, coffee, grace_hopper):
    imgs = [astronaut, coffee, grace_hopper, dist.jpeg(coffee, 4)]
    batch = scorer.score(imgs, prompts=["a", "b", "c", "d"])
    single = [scorer.score([im])[0] for im in imgs]
    assert batch == single


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 3, 3), (7, 7, 3), (15, 40, 3), (3, 900, 3)])
def test_tiny_images_are_defined(scorer, shape):
    rng = np.random.default_rng(0)
    res = _score(scorer, rng.integers(0, 256, shape, dtype=np.uint8))
    _assert_well_formed(res)
    assert "low_resolution" in _defects(res)


@pytest.mark.parametrize("value", [0, 128, 255])
def test_constant_images_have_a_defined_low_score(scorer, value):
    img = np.full((64, 96, 3), value, np.uint8)
    res = _score(scorer, img)
    _assert_well_formed(res)
    assert res.quality < 0.05  # no tones, no detail: nothing of a photo
    assert res == _score(scorer, img)  # deterministic
    assert res.signals["noise_sigma"] == 0.0
    if value == 0:
        assert "underexposed" in _defects(res)
    if value == 255:
        assert "overexposed" in _defects(res)


def test_grayscale_and_rgba_inputs(scorer, astronaut):
    gray = astronaut.mean(axis=2).astype(np.uint8)
    as_rgb = np.repeat(gray[:, :, None], 3, axis=2)
    assert _score(scorer, gray) == _score(scorer, as_rgb)
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    assert _score(scorer, rgba) == _score(scorer, astronaut)


def test_huge_image(scorer, astronaut):
    import cv2

    tiled = np.tile(astronaut, (5, 6, 1))  # 2560 x 3072, native detail everywhere
    res = _score(scorer, tiled)
    _assert_well_formed(res)
    assert res.signals["megapixels"] == pytest.approx(2560 * 3072 / 1e6)
    assert _defects(res) == set()
    # The same size reached by upscaling has no detail of its own: that is low resolution.
    upscaled = _score(scorer, cv2.resize(astronaut, (3072, 2560), interpolation=cv2.INTER_CUBIC))
    assert "low_resolution" in _defects(upscaled)
    assert upscaled.quality < res.quality


@pytest.mark.parametrize("bad, match", [
    (np.zeros((8, 8, 3), np.float32), r"images\[0\]: dtype float32"),
    (np.zeros((8, 8, 2), np.uint8), r"images\[0\]: shape \(8, 8, 2\)"),
    (np.zeros((0, 8, 3), np.uint8), r"images\[0\]: shape \(0, 8, 3\)"),
])
def test_bad_input_names_the_image_value_and_allowed(scorer, bad, match):
    with pytest.raises(ValueError, match=match) as e:
        scorer.score([bad])
    assert "expected" in str(e.value)


def test_prompt_count_must_match(scorer, astronaut):
    with pytest.raises(ValueError, match="prompts: 2 given for 1 images"):
        scorer.score([astronaut], prompts=["a", "b"])


def test_registry_builds_the_scorer():
    s = create_scorer("offline")
    assert isinstance(s, OfflineScorer) and isinstance(s, Scorer)
    assert s.name == "offline" and isinstance(s.version, str) and s.version
    assert create_scorer("offline") is s


def test_import_is_cheap():
    code = ("import sys, lib_qfix.scoring.offline; "
            "print(sorted(m for m in ('brisque', 'torch', 'scipy', 'skimage', 'libsvm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "[]"


@settings(max_examples=25, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40), st.just(3))))
def test_any_small_image_gives_a_well_formed_result(img):
    _assert_well_formed(OfflineScorer().score([img])[0])
