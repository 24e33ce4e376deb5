"""A1111 generation parameters: read from a PNG, changed, written back so that A1111's own parser
(the fake host's copy of ``parse_generation_parameters``) reads the original values plus QFix's keys."""

from __future__ import annotations

import io

import pytest
from diffusers_support import INFOTEXT
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from lib_qfix.a1111_params import GenParams, format_infotext, parse_infotext, quote, unquote
from lib_qfix.judge.pnginfo import read_infotext
from testkit.fake_a1111.host_infotext import build

a1111 = build(None, None).parse_generation_parameters


def test_parse_reads_prompt_negative_and_settings():
    p = parse_infotext(INFOTEXT)
    assert p.prompt == "an astronaut, portrait, detailed"
    assert p.negative == "blurry, (bad hands:1.2)"
    assert (p.seed, p.steps, p.cfg_scale, p.sampler, p.scheduler, p.size) == (1234, 4, 6.5, "DPM++ 2M", "Karras",
                                                                              (192, 192))
    assert list(p.pairs)[-1] == "Version"


def test_multiline_prompts_and_a_short_last_line_are_prompt_text():
    p = parse_infotext("line one\nline two\nNegative prompt: a\nb\nSteps: 20, Seed: 5, CFG scale: 7")
    assert (p.prompt, p.negative, p.seed) == ("line one\nline two", "a\nb", 5)
    # fewer than three pairs: A1111 reads the line as prompt text, so do we
    q = parse_infotext("a cat\nSteps: 20, Seed: 5")
    assert q.prompt == "a cat\nSteps: 20, Seed: 5" and q.pairs == {}
    assert parse_infotext("") == GenParams()


def test_quote_round_trip():
    for v in ("plain", "a, b", "key: value", 'say "hi", ok', "two\nlines"):
        assert unquote(quote(v)) == v
    assert quote("plain") == "plain" and quote(3) == "3"


def test_qfix_keys_go_before_version_and_old_ones_are_replaced():
    p = parse_infotext(INFOTEXT).with_pairs({"QFix result": "kept", "QFix note": None})
    again = parse_infotext(format_infotext(p)).with_pairs({"QFix result": "unchanged (nothing to fix)"})
    keys = list(again.pairs)
    assert keys[-2:] == ["QFix result", "Version"] and keys.count("QFix result") == 1
    assert again.pairs["QFix result"] == "unchanged (nothing to fix)" and "QFix note" not in keys


def test_png_round_trip_is_read_by_a1111s_parser(tmp_path):
    extra = {"QFix enable": True, "QFix score before": "0.412", "QFix fixed": "hand×2, face",
             "QFix suggested negative": "(bad hands:1.2), (extra fingers:1.1)", "QFix note": "a: b; c"}
    text = format_infotext(parse_infotext(INFOTEXT).with_pairs(extra))
    info = PngInfo()
    info.add_text("parameters", text)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    path = tmp_path / "x.png"
    path.write_bytes(buf.getvalue())
    stored = read_infotext(path)
    assert stored == text
    host = a1111(stored)  # what A1111's PNG Info and paste-back see
    assert host["Prompt"] == "an astronaut, portrait, detailed"
    assert host["Negative prompt"] == "blurry, (bad hands:1.2)"
    assert (host["Seed"], host["Steps"], host["Sampler"], host["Schedule type"]) == ("1234", "4", "DPM++ 2M", "Karras")
    assert host["Version"] == "v1.10.1"
    for k, v in extra.items():
        assert host[k] == str(v)
    assert parse_infotext(stored) == parse_infotext(format_infotext(parse_infotext(stored)))


@pytest.mark.parametrize("text", ["", "just a prompt", "p\nNegative prompt: n"])
def test_texts_without_settings(text):
    p = parse_infotext(text)
    assert p.seed is None and p.steps is None and p.size is None and p.sampler == ""
