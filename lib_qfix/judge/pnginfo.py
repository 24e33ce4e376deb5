"""The generation prompt A1111 stored in an image file, for the judge's prompt match.

A1111 writes its infotext into PNGs as the ``parameters`` text chunk and into JPEG/WebP as the EXIF
``UserComment`` (``UNICODE\\0`` + UTF-16). The infotext is the prompt (one or more lines), then
optionally ``Negative prompt: ...`` (one or more lines), then one line of ``Key: value, ...``
settings (``Steps: 20, Sampler: Euler a, ...``), recognised as such when it holds at least three
pairs (A1111's own rule).
"""

from __future__ import annotations

import os
import re

from PIL import Image

#: characters of infotext read at most (A1111 infotext is a few KB)
MAX_TEXT = 64 * 1024
NEGATIVE_PREFIX = "Negative prompt:"
_PAIR = re.compile(r'\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_EXIF_IFD, _USER_COMMENT = 0x8769, 0x9286


def parse_infotext(text: str) -> tuple[str, str]:
    """(prompt, negative prompt) of an A1111 infotext; ("", "") for empty text."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    if lines and len(_PAIR.findall(lines[-1])) >= 3:
        lines = lines[:-1]
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines:
        if line.startswith(NEGATIVE_PREFIX):
            in_negative = True
            line = line[len(NEGATIVE_PREFIX):]
        (negative if in_negative else prompt).append(line.strip())
    return "\n".join(prompt).strip(), "\n".join(negative).strip()


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
