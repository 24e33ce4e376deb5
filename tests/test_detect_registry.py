"""Detectors through the registry and the diagnose pipeline: lookup, caching, regions, negative, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lib_qfix.detect.faces import FaceDetector
from lib_qfix.detect.hands import HandDetector
from lib_qfix.detect.nms import iou, merge_boxes, nms, to_int_box
from lib_qfix.detect.text import TextDetector
from lib_qfix.diagnose import run_detectors
from lib_qfix.options import DEFAULTS
from lib_qfix.registry import create_detector
from testkit.fixtures_detect import FACE_LABELS, watermark_cases


def test_registry_builds_each_detector_once():
    for name, cls in (("face", FaceDetector), ("hand", HandDetector), ("text", TextDetector)):
        d = create_detector(name)
        assert isinstance(d, cls) and d.name == name
        assert create_detector(name) is d


def test_import_is_cheap():
    import subprocess
    import sys

    code = ("import sys, lib_qfix.detect.faces, lib_qfix.detect.hands, lib_qfix.detect.text;"
            "print(sorted(m for m in ('mediapipe', 'rapidocr', 'onnxruntime', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def blurred_face_with_watermark() -> np.ndarray:
    case = next(c for c in watermark_cases() if c.name == "wm-0.4-22-0")  # astronaut, top-left
    img = case.image.copy()
    x0, y0, x1, y1 = FACE_LABELS["astronaut"]
    img[y0:y1, x0:x1] = cv2.GaussianBlur(img[y0:y1, x0:x1], (0, 0), 3)
    return img


def test_run_detectors_reports_faces_and_watermarks(blurred_face_with_watermark):
    regions, warnings = run_detectors(blurred_face_with_watermark, DEFAULTS)
    assert warnings == []
    kinds = {r.kind for r in regions}
    assert {"face", "watermark"} <= kinds
    face = next(r for r in regions if r.kind == "face")
    assert "blurry_face" in face.defects and iou(face.box, FACE_LABELS["astronaut"]) > 0.5


def test_diagnose_negative_reflects_findings(blurred_face_with_watermark):
    from lib_qfix.diagnose import diagnose

    report = diagnose(blurred_face_with_watermark, DEFAULTS)
    data = report.to_json()
    assert any(r["kind"] == "face" and "blurry_face" in r["defects"] for r in data["regions"])
    assert "blurry face" in report.negative
    # the corner text is judged a watermark or a signature depending on its contrast; either is negated
    assert "watermark" in report.negative or "signature" in report.negative


def test_a_failing_detector_is_a_warning_not_silence(monkeypatch, astronaut):
    def broken(self, image, options, prompt=""):
        raise RuntimeError("model file missing")

    monkeypatch.setattr(HandDetector, "detect", broken)
    regions, warnings = run_detectors(astronaut, DEFAULTS)
    assert any(w.startswith("hand detector failed: RuntimeError: model file missing") for w in warnings)
    assert any(r.kind == "face" for r in regions)


def test_box_helpers():
    boxes = [(0, 0, 10, 10), (1, 1, 11, 11), (2, 2, 6, 6), (50, 50, 60, 60)]
    # 2 has the best score; 0 and 1 contain it (nested boxes: the same object at two scales) and go
    assert nms(boxes, [0.9, 0.8, 0.95, 0.5]) == [2, 3]
    assert nms(boxes, [0.9, 0.8, 0.7, 0.5]) == [0, 3]
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert to_int_box((-3.2, 4.5, 700.1, 20.2), 640, 480) == (0, 4, 640, 21)
    assert merge_boxes([(0, 0, 10, 10), (2, 2, 12, 12), (40, 40, 50, 50)], 0.4) == [(0, 0, 12, 12), (40, 40, 50, 50)]


def test_landmark_bytes_decoder_matches_protobuf():
    # the legacy backend's fast path; mediapipe 1.x has neither it nor these protobuf classes
    landmark_pb2 = pytest.importorskip("mediapipe.framework.formats.landmark_pb2")

    from lib_qfix.detect.mp_legacy import landmarks_from_bytes

    msg = landmark_pb2.NormalizedLandmarkList()
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 2, (478, 3)).astype(np.float32)
    for x, y, z in pts:
        lm = msg.landmark.add()
        lm.x, lm.y, lm.z = float(x), float(y), float(z)
    msg.landmark[3].visibility = 0.5  # optional fields must be skipped
    msg.landmark[7].z = 0.0
    out = landmarks_from_bytes(msg.SerializeToString())
    expect = pts.astype(np.float64)
    expect[7, 2] = 0.0
    assert out.shape == (478, 3) and np.array_equal(out, expect)
    with pytest.raises(ValueError, match="unexpected field tag"):
        landmarks_from_bytes(b"\x12\x00")


def test_registry_caches_are_bounded_lru(monkeypatch):
    """Many configurations keep only the most recent ``BUDGETS[family]`` objects; an evicted object is
    released (nothing else keeps it alive)."""
    import gc
    import weakref

    from lib_qfix import registry

    monkeypatch.setitem(registry._SCORERS, "test-lru", "lib_qfix.lru:LRU")
    budget = registry.BUDGETS["scorer"]
    registry.clear_cache()
    built = [weakref.ref(registry.create_scorer("test-lru", budget=i)) for i in range(1, 4 * budget + 1)]
    assert registry.create_scorer("test-lru", budget=1) is not built[0]() or built[0]() is None
    first = registry.create_scorer("test-lru", budget=1)
    for i in range(2, budget + 1):  # fill up, touching ``first`` each time: LRU, not FIFO
        registry.create_scorer("test-lru", budget=100 + i)
        assert registry.create_scorer("test-lru", budget=1) is first
    gc.collect()
    alive = [r for r in built if r() is not None]
    assert registry.cache_sizes()["scorer"] == budget and len(alive) <= budget
    registry.clear_cache()


def test_evicting_a_shared_resource_drops_its_holders(monkeypatch):
    from lib_qfix import registry

    monkeypatch.setitem(registry._SCORERS, "test-holder", "types:SimpleNamespace")
    registry.clear_cache()
    models = [registry.shared("clip", ("m", i), dict) for i in range(registry.BUDGETS["clip"])]
    holders = [registry.create_scorer("test-holder", clip=m, tag=i) for i, m in enumerate(models)]
    registry.shared("clip", ("m", "new"), dict)  # evicts models[0] ...
    kept = registry.cached("scorer")
    assert not any(h is holders[0] for h in kept)  # ... and the scorer that held it
    assert any(h is holders[1] for h in kept)
    registry.clear_cache()


def test_failed_builds_cache_nothing_and_leave_no_lock(monkeypatch):
    from lib_qfix import registry

    monkeypatch.setitem(registry._SCORERS, "test-fails", "lib_qfix.lru:LRU")
    registry.clear_cache()
    for i in range(20):
        with pytest.raises(ValueError, match="budget"):
            registry.create_scorer("test-fails", budget=-i)
    assert registry.cache_sizes().get("scorer", 0) == 0 and not registry._building


def test_concurrent_callers_share_one_build(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from lib_qfix import registry

    monkeypatch.setitem(registry._SCORERS, "test-lru", "lib_qfix.lru:LRU")
    registry.clear_cache()
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: registry.create_scorer("test-lru", budget=7), range(32)))
    assert all(g is got[0] for g in got)
    registry.clear_cache()
