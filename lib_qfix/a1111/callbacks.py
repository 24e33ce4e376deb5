"""Registers QFix's host callbacks (called once from ``scripts/qfix_script.py`` at import, which is
when A1111 extensions register; the host clears callbacks before reloading scripts)."""

from __future__ import annotations

from typing import Any

from modules import script_callbacks

from lib_qfix.a1111.paste import fill_from_preset


def fill_missing_on_paste(infotext: str, params: dict[str, Any]) -> None:
    """``on_infotext_pasted``: infotext records only options that differ from the preset; fill
    the others from that preset so a UI paste restores all of them.
    Infotext without QFix options is left alone. (The API's ``infotext`` field runs no callbacks:
    there the paste keys of :mod:`lib_qfix.a1111.paste` fill from the preset themselves.)"""
    fill_from_preset(params)


def register() -> None:
    from lib_qfix.a1111 import api, settings, tab

    script_callbacks.on_ui_settings(settings.on_ui_settings)
    script_callbacks.on_app_started(api.on_app_started)
    script_callbacks.on_infotext_pasted(fill_missing_on_paste)
    script_callbacks.on_ui_tabs(tab.on_ui_tabs)  # the "QFix" folder-filtering tab
