"""Reading detected text (rapidocr recognition on the detected boxes): legible vs garbled, text the
prompt asks for, and what the text detector makes of it."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.detect import text_reading as tr
from lib_qfix.detect.nms import iou
from lib_qfix.detect.text import TextDetector
from lib_qfix.options import DEFAULTS
from lib_qfix.types import DEFECT, OK, Region
from testkit.fixtures_scene import GIBBERISH, LEGIBLE, text_cases

LINE = Region("text", (10, 10, 200, 50), 0.9, DEFECT, ("text in the picture (contrast 0.60)",), ("text",), "text")


# --- the judgement, no model -----------------------------------------------------------------------

@pytest.mark.parametrize("word", ["coffee", "bakery", "station", "welcome", "parking", "Grand", "Opening", "hotel"])
def test_real_words_are_word_like(word):
    assert tr.plausibility(word) > tr.MIN_PLAUSIBILITY


@pytest.mark.parametrize("word", ["Xqzvt", "Rwpkl", "Cbfzeq", "WKLEJRM", "qxjzv"])
def test_random_letters_are_not(word):
    assert tr.plausibility(word) < tr.MIN_PLAUSIBILITY


def test_plausibility_edge_cases():
    assert tr.plausibility("1234") is None and tr.plausibility("") is None
    assert tr.plausibility("Café") == pytest.approx(tr.plausibility("cafe"))  # accents count as their letter


def test_judge_rules():
    assert not tr.judge("COFFEE SHOP", 0.999).garbled
    low = tr.judge("COFFEE SHOP", 0.80)
    assert low.garbled and "OCR confidence 0.80" in low.reasons[0]
    assert tr.judge("HAPPPY DAY", 1.0).garbled  # a glyph repeated 3 times
    assert not tr.judge("www.example.com", 1.0).garbled  # "www" is no stutter
    assert tr.judge("Bakeľy", 1.0).garbled  # a stray glyph from another script
    assert tr.judge("CoFfEe ShOp", 1.0).garbled  # case flipping inside words
    assert tr.judge("Xqzvt Rwpkl", 1.0).garbled
    nypd = tr.judge("NYPD", 1.0)  # an acronym: judged by confidence only
    assert not nypd.garbled and "confidence only" in nypd.reasons[0]
    cjk = tr.judge("咖啡店", 1.0)
    assert not cjk.garbled and not cjk.judged and "script not modelled" in cjk.reasons[0]
    assert not tr.judge("2024", 0.99).garbled


def test_match_prompt():
    assert tr.match_prompt("OPEN", 'a shop with a neon sign saying "OPEN"')[0] == "match"
    assert tr.match_prompt("0PEN", 'a sign saying "OPEN"')[0] == "match"  # one glyph off: still the text
    how, ratio, req = tr.match_prompt("OPFM", 'a sign saying "OPEN"')
    assert how == "near" and req == "OPEN" and tr.NEAR_MISS <= ratio < tr.MATCH
    assert tr.match_prompt("PARKING", 'a sign saying "OPEN"')[0] == "other"
    assert tr.match_prompt("open", "a shop sign with the word open")[0] == "match"  # unquoted words
    assert tr.match_prompt("closed", "a shop sign with the word open")[0] == "other"
    assert tr.requested_texts("say 'Hello World' and \"Bye\"") == ("Hello World", "Bye")


def test_reread_verdicts():
    legible, garbled = tr.judge("BAKERY", 1.0), tr.judge("Xqzvt Rwpkl", 1.0)
    asked = tr.reread(LINE, legible, 'a sign saying "BAKERY"', "sign")
    assert asked.verdict == OK and asked.defects == () and "asks for ('BAKERY')" in asked.reasons[-1]
    near = tr.reread(LINE, tr.judge("BAKFRY", 1.0), 'a sign saying "BAKERY"', "sign")
    assert near.verdict == DEFECT and near.defects == ("garbled_text",) and "near miss" in near.reasons[-1]
    gib = tr.reread(LINE, garbled, 'a sign saying "BAKERY"', "sign")
    assert gib.defects == ("garbled_text",)  # the prompt wants text: redraw it legibly
    unasked = tr.reread(LINE, garbled, "a street", None)
    assert unasked.defects == ("text", "garbled_text")  # not wanted: remove it
    plain = tr.reread(LINE, legible, "a street", None)
    assert plain.verdict == DEFECT and plain.defects == ("text",) and "does not ask" in plain.reasons[-1]
    other = tr.reread(LINE, legible, "a street sign", "sign")  # text is asked for, any legible text is fine
    assert other.verdict == OK
    assert all(r.reasons[0] == LINE.reasons[0] for r in (asked, near, gib, unasked, plain, other))


# --- with the recognition model --------------------------------------------------------------------

@pytest.fixture(scope="module")
def det() -> TextDetector:
    pytest.importorskip("rapidocr")
    return TextDetector()


@pytest.fixture(scope="module")
def signs():
    cases = text_cases()
    legible = [c for c in cases if c.label == "legible"]
    by_index = {int(c.name.rsplit("-", 1)[1]): c for c in cases}
    return {"asked": legible[0], "unasked": legible[1],
            "random": by_index[len(LEGIBLE) + 1],  # "Xqzvt Rwpkl"
            "sliced": by_index[len(LEGIBLE) + len(GIBBERISH) + 2]}  # "BAKERY" with sliced glyphs


def _line(det, case, options=DEFAULTS):
    regions = det.detect(case.image, options, case.prompt)
    hits = [r for r in regions if iou(r.box, case.truth["text"][0]) >= 0.3]
    assert hits, [r.to_json() for r in regions]
    return hits[0]


def test_requested_sign_reads_ok(det, signs):
    r = _line(det, signs["asked"])
    assert signs["asked"].prompt.endswith('"OPEN"')
    assert r.verdict == OK and any("reads 'OPEN'" in x for x in r.reasons)


def test_unrequested_legible_sign_stays_text(det, signs):
    r = _line(det, signs["unasked"])
    assert r.verdict == DEFECT and r.defects == ("text",)


def test_gibberish_and_broken_glyphs_are_garbled(det, signs):
    for key in ("random", "sliced"):
        case = signs[key]
        r = _line(det, case)
        assert r.defects == ("text", "garbled_text"), (case.name, r.reasons)


def test_gibberish_on_a_requested_sign_is_garbled_not_ok(det, signs):
    case = signs["random"]
    regions = det.detect(case.image, DEFAULTS, 'a street with a sign saying "BAKERY"')
    r = next(r for r in regions if iou(r.box, case.truth["text"][0]) >= 0.3)
    assert r.verdict == DEFECT and r.defects == ("garbled_text",)


def test_reading_off_keeps_the_old_verdicts(det, signs):
    off = DEFAULTS.replace(text_reading=False)
    r = _line(det, signs["random"], off)
    assert r.defects == ("text",) and not any("reads" in x for x in r.reasons)
    asked = _line(det, signs["asked"], off)
    assert asked.verdict == OK  # the prompt asks for text


def test_reading_runs_only_on_text_lines(det, monkeypatch):
    """Watermarks and signatures are not read (cost), and a clean photo reads nothing."""
    from testkit.fixtures_detect import watermark_cases

    calls = []
    real = det._recognise
    monkeypatch.setattr(det, "_recognise", lambda crops: calls.append(len(crops)) or real(crops))
    case = next(c for c in watermark_cases() if c.name == "wm-0.4-22-1")
    det.detect(case.image, DEFAULTS)
    det.detect(np.full((256, 256, 3), 128, np.uint8), DEFAULTS)
    assert calls == []
