"""Weighted negatives: catalogue coverage, merging rules, region -> negative, [PROMPT]."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_qfix.options import validate
from lib_qfix.prompts.attention import split_terms
from lib_qfix.prompts.catalogue import CATALOGUE, KIND_DEFAULT_DEFECT, entry
from lib_qfix.prompts.negatives import (
    WEIGHT_RANGE,
    additions_for_regions,
    expand_prompt,
    merge_negative,
    negative_for_regions,
    positives_for_regions,
    term_key,
)
from lib_qfix.types import DEFECT, GLOBAL_KINDS, LOCAL_KINDS, Region

VOCABULARY = (
    "malformed_hand", "extra_fingers", "missing_fingers", "fused_fingers", "cropped_hand",
    "blurry_face", "asymmetric_eyes", "small_face", "cropped_face", "deformed_face",
    "watermark", "signature", "text",
    "blur", "noise", "jpeg", "overexposed", "underexposed", "low_resolution", "low_quality", "cropped",
    "garbled_text", "logo", "cluttered_background", "bad_framing", "inconsistent_lighting", "wrong_era",
    "generic_style",
    "missing_teeth", "fused_teeth", "waxy_skin", "bad_anatomy", "twisted_joint", "extra_limb", "missing_limb",
    "detached_hand",
)


def keys(text):
    return [term_key(t) for t, _ in split_terms(text)]


def weights(text):
    return {term_key(t): round(w, 2) for t, w in split_terms(text)}


# --- catalogue ------------------------------------------------------------------------------

def test_catalogue_covers_the_shared_vocabulary_exactly():
    assert set(CATALOGUE) == set(VOCABULARY)
    for name, e in CATALOGUE.items():
        assert e.defect == name and e.negatives and e.positives
        assert all(1.0 <= w <= 1.4 for _, w in e.negatives)
        assert len({term_key(t) for t, _ in e.negatives}) == len(e.negatives)
    assert set(KIND_DEFAULT_DEFECT.values()) <= set(CATALOGUE)
    assert set(KIND_DEFAULT_DEFECT) <= set(LOCAL_KINDS + GLOBAL_KINDS)


def test_catalogue_is_specific():
    assert entry("extra_fingers").negatives[0][0] == "extra fingers"
    assert entry("asymmetric_eyes").negatives[0][0] == "asymmetric eyes"
    assert "jpeg artifacts" in [t for t, _ in entry("jpeg").negatives]
    with pytest.raises(KeyError, match="unknown defect 'sixth_finger'.*extra_fingers"):
        entry("sixth_finger")


# --- merge_negative -------------------------------------------------------------------------

def test_merge_keeps_user_text_and_appends():
    user = "EasyNegative, (worst quality:1.4), lowres BREAK nsfw"
    out = merge_negative(user, [("extra fingers", 1.3), ("lowres", 1.0)])
    assert out == user + ", (extra fingers:1.3)"


def test_merge_is_case_and_space_insensitive_and_larger_weight_wins():
    out = merge_negative("Bad  Hands, (blurry:1.5), ugly", [("bad hands", 1.3), ("BLURRY", 1.2)])
    assert out == "(Bad Hands:1.3), (blurry:1.5), ugly"


def test_merge_raises_a_term_inside_a_group_without_losing_the_others():
    out = merge_negative("(ugly, blurry:1.2), x", [("blurry", 1.5)])
    assert weights(out) == {"ugly": 1.2, "blurry": 1.5, "x": 1.0}
    assert keys(out) == ["ugly", "blurry", "x"]


def test_merge_clamps_added_weights_only():
    out = merge_negative("(mine:2.5)", [("a", 3.0), ("b", 0.1)])
    assert weights(out) == {"mine": 2.5, "a": WEIGHT_RANGE[1], "b": WEIGHT_RANGE[0]}
    assert merge_negative("", [("a", 3.0)], clamp=False) == "(a:3)"


def test_merge_empty_and_trailing_commas():
    assert merge_negative("", []) == ""
    assert merge_negative("", [("a", 1.0), ("b", 1.2)]) == "a, (b:1.2)"
    assert merge_negative("a, b, ", [("c", 1.1)]) == "a, b, (c:1.1)"
    assert merge_negative("a, b, ", []) == "a, b, "  # nothing to add: untouched
    assert merge_negative("x", [("a", 1.2), ("A", 1.4)]) == "x, (a:1.4)"  # additions deduped too


terms_st = st.lists(st.tuples(st.sampled_from(["blurry", "Blurry", "extra fingers", "extra  Fingers", "text",
                                               "ugly", "lowres", "bad hands", "jpeg artifacts"]),
                              st.floats(0.3, 2.5)), max_size=8)
user_st = st.lists(st.sampled_from(["ugly", "(blurry:1.2)", "[text]", "(a, b:1.3)", "lowres BREAK x",
                                    "Bad Hands", "(((c)))", "\\(lit\\)", "d (e) f"]),
                   max_size=6).map(", ".join)


@settings(max_examples=200, deadline=None)
@given(user_st, terms_st)
def test_merge_properties(user, adds):
    out = merge_negative(user, adds)
    # idempotent
    assert merge_negative(out, adds) == out
    # no duplicates among the added terms, every addition present with at least its clamped weight
    out_w = {}
    for t, w in split_terms(out):
        out_w[term_key(t)] = max(out_w.get(term_key(t), -9), w)
    for t, w in adds:
        clamped = min(WEIGHT_RANGE[1], max(WEIGHT_RANGE[0], w))
        assert out_w[term_key(t)] >= round(clamped, 2) - 1e-9
    new_keys = [k for k in keys(out) if k not in keys(user)]
    assert len(new_keys) == len(set(new_keys))
    # order stable: the user's terms keep their order and come first
    user_keys = keys(user)
    assert keys(out)[: len(user_keys)] == user_keys
    # the order of additions is kept
    expected_new = []
    for t, _ in adds:
        if term_key(t) not in user_keys and term_key(t) not in expected_new:
            expected_new.append(term_key(t))
    assert new_keys == expected_new


# --- regions -> negative --------------------------------------------------------------------

def hand(*defects, verdict=DEFECT):
    return Region("hand", (10, 10, 60, 60), 0.9, verdict, defects=defects)


def test_negative_for_regions_uses_catalogue_and_kind_options():
    options = validate({"hand_negative": "(bad hands:1.4), mutated", "face_negative": "face-only",
                        "extra_negative": "nsfw", "text_negative": "text-only"})
    regions = [hand("extra_fingers"), Region("face", (0, 0, 9, 9), 0.9), Region("blur", None, 0.7, DEFECT)]
    neg = negative_for_regions(regions, options)
    w = weights(neg)
    assert w["extra fingers"] == 1.3 and w["six fingers"] == 1.2 and w["blurry"] == 1.3
    assert w["bad hands"] == 1.4 and w["mutated"] == 1.0 and w["nsfw"] == 1.0
    assert "face-only" not in w and "text-only" not in w  # the face is ok, no text region
    assert keys(neg)[-1] == "nsfw"  # extra_negative comes last


def test_negative_strength_scales_and_clamps():
    w1 = weights(negative_for_regions([hand("fused_fingers")], validate({"negative_strength": 1.0})))
    w15 = weights(negative_for_regions([hand("fused_fingers")], validate({"negative_strength": 1.5})))
    w05 = weights(negative_for_regions([hand("fused_fingers")], validate({"negative_strength": 0.5})))
    assert w1["fused fingers"] == 1.3
    assert w15["fused fingers"] == 1.8 and w15["webbed fingers"] == 1.65
    assert w05["fused fingers"] == 0.65 and w05["webbed fingers"] == 0.55


def test_no_defect_no_negative_and_fallback_defect():
    assert negative_for_regions([hand(verdict="ok")], validate({"extra_negative": "x"})) == ""
    assert additions_for_regions([]) == []
    # a defective hand that names no defect gets the generic hand negatives
    assert "malformed hands" in weights(negative_for_regions([hand()]))
    # exposure without a direction adds nothing rather than a wrong guess
    assert negative_for_regions([Region("exposure", None, 0.9, DEFECT)]) == ""


def test_unknown_defect_warns():
    with pytest.warns(UserWarning, match="unknown defect 'sixth_finger'"):
        adds = additions_for_regions([hand("sixth_finger", "extra_fingers")])
    assert adds[0] == ("extra fingers", 1.3)


def test_watermark_and_text_share_text_negative():
    options = validate({"text_negative": "logo, stamp"})
    regions = [Region("watermark", (0, 0, 5, 5), 0.9, DEFECT, defects=("watermark",)),
               Region("text", (5, 5, 9, 9), 0.9, DEFECT, defects=("signature",))]
    k = keys(negative_for_regions(regions, options))
    assert k.count("stamp") == 1 and k.count("logo") == 1
    assert k.index("watermark") < k.index("signature") < k.index("stamp")


def test_positives():
    assert positives_for_regions([hand("extra_fingers", "fused_fingers"), hand(verdict="ok")]) == \
        ["five fingers", "detailed hand", "separated fingers"]


# --- [PROMPT] ------------------------------------------------------------------------------

@pytest.mark.parametrize("template, prompt, expected", [
    ("[PROMPT], detailed face", "a knight", "a knight, detailed face"),
    ("detailed face", "a knight", "detailed face"),
    ("", "a knight", ""),
    ("[PROMPT]", "a (knight:1.2)", "a (knight:1.2)"),
    ("[PROMPT], detailed face, [PROMPT]", "x", "x, detailed face, x"),
    ("[PROMPT], detailed face", "", "detailed face"),
    ("close-up, [PROMPT], sharp", "  ", "close-up, sharp"),
])
def test_expand_prompt(template, prompt, expected):
    assert expand_prompt(template, prompt) == expected


def test_merge_never_rewrites_prompt_editing_syntax():
    user = "([cat:dog:0.5], blurry:1.1), [a|b] ugly"
    out = merge_negative(user, [("blurry", 1.5), ("A|B  ugly", 1.4), ("noisy", 1.2)])
    assert out == user + ", (noisy:1.2)"
    # an ordinary piece next to it is still raised
    assert merge_negative("[cat:dog:5], blurry", [("blurry", 1.3)]) == "[cat:dog:5], (blurry:1.3)"


def test_docstring_examples_hold():
    import doctest

    from lib_qfix.prompts import attention, negatives

    for module in (attention, negatives):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
