"""Registers QFix's host callbacks (called once from ``scripts/qfix_script.py`` at import, which is
when A1111 extensions register; the host clears callbacks before reloading scripts)."""

from __future__ import annotations

from typing import Any

from modules import script_callbacks

from lib_qfix.a1111.paste import fill_from_preset, heal_bare_updates


def fill_missing_on_paste(infotext: str, params: dict[str, Any]) -> None:
    """``on_infotext_pasted``: infotext records only options that differ from the preset; fill
    the others from that preset so a UI paste restores all of them.
    Infotext without QFix options is left alone. (The API's ``infotext`` field runs no callbacks:
    there the paste keys of :mod:`lib_qfix.a1111.paste` fill from the preset themselves.)"""
    fill_from_preset(params)


def heal_api_paste(*_: Any) -> None:
    """``on_app_started`` (the UI, hence every tab's paste fields, exists by then): see
    :func:`lib_qfix.a1111.paste.heal_bare_updates`. Never raises: a host without these lists is left alone."""
    from modules import infotext_utils

    for name, tab in dict(getattr(infotext_utils, "paste_fields", None) or {}).items():
        fields = tab.get("fields") if isinstance(tab, dict) else None
        if not isinstance(fields, list):  # e.g. A1111's Extras tab registers no paste fields
            continue
        try:
            heal_bare_updates(fields)
        except Exception as e:  # a differently shaped host: paste-back stays as the host does it
            print(f"QFix: {name} paste fields left as they are ({type(e).__name__}: {e})")


def register() -> None:
    from lib_qfix.a1111 import api, settings, tab

    script_callbacks.on_ui_settings(settings.on_ui_settings)
    script_callbacks.on_app_started(api.on_app_started)
    script_callbacks.on_app_started(heal_api_paste)
    script_callbacks.on_infotext_pasted(fill_missing_on_paste)
    script_callbacks.on_ui_tabs(tab.on_ui_tabs)  # the "QFix" folder-filtering tab
