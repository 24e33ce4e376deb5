"""Conversions of the options record (:class:`~lib_qfix.options.fields.Options`).

Dict (API, presets) <-> Options (:func:`validate`), positional UI values -> Options, Options ->
infotext pairs (only what differs from a baseline, plus the meta fields) and back, Options -> JSON
schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lib_qfix.fix.strategy import strategy_schema
from lib_qfix.options.derived import META_KEYS
from lib_qfix.options.field import Field, OptionError
from lib_qfix.options.fields import (
    DEFAULTS,
    FIELD_BY_KEY,
    FIELDS,
    KEYS,
    Options,
    check_keys,
    coerce_values,
    validate,
)

__all__ = ["DEFAULTS", "FIELD_BY_INFOTEXT", "FIELD_BY_KEY", "KEYS", "SCHEMA_VERSION", "Options", "check_keys",
           "coerce_values", "diff", "from_infotext", "from_positional", "json_schema", "positional",
           "to_infotext", "validate"]

FIELD_BY_INFOTEXT: dict[str, Field] = {f.infotext_key: f for f in FIELDS}
SCHEMA_VERSION = 1


def from_positional(values: Sequence[Any], base: Options | None = None) -> Options:
    """Options from UI values in :data:`FIELDS` order (missing trailing values keep ``base``)."""
    if len(values) > len(FIELDS):
        raise OptionError("args", len(values), f"at most {len(FIELDS)} positional values")
    return validate({f.key: v for f, v in zip(FIELDS, values, strict=False)}, base)


def positional(options: Options) -> list[Any]:
    """UI values in :data:`FIELDS` order."""
    return [getattr(options, f.key) for f in FIELDS]


def diff(options: Options, baseline: Options | None = None) -> dict[str, Any]:
    """Fields whose value differs from ``baseline`` (default: built-in defaults)."""
    base = baseline if baseline is not None else DEFAULTS
    return {f.key: getattr(options, f.key) for f in FIELDS if getattr(options, f.key) != getattr(base, f.key)}


def to_infotext(options: Options, baseline: Options | None = None,
                always: Iterable[str] = META_KEYS) -> dict[str, Any]:
    """Infotext pairs (``"QFix hand confidence": 0.6``) for options differing from ``baseline``,
    plus the keys in ``always`` (default: the meta fields, ``enable`` and ``preset``)."""
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
        # the fix strategy table (catalogue defaults; the ``strategies`` option overrides them)
        "x-fix-strategies": strategy_schema(),
    }
