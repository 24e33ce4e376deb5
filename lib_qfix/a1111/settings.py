"""A1111 settings of QFix (Settings > QFix) and the values read from them.

Keys: ``qfix_models_dir`` (folder for CLIP weights and learned prompts; empty: ``models/qfix``),
``qfix_default_preset``, ``qfix_save_before`` (also save the image as it was before QFix changed
it), ``qfix_scorer_device`` (auto/cpu/cuda/mps; overrides the ``device`` option when that is auto).
User presets live in ``<data dir>/qfix/presets`` (outside the extension folder: kept on update).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from lib_qfix.options.fields import DEVICES

SECTION = ("qfix", "QFix")


def _opt(key: str, default: Any) -> Any:
    from modules import shared

    return getattr(shared.opts, key, default)


def models_dir() -> str:
    from modules import paths_internal

    return _opt("qfix_models_dir", "") or os.path.join(paths_internal.models_path, "qfix")


def user_preset_dir() -> str:
    from modules import paths_internal

    return os.path.join(paths_internal.data_path, "qfix", "presets")


def default_preset() -> str:
    return _opt("qfix_default_preset", "default") or "default"


def save_before() -> bool:
    return bool(_opt("qfix_save_before", False))


def apply_device(options: Any) -> Any:
    """The scorer device setting wins over ``device == "auto"`` in options."""
    dev = _opt("qfix_scorer_device", "auto")
    if options.device == "auto" and dev in DEVICES and dev != "auto":
        return replace(options, device=dev)
    return options


def _preset_choices() -> dict[str, Any]:
    try:
        from lib_qfix.presets import list_presets

        return {"choices": [i.name for i in list_presets(user_preset_dir()) if not i.error]}
    except Exception:  # settings page must render even if presets cannot be listed
        return {"choices": ["default"]}


def on_ui_settings() -> None:
    import gradio as gr
    from modules import shared

    add, info = shared.opts.add_option, shared.OptionInfo
    add("qfix_models_dir", info("", "QFix models folder (CLIP weights, learned prompts; empty: models/qfix)",
                                section=SECTION))
    add("qfix_default_preset", info("default", "QFix default preset", gr.Dropdown, _preset_choices,
                                     section=SECTION))
    add("qfix_save_before", info(False, "QFix: also save the image as it was before fixing", section=SECTION))
    add("qfix_scorer_device", info("auto", "QFix scorer device", gr.Radio, {"choices": list(DEVICES)},
                                   section=SECTION))
