"""The panel's paste fields: how infotext values come back into QFix's components, on A1111 and Forge.

A script's ``infotext_fields`` is a list of ``(component, target)``. Both hosts read it in two places
(A1111 1.10.1 and Forge ``modules/infotext_utils.py`` and ``modules/api/api.py``):

- the UI paste (``connect_paste``): ``target(params)`` if ``target`` is callable, else
  ``params[target]``; then the component value's type converts it, with ``"False"`` special-cased;
- the API's ``infotext`` request field (``Api.apply_infotext``): the same lookup, then
  ``type(component.value)(value)`` with **no** ``"False"`` case, so a plain key made ``"False"``
  paste back as ``True``; and it never runs the ``on_infotext_pasted`` callbacks, so options the
  infotext leaves out (it records only those differing from the preset) were not filled from the
  preset there.

A :class:`PasteKey` is the infotext key (a ``str``, so the hosts' "send to img2img" name matching and
override-settings skipping keep working) that is also callable: the hosts call it with the parsed
params and get the option's value already converted by the options schema (``bool``/``int``/
``float``/``str``), filled from the infotext's preset when absent. Nothing on the host's side changes.
Needs neither gradio nor the host.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from lib_qfix.a1111.args import preset_options
from lib_qfix.a1111.settings import default_preset, user_preset_dir
from lib_qfix.options import DEFAULTS, FIELDS, PRESET_INFOTEXT_KEY, Field, OptionError, positional
from lib_qfix.options.schema import FIELD_BY_INFOTEXT

log = logging.getLogger("qfix")


def fill_from_preset(params: dict[str, Any]) -> None:
    """Infotext records only options that differ from its preset: fill the others (as text, as
    parsed infotext holds them) from that preset, so a paste restores all of them. Infotext without
    QFix options is left alone; a complete one is not looked at again (one preset read per paste)."""
    if not any(k in FIELD_BY_INFOTEXT for k in params):
        return
    if all(f.infotext_key in params for f in FIELDS):
        return
    name = params.get(PRESET_INFOTEXT_KEY) or default_preset()
    try:
        base = preset_options(str(name), user_preset_dir())
    except Exception:  # a preset missing here: the built-in defaults are the best guess
        base = DEFAULTS
    for f, value in zip(FIELDS, positional(base), strict=True):
        params.setdefault(f.infotext_key, str(value))


def pasted_value(field: Field, params: dict[str, Any]) -> Any:
    """The value of ``field`` in parsed infotext ``params``, converted by the options schema; None
    when absent or invalid (the host then leaves the component as it is; an invalid value is logged,
    never raised: an exception here is an HTTP 500 for the API caller)."""
    fill_from_preset(params)
    if field.infotext_key not in params:
        return None
    value = params[field.infotext_key]
    if field.kind in ("str", "choice") and isinstance(value, str) and value.startswith('"'):
        try:  # a quoted value the host did not unquote
            value = json.loads(value)
        except ValueError:
            pass
    try:
        return field.coerce(value)
    except OptionError as e:
        log.warning("QFix: infotext %r not pasted back: %s", field.infotext_key, e)
        return None


class PasteKey(str):
    """An infotext key that the hosts also call as ``key(params)`` (see the module docstring)."""

    field: Field

    def __new__(cls, field: Field) -> PasteKey:
        key = super().__new__(cls, field.infotext_key)
        key.field = field
        return key

    def __getnewargs__(self) -> tuple[Field]:  # type: ignore[override]  # copy/pickle rebuild from the field
        return (self.field,)

    def __call__(self, params: dict[str, Any]) -> Any:
        return pasted_value(self.field, params)


def infotext_fields(components: Sequence[Any]) -> list[tuple[Any, str]]:
    """``(component, PasteKey)`` per field, for ``components`` in :data:`FIELDS` order."""
    return [(c, PasteKey(f)) for c, f in zip(components, FIELDS, strict=True)]


def _bare_update(value: Any) -> bool:
    """gradio 4's empty ``gr.update()`` (``{"__type__": "update"}``): "leave the component as is"."""
    return isinstance(value, dict) and value.get("__type__") == "update" and len(value) == 1


def _none_for_bare_update(function: Any) -> Any:
    def target(params: dict[str, Any]) -> Any:
        value = function(params)
        return None if _bare_update(value) else value

    target.qfix_heals = function  # type: ignore[attr-defined]  # marks it: never wrapped twice
    return target


def heal_bare_updates(fields: list[Any]) -> int:
    """Forge's API answers HTTP 500 to every txt2img request with ``infotext`` and no ``styles``: its
    own Styles paste field returns gradio 4's empty ``gr.update()``, which ``apply_infotext`` does not
    unwrap (it knows only gradio 3's ``generic_update``) and then checks with ``isinstance(value,
    list[str])``. Replace, in place, each API paste field with a callable target by one whose target
    returns None instead of an empty update: the UI paste (``connect_paste``) turns None into that very
    ``gr.update()``, so the UI is unchanged, and the API skips the field as it does any absent value.
    Returns how many fields were wrapped; fields of gradio 3 hosts are wrapped harmlessly (their
    targets never return the gradio 4 marker)."""
    wrapped = 0
    for i, f in enumerate(fields):
        function = getattr(f, "function", None)
        if getattr(f, "api", None) and callable(function) and not hasattr(function, "qfix_heals"):
            fields[i] = type(f)(f.component, _none_for_bare_update(function), api=f.api)
            wrapped += 1
    return wrapped
