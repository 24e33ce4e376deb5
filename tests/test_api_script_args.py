"""Script args from ``alwayson_scripts`` and the UI on the fake host: every bad value, every path and
every resource the server does not offer leaves the image untouched with ``QFix error: <field>: ...``."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_a1111_script import host, run, scripted, ui_values  # noqa: F401 - fixtures


def error_of(processed) -> str:
    info = processed.infotexts[0]
    assert "QFix error: " in info, info
    return info.split("QFix error: ", 1)[1]


@pytest.mark.parametrize("first", [5, 1, 0, 2.5])
def test_a_number_as_the_first_positional_arg_is_an_enable_error(host, scripted, first):  # noqa: F811
    """A1111 fills the UI defaults and overwrites position 0 with the request's 5: a full list."""
    _, _, processed = run(host, api={"QFix": {"args": [first]}})
    assert error_of(processed).startswith(f'"enable: {first!r} is not allowed; allowed: true or false')
    assert host.inner == [] and scripted["calls"] == 0
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image)


@pytest.mark.parametrize("options, field, words", [
    ({"clip_model": "ViT-bigG-14"}, "clip_model", "allowed on this server: 'RN50'"),
    ({"clip_pretrained": "laion2b_s34b_b88k"}, "clip_pretrained", "allowed on this server: 'openai'"),
    ({"learned_prompts": "/etc/passwd"}, "learned_prompts", "not a path"),
    ({"clip_model": "/tmp/evil.json"}, "clip_model", "not a path"),
    ({"custom_pairs": "nopipe"}, "custom_pairs", "positive|negative"),
    ({"preset": "../../etc/passwd"}, "preset", "not a path"),
])
def test_api_dict_refused_values_name_the_field(host, scripted, options, field, words):  # noqa: F811
    _, _, processed = run(host, api={"QFix": {"args": [options]}})
    err = error_of(processed)
    assert err.startswith(f'"{field}: ') and words in err
    assert host.inner == [] and scripted["calls"] == 0


def test_ui_values_pass_the_same_policy(host, scripted):  # noqa: F811
    _, _, processed = run(host, ui_values(clip_pretrained="/root/weights.pt"))
    assert error_of(processed).startswith('"clip_pretrained: ') and scripted["calls"] == 0
    host.modules["modules.shared"].opts.qfix_clip_weights = "openai, laion2b_s34b_b88k"
    _, _, processed = run(host, ui_values(clip_pretrained="laion2b_s34b_b88k", rounds=1))
    assert "QFix error" not in processed.infotexts[0] and scripted["calls"] > 0


def test_a_disabled_panel_is_not_checked(host, scripted):  # noqa: F811
    values = ui_values(clip_pretrained="/root/weights.pt")
    values[0] = False  # enable
    _, _, processed = run(host, values)
    assert "QFix" not in processed.infotexts[0] and scripted["calls"] == 0
