"""Face detector on real photos (public domain, bundled in packages) and edited copies of them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lib_qfix.detect.face_checks import LEFT_EYE
from lib_qfix.detect.faces import FaceDetector, face_mesh
from lib_qfix.detect.nms import iou
from lib_qfix.options import DEFAULTS
from testkit.fixtures_detect import FACE_LABELS, magnify_eye
from tests.concurrency import detect_in_threads


@pytest.fixture(scope="module")
def det() -> FaceDetector:
    return FaceDetector()


def test_astronaut_face_found_with_mesh_hull(det, astronaut):
    regions = det.detect(astronaut, DEFAULTS)
    assert len(regions) == 1
    r = regions[0]
    assert r.kind == "face" and r.detector == "face" and r.verdict == "ok", r.reasons
    assert iou(r.box, FACE_LABELS["astronaut"]) > 0.6
    assert r.confidence > 0.8
    assert len(r.landmarks) == 478
    hull = np.array(r.polygon)
    # the mesh hull covers forehead to chin: taller than the detector's box, centred on it
    assert hull[:, 1].min() < r.box[1] + 5 and hull[:, 1].max() > r.box[3] - 15
    assert r.box[0] - 20 < hull[:, 0].mean() < r.box[2] + 20


def test_face_mask_option_changes_the_outline(det, astronaut):
    box_only = det.detect(astronaut, DEFAULTS.replace(face_mask="box"))[0]
    eyes = det.detect(astronaut, DEFAULTS.replace(face_mask="eyes"))[0]
    hull = det.detect(astronaut, DEFAULTS)[0]
    assert box_only.polygon is None
    area = lambda poly: cv2.contourArea(np.array(poly, np.float32))  # noqa: E731
    assert 0 < area(eyes.polygon) < 0.35 * area(hull.polygon)


def test_blurred_face_is_a_defect(det, astronaut):
    x0, y0, x1, y1 = FACE_LABELS["astronaut"]
    img = astronaut.copy()
    img[y0:y1, x0:x1] = cv2.GaussianBlur(img[y0:y1, x0:x1], (0, 0), 3)
    r = det.detect(img, DEFAULTS)[0]
    assert "blurry_face" in r.defects and r.verdict == "defect"
    assert any(x.startswith("blurry face") for x in r.reasons)
    # the untouched photo is not blurry
    assert "blurry_face" not in det.detect(astronaut, DEFAULTS)[0].defects


def test_enlarged_eye_reads_as_asymmetric(det, astronaut):
    mesh = face_mesh(astronaut, FACE_LABELS["astronaut"])
    img = magnify_eye(astronaut, tuple((mesh[LEFT_EYE[0], :2] + mesh[LEFT_EYE[1], :2]) / 2))
    face = det.detect(img, DEFAULTS)[0]
    assert "asymmetric_eyes" in face.defects, face.reasons
    assert "asymmetric_eyes" not in det.detect(astronaut, DEFAULTS)[0].defects


def test_small_face_is_flagged_for_higher_resolution_inpaint(det, astronaut):
    small = cv2.resize(astronaut, (200, 200), interpolation=cv2.INTER_AREA)
    r = det.detect(small, DEFAULTS)
    assert len(r) == 1 and "small_face" in r[0].defects
    assert any("higher resolution" in x for x in r[0].reasons)


def test_face_cut_by_the_frame(det, astronaut):
    cut = np.ascontiguousarray(astronaut[:, 215:])  # the left half of the face is outside
    found = det.detect(cut, DEFAULTS)
    assert found and "cropped_face" in found[0].defects
    assert any("cut by the frame (left" in x for x in found[0].reasons)
    off = det.detect(cut, DEFAULTS.replace(detect_cropping=False))
    assert off and "cropped_face" not in off[0].defects


def test_no_face_in_coffee_and_options_filter(det, coffee, astronaut):
    assert det.detect(coffee, DEFAULTS) == []
    assert det.detect(astronaut, DEFAULTS.replace(face_confidence=0.99)) == []
    assert det.detect(astronaut, DEFAULTS.replace(face_max_area=0.01)) == []
    assert det.detect(astronaut, DEFAULTS.replace(face_min_area=0.5)) == []


def test_grace_hopper_face(det, grace_hopper):
    r = det.detect(grace_hopper, DEFAULTS)
    assert len(r) == 1 and iou(r[0].box, FACE_LABELS["grace_hopper"]) > 0.5


@pytest.mark.parametrize("bad", [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 3), np.float32),
                                 np.zeros((64, 64, 4), np.uint8), "astronaut.png"])
def test_bad_image_names_the_field(det, bad):
    with pytest.raises(ValueError, match=r"^image: .*allowed"):
        det.detect(bad, DEFAULTS)


def test_two_threads_share_one_detector(det, astronaut, grace_hopper):
    images = (astronaut, grace_hopper)
    expected = [det.detect(img, DEFAULTS) for img in images]
    results, errors = detect_in_threads(det, DEFAULTS, images, repeats=4)
    assert not errors
    assert len(results) == 8
    for i, regions in results:
        assert [(r.box, r.defects) for r in regions] == [(r.box, r.defects) for r in expected[i]]


def test_turned_head_is_not_judged_for_eye_symmetry(det, photos):
    from lib_qfix.detect.face_checks import MAX_YAW, head_yaw

    camera = photos["camera"]  # a photographer in profile, one eye behind the camera
    found = det.detect(camera, DEFAULTS)
    assert len(found) == 1 and "asymmetric_eyes" not in found[0].defects
    assert head_yaw(face_mesh(camera, found[0].box)) > MAX_YAW


def test_a_small_face_is_kept_only_when_a_mesh_confirms_it(det, coffee, astronaut, monkeypatch):
    """Faces under 48 px get no mesh for verdicts, but one must confirm them: MediaPipe's detector
    scores circuit-board details and the backs of heads 0.74-0.76 as ~20 px faces."""
    import lib_qfix.detect.faces as faces_module
    from lib_qfix.detect.face_boxes import RawFace

    canvas = cv2.resize(coffee, (512, 512))
    small = cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA)  # face ~28 px
    canvas[300:428, 40:168] = small
    x0, y0, x1, y1 = FACE_LABELS["astronaut"]
    real = (40 + x0 / 4, 300 + y0 / 4, 40 + x1 / 4, 300 + y1 / 4)
    fake = (380.0, 100.0, 410.0, 130.0)  # a patch of the coffee table, scored as a sure face
    kps = ((0.0, 0.0),) * 6
    monkeypatch.setattr(faces_module, "detect_face_boxes",
                        lambda image, conf: (RawFace(real, 0.8, kps, "full"), RawFace(fake, 0.95, kps, "full")))
    found = det.detect(canvas, DEFAULTS)
    assert [iou(r.box, real) > 0.8 for r in found] == [True], [r.box for r in found]
    assert "small_face" in found[0].defects and found[0].polygon is None  # still a box mask, no eye verdicts
    # past MAX_CONFIRM_FACES, the confidence rule decides instead (no mesh call)
    monkeypatch.setattr(faces_module, "MAX_CONFIRM_FACES", 0)
    assert len(det.detect(canvas, DEFAULTS)) == 2
