"""Every list other modules need about the options, computed from the schema
(:data:`~lib_qfix.options.fields.FIELDS`) and the detector table
(:data:`lib_qfix.registry.DETECTORS`), never written out by hand. ``tests/test_options_derived.py``
recomputes each one from the declarations and fails when a copy drifts.

- meta fields (``Field.role == "meta"``: ``enable``, ``preset``): never stored in presets, always in
  infotext, the panel's top row; every other field is a preset field;
- per region kind, the option holding its inpaint prompt template and its extra negative
  (``Field.serves``);
- per detector, the options it reads (``Field.read_by``: part of the filter cache key), its switch
  and the name the CLI and the filter tab give it.
"""

from __future__ import annotations

from lib_qfix.options.field import KIND_NEGATIVE, KIND_PROMPT, META, Field
from lib_qfix.options.fields import FIELD_BY_KEY, FIELDS
from lib_qfix.registry import DETECTORS

#: enable and preset: chosen by the caller, never stored in a preset, always written to infotext
META_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.role == META)
META_KEYS: tuple[str, ...] = tuple(f.key for f in META_FIELDS)
#: every other field: what a preset stores and what loading a preset sets (in FIELDS order)
PRESET_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.role != META)
PRESET_KEYS: tuple[str, ...] = tuple(f.key for f in PRESET_FIELDS)
#: the infotext key naming the preset an image was made with (``"QFix preset"``)
PRESET_INFOTEXT_KEY = FIELD_BY_KEY["preset"].infotext_key


def _by_kind(role: str) -> dict[str, str]:
    return {kind: f.key for f in FIELDS if f.role == role for kind in f.serves}


#: region kind -> the option holding its inpaint prompt template (``text_prompt`` serves watermarks too)
PROMPT_FIELD: dict[str, str] = _by_kind(KIND_PROMPT)
#: region kind -> the option holding the user's extra negative for it
NEGATIVE_FIELD: dict[str, str] = _by_kind(KIND_NEGATIVE)


def read_by(reader: str) -> tuple[str, ...]:
    """The keys of the options ``reader`` (a detector name or a stage, see ``Field.read_by``)
    reads, in FIELDS order."""
    return tuple(f.key for f in FIELDS if reader in f.read_by)


#: the options the scorer's configuration is built from
SCORER_KEYS: tuple[str, ...] = read_by("scorer")
#: detector names as the CLI's ``--detect`` and the filter tab spell them: ("faces", "hands", "text")
DETECT_CHOICES: tuple[str, ...] = tuple(d.choice for d in DETECTORS)
#: that spelling -> the bool option switching the detector on
DETECT_FLAGS: dict[str, str] = {d.choice: d.switch for d in DETECTORS}
#: that spelling -> the options the detector reads (what changes its result: part of a cache key)
DETECT_KEYS: dict[str, tuple[str, ...]] = {d.choice: read_by(d.name) for d in DETECTORS}
#: every detector switched off (``qfix score``, ``POST /qfix/v1/score``): ``options.replace(**DETECTORS_OFF)``
DETECTORS_OFF: dict[str, bool] = {d.switch: False for d in DETECTORS}


def choices_help(key: str) -> str:
    """The choices of option ``key`` for a help text, the default marked:
    ``"offline (default), clip-iqa, clip-iqa+learned"``."""
    f = FIELD_BY_KEY[key]
    return ", ".join(c + (" (default)" if c == f.default else "") for c in f.choice_list())
