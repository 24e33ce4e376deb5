"""rapidocr's PP-OCR text-detection (DB) model, run directly: the probability map and the boxes.

:class:`DetModel` runs the detection model that ships inside the ``rapidocr`` package with its own
onnxruntime session, without importing rapidocr (~0.5 s of start-up and ~80 MB: its recogniser,
configuration and download machinery; the recogniser is loaded only when a text line is read), and
without the engine's per-call work that detection alone does not need (~10-15 % of a 512 px call).
Its session does not spin-wait between calls, so the detector can run in a worker thread while the
scorer and the face/hand detectors use the other core. The boxes follow the DB recipe rapidocr
uses for this model (:func:`db_boxes`).

The 8-bit model (:data:`INT8_MODEL`, built from the float one by ``testkit/quantize_text_det.py``)
is used when it was made from the very model the installed rapidocr ships (sha256 in
:data:`INT8_PROVENANCE`): ~half the CPU time, same watermark recall on ``bench/detect.py``. Env
``QFIX_TEXT_INT8=0`` keeps the float model.

Inputs are RGB uint8 images; the model sees BGR scaled to -1..1 at sides rounded to multiples of
32 px (as rapidocr feeds it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

MODELS = Path(__file__).resolve().parents[1] / "data" / "models"
INT8_MODEL = MODELS / "text_det_int8.onnx"
INT8_PROVENANCE = MODELS / "text_det_int8.json"
USE_INT8 = os.environ.get("QFIX_TEXT_INT8", "1") != "0"
#: the float model rapidocr 3.x ships (what the int8 model is made from)
SOURCE_MODEL = "PP-OCRv6_det_small.onnx"


def source_model_path() -> Path:
    """The installed rapidocr's bundled float detection model (FileNotFoundError without it)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the 'rapidocr' package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / SOURCE_MODEL
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found")
    return path


def int8_for(model_path: str | os.PathLike[str]) -> Path | None:
    """:data:`INT8_MODEL` when it exists and was built from the float model at ``model_path``."""
    try:
        made_from = json.loads(INT8_PROVENANCE.read_text())["source_sha256"]
        if not INT8_MODEL.is_file():
            return None
        return INT8_MODEL if hashlib.sha256(Path(model_path).read_bytes()).hexdigest() == made_from else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


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


#: DB post-processing (the values rapidocr configures for this model): pixels above THRESH are text,
#: a blob is a line when its mean probability reaches BOX_THRESH, and its rectangle is grown by
#: area * UNCLIP / perimeter on every side (the network predicts shrunk text kernels)
THRESH, BOX_THRESH, UNCLIP, MIN_SIDE, MAX_CANDIDATES = 0.3, 0.5, 1.6, 3.0, 1000


def _corners(rect: tuple) -> np.ndarray:
    """The 4 corners of a rotated rectangle, clockwise from the top-left one (image y down)."""
    pts = cv2.boxPoints(rect).astype(np.float64)
    c = pts.mean(axis=0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]))]  # clockwise on screen
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def db_boxes(prob: np.ndarray, width: int, height: int) -> list[tuple[np.ndarray, float]]:
    """(4x2 polygon in a ``width`` x ``height`` image, score 0..1) per text line of a DB
    probability map ``prob`` (made at any size of that image)."""
    mask = cv2.dilate((prob > THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    ph, pw = prob.shape
    sx, sy = width / pw, height / ph
    out = []
    for contour in contours[:MAX_CANDIDATES]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < MIN_SIDE:
            continue
        pts = cv2.boxPoints(((cx, cy), (rw, rh), angle))
        x0, y0 = np.clip(np.floor(pts.min(axis=0)).astype(int), 0, (pw - 1, ph - 1))
        x1, y1 = np.clip(np.ceil(pts.max(axis=0)).astype(int), 0, (pw - 1, ph - 1))
        inside = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
        cv2.fillPoly(inside, [(pts - (x0, y0)).astype(np.int32)], 1)
        score = float(cv2.mean(prob[y0:y1 + 1, x0:x1 + 1], inside)[0])
        if score < BOX_THRESH:
            continue
        grow = rw * rh * UNCLIP / (2.0 * (rw + rh))
        rw, rh = rw + 2 * grow, rh + 2 * grow
        if min(rw, rh) < MIN_SIDE + 2:
            continue
        poly = _corners(((cx, cy), (rw, rh), angle)) * (sx, sy)
        poly = np.clip(np.round(poly), 0, (width - 1, height - 1))
        if min(np.linalg.norm(poly[0] - poly[1]), np.linalg.norm(poly[0] - poly[3])) <= 3:
            continue
        out.append((poly, score))
    return out


class DetModel:
    """The text-detection model: the 8-bit one when usable, else rapidocr's bundled float model.
    Raises FileNotFoundError without rapidocr's model file, ImportError without onnxruntime (the
    caller then uses the rapidocr engine's own call)."""

    def __init__(self, threads: int) -> None:
        source = source_model_path()
        int8 = int8_for(source) if USE_INT8 else None
        #: the model file in use
        self.model_path = str(int8 or source)
        self._session = _ort_session(self.model_path, threads)
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
        return db_boxes(self.prob(rgb), rgb.shape[1], rgb.shape[0])
