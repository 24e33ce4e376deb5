"""Script args -> options. Two shapes reach ``postprocess_image``:

- API: ``alwayson_scripts: {"QFix": {"args": [{...}]}}`` puts a dict at position 0; it is a partial
  options dict laid over its preset (``"preset"`` key, else the default preset) and the defaults.
  ``enable`` defaults to true (sending options means "run QFix"). The UI defaults that the host
  appends after it are ignored.
- UI / infotext: positional values, one per field in :data:`lib_qfix.options.FIELDS` order. Every
  value is validated: a bool option takes only true/false (A1111 overwrites the UI defaults by
  position, so ``"args": [5]`` arrives as a full list whose first value, ``enable``, is 5).

Either way the resolved options (request over preset) then pass the server's client policy
(:func:`lib_qfix.a1111.settings.check_client_options`): no paths, only the resources the server
offers. Errors are :class:`OptionError` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lib_qfix.a1111.settings import check_client_options
from lib_qfix.options import DEFAULTS, FIELDS, OptionError, Options, coerce_values, from_positional
from lib_qfix.options.policy import PATH_LIKE_FIELDS, check_path
from lib_qfix.presets import PresetError, resolve, resolve_options


@dataclass(frozen=True)
class ParsedArgs:
    """``options`` to run with; ``baseline`` the preset's options (infotext records the difference)."""

    options: Options
    baseline: Options


def preset_options(name: str, user_dir: str | None = None) -> Options:
    """The options of preset ``name`` over the defaults (raises OptionError naming ``preset``)."""
    try:
        return resolve_options(name, {}, user_dir=user_dir)
    except PresetError as e:
        raise OptionError("preset", name, e.reason) from None


def parse_args(args: Sequence[Any], default_preset: str = "default", user_dir: str | None = None) -> ParsedArgs:
    """Options from the script's args, checked against the server's client policy; raises
    :class:`OptionError` naming the bad field."""
    parsed = _parse(args, default_preset, user_dir)
    if parsed.options.enable:  # a disabled script reads nothing, so it has nothing to refuse
        check_client_options(parsed.options)
    return parsed


def _parse(args: Sequence[Any], default_preset: str, user_dir: str | None) -> ParsedArgs:
    if not args:
        return ParsedArgs(DEFAULTS, DEFAULTS)
    first = args[0]
    if isinstance(first, dict):
        return _from_dict(first, default_preset, user_dir)
    if len(args) < len(FIELDS):
        raise OptionError("args", len(args), f"a dict at position 0, or {len(FIELDS)} positional values")
    options = from_positional(list(args[: len(FIELDS)]))
    try:
        baseline = preset_options(options.preset, user_dir)
    except OptionError:
        baseline = DEFAULTS  # UI values are complete; a missing preset only changes the infotext baseline
    return ParsedArgs(options, baseline)


def _from_dict(data: dict[str, Any], default_preset: str, user_dir: str | None) -> ParsedArgs:
    explicit = coerce_values({str(k): v for k, v in data.items()}, source="API")  # field errors first
    for key in PATH_LIKE_FIELDS:  # before the preset is looked up: a path is refused as a path
        check_path(key, explicit.get(key))
    explicit.setdefault("enable", True)
    preset = explicit.get("preset") or default_preset
    explicit["preset"] = preset
    try:
        resolved = resolve(preset, explicit, user_dir=user_dir)  # the preset is read once
    except PresetError as e:  # a missing or broken preset: the request's `preset` is what is wrong
        raise OptionError("preset", preset, e.reason) from None
    return ParsedArgs(resolved.options, resolved.baseline)
