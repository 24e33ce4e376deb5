"""Build ``lib_qfix/data/models/text_det_int8.onnx``: rapidocr's PP-OCR text-detection model with
8-bit weights and activations (static QDQ quantisation, per-tensor), ~2x faster on CPU.

Calibration images are public-domain photos that the text benchmarks do *not* use (the scikit-image
photos of ``bench/ladder.py``'s holdout, two of them documents with real text) plus Grace Hopper,
at 512 px (the analysis side). The provenance file next to the model records the sha256 of the
float model it was made from: :mod:`lib_qfix.detect.text_model` uses the int8 model only while
the installed rapidocr ships that same float model.

Needs the ``onnx`` package (dev only, not a QFix dependency)::

    .venv/bin/pip install onnx==1.17.0
    .venv/bin/python -m testkit.quantize_text_det
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib_qfix.detect.text_model import INT8_MODEL, INT8_PROVENANCE, source_model_path  # noqa: E402
from lib_qfix.samples import grace_hopper, skimage_photo  # noqa: E402

CALIBRATION = ("coins", "moon", "immunohistochemistry", "hubble_deep_field", "brick", "gravel", "retina",
               "text", "page")


def calibration_inputs() -> list[np.ndarray]:
    """(1, 3, H, W) float32 model inputs (BGR, -1..1, sides multiples of 32 around 512)."""
    photos = [skimage_photo(n) for n in CALIBRATION] + [grace_hopper()]
    out = []
    for rgb in photos:
        s = 512 / max(rgb.shape[:2])
        h, w = (max(32, int(round(d * s / 32)) * 32) for d in rgb.shape[:2])
        x = cv2.resize(np.ascontiguousarray(rgb[..., ::-1]), (w, h), interpolation=cv2.INTER_AREA)
        out.append((x.astype(np.float32) * np.float32(2 / 255) - 1.0).transpose(2, 0, 1)[None])
    return out


def main() -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src = source_model_path()
    inputs = calibration_inputs()

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter({"x": x} for x in inputs)

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as tmp:
        pre = str(Path(tmp) / "pre.onnx")
        quant_pre_process(str(src), pre, skip_symbolic_shape=True)
        INT8_MODEL.parent.mkdir(parents=True, exist_ok=True)
        # per-tensor: the model's opset predates per-channel DequantizeLinear
        quantize_static(pre, str(INT8_MODEL), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=False)
    INT8_PROVENANCE.write_text(json.dumps({
        "source": src.name,
        "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
        "int8_sha256": hashlib.sha256(INT8_MODEL.read_bytes()).hexdigest(),
        "method": "onnxruntime.quantization.quantize_static, QDQ, uint8 activations, int8 weights, "
                  "per-tensor, MinMax calibration",
        "calibration": [*CALIBRATION, "grace_hopper"],
        "built_by": "testkit/quantize_text_det.py",
    }, indent=2) + "\n")
    print(f"wrote {INT8_MODEL} ({INT8_MODEL.stat().st_size // 1024} KiB) and {INT8_PROVENANCE.name}")


if __name__ == "__main__":
    main()
