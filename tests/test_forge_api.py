"""Paste-back through the API's ``infotext`` field on Forge and A1111 (testkit/fake_a1111/forge_api.py,
written from both hosts' ``Api.apply_infotext``), and QFix's paste keys (lib_qfix/a1111/paste.py).

The HTTP 500 on Forge is the host's own ``styles`` field (pydantic 2 keeps ``list[str]``, gradio 4's
``gr.update()`` is not unwrapped): every request with ``infotext`` and no ``styles`` fails, QFix or
not. QFix's own fields used to paste ``"False"`` back as True through the API (``bool("False")``) and
to leave out what the infotext's preset set (the API runs no ``on_infotext_pasted``).
"""

from __future__ import annotations

import copy
import types

import pytest

from lib_qfix.options import DEFAULTS, FIELD_BY_KEY, FIELDS, positional, to_infotext
from lib_qfix.presets import resolve_options
from testkit.fake_a1111 import forge_api as F
from testkit.fake_a1111 import install
from testkit.fake_a1111.host_api import make_runner, paste_args
from testkit.fake_a1111.host_infotext import quote


@pytest.fixture()
def host(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path)


def _script(host):
    from lib_qfix.a1111.script import QFixScript

    script = QFixScript()
    _, defaults = make_runner(host, script)
    return script, [c for c, _ in script.infotext_fields], defaults


def _options():
    """Options that need everything paste-back does: a preset other than the default (what the
    infotext leaves out comes from it), booleans turned off, numbers, quoted text."""
    base = resolve_options("hands", {})
    opts = base.replace(enable=True, detect_text=False, keep_best=False, quality_threshold=0.35,
                        mask_dilation=20, face_prompt="[PROMPT], a face: smiling, eyes")
    return opts, base


def _infotext(opts, base, **extra):
    pairs = {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7, "Seed": 42, "Size": "512x512",
             **to_infotext(opts, base), "QFix score before": "0.412", **extra, "Version": "v1.10.1"}
    return "a portrait photo\nNegative prompt: lowres\n" + ", ".join(f"{k}: {quote(v)}" for k, v in pairs.items())


def _parsed(args):
    from lib_qfix.a1111.args import parse_args

    return parse_args(args[1:]).options


def test_forge_500_is_the_hosts_styles_field_not_qfix(host):
    script, comps, defaults = _script(host)
    opts, base = _options()
    text = _infotext(opts, base)
    with pytest.raises(TypeError, match="parameterized generic"):
        F.script_args(F.FORGE, script, comps, defaults, {"infotext": text})
    # the host's fields alone, infotext without any QFix key: the same error
    req = F.request(F.FORGE, infotext="a photo\nSteps: 20, Sampler: Euler a, Seed: 1, Size: 512x512")
    with pytest.raises(TypeError, match="parameterized generic"):
        F.apply_infotext(F.FORGE, req, F.host_paste_fields(F.FORGE))
    styles = [f for f in F.host_paste_fields(F.FORGE) if f.api == "styles"]
    with pytest.raises(TypeError, match="parameterized generic"):
        F.apply_infotext(F.FORGE, F.request(F.FORGE, infotext=text), styles)
    # QFix's fields alone, every other host field: no error
    others = [f for f in F.host_paste_fields(F.FORGE) if f.api != "styles"]
    F.apply_infotext(F.FORGE, F.request(F.FORGE, infotext=text), others + list(script.infotext_fields),
                     [None, *comps], {})
    # the caller's workaround: send styles, and the host skips that field
    F.script_args(F.FORGE, script, comps, defaults, {"infotext": text, "styles": []})
    # A1111 (gradio 3's update is unwrapped; pydantic 1's type_ is str): no error
    F.script_args(F.A1111, script, comps, defaults, {"infotext": text})


@pytest.mark.parametrize("hostname", F.HOSTS)
def test_api_paste_back_restores_every_option(host, hostname):
    script, comps, defaults = _script(host)
    opts, base = _options()
    assert defaults[1:] == positional(DEFAULTS.replace(enable=False))  # the panel shows other values
    body = {"infotext": _infotext(opts, base), "styles": []}
    if hostname == F.A1111:
        body.pop("styles")
    fields = script.infotext_fields
    if hostname == F.FORGE:  # Forge's components hold gradio 4 values
        comps, fields = F.as_gradio4(script.infotext_fields)
        script = types.SimpleNamespace(infotext_fields=fields, title=script.title)
    req, args = F.script_args(hostname, script, comps, defaults, body)
    assert _parsed(args) == opts
    assert req.steps == 20 and req.width == 512  # the host's own fields still paste


def test_forge_img2img_needs_no_styles(host):
    # img2img's styles paste field has no api name: the same infotext pastes back without "styles"
    script, comps, defaults = _script(host)
    opts, base = _options()
    g4comps, fields = F.as_gradio4(script.infotext_fields)
    g4 = types.SimpleNamespace(infotext_fields=fields, title=script.title)
    req, args = F.script_args(F.FORGE, g4, g4comps, defaults, {"infotext": _infotext(opts, base)}, tab="img2img")
    assert _parsed(args) == opts and req.steps == 20


@pytest.mark.parametrize("hostname", F.HOSTS)
def test_alwayson_args_win_over_infotext(host, hostname):
    script, comps, defaults = _script(host)
    opts, base = _options()
    body = {"infotext": _infotext(opts, base), "styles": [],
            "alwayson_scripts": {"QFix": {"args": [{"preset": "portrait"}]}}}
    _, args = F.script_args(hostname, script, comps, defaults, body)
    assert _parsed(args).preset == "portrait"  # a dict at position 0: the API shape, read alone


def test_infotext_without_qfix_keys_leaves_the_panel_defaults(host):
    script, comps, defaults = _script(host)
    body = {"infotext": "a photo\nSteps: 20, Sampler: Euler a, Seed: 1, Size: 512x512", "styles": []}
    for hostname in F.HOSTS:
        _, args = F.script_args(hostname, script, comps, defaults, body)
        assert args == defaults


def test_a_bad_value_is_skipped_not_a_500(host, caplog):
    script, comps, defaults = _script(host)
    opts, base = _options()
    text = _infotext(opts, base, **{"QFix rounds": "lots"})
    _, args = F.script_args(F.A1111, script, comps, defaults, {"infotext": text})
    i = 1 + [f.key for f in FIELDS].index("rounds")
    assert args[i] == defaults[i]  # the bad value left out: the panel keeps its value
    assert "QFix rounds" in caplog.text and "lots" in caplog.text


@pytest.mark.parametrize("gradio4", [False, True])
def test_ui_paste_restores_every_option(host, gradio4):
    # connect_paste on both hosts: callbacks run there, then the key (called) and the component's type
    from lib_qfix.a1111 import callbacks

    script, comps, defaults = _script(host)
    callbacks.register()
    opts, base = _options()
    target = script
    if gradio4:
        _, fields = F.as_gradio4(script.infotext_fields)
        target = types.SimpleNamespace(infotext_fields=fields)
    current = positional(DEFAULTS.replace(hand_confidence=0.1, rounds=4, denoise=0.9))
    pasted = paste_args(host, target, _infotext(opts, base), current)
    from lib_qfix.a1111.args import parse_args

    assert parse_args(pasted).options == opts


def test_component_values_are_plain_on_gradio_3_and_4(host):
    # the API converts with type(component.value): a None value would never paste, an int slider
    # value for a float option would truncate
    _, comps, _ = _script(host)
    kinds = {"bool": bool, "int": int, "float": float, "str": str, "choice": str}
    for f, c in zip(FIELDS, comps, strict=True):
        assert type(c.value) is kinds[f.kind], (f.key, c.value)
        assert type(F.Gradio4(c).value) is kinds[f.kind], (f.key, c.value)


def test_paste_keys_stay_names(host):
    # the hosts match "send to img2img" fields and skip override settings by name
    script, _, _ = _script(host)
    keys = [k for _, k in script.infotext_fields]
    assert keys == [f.infotext_key for f in FIELDS] and all(callable(k) for k in keys)
    assert {k: 1 for k in keys}.keys() == {f.infotext_key: 1 for f in FIELDS}.keys()
    assert "QFix rounds" in keys and copy.deepcopy(keys) == keys
    assert copy.deepcopy(keys[0]).field is FIELD_BY_KEY["enable"] or copy.deepcopy(keys[0]).field == FIELD_BY_KEY["enable"]
    pf = F.PasteField(*script.infotext_fields[0])
    assert pf.label == "QFix enable" and pf.function is keys[0] and pf.api is None


def test_gradio4_value_rules():
    g = F.gradio4_value
    assert g("checkbox", None) is False and g("slider", None, minimum=2) == 2 and g("slider", 0.5) == 0.5
    assert g("dropdown", None) is None and g("dropdown", "a", multiselect=True) == ["a"]
    assert g("textbox", None) is None and g("textbox", 3) == "3"
    assert F.gr_update(F.FORGE) == {"__type__": "update"} and F.gr_update(F.A1111)["__type__"] == "generic_update"


def test_healed_host_fields_paste_back_without_styles(host):
    """QFix's on_app_started shim (paste.heal_bare_updates) ends Forge's 500: the Styles field's empty
    gr.update() becomes None (skipped, as the UI paste treats None), real styles still paste."""
    from lib_qfix.a1111.paste import heal_bare_updates

    script, comps, _ = _script(host)
    opts, base = _options()
    fields = F.host_paste_fields(F.FORGE)
    original = {f.api: f.function for f in fields if f.api}
    assert heal_bare_updates(fields) == sum(1 for f in fields if f.api and f.function)
    assert heal_bare_updates(fields) == 0  # never wrapped twice
    mentioned: dict[int, object] = {}
    req = F.request(F.FORGE, infotext=_infotext(opts, base))
    F.apply_infotext(F.FORGE, req, fields + list(script.infotext_fields), [None, *comps], mentioned)
    assert req.steps == 20 and req.styles is None
    assert _parsed([False, *[mentioned.get(i + 1, d) for i, d in enumerate(positional(DEFAULTS))]]) == opts
    styles = next(f for f in fields if f.api == "styles")
    assert styles.function({"Styles array": ["warm"]}) == ["warm"]  # what the host parsed from the prompt
    # the UI: the healed target gives None exactly where the original gave the empty update
    for f in fields:
        if f.api in original and original[f.api] is not None:
            before = original[f.api]({})
            after = f.function({})
            assert after == (None if before == F.gr_update(F.FORGE) else before)
