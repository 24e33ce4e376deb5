"""One options schema for the UI, the API, presets, infotext and the JSON schema."""

from lib_qfix.options.field import Field, OptionError
from lib_qfix.options.fields import FIELDS
from lib_qfix.options.schema import (
    DEFAULTS,
    FIELD_BY_KEY,
    KEYS,
    SCHEMA_VERSION,
    Options,
    coerce_values,
    diff,
    from_infotext,
    from_positional,
    json_schema,
    positional,
    to_infotext,
    validate,
)

__all__ = [
    "DEFAULTS", "FIELDS", "FIELD_BY_KEY", "KEYS", "SCHEMA_VERSION", "Field", "OptionError", "Options",
    "coerce_values", "diff", "from_infotext", "from_positional", "json_schema", "positional", "to_infotext",
    "validate",
]
