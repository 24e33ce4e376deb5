"""Watermark, signature and text detector: rapidocr's bundled PP-OCR text *detection* model only
(no recognition: cheaper, and what the text says does not matter for the verdict).

Cost control: the image is analysed with its long side capped at :data:`ANALYSIS_SIDE` px; images
much larger than that get a second pass over the four corner tiles at a finer scale, because
watermarks and signatures sit in corners and along edges and are small there.

Classification rules for each text box (documented, simple, measurable):

- ``watermark``: a semi-transparent overlay, i.e. low stroke contrast (Otsu split of the box's grey
  levels: |mean(text) - mean(background)| < :data:`OVERLAY_CONTRAST` of the 0..255 range), anywhere;
  or opaque text running along an edge band (within :data:`EDGE_BAND` of the side) that is long
  (wider than 6x its height: a URL, a banner, a stock-site name);
- ``signature``: opaque, short (<= 6x as wide as high) text in a corner (within the edge band of two
  sides);
- ``text``: everything else (opaque text inside the picture: garbled lettering, captions).

Boxes covering more than :data:`MAX_LINE_AREA` of the image, and squarish boxes (w/h < 1.5) under
0.8 confidence, are dropped: those are textures (fur, foliage), not text lines.

Regions: kind "watermark" for watermarks and signatures, "text" for text; defects "watermark",
"signature" or "text". When ``options.ignore_text_in_prompt`` and the prompt asks for text
(:func:`prompt_wants_text`), text and signatures get verdict "ok" with a reason; semi-transparent
watermarks stay defects (nobody prompts for a stock-photo overlay).

With ``options.text_reading`` the "text" lines (not watermarks or signatures) are also read by the
OCR recognition model and judged by :mod:`lib_qfix.detect.text_reading`: text the prompt asks for
that reads right is "ok", gibberish or a near miss of the requested text is "garbled_text".
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import cv2
import numpy as np

from lib_qfix.detect.mediapipe_runtime import check_image
from lib_qfix.detect.nms import nms, to_int_box
from lib_qfix.detect.text_model import DetModel
from lib_qfix.detect.text_reading import MAX_LINES, judge, reread
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, OK, Region, box_area

ANALYSIS_SIDE = int(os.environ.get("QFIX_TEXT_SIDE", "512"))
#: onnxruntime threads for the text model (env QFIX_OCR_THREADS; batch runners set 1 per worker)
OCR_THREADS = int(os.environ.get("QFIX_OCR_THREADS", str(min(2, os.cpu_count() or 1))))
CORNER_PASS_FROM = 1024
CORNER_FRACTION = 0.3
EDGE_BAND = 0.15
OVERLAY_CONTRAST = 0.28
LONG_ASPECT = 6.0
#: a "text line" covering more than this fraction of the image is a texture the detector mistook
MAX_LINE_AREA = 0.2
#: text lines are wider than tall; a squarish "line" (w/h < 1.5) below 0.9 confidence is fur, foliage or
#: a flag's stars (1.3:1, 0.84 on the Grace Hopper photo; rapidocr's own call paired the boxes it
#: sorts with unsorted scores, which had hidden that); the 75 watermark fixtures keep recall 0.87-0.88
MIN_LINE_ASPECT = 1.5
SQUARE_LINE_CONFIDENCE = 0.9

_TEXT_WORDS = re.compile(
    r"\b(signs?|signboards?|signage|logos?|text|texts|caption(?:ed|s)?|posters?|letter(?:ing|s)?|typograph\w*|"
    r"titles?|labels?|banners?|headlines?|words?|written|writing|says|saying|quotes?|billboards?|newspapers?|"
    r"magazine|book cover|menu|graffiti|calligraphy|subtitles?|comic|speech bubble|t-shirt print|"
    r"inscription|handwriting|signature|watermark)\b", re.IGNORECASE)
_QUOTED = re.compile(r"(?:^|[\s(:])[\"“'‘]([^\"”'’]{2,})[\"”'’]")


def prompt_wants_text(prompt: str) -> str | None:
    """The word or quoted string in ``prompt`` that asks for visible text, or None."""
    m = _TEXT_WORDS.search(prompt or "")
    if m:
        return m.group(0)
    q = _QUOTED.search(prompt or "")
    return f'"{q.group(1)}"' if q else None


def stroke_contrast(gray: np.ndarray) -> float:
    """|mean(text) - mean(background)| / 255 after an Otsu split of an 8-bit grey patch (0..1)."""
    if gray.size < 4 or int(gray.max()) - int(gray.min()) < 2:
        return 0.0
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    hi, lo = gray[gray > t], gray[gray <= t]
    if hi.size == 0 or lo.size == 0:
        return 0.0
    return float(abs(hi.mean() - lo.mean()) / 255.0)


def classify(box: tuple[int, int, int, int], contrast: float, width: int, height: int) -> tuple[str, str]:
    """(defect name, reason) for one text box by the module's rules."""
    x0, y0, x1, y1 = box
    bx, by = EDGE_BAND * width, EDGE_BAND * height
    near = [x0 <= bx, y0 <= by, x1 >= width - bx, y1 >= height - by]
    aspect = (x1 - x0) / max(1, y1 - y0)
    if contrast < OVERLAY_CONTRAST:
        return "watermark", f"semi-transparent text overlay (stroke contrast {contrast:.2f} < {OVERLAY_CONTRAST})"
    corner = (near[0] or near[2]) and (near[1] or near[3])
    if corner and aspect <= LONG_ASPECT:
        return "signature", f"short opaque text in a corner (contrast {contrast:.2f}, {aspect:.1f}:1)"
    if any(near) and aspect > LONG_ASPECT:
        return "watermark", f"long text along the image edge ({aspect:.1f}:1)"
    return "text", f"text in the picture (contrast {contrast:.2f})"


class TextDetector:
    """Registry name "text". One OCR engine per process, used under a lock."""

    name = "text"

    def __init__(self) -> None:
        self._engine: Any = None
        self._det: Any = None  # DetModel, or False when unavailable
        self._lock = threading.Lock()

    def _build_engine(self) -> None:
        """The OCR engine, once (call with the lock held); the recognition model loads on first use."""
        if self._engine is None:
            from rapidocr import RapidOCR  # heavy: onnxruntime

            self._engine = RapidOCR(params={
                "Global.use_cls": False, "Global.use_rec": False, "Global.log_level": "error",
                "Det.limit_side_len": ANALYSIS_SIDE, "Det.limit_type": "max",
                # inside A1111 the GPU generates and the CPU is idle: use up to OCR_THREADS cores
                "EngineConfig.onnxruntime.intra_op_num_threads": OCR_THREADS})

    def _det_model(self) -> DetModel | None:
        """The detection model run directly (call with the lock held); None when this rapidocr does
        not expose it (the engine's own call is used then)."""
        if self._det is None:
            try:
                self._det = DetModel(OCR_THREADS)
            except Exception:  # no bundled model file, no onnxruntime, a model it cannot load
                self._det = False
        return self._det or None

    def _detect_boxes(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """(4x2 polygon in ``rgb`` pixels, score) per text line."""
        with self._lock:
            model = self._det_model()
            if model is not None:
                return model.boxes(rgb)
            self._build_engine()
            out = self._engine(np.ascontiguousarray(rgb[..., ::-1]), use_det=True, use_cls=False, use_rec=False)
        if out is None or getattr(out, "boxes", None) is None:
            return []
        return [(np.asarray(b, dtype=np.float64), float(s)) for b, s in zip(out.boxes, out.scores, strict=False)]

    def _passes(self, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        h, w = image.shape[:2]
        scale = min(1.0, ANALYSIS_SIDE / max(h, w))
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        found = [(poly / scale, s) for poly, s in self._detect_boxes(small)]
        if max(h, w) >= CORNER_PASS_FROM:
            cw, ch = int(w * CORNER_FRACTION), int(h * CORNER_FRACTION)
            for x0, y0 in ((0, 0), (w - cw, 0), (0, h - ch), (w - cw, h - ch)):
                tile = image[y0:y0 + ch, x0:x0 + cw]
                ts = min(1.0, ANALYSIS_SIDE / max(tile.shape[:2]))
                tile = cv2.resize(tile, None, fx=ts, fy=ts, interpolation=cv2.INTER_AREA) if ts < 1 else tile
                found += [(poly / ts + (x0, y0), s) for poly, s in self._detect_boxes(tile)]
        return found

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Watermarks, signatures and text in an (H, W, 3) uint8 RGB image, best score first."""
        image = check_image(image)
        h, w = image.shape[:2]
        found = [(p, s) for p, s in self._passes(image) if s >= options.text_confidence]
        boxes = [to_int_box((p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()), w, h) for p, _ in found]
        keep = nms(boxes, [s for _, s in found], 0.3, 0.8)
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        wanted = prompt_wants_text(prompt) if options.ignore_text_in_prompt else None
        out = []
        for i in keep:
            box = boxes[i]
            bw, bh = box[2] - box[0], box[3] - box[1]
            if bw < 2 or bh < 2 or bw * bh > MAX_LINE_AREA * w * h:
                continue
            if bw / bh < MIN_LINE_ASPECT and found[i][1] < SQUARE_LINE_CONFIDENCE:
                continue
            contrast = stroke_contrast(gray[box[1]:box[3], box[0]:box[2]])
            defect, reason = classify(box, contrast, w, h)
            kind = "text" if defect == "text" else "watermark"
            reasons, verdict = [reason], DEFECT
            if wanted and defect != "watermark":
                verdict = OK
                reasons.append(f"the prompt asks for text ({wanted}), so text is not a defect")
            polygon = tuple((int(round(x)), int(round(y))) for x, y in found[i][0])
            out.append(Region(kind, box, found[i][1], verdict, tuple(reasons),
                              (defect,) if verdict == DEFECT else (), self.name, polygon))
        if options.text_reading:
            out = self._read_lines(image, out, prompt, wanted)
        return out

    def _read_lines(self, image: np.ndarray, regions: list[Region], prompt: str, wanted: str | None) -> list[Region]:
        """``regions`` with the "text" lines (at most MAX_LINES, largest first) read and re-judged."""
        lines = sorted((i for i, r in enumerate(regions) if r.kind == "text" and r.box),
                       key=lambda i: -box_area(regions[i].box))[:MAX_LINES]
        if not lines:
            return regions
        h, w = image.shape[:2]
        crops = []
        for i in lines:
            x0, y0, x1, y1 = regions[i].box or (0, 0, w, h)
            pad = max(2, (y1 - y0) // 8)  # the recogniser wants a little margin around the glyphs
            crops.append(image[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)])
        out = list(regions)
        for i, (text, confidence) in zip(lines, self._recognise(crops), strict=True):
            out[i] = reread(out[i], judge(text, confidence), prompt, wanted)
        return out

    def _recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, line confidence 0..1) per RGB crop, from the recognition model (loaded on first use)."""
        out = []
        with self._lock:
            self._build_engine()
            for crop in crops:
                res = self._engine(np.ascontiguousarray(crop[..., ::-1]), use_det=False, use_cls=False, use_rec=True)
                texts, scores = getattr(res, "txts", None) or ("",), getattr(res, "scores", None) or (0.0,)
                out.append((str(texts[0]), float(scores[0])))
        return out
