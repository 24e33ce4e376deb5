"""Body guide from a real MediaPipe pose (the astronaut): OpenPose's 18 keypoints, limbs in
OpenPose's palette dimmed to 60 %, full-colour keypoint dots, unseen points left out."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.detect.mediapipe_runtime import solution
from lib_qfix.guides import body_guide, body_keypoints
from lib_qfix.guides.body import BODY_RGB, LIMB_DIM, LIMBS


@pytest.fixture(scope="module")
def pose(astronaut):
    found = solution("pose").run(astronaut)
    assert len(found) == 1
    h, w = astronaut.shape[:2]
    return found[0].points[:, :2] * (w, h), found[0].visibility, (w, h)


def test_keypoints_follow_openpose_order(pose):
    pts, vis, _ = pose
    k = body_keypoints(pts, vis)
    assert k.shape == (18, 2)
    np.testing.assert_allclose(k[1], (pts[11] + pts[12]) / 2)  # the neck between the shoulders
    np.testing.assert_allclose(k[0], pts[0])
    assert k[2, 0] < k[1, 0] < k[5, 0]  # the subject's right shoulder on the image's left
    assert k[14, 0] < k[0, 0] < k[15, 0] and k[16, 0] < k[17, 0]  # eyes and ears too
    assert k[0, 1] < k[1, 1]  # nose above the neck
    assert np.isnan(k[10]).all() and np.isnan(k[13]).all()  # the ankles are out of the picture


def test_guide_draws_limbs_dimmed_and_dots_bright(pose):
    pts, vis, size = pose
    guide = body_guide(pts, size, vis)
    assert guide.shape == (size[1], size[0], 3)
    k = body_keypoints(pts, vis)
    seen = np.all(np.isfinite(k), axis=1)
    dimmed = {tuple(int(c * LIMB_DIM) for c in rgb) for rgb in BODY_RGB}
    drawn = 0
    for i, (a, b) in enumerate(LIMBS):
        if not (seen[a] and seen[b]) or np.linalg.norm(k[b] - k[a]) < 20:
            continue
        for t in (0.4, 0.5, 0.6):  # away from the joints' dots
            x, y = np.round(k[a] + t * (k[b] - k[a])).astype(int)
            assert tuple(guide[y, x]) in dimmed, (i, t, guide[y, x])
        drawn += 1
    assert drawn >= 6  # shoulders, head, the arm MediaPipe sees
    for j in np.flatnonzero(seen):
        x, y = np.round(k[j]).astype(int)
        assert tuple(guide[y, x]) in set(BODY_RGB)


def test_nothing_seen_gives_none(pose):
    pts, _, size = pose
    assert body_guide(pts, size, np.zeros(33)) is None
    with pytest.raises(ValueError, match="pose landmarks"):
        body_guide(np.zeros((21, 2)), size)
    with pytest.raises(ValueError, match="pose visibility"):
        body_keypoints(pts, np.ones(5))
