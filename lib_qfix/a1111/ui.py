"""The QFix panel, generated from :data:`lib_qfix.options.FIELDS`.

One component per field, in FIELDS order (so the script args are positional values in that
order): the meta fields (enable, preset) in the top row, the others in sections by ``Field.group``.
Element ids and classes come from :mod:`lib_qfix.a1111.elements` (``qfix-<tab>-<key>``: txt2img and
img2img both show the panel and ids must be unique on the page; every component also has the class
``qfix-<key>``). Only APIs present in both gradio 3.41 and 4.x are used (no ``gr.Box``, no ``.style()``).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from lib_qfix.a1111 import controlnet, paste, settings
from lib_qfix.a1111 import elements as E
from lib_qfix.a1111.args import preset_options
from lib_qfix.a1111.settings import user_preset_dir
from lib_qfix.options import DEFAULTS, FIELDS, META_FIELDS, PRESET_FIELDS, Field, Options, from_positional
from lib_qfix.options.groups import G_GENERAL
from lib_qfix.presets import names, save_preset


def _host_choices(key: str) -> list[str]:
    """Sampler / scheduler / upscaler names the host knows (empty list outside A1111)."""
    try:
        if key == "sampler":
            from modules import sd_samplers

            return [s.name for s in sd_samplers.visible_samplers()]
        if key == "scheduler":
            from modules import sd_schedulers

            return [s.label for s in sd_schedulers.schedulers]
        if key == "upscaler":
            from modules import shared

            return [str(u.name) for u in shared.sd_upscalers]
        if key.startswith("controlnet_") and key.endswith(("_model", "_module")):  # ControlNet's own lists
            return controlnet.model_names() if key.endswith("_model") else controlnet.module_names()
    except Exception:  # older host or outside A1111: free text still works
        pass
    return []


def _preset_names() -> list[str]:
    try:
        return names(settings.user_preset_dir())
    except Exception:
        return ["default"]


def component(f: Field, value: Any, tab: str) -> Any:
    """The panel's gradio component for one field on generation tab ``tab``."""
    elem_id = E.element_id(E.FIELD, tab, key=f.key)
    if f.key == "preset":
        names = _preset_names()
        if value not in names:
            names.append(value)
        return gr.Dropdown(choices=names, allow_custom_value=True, scale=3, label=f.label, value=value,
                           elem_id=elem_id, elem_classes=[E.field_class(f.key)])
    return widget(f, value, elem_id, [E.field_class(f.key)])


def widget(f: Field, value: Any, elem_id: str, elem_classes: list[str] | None = None) -> Any:
    """The gradio widget the schema gives field ``f`` (label, range, step, choices), anywhere on the
    page: the panel, or the filter tab's threshold slider."""
    kw: dict[str, Any] = dict(label=f.label, value=value, elem_id=elem_id, elem_classes=elem_classes or [])
    if f.kind == "bool":
        return gr.Checkbox(info=None, **kw)
    if f.kind in ("int", "float"):
        return gr.Slider(minimum=f.minimum, maximum=f.maximum, step=f.step or (1 if f.kind == "int" else 0.01),
                         **kw)
    if f.kind == "choice":
        choices = list(f.choice_list())
        if f.free_choice:
            choices += [c for c in _host_choices(f.key) if c not in choices]
        return gr.Dropdown(choices=choices, allow_custom_value=f.free_choice, **kw)
    return gr.Textbox(lines=2 if f.multiline else 1, placeholder=f.help, **kw)


NEGATIVE_LABEL = "Append QFix's suggested negative"


def negative_button(tab: str) -> Any:
    """The small "append suggested negative" button. It has no Python event: javascript/qfix.js
    wires its click (by elem_id) to append the selected image's ``QFix suggested negative`` from the
    gallery's generation info to the negative prompt. Being a real component inside the accordion,
    it has gradio's button styling and collapses with the panel."""
    return gr.Button(NEGATIVE_LABEL, size="sm", variant="secondary", scale=0, min_width=0,
                     elem_id=E.element_id(E.APPEND_NEGATIVE, tab), elem_classes=[E.NEGATIVE_BUTTON_CLASS])


def build_panel(is_img2img: bool) -> tuple[list[Any], list[tuple[Any, str]]]:
    """Build the accordion inside the caller's Blocks; returns (components in FIELDS order,
    infotext_fields: ``(component, PasteKey)``, see :mod:`lib_qfix.a1111.paste`). No side effects
    beyond creating components (``ui()`` runs several times)."""
    tab = "img2img" if is_img2img else "txt2img"
    try:
        start = _load(settings.default_preset())
    except Exception:
        start = DEFAULTS
    start = start.replace(enable=False)
    comps: dict[str, Any] = {}
    with gr.Accordion("QFix", open=False, elem_id=E.element_id(E.PANEL, tab), elem_classes=[E.PANEL_CLASS]):
        with gr.Row(elem_classes=[E.ROW_CLASS]):
            for f in META_FIELDS:
                comps[f.key] = component(f, getattr(start, f.key), tab)
            refresh = gr.Button("Refresh", elem_id=E.element_id(E.REFRESH, tab), elem_classes=[E.BUTTON_CLASS],
                                scale=1)
        with gr.Row(elem_classes=[E.ROW_CLASS]):
            save_name = gr.Textbox(label="Save current settings as preset", placeholder="my-preset",
                                   elem_id=E.element_id(E.SAVE_NAME, tab), scale=3)
            save = gr.Button("Save preset", elem_id=E.element_id(E.SAVE, tab), elem_classes=[E.BUTTON_CLASS],
                             scale=1)
        status = gr.HTML("", elem_id=E.element_id(E.STATUS, tab), elem_classes=[E.STATUS_CLASS])
        negative_button(tab)
        groups: dict[str, list[Field]] = {}
        for f in PRESET_FIELDS:
            groups.setdefault(f.group, []).append(f)
        for group, fields in groups.items():
            with gr.Accordion(group, open=group == G_GENERAL,
                              elem_id=E.element_id(E.GROUP, tab, group=group.lower().replace(" ", "-"))):
                for f in fields:
                    comps[f.key] = component(f, getattr(start, f.key), tab)
    ordered = [comps[f.key] for f in FIELDS]
    _wire(ordered, [comps[f.key] for f in PRESET_FIELDS], comps["preset"], refresh, save, save_name, status)
    return ordered, paste.infotext_fields(ordered)


def _load(name: str) -> Options:
    return preset_options(name, user_preset_dir())


def _msg(text: str, ok: bool = True) -> str:
    import html

    cls = E.OK_CLASS if ok else E.ERROR_CLASS
    return f'<span class="{cls}">{html.escape(text)}</span>'


def on_preset(name: str, *current: Any) -> list[Any]:
    """Preset chosen: every field a preset sets (all but the meta fields) takes the preset's value."""
    try:
        opts = _load(name)
    except Exception as e:
        return [gr.update() for _ in PRESET_FIELDS] + [_msg(str(e), ok=False)]
    return [gr.update(value=getattr(opts, f.key)) for f in PRESET_FIELDS] + [_msg(f"Loaded preset {name!r}.")]


def on_save(name: str, *values: Any) -> list[Any]:
    """Save the panel's values as a user preset; returns (dropdown update, status)."""
    try:
        opts = from_positional(list(values)).replace(preset=name.strip())
        save_preset(name.strip(), opts, user_preset_dir())
    except Exception as e:
        return [gr.update(), _msg(f"Not saved: {e}", ok=False)]
    return [gr.update(choices=_preset_names(), value=name.strip()), _msg(f"Saved preset {name.strip()!r}.")]


def _wire(ordered: list[Any], preset_set: list[Any], preset: Any, refresh: Any, save: Any, save_name: Any,
          status: Any) -> None:
    """``ordered``: every component in FIELDS order; ``preset_set``: those a preset sets."""
    # select, not change: a paste (infotext) also sets the preset and must not reset the pasted values
    preset.select(on_preset, inputs=[preset], outputs=preset_set + [status], show_progress=False)
    refresh.click(lambda: gr.update(choices=_preset_names()), inputs=[], outputs=[preset], show_progress=False)
    save.click(on_save, inputs=[save_name] + ordered, outputs=[preset, status], show_progress=False)
