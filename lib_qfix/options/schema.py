"""The options record built from :data:`FIELDS`, and its conversions.

``Options`` is a frozen dataclass with one attribute per field. Conversions:
dict (API, presets) <-> Options, positional UI values -> Options, Options -> infotext pairs
(only what differs from a baseline) and back, Options -> JSON schema.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lib_qfix.options.field import Field, OptionError, closest
from lib_qfix.options.fields import FIELDS

FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
KEYS: tuple[str, ...] = tuple(FIELD_BY_KEY)
FIELD_BY_INFOTEXT: dict[str, Field] = {f.infotext_key: f for f in FIELDS}
SCHEMA_VERSION = 1

Options = dataclasses.make_dataclass(
    "Options",
    [(f.key, Any, dataclasses.field(default=f.default)) for f in FIELDS],
    frozen=True,
    namespace={
        "__doc__": "All QFix options (see lib_qfix/options/fields.py for units and ranges).",
        "to_dict": lambda self: dataclasses.asdict(self),
        "replace": lambda self, **kw: validate({**dataclasses.asdict(self), **kw}),
    },
)
Options.__module__ = __name__  # so that Options pickle (process pools, Ray workers)

DEFAULTS = Options()


def check_keys(data: Mapping[str, Any], source: str | None = None) -> None:
    """Raise :class:`OptionError` for the first unknown key, naming the closest valid key."""
    for key in data:
        if key not in FIELD_BY_KEY:
            hint = closest(str(key), KEYS)
            allowed = f"did you mean {hint!r}?" if hint else "see `qfix schema` for the valid keys"
            raise OptionError(str(key), data[key], "unknown option; " + allowed, source)


def coerce_values(data: Mapping[str, Any], source: str | None = None) -> dict[str, Any]:
    """Validate a partial dict of options; returns normalised values (same keys)."""
    check_keys(data, source)
    out = {}
    for key, value in data.items():
        try:
            out[key] = FIELD_BY_KEY[key].coerce(value)
        except OptionError as e:
            raise e.with_source(source) if source else e from None
    return out


def validate(data: Mapping[str, Any], base: Any = None, source: str | None = None) -> Any:
    """Options from a (partial) dict laid over ``base`` (default: the built-in defaults)."""
    merged = dataclasses.asdict(base if base is not None else DEFAULTS)
    merged.update(coerce_values(data, source))
    return Options(**merged)


def from_positional(values: Sequence[Any], base: Any = None) -> Any:
    """Options from UI values in :data:`FIELDS` order (missing trailing values keep ``base``)."""
    if len(values) > len(FIELDS):
        raise OptionError("args", len(values), f"at most {len(FIELDS)} positional values")
    return validate({f.key: v for f, v in zip(FIELDS, values, strict=False)}, base)


def positional(options: Any) -> list[Any]:
    """UI values in :data:`FIELDS` order."""
    return [getattr(options, f.key) for f in FIELDS]


def diff(options: Any, baseline: Any = None) -> dict[str, Any]:
    """Fields whose value differs from ``baseline`` (default: built-in defaults)."""
    base = baseline if baseline is not None else DEFAULTS
    return {f.key: getattr(options, f.key) for f in FIELDS if getattr(options, f.key) != getattr(base, f.key)}


def to_infotext(options: Any, baseline: Any = None, always: Iterable[str] = ("enable", "preset")) -> dict[str, Any]:
    """Infotext pairs (``"QFix hand confidence": 0.6``) for options differing from ``baseline``,
    plus the keys in ``always``."""
    keys = set(diff(options, baseline)) | set(always)
    return {f.infotext_key: getattr(options, f.key) for f in FIELDS if f.key in keys}


def from_infotext(params: Mapping[str, Any]) -> dict[str, Any]:
    """The QFix options found in parsed infotext ``params`` (values may be strings), validated.
    Keys that are not QFix options are ignored; a bad value raises :class:`OptionError`."""
    found = {}
    for name, value in params.items():
        field = FIELD_BY_INFOTEXT.get(name)
        if field is None:
            continue
        if field.kind in ("str", "choice") and isinstance(value, str) and value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        found[field.key] = field.coerce(value)
    return found


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for the options dict (API ``args[0]`` and preset ``options``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "QFix options",
        "type": "object",
        "additionalProperties": False,
        "properties": {f.key: f.json_schema() for f in FIELDS},
        "x-schema-version": SCHEMA_VERSION,
    }
