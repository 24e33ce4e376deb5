"""rapidocr's PP-OCR text-detection (DB) model, run directly: the probability map and the boxes.

:class:`DetModel` takes the model and the box post-processing (threshold 0.3, box score 0.5,
unclip 1.6) from a built ``RapidOCR`` engine, and skips the engine's per-call work that detection
alone does not need (re-reading its configuration, cropping every line for the recogniser):
~10-15 % of a 512 px call. Its onnxruntime session does not spin-wait between calls, so the
detector can run in a worker thread while the scorer and the face/hand detectors use the other
core. :func:`candidates` turns a coarse probability map into the few regions worth a fine pass.

Inputs are RGB uint8 images; the model sees BGR scaled to -1..1 at sides rounded to multiples of
32 px (as rapidocr feeds it).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

Box = tuple[int, int, int, int]


def _ort_session(model_path: str, threads: int) -> Any:
    import onnxruntime as ort  # heavy; only once the text detector runs

    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = max(1, threads)
    # no spinning: between (and after) calls the idle worker would otherwise burn the core that the
    # scorer and the MediaPipe detectors run on
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_path, sess_options=opts, providers=["CPUExecutionProvider"])


class DetModel:
    """The detection model of ``engine`` (a ``rapidocr.RapidOCR``); raises AttributeError when
    that rapidocr version does not expose it (the caller then uses the engine's own call)."""

    def __init__(self, engine: Any, threads: int) -> None:
        det = engine._load_det_model()  # rapidocr 3.x: its TextDetector (session + DB post-process)
        self._post = det.postprocess_op
        session = det.session.session
        path = getattr(session, "_model_path", None)
        self._session = _ort_session(str(path), threads) if path else session
        self._input = self._session.get_inputs()[0].name

    def prob(self, rgb: np.ndarray) -> np.ndarray:
        """Text probability 0..1 per pixel of ``rgb`` resized to sides rounded to multiples of 32."""
        h, w = rgb.shape[:2]
        th, tw = max(32, int(round(h / 32)) * 32), max(32, int(round(w / 32)) * 32)
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        x = cv2.resize(bgr, (tw, th)) if (th, tw) != (h, w) else bgr
        x = x.astype(np.float32) * np.float32(2 / 255) - np.float32(1.0)
        return self._session.run(None, {self._input: x.transpose(2, 0, 1)[None]})[0][0, 0]

    def boxes(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """(4x2 polygon in ``rgb`` pixels, score 0..1) per text line found in ``rgb``."""
        h, w = rgb.shape[:2]
        polys, scores = self._post(self.prob(rgb)[None, None], (h, w))
        return [(np.asarray(p, dtype=np.float64), float(s)) for p, s in zip(polys, scores, strict=False)]


def _snap(lo: int, hi: int, size: int, step: int = 32) -> tuple[int, int]:
    """[lo, hi) widened to a multiple of ``step`` (the model's stride) inside 0..size when it fits."""
    want = min(size, -(-(hi - lo) // step) * step)
    lo = max(0, min(lo - (want - (hi - lo)) // 2, size - want))
    return lo, lo + want


def candidates(prob: np.ndarray, width: int, height: int, threshold: float, margin: int,
               max_fraction: float) -> list[Box] | None:
    """Regions of a ``width`` x ``height`` image worth a fine pass, from a coarse probability map
    of it: every blob above ``threshold``, grown by ``margin`` px (at least its own height) and
    merged with the regions it overlaps; sides widened to multiples of 32. None when they would
    cover more than ``max_fraction`` of the image (one full pass is then cheaper)."""
    mask = (prob > threshold).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    fx, fy = width / prob.shape[1], height / prob.shape[0]
    regions: list[list[int]] = []
    for x, y, bw, bh, _ in stats[1:n]:
        grow = max(margin, int(bh * fy))
        regions.append([max(0, int(x * fx) - grow), max(0, int(y * fy) - grow),
                        min(width, int(np.ceil((x + bw) * fx)) + grow),
                        min(height, int(np.ceil((y + bh) * fy)) + grow)])
    merged = True
    while merged:  # union overlapping regions until none overlap
        merged = False
        for i in range(len(regions)):
            for j in range(len(regions) - 1, i, -1):
                a, b = regions[i], regions[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    regions[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del regions[j]
                    merged = True
    out = []
    for x0, y0, x1, y1 in regions:
        (x0, x1), (y0, y1) = _snap(x0, x1, width), _snap(y0, y1, height)
        out.append((x0, y0, x1, y1))
    if sum((b[2] - b[0]) * (b[3] - b[1]) for b in out) > max_fraction * width * height:
        return None
    return out
