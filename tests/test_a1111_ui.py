"""The panel inside gr.Blocks (gradio 3.41.2), settings, callbacks and install.py."""

from __future__ import annotations

import pytest

from lib_qfix.options import DEFAULTS, FIELDS
from testkit.fake_a1111 import install


@pytest.fixture()
def host(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path)


def build(is_img2img=False):
    import gradio as gr

    from lib_qfix.a1111.script import QFixScript

    s = QFixScript()
    with gr.Blocks() as demo:
        comps = s.ui(is_img2img)
    return s, comps, demo


def test_panel_has_one_component_per_field_in_order(host):
    import gradio as gr

    s, comps, demo = build()
    assert len(comps) == len(FIELDS)
    ids = [c.elem_id for c in comps]
    assert ids == [f"qfix-txt2img-{f.key}" for f in FIELDS] and len(set(ids)) == len(ids)
    kinds = {f.key: type(c) for f, c in zip(FIELDS, comps, strict=True)}
    assert kinds["enable"] is gr.Checkbox and kinds["denoise"] is gr.Slider and kinds["mode"] is gr.Dropdown
    assert kinds["face_prompt"] is gr.Textbox
    assert comps[0].value is False  # off until the user enables it
    assert [c.value for c in comps[2:]] == [getattr(DEFAULTS, f.key) for f in FIELDS[2:]]
    assert [k for _, k in s.infotext_fields] == [f.infotext_key for f in FIELDS]
    assert s.paste_field_names == [f.infotext_key for f in FIELDS]
    _, comps2, _ = build(is_img2img=True)
    assert comps2[0].elem_id == "qfix-img2img-enable"  # unique on a page with both tabs
    # config renders (what the browser receives)
    cfg = demo.get_config_file()
    assert any(c.get("props", {}).get("elem_id") == "qfix-txt2img-panel" for c in cfg["components"])


def _layout_node(node, block_id):
    if node["id"] == block_id:
        return node
    for child in node.get("children", []):
        found = _layout_node(child, block_id)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("is_img2img", [False, True])
def test_append_negative_is_a_small_button_inside_the_accordion(host, is_img2img):
    # The issue: qfix.js used to inject a bare <button> after the accordion's content (no gradio
    # styling, shown while collapsed). Now it is a gradio component, a direct child of the QFix
    # accordion (so it collapses with it and is not hidden in a sub-section), small and secondary.
    tab = "img2img" if is_img2img else "txt2img"
    _, comps, demo = build(is_img2img)
    cfg = demo.get_config_file()
    by_elem = {c["props"].get("elem_id"): c for c in cfg["components"]}
    panel, button = by_elem[f"qfix-{tab}-panel"], by_elem.get(f"qfix-{tab}-append-negative")
    assert button is not None, "no append-negative button in the Blocks config"
    assert panel["type"] == "accordion" and button["type"] == "button"
    props = button["props"]
    assert props["value"] == "Append QFix's suggested negative"
    assert props.get("size") == "sm" and props["variant"] == "secondary" and props["scale"] == 0
    assert "qfix-negative-button" in props["elem_classes"]
    content = _layout_node(cfg["layout"], panel["id"])["children"]  # the accordion's own column
    assert button["id"] in [n["id"] for n in content]
    assert all(c.elem_id != props["elem_id"] for c in comps)  # not a script arg


def test_preset_load_and_save(host, tmp_path):
    from lib_qfix.a1111 import settings, ui
    from lib_qfix.options import positional

    out = ui.on_preset("hands")
    values = [u["value"] for u in out[:-1]]
    from lib_qfix.presets import resolve_options

    assert values == positional(resolve_options("hands", {}))[2:] and "Loaded" in out[-1]
    bad = ui.on_preset("no-such")
    assert "qfix-error" in bad[-1]
    vals = positional(DEFAULTS.replace(denoise=0.33))
    saved = ui.on_save("mine", *vals)
    assert "Saved" in saved[-1] and "mine" in saved[0]["choices"]
    assert (tmp_path / "data" / "qfix" / "presets" / "mine.json").is_file()
    assert settings.user_preset_dir().startswith(str(tmp_path))
    refused = ui.on_save("default", *vals)  # bundled names are refused, with the reason
    assert "Not saved" in refused[-1]


def test_settings_and_callbacks(host):
    from lib_qfix.a1111 import callbacks, settings

    shared = host.modules["modules.shared"]
    cb = host.modules["modules.script_callbacks"]
    callbacks.register()
    assert len(cb.registered["ui_settings"]) == 1
    assert [f.__name__ for f in cb.registered["app_started"]] == ["on_app_started", "heal_api_paste"]
    for fn in cb.registered["app_started"][1:]:
        fn(None, None)  # a host without paste-field lists: left alone, never raises
    for fn in cb.registered["ui_settings"]:
        fn()
    labels = shared.opts.data_labels
    assert {"qfix_models_dir", "qfix_default_preset", "qfix_save_before", "qfix_scorer_device"} <= set(labels)
    assert all(i.section == ("qfix", "QFix") for i in labels.values())
    # the client policy is the server's: /sdapi/v1/options cannot change it (A1111's restrict_api)
    policy = {"qfix_models_dir", "qfix_default_preset", "qfix_scorer_device", "qfix_clip_models",
              "qfix_clip_weights", "qfix_judge_url", "qfix_judge_model"}
    assert {k for k, i in labels.items() if getattr(i, "restrict_api", False)} == policy
    assert settings.default_preset() == "default" and settings.models_dir().endswith("qfix")
    shared.opts.qfix_scorer_device = "cpu"
    assert settings.apply_device(DEFAULTS).device == "cpu"
    assert settings.apply_device(DEFAULTS.replace(device="cuda")).device == "cuda"


def test_warnings_name_server_folders_without_spelling_them_out(host):
    from lib_qfix.a1111 import settings

    models = settings.models_dir()
    text = f"cannot download CLIP weights; put a checkpoint file in {models} or in {host.data_path}/x"
    public = settings.public_text(text)
    assert models not in public and str(host.data_path) not in public
    assert "the QFix models folder" in public and "the WebUI data folder/x" in public


def test_paste_fill_ignores_other_infotext(host):
    from lib_qfix.a1111.callbacks import fill_missing_on_paste

    params = {"Steps": "20"}
    fill_missing_on_paste("", params)
    assert params == {"Steps": "20"}
    params = {"QFix enable": "True", "QFix preset": "hands"}
    fill_missing_on_paste("", params)
    assert len([k for k in params if k.startswith("QFix ")]) == len(FIELDS)
