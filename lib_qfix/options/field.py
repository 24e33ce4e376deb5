"""The declarative field record, the helper that declares one option, and per-field validation.

Each option is declared once, as an attribute of :class:`lib_qfix.options.Options` whose default is
:func:`option` (its type is the attribute's annotation; label, help, group, range, choices, role,
server flags and readers ride along in the dataclass field's metadata). A :class:`Field` is the
record built from one such declaration: key (API/preset/JSON name), kind, default, UI label and
widget, infotext key, range or choices, help, role, who reads it. Everything else (UI, API
validation, presets, infotext, JSON schema, the per-kind prompt tables, the detectors' cache keys)
is generated from these records.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from lib_qfix.errors import Elided, OptionError

__all__ = ["META", "OPTION", "KIND_NEGATIVE", "KIND_PROMPT", "ROLES", "STAGES", "Elided", "Field", "OptionError",
           "closest", "option"]

T = TypeVar("T")

#: roles (``Field.role``). ``option``: an ordinary option (stored in presets, written to infotext
#: when it differs from the preset). ``meta``: says whether and from which preset QFix runs
#: (``enable``, ``preset``): chosen by the caller, never stored in a preset, always written to
#: infotext, shown in the panel's top row and left alone when a preset is loaded. ``kind_prompt`` /
#: ``kind_negative``: the inpaint prompt template / extra negative for the region kinds in
#: ``Field.serves``.
OPTION, META, KIND_PROMPT, KIND_NEGATIVE = "option", "meta", "kind_prompt", "kind_negative"
ROLES = (OPTION, META, KIND_PROMPT, KIND_NEGATIVE)

#: who reads options (``Field.read_by``), besides the detectors (named as in the registry, e.g.
#: "face"): ``host`` the A1111 adapter, ``scorer`` the scorer's configuration, ``diagnose`` the
#: global judgement and detector switches, ``plan`` which regions are repainted with which prompts,
#: ``prompts`` the weighted negatives, ``masks`` the inpaint masks, ``inpaint`` / ``restore`` the
#: parameter records the ports receive, ``fidelity`` the repainted-region checks, ``loop`` the fix loop,
#: ``upscale`` the final upscale + detail step (:mod:`lib_qfix.fix.upscale_step`).
STAGES = ("host", "scorer", "diagnose", "plan", "prompts", "masks", "inpaint", "restore", "fidelity", "loop",
          "upscale")

#: the metadata key under which :func:`option` stores a field's facts
FACTS = "qfix"


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

    ``role`` is one of :data:`ROLES`; ``serves`` the region kinds a ``kind_prompt`` /
    ``kind_negative`` field is for; ``read_by`` who reads the value (detector names and
    :data:`STAGES`): a detector's readers make its cache key.
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
    role: str = OPTION
    serves: tuple[str, ...] = ()
    read_by: tuple[str, ...] = ()

    @classmethod
    def declared(cls, f: dataclasses.Field[Any], annotation: Any) -> Field:
        """The record of one attribute of ``Options`` declared with :func:`option`."""
        facts = dict(f.metadata[FACTS])
        kind = "choice" if facts.get("choices") is not None else _KINDS.get(annotation)
        if kind is None or (kind == "choice" and annotation is not str):
            raise TypeError(f"option {f.name}: type {annotation!r}; allowed: bool, int, float, str "
                            "(str with choices for a choice)")
        return cls(f.name, kind, f.default, **facts)

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
            extra = (f" (or another name the host knows, at most {self.max_length} characters)"
                     if self.free_choice else "")
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
        if not isinstance(value, str) or (self.max_length is not None and len(value) > self.max_length):
            raise OptionError(self.key, value, self.allowed())
        if k == "choice":
            options = self.choice_list()
            if value in options or self.free_choice:
                return value
            low = {c.lower(): c for c in options}
            if value.lower() in low:
                return low[value.lower()]
            hint = closest(value, options)
            suffix = f"; did you mean {hint!r}?" if hint else ""
            raise OptionError(self.key, value, self.allowed() + suffix)
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


_KINDS: dict[Any, str] = {bool: "bool", int: "int", float: "float", str: "str"}

#: caps (characters) for text options declared without their own ``max_length``: a request can never
#: make QFix copy an unbounded string into every infotext, PNG and inner pass
TEXT_LENGTH = 2000
NAME_CHOICE_LENGTH = 200


def option(default: T, label: str, help: str, group: str, minimum: float | None = None,
           maximum: float | None = None, step: float | None = None, *, read_by: tuple[str, ...],
           choices: tuple[str, ...] | Callable[[], Sequence[str]] | None = None, free_choice: bool = False,
           multiline: bool = False, max_length: int | None = None, check: Callable[[str], None] | None = None,
           resource: bool = False, path_like: bool = False, role: str = OPTION,
           serves: tuple[str, ...] = ()) -> T:
    """Declare one option as the default of an ``Options`` attribute: ``x: float = option(0.5, ...)``.
    The attribute's annotation is its type; the other facts of its :class:`Field` are kept in the
    dataclass field's metadata (see :class:`Field` for their meaning)."""
    if isinstance(default, str) and max_length is None:
        max_length = NAME_CHOICE_LENGTH if choices is not None else TEXT_LENGTH
    facts = dict(label=label, help=help, group=group, minimum=minimum, maximum=maximum, step=step,
                 choices=choices, free_choice=free_choice, multiline=multiline, max_length=max_length,
                 check=check, resource=resource, path_like=path_like, role=role, serves=tuple(serves),
                 read_by=tuple(read_by))
    return dataclasses.field(default=default, metadata={FACTS: facts})

