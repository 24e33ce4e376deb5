"""The declarative field record and per-field validation.

A :class:`Field` says everything about one option: its key (API/preset/JSON name), type,
default, UI label and widget, infotext key, range or choices, and help text. Everything
else (UI, API validation, presets, infotext, JSON schema) is generated from these records.
"""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class Elided:
    """Stands for a value too large to show: its ``repr`` is cut (``reprlib``, bounded work)."""

    def __init__(self, value: Any):
        r = reprlib.Repr()
        r.maxstring, r.maxother, r.maxlevel = MAX_SHOWN, MAX_SHOWN, 3
        size = f" ({len(value)} characters)" if isinstance(value, str) else ""
        self.text = r.repr(value) + size

    def __repr__(self) -> str:
        return self.text


#: characters of a rejected value that error messages show
MAX_SHOWN = 100


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and len(value) <= MAX_SHOWN:
        return value
    return Elided(value)


class OptionError(ValueError):
    """Bad option value. ``field`` names the option, ``value`` is what was given (a large value is
    replaced by an :class:`Elided` stand-in, so that every message stays short),
    ``allowed`` says what is accepted; ``source`` (a preset file, "API", …) where known."""

    def __init__(self, field: str, value: Any, allowed: str, source: str | None = None):
        value = _shown(value)
        self.field, self.value, self.allowed, self.source = field, value, allowed, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {value!r} is not allowed; {allowed}")

    def with_source(self, source: str) -> OptionError:
        return OptionError(self.field, self.value, self.allowed, source)


def closest(name: str, candidates: Sequence[str]) -> str | None:
    """The most similar candidate to ``name`` (for "did you mean" hints), or None."""
    hits = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return hits[0] if hits else None


@dataclass(frozen=True)
class Field:
    """One option.

    ``kind`` is one of ``bool``, ``int``, ``float``, ``str``, ``choice``.
    Numbers have ``minimum``/``maximum`` (inclusive) and a UI ``step``.
    ``choices`` is a tuple, or a zero-argument callable for choices known only at run time
    (e.g. registered scorers); ``free_choice`` accepts other strings too (sampler names,
    which only the host knows). ``group`` is the UI section.

    ``max_length`` caps text values (characters); ``check`` is a syntax check for text values that
    raises :class:`OptionError` (e.g. custom prompt pairs). ``resource``: the value names a
    resource of the machine that runs QFix (model architecture, weights, device, learned-prompt
    file); a shared server lets clients choose only among the values it allows (see
    :mod:`lib_qfix.options.policy`). ``path_like``: the value may name a file, so a client of a
    shared server must not be able to give a path.
    """

    key: str
    kind: str
    default: Any
    label: str
    help: str
    group: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | Callable[[], Sequence[str]] | None = None
    free_choice: bool = False
    multiline: bool = False
    max_length: int | None = None
    check: Callable[[str], None] | None = None
    resource: bool = False
    path_like: bool = False

    @property
    def infotext_key(self) -> str:
        """The key written into A1111 infotext, e.g. ``"QFix hand confidence"``."""
        return "QFix " + self.key.replace("_", " ")

    def choice_list(self) -> tuple[str, ...]:
        c = self.choices() if callable(self.choices) else self.choices
        return tuple(c or ())

    def allowed(self) -> str:
        if self.kind == "bool":
            return "allowed: true or false"
        if self.kind in ("int", "float"):
            what = "an integer" if self.kind == "int" else "a number"
            return f"allowed: {what} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        if self.kind == "choice":
            extra = " (or another name the host knows)" if self.free_choice else ""
            return "allowed: one of " + ", ".join(repr(c) for c in self.choice_list()) + extra
        if self.max_length is not None:
            return f"allowed: text of at most {self.max_length} characters"
        return "allowed: text"

    def coerce(self, value: Any) -> Any:
        """Validate and normalise one value; raises :class:`OptionError` naming this field."""
        k = self.kind
        if k == "bool":  # numbers are refused: the UI, infotext and presets send booleans or text
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
            raise OptionError(self.key, value, self.allowed())
        if k in ("int", "float"):
            return self._number(value)
        if k == "choice":
            if not isinstance(value, str):
                raise OptionError(self.key, value, self.allowed())
            options = self.choice_list()
            if value in options or self.free_choice:
                return value
            low = {c.lower(): c for c in options}
            if value.lower() in low:
                return low[value.lower()]
            hint = closest(value, options)
            suffix = f"; did you mean {hint!r}?" if hint else ""
            raise OptionError(self.key, value, self.allowed() + suffix)
        if not isinstance(value, str) or (self.max_length is not None and len(value) > self.max_length):
            raise OptionError(self.key, value, self.allowed())
        if self.check is not None:
            self.check(value)
        return value

    def _number(self, value: Any) -> int | float:
        if isinstance(value, bool):
            raise OptionError(self.key, value, self.allowed())
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise OptionError(self.key, value, self.allowed()) from None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise OptionError(self.key, value, self.allowed())
        if self.kind == "int":
            if float(value) != int(value):
                raise OptionError(self.key, value, self.allowed())
            value = int(value)
        else:
            value = float(value)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise OptionError(self.key, value, self.allowed())
        return value

    def json_schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"title": self.label, "description": self.help, "default": self.default}
        if self.kind == "bool":
            s["type"] = "boolean"
        elif self.kind in ("int", "float"):
            s["type"] = "integer" if self.kind == "int" else "number"
            s["minimum"], s["maximum"] = self.minimum, self.maximum
        elif self.kind == "choice":
            s["type"] = "string"
            if not self.free_choice:
                s["enum"] = list(self.choice_list())
            else:
                s["examples"] = list(self.choice_list())
        else:
            s["type"] = "string"
            if self.max_length is not None:
                s["maxLength"] = self.max_length
        if self.resource:
            s["x-server-resource"] = True
        if self.path_like:
            s["x-path-like"] = True
        s["x-infotext"] = self.infotext_key
        s["x-group"] = self.group
        return s


def _fmt(x: float | None) -> str:
    if x is None:
        return "any"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
