"""Scene detectors: logos, composition (clutter and framing, from subject segmentation), lighting,
and style from CLIP signals; on the labelled fixtures of testkit/fixtures_scene.py (hand-labelled
bundled photos plus synthetic perturbations). Recall floors are the measured values minus a margin."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix import diagnose, registry
from lib_qfix.detect import mediapipe_runtime as rt
from lib_qfix.detect import segmentation
from lib_qfix.detect.composition import CompositionDetector, clutter_score, framing_problems
from lib_qfix.detect.lighting import LightingDetector, light_sides
from lib_qfix.detect.logo import LogoDetector
from lib_qfix.detect.nms import iou
from lib_qfix.detect.style import style_regions
from lib_qfix.options import DEFAULTS
from lib_qfix.types import DEFECT, OK, ImageReport, Region, ScoreResult
from testkit.fixtures_detect import clean_cases, watermark_cases
from testkit.fixtures_scene import (
    clutter_cases,
    framing_cases,
    labels,
    lighting_cases,
    logo_cases,
    paste_logo,
    real_cases,
)

SCENE = ("logo", "composition", "lighting")


def test_registered_and_off_by_default():
    table = {d.name: d for d in registry.DETECTORS}
    for name in SCENE:
        assert name in table and not getattr(DEFAULTS, table[name].switch)
    assert diagnose.enabled_detectors(DEFAULTS) == ["face", "hand", "text"] or \
        not set(SCENE) & set(diagnose.enabled_detectors(DEFAULTS))
    assert all(isinstance(registry.create_detector(n), object) for n in SCENE)


def test_labels_file_covers_the_bundled_photos():
    lab = labels()
    assert {"astronaut", "grace_hopper", "camera", "coffee", "chelsea", "rocket", "stereo_motorcycle"} <= set(lab)
    for name, entry in lab.items():
        assert {"cluttered", "bad_framing", "inconsistent_lighting", "logo", "text", "note"} <= set(entry), name


# --- logos ---------------------------------------------------------------------------------------

def test_logos_found_in_corners():
    det = LogoDetector()
    cases = logo_cases()
    hits = 0
    for c in cases:
        regions = det.detect(c.image, DEFAULTS)
        hits += any(iou(r.box, c.truth["logo"][0]) >= 0.3 for r in regions)
        for r in regions:
            assert r.kind == "watermark" and r.defects == ("logo",) and r.detector == "logo" and r.reasons
    assert hits / len(cases) >= 0.38  # measured 0.43 (flat marks; shaded logos are missed)


def test_no_logos_on_clean_photos_and_real_ones():
    det = LogoDetector()
    for c in clean_cases() + real_cases():
        assert det.detect(c.image, DEFAULTS) == [], c.name


def test_watermarks_are_not_logos():
    det = LogoDetector()
    found = sum(len(det.detect(c.image, DEFAULTS)) for c in watermark_cases())
    assert found <= 2  # measured 1 of 75 ("SAMPLE" at the top: a short wordmark)


def test_logo_the_prompt_asks_for_is_ok():
    img, box = paste_logo(np.full((400, 400, 3), 150, np.uint8), 1, 56, 0, 12)
    det = LogoDetector()
    found = det.detect(img, DEFAULTS, "a cafe with its logo on the wall")
    assert found and found[0].verdict == OK and "asks for a logo" in found[0].reasons[-1]
    assert det.detect(img, DEFAULTS.replace(ignore_text_in_prompt=False), "with its logo")[0].verdict == DEFECT


# --- composition ---------------------------------------------------------------------------------

def _kinds(regions):
    return {r.kind for r in regions}


def test_clutter_on_busy_backgrounds_only():
    det = CompositionDetector()
    for c in clutter_cases():
        regions = det.detect(c.image, DEFAULTS)
        assert ("clutter" in _kinds(regions)) == (c.label == "cluttered"), (c.name, [r.reasons for r in regions])
        for r in regions:
            if r.kind == "clutter":
                assert r.box is None and r.defects == ("cluttered_background",) and "clutter" in r.reasons[0]


def test_framing():
    det = CompositionDetector()
    cases = framing_cases()
    bad = [c for c in cases if c.label == "bad_framing"]
    good = [c for c in cases if c.label == "clean"]
    found = sum("framing" in _kinds(det.detect(c.image, DEFAULTS)) for c in bad)
    assert found >= 5  # measured 6 of 9 (the camera man's mask is too soft for his strip and tiny cases)
    for c in good:
        assert "framing" not in _kinds(det.detect(c.image, DEFAULTS)), c.name


def test_real_photos_match_their_labels():
    det = CompositionDetector()
    for c in real_cases():
        kinds = _kinds(det.detect(c.image, DEFAULTS))
        if c.meta["cluttered"] is False:
            assert "clutter" not in kinds, c.name
        if c.meta["bad_framing"] is False:
            assert "framing" not in kinds, c.name


def test_framing_rules_on_masks():
    fg = np.zeros((100, 200), bool)
    fg[:, 60:140] = True  # a subject running from top to bottom
    assert any("top and the bottom" in p for p in framing_problems(fg, []))
    fg = np.zeros((100, 100), bool)
    fg[40:60, 40:60] = True
    assert framing_problems(fg, []) == []
    assert any("head room" in p for p in framing_problems(fg, [(42.0, 1.0, 58.0, 20.0)]))
    tiny = np.zeros((100, 100), bool)
    tiny[90:95, 90:95] = True
    assert any("fills only" in p for p in framing_problems(tiny, [(90.0, 90.0, 95.0, 93.0)]))


def test_clutter_threshold_option(astronaut):
    det = CompositionDetector()
    busy = next(c for c in clutter_cases() if c.name == "clutter-astronaut-garage")
    assert "clutter" in _kinds(det.detect(busy.image, DEFAULTS))
    assert "clutter" not in _kinds(det.detect(busy.image, DEFAULTS.replace(clutter_threshold=1.0)))
    flat = np.zeros((64, 64, 3), np.uint8)
    assert clutter_score(flat, np.ones((64, 64), bool))[0] == 0.0  # no background at all


def test_no_subject_no_finding(coffee):
    assert CompositionDetector().detect(np.full((128, 128, 3), 90, np.uint8), DEFAULTS) == []


@pytest.fixture
def tasks_models(tmp_path):
    from tests import mediapipe_bundles

    if mediapipe_bundles.wheel_modules() is None:
        pytest.skip("needs a mediapipe wheel with the legacy models")
    files = mediapipe_bundles.install(tmp_path)
    yield files
    mediapipe_bundles.uninstall()
    rt.set_backend(None)
    segmentation.clear()


def test_segmentation_backends_agree(tasks_models, astronaut):
    """The Tasks ImageSegmenter on the pinned file gives the legacy solution's mask."""
    from lib_qfix.detect import mp_models

    assert mp_models.ensure_model(mp_models.MODELS["selfie_segmentation.tflite"],
                                  tasks_models["selfie_segmentation.tflite"].parent, download=False)
    masks = []
    for name in ("legacy", "tasks"):
        rt.set_backend(name)
        segmentation.clear()
        masks.append(segmentation.subject(astronaut).mask)
    assert masks[0].shape == masks[1].shape == astronaut.shape[:2]
    assert float(np.abs(masks[0] - masks[1]).mean()) < 0.01


# --- lighting ------------------------------------------------------------------------------------

def test_lighting_fixtures():
    det = LightingDetector()
    cases = lighting_cases()
    flipped = [c for c in cases if c.label == "inconsistent"]
    found = sum(bool(det.detect(c.image, DEFAULTS)) for c in flipped)
    assert found >= 7  # measured 8 of 10 (the mild 0.45 shadings on the astronaut are missed)
    for c in cases:
        if c.label == "clean":
            assert det.detect(c.image, DEFAULTS) == [], c.name
    for c in real_cases():
        assert det.detect(c.image, DEFAULTS) == [], c.name


def test_lighting_region_and_rules(grace_hopper):
    det = LightingDetector()
    case = next(c for c in lighting_cases() if c.name == "light-flip-grace_hopper-0-0.65")
    r = det.detect(case.image, DEFAULTS)[0]
    assert r.kind == "shading" and r.box is None and r.defects == ("inconsistent_lighting",)
    assert "lit from the right" in r.reasons[0] and "scene from the left" in r.reasons[0]
    assert det.detect(case.image, DEFAULTS.replace(lighting_min_shading=1.0)) == []
    pulls, scene = light_sides(np.full((64, 64, 3), 128, np.uint8), [(10.0, 10.0, 40.0, 40.0)])
    assert pulls == [0.0] and scene == 0.0  # flat light: nothing to say


# --- style ---------------------------------------------------------------------------------------

def test_style_from_clip_pairs():
    old_prompt = "a vintage 1920s street photo"
    regions = style_regions({"clip:new_old": 0.9}, old_prompt)
    assert [r.defects for r in regions] == [("wrong_era",)]
    assert "'vintage'" in regions[0].reasons[0] and "CLIP weights" in regions[0].reasons[1]
    assert style_regions({"clip:new_old": 0.5}, old_prompt) == []  # not clear either way
    assert style_regions({"clip:new_old": 0.1}, "a futuristic city")[0].defects == ("wrong_era",)
    assert style_regions({}, old_prompt) == []  # no CLIP: nothing judged
    generic = style_regions({"clip:natural_synthetic": 0.2}, "a photo of a woman")
    assert generic[0].defects == ("generic_style",) and generic[0].kind == "style"
    assert style_regions({"clip:natural_synthetic": 0.2}, "an oil painting") == []
    judged = Region("style", None, 0.8, DEFECT, ("the judge says so",), ("wrong_era",), "judge")
    assert style_regions({"clip:new_old": 0.9}, old_prompt, [judged]) == []  # not repeated


def test_style_in_the_report():
    score = ScoreResult(0.8, "clip-iqa", {"clip:new_old": 0.95})
    img = np.zeros((32, 32, 3), np.uint8)
    off = DEFAULTS.replace(detect_faces=False, detect_hands=False, detect_text=False)
    rep: ImageReport = diagnose.build_report(img, score, off, prompt="a victorian parlour")
    assert [r.defects for r in rep.regions] == [("wrong_era",)] and "anachronism" in rep.negative
    rep = diagnose.build_report(img, score, off.replace(judge_style=False), prompt="a victorian parlour")
    assert rep.regions == ()
