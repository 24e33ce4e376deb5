"""One options schema for the UI, the API, presets, infotext and the JSON schema.

:class:`Options` (in :mod:`lib_qfix.options.fields`) declares every option once, typed; its
:data:`FIELDS` records, the conversions (:mod:`lib_qfix.options.schema`) and every derived list
(:mod:`lib_qfix.options.derived`) come from that declaration.
"""

from lib_qfix.options.derived import (
    DETECT_CHOICES,
    DETECT_FLAGS,
    DETECT_KEYS,
    DETECTORS_OFF,
    META_FIELDS,
    META_KEYS,
    NEGATIVE_FIELD,
    PRESET_FIELDS,
    PRESET_INFOTEXT_KEY,
    PRESET_KEYS,
    PROMPT_FIELD,
    SCORER_KEYS,
    choices_help,
    read_by,
)
from lib_qfix.options.field import Field, OptionError
from lib_qfix.options.fields import FIELDS, Options
from lib_qfix.options.schema import (
    DEFAULTS,
    FIELD_BY_KEY,
    KEYS,
    SCHEMA_VERSION,
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
    "DEFAULTS", "DETECTORS_OFF", "DETECT_CHOICES", "DETECT_FLAGS", "DETECT_KEYS", "FIELDS", "FIELD_BY_KEY", "KEYS",
    "META_FIELDS", "META_KEYS", "NEGATIVE_FIELD", "PRESET_FIELDS", "PRESET_INFOTEXT_KEY", "PRESET_KEYS",
    "PROMPT_FIELD", "SCHEMA_VERSION", "SCORER_KEYS", "Field", "OptionError", "Options", "choices_help",
    "coerce_values", "diff", "from_infotext", "from_positional", "json_schema", "positional", "read_by",
    "to_infotext", "validate",
]
