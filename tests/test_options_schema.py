"""The one options schema: validation, positional values, infotext, JSON schema."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_qfix.options import (
    DEFAULTS,
    FIELD_BY_KEY,
    FIELDS,
    KEYS,
    OptionError,
    from_infotext,
    from_positional,
    json_schema,
    positional,
    to_infotext,
    validate,
)


def test_every_field_is_complete_and_default_is_valid():
    assert len(set(KEYS)) == len(FIELDS)
    for f in FIELDS:
        assert f.label and f.help and f.group, f.key
        assert f.coerce(f.default) == f.default, f.key
        if f.kind in ("int", "float"):
            assert f.minimum is not None and f.maximum is not None and f.minimum <= f.default <= f.maximum


def test_partial_dict_merges_over_defaults():
    o = validate({"hand_confidence": 0.7, "rounds": "3"})
    assert o.hand_confidence == 0.7 and o.rounds == 3
    assert o.face_confidence == DEFAULTS.face_confidence


def test_out_of_range_names_field_value_and_range():
    with pytest.raises(OptionError) as e:
        validate({"hand_confidence": 1.7})
    msg = str(e.value)
    assert "hand_confidence" in msg and "1.7" in msg and "0 to 1" in msg
    assert e.value.field == "hand_confidence" and e.value.value == 1.7


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", True, None, [1]])
def test_bad_numbers_rejected(bad):
    with pytest.raises(OptionError, match="denoise"):
        validate({"denoise": bad})


def test_int_field_rejects_fraction():
    with pytest.raises(OptionError, match="rounds: 1.5"):
        validate({"rounds": 1.5})


def test_unknown_key_suggests_closest():
    with pytest.raises(OptionError) as e:
        validate({"hand_confidnce": 0.5})
    assert "hand_confidnce" in str(e.value) and "did you mean 'hand_confidence'" in str(e.value)


def test_choice_is_case_insensitive_and_suggests():
    assert validate({"face_restorer": "gfpgan"}).face_restorer == "GFPGAN"
    with pytest.raises(OptionError, match="did you mean 'CodeFormer'"):
        validate({"face_restorer": "Codeformr"})


def test_free_choice_accepts_host_names():
    assert validate({"sampler": "DPM++ 2M"}).sampler == "DPM++ 2M"


def test_source_is_named():
    with pytest.raises(OptionError, match=r"^presets/x.json: rounds"):
        validate({"rounds": 99}, source="presets/x.json")


def test_positional_round_trip():
    o = validate({"enable": True, "mode": "fix_all", "mask_dilation": -4})
    assert from_positional(positional(o)) == o
    assert from_positional(positional(o)[:3]).mask_dilation == DEFAULTS.mask_dilation
    with pytest.raises(OptionError):
        from_positional([None] * (len(FIELDS) + 1))


def test_infotext_only_differences_and_round_trip():
    o = validate({"enable": True, "hand_confidence": 0.65, "hand_prompt": "a, b: c"})
    info = to_infotext(o)
    assert info["QFix hand confidence"] == 0.65
    assert "QFix face confidence" not in info  # same as default
    assert "QFix enable" in info and "QFix preset" in info
    # values come back as strings from the PNG info parser
    back = from_infotext({k: str(v) for k, v in info.items()} | {"Steps": "20"})
    assert validate(back) == o


def test_from_infotext_accepts_json_quoted_strings():
    # A1111 JSON-quotes values containing , : or newlines
    back = from_infotext({"QFix hand prompt": json.dumps("[PROMPT], hand: detailed")})
    assert back == {"hand_prompt": "[PROMPT], hand: detailed"}


def test_json_schema_lists_every_field():
    s = json_schema()
    assert set(s["properties"]) == set(KEYS)
    assert s["additionalProperties"] is False
    assert s["properties"]["rounds"]["maximum"] == FIELD_BY_KEY["rounds"].maximum
    assert "offline" in s["properties"]["scorer"]["enum"]
    json.dumps(s)


def test_replace_validates():
    o = DEFAULTS.replace(rounds=3)
    assert o.rounds == 3
    with pytest.raises(OptionError):
        DEFAULTS.replace(rounds=-1)


@given(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
def test_any_in_range_float_is_kept(x):
    assert validate({"quality_threshold": x}).quality_threshold == x


@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 0.0 <= v <= 1.0))
def test_any_out_of_range_float_is_refused(x):
    with pytest.raises(OptionError):
        validate({"quality_threshold": x})


def test_options_pickle_for_worker_processes():
    import pickle

    o = validate({"rounds": 4})
    assert pickle.loads(pickle.dumps(o)) == o
