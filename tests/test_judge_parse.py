"""The judge's answer parser: strict JSON, the repair step, missing fields, hallucinated kinds,
boxes out of range, event streams, and the prompt it is parsed against."""

from __future__ import annotations

import json

import pytest

from lib_qfix.judge import prompt as jp
from lib_qfix.judge.envelope import message_text, usage_of
from lib_qfix.judge.parse import (
    MAX_FINDINGS,
    JudgeAnswerError,
    Verdict,
    box_of,
    load_object,
    match_kind,
    parse_verdict,
    rating,
)
from lib_qfix.prompts.catalogue import CATALOGUE
from testkit.judge_server import GOOD, completion


def test_a_well_formed_answer_needs_no_repair():
    v = parse_verdict(json.dumps(GOOD))
    assert (v.prompt_match, v.quality) == (8, 6) and v.notes == ()
    assert [f.kind for f in v.findings] == ["extra_fingers", "watermark"]
    assert v.findings[0].box == (0.1, 0.5, 0.3, 0.8) and v.findings[1].box is None
    assert Verdict.from_json(json.loads(json.dumps(v.to_json()))) == v


@pytest.mark.parametrize("text", [
    "```json\n" + json.dumps(GOOD) + "\n```",
    "Sure! Here is my verdict:\n" + json.dumps(GOOD) + "\nHope this helps.",
    json.dumps(GOOD)[:-2] + "],}",  # trailing comma
    'Note: {not json}. ' + json.dumps(GOOD),  # a first {...} that is not JSON
])
def test_fences_prose_and_trailing_commas_are_repaired(text):
    v = parse_verdict(text)
    assert (v.prompt_match, v.quality, len(v.findings)) == (8, 6, 2)
    assert "answer repaired (text around the JSON)" in v.notes


@pytest.mark.parametrize("text, words", [
    ("I cannot judge this image.", "no JSON object"),
    ('{"prompt_match": 7, "quality": ', "no JSON object"),
    ('{"prompt_match": 7 "quality": 5}', "not valid JSON"),
    ('{"defects": []}', "no rating"),
    ('{"prompt_match": "great", "quality": null}', "no rating"),
    ("", "no JSON object"),
])
def test_nonsense_is_a_clear_error(text, words):
    with pytest.raises(JudgeAnswerError, match=words):
        parse_verdict(text)


def test_strings_in_braces_do_not_confuse_the_object_finder():
    data, notes = load_object('x {"quality": 5, "defects": [{"kind": "text", "reason": "a } and a {"}]} y')
    assert data["defects"][0]["reason"] == "a } and a {" and notes


@pytest.mark.parametrize("value, expected", [
    (7, (7, False)), (7.6, (8, False)), ("7", (7, False)), ("7/10", (7, False)), (0, (1, True)),
    (42, (10, True)), (-3, (1, True)), (None, (None, False)), (True, (None, False)), ("high", (None, False)),
    (float("nan"), (None, False)),
])
def test_ratings_are_read_rounded_and_clamped(value, expected):
    assert rating(value) == expected


def test_missing_fields_keep_what_is_there():
    v = parse_verdict('{"quality": 4}')
    assert v.prompt_match is None and v.quality == 4 and v.findings == () and "no defect list" in v.notes
    v = parse_verdict('{"prompt_match": 12, "defects": [{"reason": "no kind"}, 5, "blur"]}')
    assert v.prompt_match == 10 and v.quality is None and "rating clamped to 1..10" in v.notes
    assert [f.kind for f in v.findings] == ["blur"]  # a bare kind string is a finding; the rest dropped
    assert {"defect without a kind dropped", "defect that is not an object dropped"} <= set(v.notes)


def test_hallucinated_kinds_are_kept_as_text_and_near_misses_matched():
    v = parse_verdict(json.dumps({"prompt_match": 5, "quality": 5, "defects": [
        {"kind": "Extra Fingers", "reason": "6"}, {"kind": "extra-finger", "reason": "x"},
        {"kind": "purple elephant", "reason": "in the sky"}, {"kind": "WATERMARK"}]}))
    kinds = [(f.kind, f.known) for f in v.findings]
    assert kinds == [("extra_fingers", True), ("extra_fingers", True), ("purple elephant", False), ("watermark", True)]
    assert "unknown kind kept as text: purple elephant" in v.notes
    assert match_kind("malformed hands", list(CATALOGUE)) == "malformed_hand"


def test_findings_and_reasons_are_bounded():
    many = [{"kind": "blur", "reason": "r" * 1000}] * (MAX_FINDINGS + 5)
    v = parse_verdict(json.dumps({"quality": 3, "defects": many}))
    assert len(v.findings) == MAX_FINDINGS and len(v.findings[0].reason) == 200


@pytest.mark.parametrize("box, sent, expected, note", [
    ([0.1, 0.2, 0.5, 0.6], None, (0.1, 0.2, 0.5, 0.6), ""),
    ([0.5, 0.6, 0.1, 0.2], None, (0.1, 0.2, 0.5, 0.6), ""),  # corners sorted
    ([-0.2, 0.2, 0.5, 1.3], None, (0.0, 0.2, 0.5, 1.0), "box clamped to the image"),
    ([64, 128, 320, 384], (640, 512), (0.1, 0.25, 0.5, 0.75), "box read as pixels"),
    ([100, 250, 500, 750], None, (0.1, 0.25, 0.5, 0.75), "box read as per-mille"),
    ([0.3, 0.3, 0.3, 0.9], None, None, "degenerate box dropped"),
    ([0.1, 0.2, 0.5], None, None, "box dropped (not 4 numbers)"),
    (["a", 0, 1, 1], None, None, "box dropped (not 4 numbers)"),
    ({"x0": 0.1, "y0": 0.1, "x1": 0.4, "y1": 0.4}, None, (0.1, 0.1, 0.4, 0.4), ""),
    ([0, 0, 5000, 5000], None, (0.0, 0.0, 1.0, 1.0), "box clamped to the image"),
])
def test_boxes_are_normalised_clamped_or_dropped(box, sent, expected, note):
    got, why = box_of(box, sent)
    assert why == note
    assert got == pytest.approx(expected) if expected else got is None


def test_a_bad_box_drops_the_box_not_the_finding():
    v = parse_verdict(json.dumps({"quality": 5, "defects": [{"kind": "extra_fingers", "box": [0.4, 0.4, 0.4, 0.4]}]}))
    assert v.findings[0].kind == "extra_fingers" and v.findings[0].box is None


def test_message_text_from_the_envelope():
    assert message_text(completion("hello")) == "hello"
    assert message_text(completion([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])) == "ab"
    with pytest.raises(JudgeAnswerError, match="no message"):
        message_text({"error": {"message": "model not found"}})
    with pytest.raises(JudgeAnswerError, match="empty"):
        message_text(completion("   "))
    with pytest.raises(JudgeAnswerError, match="refused"):
        message_text({"choices": [{"message": {"content": None, "refusal": "I can't"}}]})
    with pytest.raises(JudgeAnswerError, match="not a chat completion"):
        message_text(None, "<html>proxy error</html>")
    assert usage_of(completion("x", {"prompt_tokens": 5, "completion_tokens": 2})) == (5, 2)
    assert usage_of(completion("x")) is None


def test_an_event_stream_is_reassembled():
    text = json.dumps(GOOD)
    chunks = [text[i:i + 10] for i in range(0, len(text), 10)]
    sse = "".join(f"data: {json.dumps({'choices': [{'delta': {'content': c}}]})}\n\n" for c in chunks) + "data: [DONE]\n"
    assert parse_verdict(message_text(None, sse)).quality == 6


def test_the_prompt_names_every_catalogue_kind_and_a_schema_to_match():
    system = jp.system_text()
    for name in CATALOGUE:
        assert f"- {name}:" in system
    schema = jp.response_schema()
    assert schema["properties"]["defects"]["items"]["properties"]["kind"]["enum"] == list(CATALOGUE)
    assert set(schema["required"]) == set(schema["properties"])  # strict mode: every property required
    custom = jp.system_text("Be lenient.")
    assert custom.startswith("Be lenient.") and jp.answer_format() in custom  # the format always follows
    assert jp.prompt_digest("") != jp.prompt_digest("Be lenient.")
    assert "null" in jp.user_text("") and "a red car" in jp.user_text("a  red\ncar")
