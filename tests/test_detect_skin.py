"""Waxy skin and teeth from the face mesh, on the bundled real faces and their edited copies."""

from __future__ import annotations

import cv2
import pytest

from lib_qfix.detect.face_boxes import clear_memo, detect_face_boxes
from lib_qfix.detect.face_mouth import teeth_verdict
from lib_qfix.detect.face_skin import MIN_TEXTURE, skin_measures, waxy_verdict
from lib_qfix.detect.faces import FaceDetector, face_mesh
from lib_qfix.options import DEFAULTS
from testkit.distortions import gaussian_blur, jpeg
from testkit.fixtures_detect import photo
from testkit.fixtures_parts import fused_teeth, labels, missing_tooth, smooth_skin


def _mesh(img):
    clear_memo()
    face = max(detect_face_boxes(img, 0.5), key=lambda f: f.box[2] - f.box[0])
    mesh = face_mesh(img, face.box)
    assert mesh is not None
    return mesh


@pytest.fixture(scope="module")
def grace():
    img = photo("grace_hopper")
    return img, _mesh(img)


@pytest.fixture(scope="module")
def smile():
    img = photo("astronaut")
    scaled = cv2.resize(img, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    box = tuple(int(v * 1.5) for v in labels()["astronaut"]["teeth_box"])
    return scaled, box, _mesh(scaled)


# ---------------------------------------------------------------- skin


def test_real_skin_has_texture_and_is_not_waxy(grace):
    img, mesh = grace
    reason, measures = waxy_verdict(img, mesh)
    assert reason is None and measures["skin_texture"] > 1.5 * MIN_TEXTURE


def test_smoothed_skin_is_waxy_but_blur_and_jpeg_are_not(grace):
    img, mesh = grace
    reason, measures = waxy_verdict(smooth_skin(img, 2), mesh)
    assert reason and "waxy skin" in reason and measures["skin_texture"] < MIN_TEXTURE
    assert waxy_verdict(gaussian_blur(img, 3), mesh)[0] is None  # soft eyes: a blurry face instead
    assert waxy_verdict(jpeg(img, 3), mesh)[0] is None  # JPEG blocks: the jpeg verdict's


def test_small_faces_are_not_judged():
    img = photo("astronaut")  # 92 px cheek to cheek
    assert skin_measures(img, _mesh(img)) is None


# ---------------------------------------------------------------- teeth


def test_a_real_smile_is_fine_and_a_closed_mouth_not_judged(smile, grace):
    img, _, mesh = smile
    assert teeth_verdict(img, mesh)[:2] == (None, None)
    assert teeth_verdict(*grace) == (None, None, {})


def test_a_missing_tooth_and_fused_teeth(smile):
    img, box, mesh = smile
    reason, defect, measures = teeth_verdict(missing_tooth(img, box, 0.45), mesh)
    assert defect == "missing_teeth" and "gap in the teeth" in reason and measures["gap"] > 0.1
    reason, defect, _ = teeth_verdict(fused_teeth(img, box), mesh)
    assert defect == "fused_teeth" and "one band" in reason


def test_the_face_detector_reports_them_only_when_asked(smile, grace):
    img, box, _ = smile
    det = FaceDetector()
    on = DEFAULTS.replace(detect_teeth=True, detect_waxy_skin=True)
    clear_memo()
    (region,) = det.detect(missing_tooth(img, box, 0.45), on)
    assert "missing_teeth" in region.defects and region.is_defect
    clear_memo()
    assert "missing_teeth" not in det.detect(missing_tooth(img, box, 0.45), DEFAULTS)[0].defects
    clear_memo()
    (face,) = det.detect(smooth_skin(grace[0], 2), on)
    assert "waxy_skin" in face.defects
    clear_memo()
    assert det.detect(grace[0], on)[0].defects == det.detect(grace[0], DEFAULTS)[0].defects
