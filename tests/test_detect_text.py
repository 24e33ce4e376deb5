"""Watermark/signature/text detector (rapidocr's bundled detection model) and its rules."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lib_qfix.detect.nms import iou
from lib_qfix.detect.text import TextDetector, classify, prompt_wants_text, stroke_contrast
from lib_qfix.options import DEFAULTS
from testkit.fixtures_detect import _font, watermark_cases
from tests.concurrency import detect_in_threads


@pytest.fixture(scope="module")
def det() -> TextDetector:
    return TextDetector()


@pytest.fixture(scope="module")
def poster(coffee) -> np.ndarray:
    """Opaque black lettering in the middle of a light panel: text, not a watermark."""
    img = Image.fromarray(np.ascontiguousarray(coffee[:, 44:556])).convert("RGB").resize((512, 512))
    d = ImageDraw.Draw(img)
    d.rectangle((120, 200, 400, 300), fill=(240, 240, 230))
    d.text((140, 225), "GRAND SALE", font=_font(40), fill=(10, 10, 10))
    return np.asarray(img)


def test_semi_transparent_corner_watermark(det):
    case = next(c for c in watermark_cases() if c.name == "wm-0.4-22-1")
    regions = det.detect(case.image, DEFAULTS)
    hits = [r for r in regions if iou(r.box, case.truth["watermark"][0]) > 0.3]
    assert hits, [r.to_json() for r in regions]
    r = hits[0]
    assert r.kind == "watermark" and r.verdict == "defect" and r.defects == ("watermark",)
    assert "semi-transparent" in r.reasons[0] and r.detector == "text"
    assert len(r.polygon) == 4


def test_clean_photos_have_no_text(det, coffee, photos):
    assert det.detect(coffee, DEFAULTS) == []
    assert det.detect(photos["rocket"], DEFAULTS) == []


def test_poster_text_respects_the_prompt(det, poster):
    plain = det.detect(poster, DEFAULTS)
    assert len(plain) == 1 and plain[0].kind == "text" and plain[0].defects == ("text",)
    asked = det.detect(poster, DEFAULTS, prompt="a shop window with a poster")
    assert asked[0].verdict == "ok" and asked[0].defects == () and "poster" in asked[0].reasons[-1]
    strict = det.detect(poster, DEFAULTS.replace(ignore_text_in_prompt=False), prompt="a poster")
    assert strict[0].verdict == "defect"


def test_text_confidence_option(det, poster):
    assert det.detect(poster, DEFAULTS.replace(text_confidence=1.0)) == []


@pytest.mark.parametrize("prompt, want", [
    ("a neon sign over a bar", "sign"), ("logo of a coffee shop", "logo"), ("a book with the title 'Dune'", "title"),
    ('a cake that reads "Happy Birthday"', '"Happy Birthday"'), ("photo of a cat on a sofa", None),
    ("the designer's studio", None), ("", None)])
def test_prompt_wants_text(prompt, want):
    assert prompt_wants_text(prompt) == want


def test_classification_rules():
    w = h = 512
    assert classify((10, 10, 120, 30), 0.15, w, h)[0] == "watermark"      # faint overlay
    assert classify((200, 240, 300, 270), 0.15, w, h)[0] == "watermark"    # faint, even in the middle
    assert classify((430, 480, 500, 500), 0.6, w, h)[0] == "signature"     # short, opaque, corner
    assert classify((100, 485, 420, 505), 0.6, w, h)[0] == "watermark"     # long banner on the edge
    assert classify((180, 220, 330, 260), 0.6, w, h)[0] == "text"          # inside the picture


def test_stroke_contrast():
    flat = np.full((20, 60), 120, np.uint8)
    assert stroke_contrast(flat) == 0.0
    strong = flat.copy()
    strong[5:15, 10:50:4] = 250
    faint = flat.copy()
    faint[5:15, 10:50:4] = 150
    assert stroke_contrast(strong) > 0.45 > 0.2 > stroke_contrast(faint) > 0.05


def test_bad_image(det):
    with pytest.raises(ValueError, match="^image: "):
        det.detect(np.zeros((4, 4, 3), np.uint8), DEFAULTS)


def test_two_threads_share_one_detector(det, poster):
    wm = next(c for c in watermark_cases() if c.name == "wm-0.7-34-2").image
    images = (poster, wm)
    expected = [[r.box for r in det.detect(img, DEFAULTS)] for img in images]
    assert all(expected)
    results, errors = detect_in_threads(det, DEFAULTS, images, repeats=3)
    assert not errors and len(results) == 6
    assert all([r.box for r in regions] == expected[i] for i, regions in results)


def test_flag_stars_are_not_text_but_the_name_tag_is(det, grace_hopper):
    # the photo's top-left flag (stars: short squarish "lines") must not read as text or a
    # signature; the name tag on the uniform is real text
    regions = det.detect(grace_hopper, DEFAULTS)
    assert not [r for r in regions if r.box[2] < 200 and r.box[3] < 330], regions
    assert any(r.kind == "text" and r.box[1] > 450 for r in regions), regions


# --- the model run directly, and its 8-bit version ------------------------------------------------

def test_the_int8_model_is_used_and_made_from_the_installed_float_model(det, poster):
    from lib_qfix.detect import text_model

    det.detect(poster, DEFAULTS)
    model = det._det_model()
    assert model is not None and model.model_path == str(text_model.INT8_MODEL)
    assert text_model.int8_for(text_model.source_model_path()) == text_model.INT8_MODEL


def test_int8_and_float_models_find_the_same_lines(det, poster, monkeypatch):
    from lib_qfix.detect import text_model

    case = next(c for c in watermark_cases() if c.name == "wm-0.4-22-1")
    monkeypatch.setattr(text_model, "USE_INT8", False)
    flt = TextDetector()
    for img in (poster, case.image):
        a, b = det.detect(img, DEFAULTS), flt.detect(img, DEFAULTS)
        assert [r.defects for r in a] == [r.defects for r in b]
        assert all(iou(x.box, y.box) > 0.7 and abs(x.confidence - y.confidence) < 0.1 for x, y in zip(a, b, strict=True))
    assert flt._det_model().model_path == str(text_model.source_model_path())


def test_an_int8_model_made_from_another_float_model_is_not_used(tmp_path, monkeypatch):
    from lib_qfix.detect import text_model

    other = tmp_path / "other.onnx"
    other.write_bytes(b"not the model the int8 one was made from")
    assert text_model.int8_for(other) is None
    monkeypatch.setattr(text_model, "INT8_PROVENANCE", tmp_path / "missing.json")
    assert text_model.int8_for(text_model.source_model_path()) is None
