"""One way to turn an exception into the one-line text QFix shows (infotext, JSON ``error``,
warnings): the exception's own message when it is one of QFix's clear errors, else
``"<Type>: <first line of the message>"``."""

from __future__ import annotations


def error_text(e: BaseException) -> str:
    """One line describing ``e``. ``ValueError`` subclasses that QFix raises with a complete
    message (option, preset and image errors) are given as their message."""
    text = str(e).strip()
    first = text.splitlines()[0] if text else ""
    if getattr(e, "clear_message", False):
        return first
    return f"{type(e).__name__}: {first}" if first else type(e).__name__
