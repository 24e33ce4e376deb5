"""A1111 attention syntax: exact weights of known prompts and parse/emit round trips."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_qfix.prompts.attention import BREAK_CHUNK, emit, format_weight, join_terms, parse, split_terms


def approx_chunks(chunks):
    return [(t, pytest.approx(w)) for t, w in chunks]


def test_a1111_docstring_example():
    # the example in A1111's parse_prompt_attention docstring, weights as A1111 computes them
    got = parse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).")
    assert got == approx_chunks([
        ("a ", 1.0), ("house", 1.1 * 1.1 * 1.3), (" ", 1.1), ("on", 1.0), (" a ", 1.1),
        ("hill", 0.55), (", sun, ", 1.1), ("sky", 1.1 ** 4), (".", 1.1),
    ])


@pytest.mark.parametrize("text, expected", [
    ("", [("", 1.0)]),
    ("plain", [("plain", 1.0)]),
    ("(a)", [("a", 1.1)]),
    ("[a]", [("a", 1 / 1.1)]),
    ("((a))", [("a", 1.21)]),
    ("[[a]]", [("a", 1 / 1.21)]),
    ("(a:1.3)", [("a", 1.3)]),
    ("((a:1.3))", [("a", 1.43)]),
    ("(a:-0.5)", [("a", -0.5)]),
    ("([a])", [("a", 1.0)]),
    (r"\(a\)", [("(a)", 1.0)]),
    (r"\[a\]", [("[a]", 1.0)]),
    (r"a\\b", [("a\\b", 1.0)]),
    (r"(x\)y:1.2)", [("x)y", 1.2)]),
    ("a)", [("a)", 1.0)]),              # unmatched closer is text
    ("a]", [("a]", 1.0)]),
    ("(a", [("a", 1.1)]),               # unclosed group closes at the end
    ("[a", [("a", 1 / 1.1)]),
    ("a:1.2)", [("a:1.2)", 1.0)]),      # a weight with no open group is text
    ("time: 5", [("time: 5", 1.0)]),
    ("(a:.)", [("a:.", 1.1)]),          # malformed number: text, the group still closes
    ("a BREAK b", [("a", 1.0), BREAK_CHUNK, ("b", 1.0)]),
    ("aBREAK b", [("aBREAK b", 1.0)]),  # only the word on its own is a break
    ("(a BREAK b:1.2)", [("a", 1.2), BREAK_CHUNK, ("b", 1.2)]),
])
def test_parse_cases(text, expected):
    assert parse(text) == approx_chunks(expected)


@pytest.mark.parametrize("chunks, text", [
    ([("a", 1.0)], "a"),
    ([("a", 1.3)], "(a:1.3)"),
    ([("a", 1.331)], "(a:1.33)"),
    ([("a", 1.001)], "a"),              # rounds to 1: plain
    ([("a", 0.5)], "(a:0.5)"),
    ([("a", 2.0)], "(a:2)"),
    ([("(x)", 1.0)], r"\(x\)"),
    ([("[x]", 1.2)], r"(\[x\]:1.2)"),
    ([("back\\slash", 1.0)], r"back\\slash"),
    ([("a", 1.0), BREAK_CHUNK, ("b", 1.2)], "a BREAK (b:1.2)"),
    ([BREAK_CHUNK, ("b", 1.0)], "BREAK b"),
    ([("say BREAK", 1.0)], "say BREA\\K"),  # a literal word BREAK must not become a break
])
def test_emit_cases(chunks, text):
    assert emit(chunks) == text


def test_format_weight():
    assert [format_weight(w) for w in (1.0, 1.1, 1.25, 0.909, -0.5, 1.005, 3)] == \
        ["1", "1.1", "1.25", "0.91", "-0.5", "1", "3"]  # 1.005 is 1.00499... in binary


def test_split_terms():
    assert split_terms("(bad hands:1.3),  Blurry  , [text], a (b) c BREAK d,, e\nf") == approx_chunks([
        ("bad hands", 1.3), ("Blurry", 1.0), ("text", 1 / 1.1), ("a b c", 1.1), ("d", 1.0), ("e f", 1.0),
    ])
    assert split_terms("(a, b:1.2)") == approx_chunks([("a", 1.2), ("b", 1.2)])
    assert split_terms("a BREAK b", keep_breaks=True) == [("a", 1.0), BREAK_CHUNK, ("b", 1.0)]
    assert split_terms("") == []


def test_join_terms_round_trip():
    terms = [("bad hands", 1.3), ("blurry", 1.0), BREAK_CHUNK, ("text", 0.91)]
    text = join_terms(terms)
    assert text == "(bad hands:1.3), blurry BREAK (text:0.91)"
    assert split_terms(text, keep_breaks=True) == approx_chunks(terms)


# --- property tests -------------------------------------------------------------------------

PROMPT_ALPHABET = st.sampled_from(list("ab cd,:.1259()[]\\") + ["BREAK", " BREAK ", "(x:1.3)", "\\(", "\\]"])
prompts = st.lists(PROMPT_ALPHABET, max_size=30).map("".join)


def normalised(chunks):
    """Weights rounded as emit writes them, then runs of equal weight merged (as parse does)."""
    out = []
    for text, weight in chunks:
        w = weight if (text, weight) == BREAK_CHUNK else float(format_weight(weight))
        if out and out[-1][1] == w and (text, weight) != BREAK_CHUNK and out[-1] != BREAK_CHUNK:
            out[-1] = (out[-1][0] + text, w)
        elif text:
            out.append((text, w))
    # whitespace touching BREAK is only a separator (A1111 splits on \s*BREAK\s*): drop it
    for i, (text, w) in enumerate(out):
        if (text, w) == BREAK_CHUNK:
            continue
        if i + 1 < len(out) and out[i + 1] == BREAK_CHUNK:
            text = text.rstrip()
        if i > 0 and out[i - 1] == BREAK_CHUNK:
            text = text.lstrip()
        out[i] = (text, w)
    return [c for c in out if c[0]]


@settings(max_examples=300, deadline=None)
@given(prompts)
def test_emit_parse_round_trip(text):
    chunks = parse(text)
    again = parse(emit(chunks))
    assert normalised(again) == normalised(chunks)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab ()[]\\:,.1", min_size=1, max_size=6),
                          st.floats(0.1, 3.0)), max_size=6))
def test_emit_any_chunks_parses_back(chunks):
    # arbitrary text (brackets, backslashes, colons) survives as literal text with its weight
    again = normalised(parse(emit(chunks)))
    assert normalised(chunks) == again or all(not t for t, _ in chunks)


@settings(max_examples=200, deadline=None)
@given(prompts)
def test_emit_is_stable(text):
    # a second emit of what the first one wrote gives the same text
    once = emit(parse(text))
    assert emit(parse(once)) == once


@settings(max_examples=200, deadline=None)
@given(prompts)
def test_weights_are_finite_products_of_group_factors(text):
    for chunk_text, weight in parse(text):
        assert math.isfinite(weight)
        if (chunk_text, weight) != BREAK_CHUNK and "1.3" not in text and ":" not in text:
            # without explicit weights every weight is 1.1**n for an integer n
            n = math.log(weight) / math.log(1.1)
            assert abs(n - round(n)) < 1e-6
