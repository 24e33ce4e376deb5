"""The generation prompt A1111 stored in an image file, for the judge's prompt match.

A1111 writes its infotext into PNGs as the ``parameters`` text chunk and into JPEG/WebP as the EXIF
``UserComment`` (``UNICODE\\0`` + UTF-16). Its layout (prompt, ``Negative prompt: ...``, one line of
settings) is parsed by :func:`lib_qfix.a1111_params.parse_infotext`, the one infotext parser.
"""

from __future__ import annotations

import os

from PIL import Image

from lib_qfix import a1111_params

#: characters of infotext read at most (A1111 infotext is a few KB)
MAX_TEXT = 64 * 1024
_EXIF_IFD, _USER_COMMENT = 0x8769, 0x9286


def parse_infotext(text: str) -> tuple[str, str]:
    """(prompt, negative prompt) of an A1111 infotext, surrounding blank lines removed; ("", "")
    for empty text."""
    params = a1111_params.parse_infotext(text)
    return params.prompt.strip(), params.negative.strip()


def _user_comment(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    head, body = raw[:8], raw[8:]
    if head == b"UNICODE\0":
        for enc in ("utf-16-be", "utf-16-le"):
            try:
                text = body.decode(enc)
            except UnicodeDecodeError:
                continue
            if text.isprintable() or "\n" in text:
                return text
        return body.decode("utf-16-be", "replace")
    if head in (b"ASCII\0\0\0", b"\0" * 8):
        return body.decode("utf-8", "replace")
    return None


def read_infotext(path: str | os.PathLike[str]) -> str:
    """The infotext stored in the image at ``path`` ("" when none or unreadable)."""
    try:
        with Image.open(path) as img:
            text = img.info.get("parameters")
            if not isinstance(text, str):
                text = _user_comment(img.getexif().get_ifd(_EXIF_IFD).get(_USER_COMMENT))
    except Exception:  # any file problem means "no stored prompt"; reading the image reports it
        return ""
    return (text or "")[:MAX_TEXT]


def stored_prompt(path: str | os.PathLike[str]) -> str:
    """The generation prompt stored in the image at ``path`` ("" when none)."""
    return parse_infotext(read_infotext(path))[0]
