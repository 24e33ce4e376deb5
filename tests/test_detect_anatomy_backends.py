"""MediaPipe pose on both backends, offline. The Tasks model file is assembled from the legacy wheel's
own pose models; they lack the input-normalisation metadata the Tasks graph reads (the legacy graph
hard-codes it), so it is added with MediaPipe's own metadata writer: detector input -1..1 (mean
127.5, std 127.5), landmark model input 0..1 (mean 0, std 255), as the legacy graphs convert. Both
backends then run the same weights; measured on mediapipe 0.10.9: world landmarks identical, image
landmarks median 0 px apart, at most 23 px on points MediaPipe places outside the image."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from lib_qfix.detect import mediapipe_runtime as rt
from lib_qfix.detect import mp_models, mp_pose
from lib_qfix.samples import all_photos
from tests import mediapipe_bundles

pytestmark = pytest.mark.skipif(mediapipe_bundles.wheel_modules() is None,
                                reason="needs a mediapipe wheel with the legacy models (0.10.9-0.10.21)")


def _with_normalization(path: Path, mean: float, std: float) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    model = bytearray(path.read_bytes())
    writer = metadata_writer.MetadataWriter.create(model)
    writer.add_general_info("pose", "legacy wheel model with input normalization metadata")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for i in range(len(writer_utils.get_output_tensor_names(model))):
        writer.add_feature_output(name=f"output{i}")
    return bytes(writer.populate()[0])


@pytest.fixture(scope="module")
def pose_task(tmp_path_factory):
    modules = mediapipe_bundles.wheel_modules()
    target = tmp_path_factory.mktemp("mediapipe") / mp_pose.POSE_LANDMARKER
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
        z.writestr("pose_detector.tflite",
                   _with_normalization(modules / "pose_detection" / "pose_detection.tflite", 127.5, 127.5))
        z.writestr("pose_landmarks_detector.tflite",
                   _with_normalization(modules / "pose_landmark" / "pose_landmark_full.tflite", 0.0, 255.0))
    mp_models.use_model_file(mp_pose.POSE_LANDMARKER, target)
    yield target
    mp_models.use_model_file(mp_pose.POSE_LANDMARKER, None)


@pytest.fixture(autouse=True)
def _back_to_auto():
    yield
    rt.set_backend(None)


def test_the_model_file_is_pinned():
    spec = mp_models.MODELS[mp_pose.POSE_LANDMARKER]
    assert spec.size == 9_398_198 and len(spec.sha256) == 64 and spec.url.endswith("/float16/1/" + spec.name)


def test_legacy_and_tasks_agree_on_the_bundled_people(pose_task):
    photos = all_photos()
    for name in ("astronaut", "camera", "grace_hopper"):
        img = photos[name]
        h, w = img.shape[:2]
        found = {}
        for backend in ("legacy", "tasks"):
            rt.set_backend(backend)
            found[backend] = rt.solution("pose", max_num_poses=1, min_detection_confidence=0.5).run(img)
        (a,), (b,) = found["legacy"], found["tasks"]
        assert a.points.shape == b.points.shape == (33, 3) and a.world.shape == (33, 3)
        inside = (a.points[:, 0] >= 0) & (a.points[:, 0] <= 1) & (a.points[:, 1] >= 0) & (a.points[:, 1] <= 1)
        gap = np.abs(a.points[inside, :2] - b.points[inside, :2]) * (w, h)
        assert np.median(gap) < 1.0 and np.abs(a.visibility - b.visibility).max() < 0.05, name
        assert np.abs(a.world - b.world).max() < 0.01, name
    rt.set_backend("tasks")
    assert rt.solution("pose", min_detection_confidence=0.5).run(photos["coffee"]) == []


def test_unknown_kinds_are_refused():
    rt.set_backend("legacy")
    with pytest.raises(ValueError, match="unknown MediaPipe solution 'no_such_kind'.*pose"):
        rt.solution("no_such_kind", min_detection_confidence=0.5).run(np.zeros((16, 16, 3), np.uint8))
