"""What a client of a shared server may choose, derived from the schema.

Two checks, each over every field that carries the flag (see :class:`lib_qfix.options.Field`):

- ``path_like``: a value that looks like a filesystem path (or a URL, or a hub reference) is refused
  before anything touches the disk, whatever the field;
- ``resource``: the value must be one the server allows; ``allowed(key)`` (given by the host
  adapter, e.g. from A1111's settings) lists the values for that field.

The CLI runs with the user's own rights and applies neither check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lib_qfix.options.field import OptionError
from lib_qfix.options.fields import FIELDS, Options

PATH_LIKE_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.path_like)
RESOURCE_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.resource)
_PATH_MARKS = ("/", "\\", ":", "\x00")


def looks_like_path(value: str) -> bool:
    """True for anything that could name a file or location rather than a plain name:
    separators, a drive or scheme colon, a leading ``.`` or ``~``, a NUL byte."""
    return any(m in value for m in _PATH_MARKS) or value.startswith((".", "~"))


def check_path(key: str, value: Any) -> None:
    """Raise :class:`OptionError` when the path-like field ``key`` holds a path."""
    if isinstance(value, str) and looks_like_path(value):
        raise OptionError(key, value, "allowed: a name, not a path (this server reads no file a client names; "
                                      "files are chosen by name from the server's own folders)")


def check_client_options(options: Options, allowed: Callable[[str], Sequence[str]]) -> None:
    """Raise :class:`OptionError` for the first path-like value, then for the first resource value
    that ``allowed(key)`` does not list (the message lists what is allowed)."""
    for key in PATH_LIKE_FIELDS:
        check_path(key, getattr(options, key))
    for key in RESOURCE_FIELDS:
        value, ok = getattr(options, key), tuple(allowed(key))
        if value not in ok:
            names = ", ".join(repr(v) for v in ok) or "none"
            raise OptionError(key, value, f"allowed on this server: {names} (the server's settings list "
                                          "what clients may choose)")
