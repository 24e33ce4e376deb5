"""Region fidelity on real photos with the real detectors: the repainted region is judged on its own.

Planted outcomes come from testkit/planted.py: a perfect model (the original pixels back), noise,
blur, a different face, a patch shifted a few pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lib_qfix.diagnose import diagnose
from lib_qfix.fix import local_stats as ls
from lib_qfix.fix.fidelity import FidelityChecker
from lib_qfix.fix.infotext import REJECTED, RESULT, outcome_infotext
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.fix.plan import plan_round
from lib_qfix.options import DEFAULTS
from lib_qfix.registry import create_detector
from lib_qfix.scoring.signals import luminance
from lib_qfix.types import Region
from testkit.planted import (
    PlantedInpainter,
    build_cases,
    coloured_noise,
    enlarge_eye,
    evaluate,
    summary,
    watermark,
)

OPTS = DEFAULTS.replace(enable=True)


class NoiseInpainter:
    """What a model with random weights paints: blotchy coloured noise under the (feathered) mask."""

    def inpaint(self, image, mask, prompt, negative, seed, params):
        noise = coloured_noise(image.shape, np.random.default_rng(seed))
        a = mask[..., None] / 255.0
        return np.clip(image * (1 - a) + noise * a, 0, 255).astype(np.uint8)


def fix(img, inpainter, **kw):
    o = OPTS.replace(**kw)
    out = run_fix_loop(img, o, diagnose=lambda im: diagnose(im, o), inpainter=inpainter)
    return out, outcome_infotext(out, o)


def test_issue_small_face_painted_with_noise_is_not_kept(astronaut):
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)  # a 53 px "small face"
    out, info = fix(small, NoiseInpainter())
    assert not out.changed and np.array_equal(out.image, small)
    assert info[REJECTED] == "face lost" and info[RESULT] == "unchanged (results rejected)"
    assert "QFix fixed" not in info and len(out.rounds) == 2  # round 2 retried from the original


def test_issue_watermark_band_painted_with_noise_is_not_kept(coffee):
    marked = watermark(coffee, "SAMPLE WATERMARK", (150, 180), 40, 0.45)
    out, info = fix(marked, NoiseInpainter(), rounds=1)
    assert not out.changed
    assert info[REJECTED] == "watermark band noisier than its surroundings"


@pytest.fixture(scope="module")
def eye_case():
    """The astronaut with an enlarged eye, its diagnosis and the one face pass the planner makes."""
    case = next(c for c in build_cases() if c.name == "astronaut-face")
    groups = plan_round(diagnose(case.bad, OPTS), OPTS)
    assert [g.kind for g in groups] == ["face"]
    return case, groups


@pytest.mark.parametrize("outcome, reason", [("restore", ""), ("near", ""), ("noise", "face lost"),
                                             ("blur", "face blurred"), ("shift", "face shifted 5 px"),
                                             ("other", "seam around the face")])
def test_checker_names_each_planted_outcome(eye_case, outcome, reason):
    case, groups = eye_case
    inp = PlantedInpainter(case, outcome, groups[0].regions[0].box)
    after = inp.inpaint(case.bad, groups[0].mask, "", "", 3, None)
    (check,) = FidelityChecker(OPTS)(case.bad, after, groups)
    assert check.reason == reason and check.failed == bool(reason)
    assert (check.score == 0.0) == bool(reason) and check.measures["presence_before"] == 1.0


def test_perfect_restore_is_kept_through_the_loop(eye_case):
    case, groups = eye_case
    inp = PlantedInpainter(case, "restore", groups[0].regions[0].box)
    out, info = fix(case.bad, inp, rounds=1)
    assert out.changed and info[RESULT] == "kept" and REJECTED not in info
    assert np.array_equal(out.image, case.clean) or np.abs(out.image.astype(int) - case.clean).max() <= 1


class CountingDetectors:
    def __init__(self):
        self.calls = []

    def __call__(self, kind):
        self.calls.append(kind)
        return create_detector(kind)


def test_unchanged_region_costs_no_detector_run(eye_case):
    case, groups = eye_case
    counting = CountingDetectors()
    (check,) = FidelityChecker(OPTS, detector_for=counting)(case.bad, case.bad.copy(), groups)
    assert counting.calls == [] and check.score == 1.0 and check.measures == {"changed": 0.0}


def test_subject_the_detector_cannot_see_is_not_judged_by_presence():
    # a flat grey "face": nothing to find before, so presence cannot reject; a flat repaint passes
    img = np.full((160, 160, 3), 120, np.uint8)
    mask = np.zeros((160, 160), np.uint8)
    cv2.circle(mask, (80, 80), 30, 255, -1)
    mask = cv2.GaussianBlur(mask, (9, 9), 2)
    after = img.copy()
    after[mask > 0] = 122
    check = FidelityChecker(OPTS).check(img, after, mask, Region("face", (50, 50, 110, 110), 0.9))
    assert check.measures["presence_before"] == 0.0 and not check.failed


def test_a_face_seen_only_in_the_whole_image_is_judged_there():
    # the real-host case: a small "face" the detector finds in the whole image but not on the crop;
    # repainted away, it is "face lost", never an unjudged "fixed"
    face = (60, 60, 76, 76)

    class WholeImageOnly:
        name = "face"

        def detect(self, image, options, prompt=""):
            seen = image.shape[:2] == (160, 160) and int(image[68, 68, 0]) >= 200
            return [Region("face", face, 0.55)] if seen else []

    img = np.full((160, 160, 3), 120, np.uint8)
    img[60:76, 60:76] = 200
    mask = np.zeros((160, 160), np.uint8)
    cv2.circle(mask, (68, 68), 14, 255, -1)
    gone = img.copy()
    gone[mask > 0] = 120
    checker = FidelityChecker(OPTS, detector_for=lambda kind: WholeImageOnly())
    lost = checker.check(img, gone, mask, Region("face", face, 0.55))
    assert lost.failed and lost.reason == "face lost" and lost.measures["presence_before"] == 1.0
    kept = checker.check(img, np.where(mask[..., None] > 0, np.clip(img.astype(int) + 10, 0, 255), img).astype(np.uint8),
                         mask, Region("face", face, 0.55))
    assert kept.measures["presence_after"] == 1.0


def test_local_stats_measure_what_they_say(astronaut):
    g = luminance(astronaut)
    everywhere = np.ones(g.shape, bool)
    rng = np.random.default_rng(0)
    flat = np.full((128, 128), 100, np.float32)
    assert ls.noise_sigma(flat + rng.normal(0, 10, flat.shape).astype(np.float32), np.ones(flat.shape, bool)) \
        == pytest.approx(10, rel=0.15)
    assert ls.sharpness(cv2.GaussianBlur(g, (0, 0), 3), everywhere) < 0.3 * ls.sharpness(g, everywhere)
    mask = np.zeros(g.shape, np.uint8)
    cv2.rectangle(mask, (300, 300), (420, 420), 255, -1)
    mask = cv2.GaussianBlur(mask, (9, 9), 2)
    shifted = np.roll(astronaut, (4, 3), axis=(0, 1))
    pasted = np.where(mask[..., None] >= 128, shifted, astronaut)
    assert ls.misalignment(astronaut, pasted, mask, 4)[0] == (3, 4)
    assert ls.misalignment(astronaut, astronaut, mask, 4)[1:] == (0.0, 0.0)
    rg = ls.rings(mask, 4)
    pts = ls.border_points(rg)
    assert pts.any() and np.allclose(ls.border_steps(astronaut, rg, pts), ls.border_steps(astronaut.copy(), rg, pts))
    noisy = np.where(mask[..., None] >= 128, rng.integers(0, 256, astronaut.shape), astronaut).astype(np.uint8)
    blurred = np.where(mask[..., None] >= 128, cv2.GaussianBlur(astronaut, (0, 0), 4), astronaut)
    assert ls.band_noise(noisy, mask, 4) > 1.0 > ls.band_noise(astronaut, mask, 4) > ls.band_noise(blurred, mask, 4)


def test_eye_plant_is_what_the_face_detector_reports(astronaut):
    face = next(r for r in diagnose(astronaut, OPTS).regions if r.kind == "face")
    planted = next(r for r in diagnose(enlarge_eye(astronaut, face), OPTS).regions if r.kind == "face")
    assert "asymmetric_eyes" in planted.defects and not face.is_defect


@pytest.mark.slow
def test_keep_best_benchmark_keeps_good_and_rejects_bad():
    rows = evaluate(rounds=1, only="watermark")
    assert rows and all(r.right for r in rows), [r for r in rows if not r.right]
    assert summary(rows) == f"keep_best: kept_good=2/2 kept_bad=0/8 cases={len(rows)} near_passed=2/2"
