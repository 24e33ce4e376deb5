"""QFix's clear errors and one way to turn an exception into the one-line text QFix shows
(infotext, JSON ``error``, warnings): the exception's own message when it is one of QFix's clear
errors, else ``"<Type>: <first line of the message>"``.

:class:`OptionError` lives here, below every package, so that a module the options schema reads
(the prompt-pair sets, for instance) can raise it without importing the schema.
"""

from __future__ import annotations

import reprlib
from typing import Any

#: characters of a rejected value that error messages show
MAX_SHOWN = 100


class Elided:
    """Stands for a value too large to show: its ``repr`` is cut (``reprlib``, bounded work)."""

    def __init__(self, value: Any):
        r = reprlib.Repr()
        r.maxstring, r.maxother, r.maxlevel = MAX_SHOWN, MAX_SHOWN, 3
        size = f" ({len(value)} characters)" if isinstance(value, str) else ""
        self.text = r.repr(value) + size

    def __repr__(self) -> str:
        return self.text


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


def reason(e: BaseException, limit: int | None = None) -> str:
    """Why ``e`` happened, in one line without the exception's type: an option error's
    ``field: value is not allowed; allowed``, an OS error's ``strerror`` ("No space left on
    device"), else the first line of the message (cut to ``limit`` characters when given), else the
    type."""
    if isinstance(e, OptionError):
        return f"{e.field}: {e.value!r} is not allowed; {e.allowed}"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e).strip()
    return text.splitlines()[0][:limit] if text else type(e).__name__


def error_text(e: BaseException) -> str:
    """One line describing ``e`` where its type helps the reader: ``"<Type>: <reason>"``; option
    errors and QFix's clear errors (``clear_message = True``) are their reason alone. The one
    error-to-text helper of QFix, with :func:`reason`."""
    if isinstance(e, OptionError) or getattr(e, "clear_message", False):
        return reason(e)
    why = reason(e)
    return type(e).__name__ if why == type(e).__name__ else f"{type(e).__name__}: {why}"
