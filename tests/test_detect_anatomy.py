"""The anatomy detector: pose rules (twisted joints), hands vs arms (extra, detached, missing limbs),
the detector on the bundled photos and on planted mannequin figures, and its place in the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.detect.anatomy import AnatomyDetector, person_crops
from lib_qfix.detect.body_hands import Body, judge_limbs
from lib_qfix.detect.mediapipe_runtime import solution
from lib_qfix.detect.pose_rules import check_pose
from lib_qfix.diagnose import enabled_detectors
from lib_qfix.fix.plan import plan_round
from lib_qfix.options import DEFAULTS
from lib_qfix.prompts.catalogue import CATALOGUE, KIND_DEFAULT_DEFECT
from lib_qfix.registry import create_detector
from lib_qfix.samples import all_photos
from lib_qfix.types import DEFECT, LOCAL_KINDS, ImageReport, Region
from testkit.fixtures_body import POSE_PERTURBATIONS, anatomy_cases, canonical_pose
from testkit.fixtures_parts import labels

ON = DEFAULTS.replace(detect_anatomy=True)


@pytest.fixture(scope="module")
def photos():
    return {n: img for n, img in all_photos().items() if n in labels()}


@pytest.fixture(scope="module")
def cases():
    return {c.name: c for c in anatomy_cases()}


# ---------------------------------------------------------------- pose rules


def test_canonical_body_is_plausible():
    p, v, w = canonical_pose()
    verdict = check_pose(p, v, w)
    assert verdict.plausible and verdict.measures["torso twist"] < 1


@pytest.mark.parametrize("perturb", list(POSE_PERTURBATIONS), ids=lambda f: f.__name__)
def test_each_perturbation_is_a_named_twisted_joint(perturb):
    p, v, w = canonical_pose()
    verdict = check_pose(*perturb((p.copy(), v.copy(), w.copy())))
    assert not verdict.plausible
    assert any(POSE_PERTURBATIONS[perturb] in r for r in verdict.reasons), verdict.reasons
    assert verdict.joints


def test_hidden_joints_are_not_judged():
    p, v, w = canonical_pose()
    p, v, w = list(POSE_PERTURBATIONS)[0]((p, v, w))  # knee bent backwards
    v[25:33] = 0.5  # the legs only guessed
    assert check_pose(p, v, w).plausible
    assert check_pose(p, v, None).plausible  # no 3-D estimate: nothing to judge


def test_real_poses_are_plausible(photos):
    pose = solution("pose", min_detection_confidence=0.5)
    seen = 0
    for name in ("astronaut", "camera", "grace_hopper"):
        for img in (photos[name], np.ascontiguousarray(photos[name][:, ::-1])):
            h, w = img.shape[:2]
            for body in pose.run(img):
                seen += 1
                assert check_pose(body.points * (w, h, w), body.visibility, body.world).plausible, name
    assert seen == 6


def test_bad_landmarks_are_one_line_errors():
    with pytest.raises(ValueError, match=r"allowed: \(33, 3\), \(33,\)"):
        check_pose(np.zeros((21, 3)), np.ones(21), None)


# ---------------------------------------------------------------- hands vs arms


def _hand_at(wrist) -> np.ndarray:
    """A 21-point hand whose wrist is at ``wrist`` and whose palm is 40 px long, fingers down."""
    pts = np.zeros((21, 3))
    pts[:, 0], pts[:, 1] = wrist[0], wrist[1] + np.linspace(0, 60, 21)
    pts[9, 1] = wrist[1] + 40
    return pts


def _body() -> Body:
    p, v, _ = canonical_pose()  # shoulders 108 px apart, wrists at (328, 306) and (184, 306)
    return Body(p, v)


def test_hands_at_the_wrists_are_fine():
    body = _body()
    hands = [_hand_at(body.points[15, :2]), _hand_at(body.points[16, :2])]
    assert judge_limbs([body], hands, [0.9, 0.9], [], 512, 512, 0.6) == []


def test_a_third_hand_is_an_extra_limb_and_a_lone_one_detached():
    body = _body()
    third = _hand_at((256, 330))
    found = judge_limbs([body], [_hand_at(body.points[15, :2]), _hand_at(body.points[16, :2]), third],
                        [0.9, 0.9, 0.8], [], 512, 512, 0.6)
    assert [f.defect for f in found] == ["extra_limb"] and found[0].hand == 2
    found = judge_limbs([body], [_hand_at(body.points[16, :2]), _hand_at((450, 320))], [0.9, 0.8], [], 512, 512, 0.6)
    assert [f.defect for f in found] == ["detached_hand"]
    # the same hand next to a face the pose pass missed may be that person's: left alone
    assert judge_limbs([body], [_hand_at(body.points[16, :2]), _hand_at((450, 320))], [0.9, 0.8],
                       [(400, 360, 440, 400)], 512, 512, 0.6) == []


def test_an_arm_the_pose_cannot_see_is_missing_when_the_other_is_clear():
    body = _body()
    vis = body.visibility.copy()
    vis[[13, 15]] = 0.2  # the left elbow and wrist are not there
    lost = Body(body.points, vis)
    found = judge_limbs([lost], [_hand_at(body.points[16, :2])], [0.9], [], 512, 512, 0.6)
    assert [f.defect for f in found] == ["missing_limb"] and "left arm" in found[0].reason
    # a hand near that shoulder (the arm may point at the camera): not judged missing
    assert judge_limbs([lost], [_hand_at(body.points[16, :2]), _hand_at(body.points[11, :2] + (10, 20))],
                       [0.9, 0.9], [], 512, 512, 0.6) == []


# ---------------------------------------------------------------- the detector


def test_no_anatomy_regions_on_the_bundled_photos(photos):
    det = AnatomyDetector()
    for name, img in photos.items():
        assert det.detect(img, ON) == [], name


def test_planted_limb_defects_are_found_where_they_are(cases):
    det = AnatomyDetector()
    for name, defect in (("extra-arms_out-camera-flat", "extra_limb"),
                         ("missing-hands_front-camera-flat", "missing_limb"),
                         ("detached-arms_out-astronaut-flat", "detached_hand")):
        c = cases[name]
        regions = det.detect(c.image, ON)
        hit = [r for r in regions if defect in r.defects]
        assert hit, (name, [(r.defects, r.reasons) for r in regions])
        r = hit[0]
        x0, y0, x1, y1 = c.boxes[0]
        assert r.kind == "body" and r.verdict == DEFECT and r.detector == "anatomy"
        assert r.box[0] < x1 and r.box[2] > x0 and r.box[1] < y1 and r.box[3] > y0
        assert r.polygon and len(r.landmarks) == 33 and 0 < r.confidence <= 1


def test_clean_figures_give_no_regions(cases):
    det = AnatomyDetector()
    for name in ("clean-arms_out-camera-flat", "clean-hands_front-camera-flat", "clean-arms_down-astronaut-flat"):
        assert det.detect(cases[name].image, ON) == [], name


def test_person_crops_fall_back_to_the_frame():
    assert person_crops([], 400, 300) == [(0, 0, 400, 300)]
    crops = person_crops([(100, 20, 120, 40), (300, 20, 330, 50)], 1000, 1000)
    assert len(crops) == 2 and crops[0][0] < 300 < crops[0][2]  # largest face first


# ---------------------------------------------------------------- pipeline


def test_off_by_default_and_switchable():
    assert not DEFAULTS.detect_anatomy and "anatomy" not in enabled_detectors(DEFAULTS)
    assert enabled_detectors(ON)[-1] == "anatomy"
    assert isinstance(create_detector("anatomy"), AnatomyDetector)


def test_body_regions_are_planned_with_the_body_prompt_and_anatomy_negatives():
    assert "body" in LOCAL_KINDS and CATALOGUE[KIND_DEFAULT_DEFECT["body"]].negatives
    region = Region("body", (100, 100, 200, 300), 0.8, DEFECT, ("a third hand",), ("extra_limb",), "anatomy",
                    ((100, 100), (200, 100), (200, 300), (100, 300)))
    report = ImageReport(None, 512, 512, 0.8, "offline", regions=(region,))
    groups = plan_round(report, DEFAULTS, "a dancer", "")
    assert [g.kind for g in groups] == ["body"]
    assert groups[0].prompt.startswith("a dancer, correct anatomy") and "two arms" in groups[0].prompt
    assert "extra limbs" in groups[0].negative and groups[0].mask[200, 150] > 0
