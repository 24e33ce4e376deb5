"""Tasks-API model files for offline tests, assembled from the ``.tflite`` files inside a legacy
mediapipe wheel (0.10.9-0.10.21 ship them under ``mediapipe/modules``).

- ``hand_landmarker.task``: a zip of ``hand_detector.tflite`` (= ``palm_detection_full.tflite``) and
  ``hand_landmarks_detector.tflite`` (= ``hand_landmark_full.tflite``): the names the Tasks hand
  graph reads, the models legacy ``Hands(model_complexity=1)`` runs;
- ``blaze_face_short_range.tflite``: the wheel's ``face_detection_short_range.tflite`` (same model,
  32 bytes of metadata differ from the published file, so it is used through an override);
- ``face_detection_full_range_sparse.tflite``: the wheel's file, byte-identical to the published one
  (its digest passes :mod:`lib_qfix.detect.mp_models`'s check);
- ``face_landmarker.task``: no wheel has it (Face Mesh V2 has no legacy form). Tests that need it
  take a verified copy from the folder ``$QFIX_TEST_MEDIAPIPE_MODELS`` and are skipped without one.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from lib_qfix.detect import mp_models

#: Tasks file -> {member name: path under mediapipe/modules}; a plain .tflite has one member "".
FROM_WHEEL: dict[str, dict[str, str]] = {
    "hand_landmarker.task": {"hand_detector.tflite": "palm_detection/palm_detection_full.tflite",
                             "hand_landmarks_detector.tflite": "hand_landmark/hand_landmark_full.tflite"},
    "blaze_face_short_range.tflite": {"": "face_detection/face_detection_short_range.tflite"},
    "face_detection_full_range_sparse.tflite": {"": "face_detection/face_detection_full_range_sparse.tflite"},
    # byte-identical to the published file (its digest passes)
    "selfie_segmentation.tflite": {"": "selfie_segmentation/selfie_segmentation.tflite"},
}


def wheel_modules() -> Path | None:
    """``mediapipe/modules`` of the installed mediapipe when it bundles the legacy models."""
    try:
        import mediapipe
    except ImportError:
        return None
    folder = Path(mediapipe.__file__).parent / "modules"
    return folder if (folder / "face_detection" / "face_detection_short_range.tflite").is_file() else None


def assemble(folder: Path) -> dict[str, Path]:
    """Write the wheel-derived files into ``folder``; name -> path (empty without a legacy wheel)."""
    modules = wheel_modules()
    if modules is None:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, members in FROM_WHEEL.items():
        target = folder / name
        if "" in members:
            shutil.copyfile(modules / members[""], target)
        else:
            with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
                for member, source in members.items():
                    z.write(modules / source, member)
        out[name] = target
    return out


def official(name: str) -> Path | None:
    """A digest-checked official copy of ``name`` from ``$QFIX_TEST_MEDIAPIPE_MODELS``, else None."""
    folder = os.environ.get("QFIX_TEST_MEDIAPIPE_MODELS")
    if not folder or not (Path(folder) / name).is_file():
        return None
    return mp_models.ensure_model(mp_models.MODELS[name], folder, download=False)


def install(folder: Path) -> dict[str, Path]:
    """Assemble the files and point :mod:`lib_qfix.detect.mp_models` at them (plus an official
    ``face_landmarker.task`` when one is available); name -> path. Undo with :func:`uninstall`."""
    files = assemble(folder)
    landmarker = official("face_landmarker.task")
    if landmarker is not None:
        files["face_landmarker.task"] = landmarker
    for name, path in files.items():
        mp_models.use_model_file(name, path)
    return files


def uninstall() -> None:
    for name in mp_models.MODELS:
        mp_models.use_model_file(name, None)
