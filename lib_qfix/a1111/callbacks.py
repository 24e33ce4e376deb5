"""Registers QFix's host callbacks (called once from ``scripts/qfix_script.py`` at import, which is
when A1111 extensions register; the host clears callbacks before reloading scripts)."""

from __future__ import annotations

from typing import Any

from modules import script_callbacks

from lib_qfix.a1111.args import preset_options
from lib_qfix.a1111.settings import default_preset, user_preset_dir
from lib_qfix.options import DEFAULTS, FIELDS, PRESET_INFOTEXT_KEY, positional
from lib_qfix.options.schema import FIELD_BY_INFOTEXT


def fill_missing_on_paste(infotext: str, params: dict[str, Any]) -> None:
    """``on_infotext_pasted``: infotext records only options that differ from the preset; fill
    the others from that preset so a paste (UI or the API ``infotext`` field) restores all of them.
    Infotext without QFix options is left alone."""
    if not any(k in FIELD_BY_INFOTEXT for k in params):
        return
    name = params.get(PRESET_INFOTEXT_KEY) or default_preset()
    try:
        base = preset_options(str(name), user_preset_dir())
    except Exception:
        base = DEFAULTS
    for f, value in zip(FIELDS, positional(base), strict=True):
        params.setdefault(f.infotext_key, str(value))


def register() -> None:
    from lib_qfix.a1111 import api, settings, tab

    script_callbacks.on_ui_settings(settings.on_ui_settings)
    script_callbacks.on_app_started(api.on_app_started)
    script_callbacks.on_infotext_pasted(fill_missing_on_paste)
    script_callbacks.on_ui_tabs(tab.on_ui_tabs)  # the "QFix" folder-filtering tab
