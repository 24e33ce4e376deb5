"""Face guides from real MediaPipe face meshes: OpenPose's 70 keypoints where the face has them,
white dots on black."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lib_qfix.detect.faces import FaceDetector
from lib_qfix.guides import face_guide, face_points
from lib_qfix.guides.draw import FACE_POINT_RGB, face_dot_radius
from lib_qfix.guides.face_keypoints import FACE_KEYPOINTS, face_keypoints, resample
from lib_qfix.options import DEFAULTS
from lib_qfix.types import Region


@pytest.fixture(scope="module")
def faces(astronaut, grace_hopper):
    out = []
    for image in (astronaut, grace_hopper):
        found = FaceDetector().detect(image, DEFAULTS)
        assert found and found[0].landmarks and len(found[0].landmarks) == 478
        out.append((image, found[0]))
    return out


def test_seventy_keypoints_sit_where_openpose_puts_them(faces):
    for _, region in faces:
        k = face_points(region)
        assert k.shape == (FACE_KEYPOINTS, 2)
        x0, y0, x1, y1 = region.box
        w, h = x1 - x0, y1 - y0
        u = (k[:, 0] - x0) / w  # positions in face-box units
        v = (k[:, 1] - y0) / h
        assert np.all((u > -0.2) & (u < 1.2) & (v > -0.2) & (v < 1.2))
        jaw, brows, nose, eyes, lips, pupils = v[:17], v[17:27], v[27:36], v[36:48], v[48:68], v[68:]
        assert v[8] == jaw.max() and v[8] > 0.85  # the chin is the jaw's lowest point, at the box bottom
        assert u[0] < 0.15 and u[16] > 0.85 and abs(v[0] - v[16]) < 0.15  # jaw ends at the ears
        assert brows.max() < eyes.min() + 0.05 and eyes.max() < v[30] < v[33] < lips.min()  # top to bottom
        assert np.all(np.diff(u[:17]) > -0.02) and np.all(np.diff(u[17:27]) > 0)  # jaw and brows run left to right
        assert u[36:42].max() < u[42:48].min()  # the subject's right eye on the image's left
        for pupil, eye in ((68, slice(36, 42)), (69, slice(42, 48))):
            ex, ey = k[eye, 0], k[eye, 1]
            assert ex.min() < k[pupil, 0] < ex.max() and ey.min() - 2 < k[pupil, 1] < ey.max() + 2
        assert u[48] < u[51] < u[54] and v[51] < v[62] <= v[66] + 0.01 and v[66] < v[57]  # lips: outer > inner, top to bottom
        assert np.all(pupils > 0) and np.all(nose > 0)


def test_guide_is_white_dots_at_the_keypoints(faces):
    for image, region in faces:
        h, w = image.shape[:2]
        guide = face_guide(region, (w, h))
        assert guide.shape == (h, w, 3) and guide.dtype == np.uint8
        k = face_points(region)
        lit = guide.any(axis=2)
        assert set(map(tuple, guide[lit])) == {FACE_POINT_RGB}  # white dots only
        for x, y in k:
            assert tuple(guide[int(round(y)), int(round(x))]) == FACE_POINT_RGB
        r = face_dot_radius(k, (w, h))
        assert 2 <= r <= 4  # ControlNet's 3 px dots, scaled with the face and the image
        ys, xs = np.nonzero(lit)
        d = np.min(np.hypot(xs[:, None] - k[None, :, 0], ys[:, None] - k[None, :, 1]), axis=1)
        assert d.max() <= r + 1  # nothing drawn away from a keypoint


def test_mesh_without_iris_uses_the_eye_centres(faces):
    _, region = faces[0]
    plain = replace(region, landmarks=region.landmarks[:468])
    k = face_points(plain)
    full = face_points(region)
    np.testing.assert_allclose(k[:68], full[:68])
    assert np.linalg.norm(k[68:] - full[68:], axis=1).max() < 0.1 * (region.box[2] - region.box[0])


def test_no_guide_without_a_mesh():
    assert face_guide(Region("face", (0, 0, 30, 30), 0.9), (64, 64)) is None  # small face: box only
    assert face_guide(Region("hand", (0, 0, 30, 30), 0.9, landmarks=((1.0, 2.0),) * 478), (64, 64)) is None
    assert face_guide(Region("face", (0, 0, 30, 30), 0.9, landmarks=((1.0, 2.0),) * 100), (64, 64)) is None
    with pytest.raises(ValueError, match="face mesh"):
        face_keypoints(np.zeros((100, 2)))


def test_resample_is_even_along_the_path():
    path = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    np.testing.assert_allclose(resample(path, 5), [[0, 0], [5, 0], [10, 0], [10, 5], [10, 10]])
    np.testing.assert_allclose(resample(np.zeros((3, 2)), 2), np.zeros((2, 2)))
