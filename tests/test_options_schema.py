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


@pytest.mark.parametrize("value", [0, 1, 5, 1.0, None, "yes", "1"])
def test_bool_fields_take_only_booleans(value):
    """A1111 overwrites UI defaults by position: ``"args": [5]`` puts 5 into ``enable``. Numbers
    are refused (the UI, pasted infotext and presets send booleans or "True"/"False")."""
    with pytest.raises(OptionError) as e:
        validate({"enable": value})
    assert e.value.field == "enable" and "true or false" in str(e.value)
    assert validate({"enable": True}).enable is True
    assert validate({"detect_faces": "False"}).detect_faces is False
    assert from_infotext({"QFix enable": "True"}) == {"enable": True}


@pytest.mark.parametrize("bad", ["nopipe", "a|b|notanumber", "|", "a|", "a|b|-1", "a|b|c|d",
                                 ";".join(f"g{i}|b{i}" for i in range(17)), "x|y;" * 300],
                         ids=["nopipe", "notanumber", "bar", "half", "negative", "four", "17-pairs", "1200-chars"])
def test_custom_pairs_are_checked_when_options_are_validated(bad):
    """Bad pairs are a field error wherever options come from (API, presets, CLI), not later."""
    with pytest.raises(OptionError) as e:
        validate({"custom_pairs": bad})
    assert e.value.field == "custom_pairs" and e.value.allowed.startswith("allowed: ")
    assert "\n" not in str(e.value) and len(str(e.value)) < 400
    with pytest.raises(OptionError):
        from_infotext({"QFix custom pairs": bad})


def test_custom_pairs_errors_reach_presets_and_the_cli(tmp_path, capsys):
    from lib_qfix.cli import main
    from lib_qfix.presets import PresetError, read_file

    preset = tmp_path / "p.json"
    preset.write_text(json.dumps({"schema_version": 1, "options": {"custom_pairs": "a|b|notanumber"}}))
    with pytest.raises(PresetError) as e:
        read_file(preset)
    assert e.value.field == "options.custom_pairs"
    img = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (32, 32), (120, 130, 140)).save(img)
    rc = main(["score", str(img), "--set", "custom_pairs=nopipe", "--no-progress"])
    assert rc != 0 and "custom_pairs" in capsys.readouterr().err


def test_valid_custom_pairs_are_kept_verbatim():
    text = " Crisp photo. | Smeared photo. | 2 ; vivid|washed out"
    assert validate({"custom_pairs": text}).custom_pairs == text


def test_server_flags_come_from_the_schema():
    from lib_qfix.options.policy import PATH_LIKE_FIELDS, RESOURCE_FIELDS

    assert set(RESOURCE_FIELDS) == {"clip_model", "clip_pretrained", "learned_prompts", "device"}
    assert {"clip_model", "clip_pretrained", "learned_prompts", "preset"} <= set(PATH_LIKE_FIELDS)
    props = json_schema()["properties"]
    assert all(props[k]["x-server-resource"] for k in RESOURCE_FIELDS)
    assert all(props[k]["x-path-like"] for k in PATH_LIKE_FIELDS)
    assert props["custom_pairs"]["maxLength"] == FIELD_BY_KEY["custom_pairs"].max_length
    with pytest.raises(OptionError, match="at most 4096 characters") as e:
        validate({"clip_model": "x" * 4097})
    assert len(str(e.value)) < 250  # the value is shown shortened


@pytest.mark.parametrize("value", ["/etc/passwd", "models/x.pt", "..", ".hidden", "~/x", "C:x.pt",
                                   "hf-hub:org/model", "a\\b", "https://example.com/w.pt"])
def test_client_policy_refuses_paths_in_every_path_like_field(value):
    from lib_qfix.options.policy import PATH_LIKE_FIELDS, check_client_options

    everything = lambda key: [value]  # noqa: E731 - the allow-list must not let a path through
    for key in PATH_LIKE_FIELDS:
        with pytest.raises(OptionError) as e:
            check_client_options(DEFAULTS.replace(**{key: value}), everything)
        assert e.value.field == key and "not a path" in e.value.allowed


def test_client_policy_names_the_allowed_resources():
    from lib_qfix.options.policy import check_client_options

    allowed = {"clip_model": ["RN50", "ViT-B-32"], "clip_pretrained": ["openai"], "learned_prompts": [""],
               "device": ["auto", "cpu"]}
    check_client_options(DEFAULTS, allowed.__getitem__)
    check_client_options(DEFAULTS.replace(clip_model="ViT-B-32"), allowed.__getitem__)
    with pytest.raises(OptionError) as e:
        check_client_options(DEFAULTS.replace(clip_model="ViT-bigG-14"), allowed.__getitem__)
    assert e.value.field == "clip_model" and "'RN50', 'ViT-B-32'" in e.value.allowed
    with pytest.raises(OptionError) as e:
        check_client_options(DEFAULTS.replace(device="cuda"), allowed.__getitem__)
    assert e.value.field == "device" and "'auto', 'cpu'" in e.value.allowed


def test_every_text_option_is_bounded():
    # a request can never make QFix copy an unbounded string into every infotext, PNG and inner pass
    text_fields = [f for f in FIELDS if f.kind in ("str", "choice")]
    assert text_fields and all(f.max_length is not None for f in text_fields)
    with pytest.raises(OptionError, match="extra_negative: .*200000 characters.*at most 2000 characters"):
        validate({"extra_negative": "x" * 200_000})
    with pytest.raises(OptionError, match="sampler: .*at most 200 characters"):
        validate({"sampler": "y" * 5000})
    assert validate({"sampler": "DPM++ 2M"}).sampler == "DPM++ 2M"
