"""Large photos in ``qfix diagnose``: read at a bounded working size, reported in the original's
pixels; the region mapping itself; MediaPipe's unused modules deferred in the ``qfix`` process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from lib_qfix.cli import main
from lib_qfix.detect.nms import iou
from lib_qfix.types import DEFECT, ImageReport, Region
from lib_qfix.working import regions_at, report_at, scale_region
from testkit.fixtures_detect import FACE_LABELS

NO_TEXT = ["--set", "detect_text=false", "--set", "detect_hands=false", "--no-progress"]


def test_scale_region_maps_box_outline_and_landmarks():
    r = Region("face", (10, 20, 31, 41), 0.9, DEFECT, ("x",), ("bad_face",), "face",
               polygon=((10, 20), (31, 41)), landmarks=((10.0, 20.0, 0.5),))
    s = scale_region(r, 4.0, 2.0, 100, 60)
    assert s.box == (40, 40, 100, 60)  # ends clamped to the image
    assert s.polygon == ((40, 40), (124, 82)) and s.landmarks == ((40.0, 40.0, 0.5),)
    assert s.kind == r.kind and s.reasons == r.reasons and s.defects == r.defects
    glob = Region("blur", None, 0.7)
    assert scale_region(glob, 4.0, 2.0, 100, 60) is glob


def test_report_at_maps_regions_and_size_and_back():
    r = Region("face", (100, 50, 200, 150), 0.9)
    rep = ImageReport("a.jpg", 1000, 500, 0.8, "offline", {"megapixels": 0.5}, (r, Region("blur", None, 0.1)))
    full = report_at(rep, 4000, 2000)
    assert (full.width, full.height) == (4000, 2000) and full.regions[0].box == (400, 200, 800, 600)
    assert full.regions[1].box is None and full.signals["working_scale"] == 0.25
    assert regions_at(full, 1000, 500)[0].box == (100, 50, 200, 150)
    assert report_at(rep, 1000, 500) is rep


def test_diagnose_reads_a_large_jpeg_at_working_size_and_reports_original_pixels(tmp_path, astronaut):
    big = np.asarray(Image.fromarray(astronaut).resize((2048, 2048), Image.Resampling.BICUBIC))
    path = tmp_path / "big.jpg"
    Image.fromarray(big).save(path, quality=92)
    fx0, fy0, fx1, fy1 = (v * 4 for v in FACE_LABELS["astronaut"])
    boxes = {}
    for work in ("512", "0"):
        out = tmp_path / f"w{work}.json"
        assert main(["diagnose", str(path), "--json", str(out), "--work-size", work, *NO_TEXT]) == 0
        rep = json.loads(out.read_text())[0]
        assert (rep["width"], rep["height"]) == (2048, 2048)
        faces = [r["box"] for r in rep["regions"] if r["kind"] == "face"]
        assert faces and iou(faces[0], (fx0, fy0, fx1, fy1)) > 0.5, faces
        boxes[work] = faces[0]
    assert iou(boxes["512"], boxes["0"]) > 0.7
    # overlays are drawn on the working copy with the regions where they belong
    d = tmp_path / "ov"
    assert main(["diagnose", str(path), "--overlays", str(d), "--work-size", "512", *NO_TEXT]) == 0
    assert Image.open(d / "big.jpg.overlay.jpg").size == (512, 512)


def test_qfix_defers_mediapipe_drawing_but_it_still_works(tmp_path):
    code = ("import sys\n"
            "from lib_qfix.cli import deferred\n"
            "assert deferred.install()\n"
            "import mediapipe as mp\n"
            "assert 'matplotlib' not in sys.modules\n"
            "assert mp.solutions.drawing_utils.DrawingSpec(thickness=3).thickness == 3\n"
            "assert 'matplotlib' in sys.modules and mp.solutions.drawing_styles.get_default_hand_landmarks_style()\n"
            "assert mp.tasks.audio.AudioClassifier\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
