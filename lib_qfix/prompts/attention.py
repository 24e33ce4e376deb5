"""A1111 prompt-attention syntax: parse a prompt into weighted chunks and write chunks back.

Syntax (the semantics of A1111's ``modules/prompt_parser.py``, reimplemented):

- ``(text)`` multiplies the weight of ``text`` by 1.1; ``[text]`` divides it by 1.1;
- ``(text:1.3)`` multiplies it by 1.3 (the number may be signed, ``(a:-0.5)``);
- groups nest and multiply: ``((a))`` is 1.21, ``((a:1.3))`` is 1.43;
- ``\\(`` ``\\)`` ``\\[`` ``\\]`` ``\\\\`` are the literal characters; a lone backslash is dropped;
- a ``)`` or ``]`` with nothing open is literal text; groups still open at the end are closed
  there (with 1.1 or 1/1.1);
- the word ``BREAK`` (upper case, on its own) starts a new 75-token chunk: it becomes the marker
  chunk :data:`BREAK_CHUNK` and swallows the whitespace around it.

Chunks are ``(text, weight)`` tuples; adjacent chunks of equal weight are merged. Two deliberate
differences from A1111: ``BREAK`` inside a weighted group stays a break (A1111 multiplies its -1
marker and so turns it into the literal word), and in a malformed number such as ``(a:.)`` the
``:.`` is literal text (A1111 raises ValueError).
"""

from __future__ import annotations

import re

ROUND = 1.1
SQUARE = 1 / 1.1
BREAK = "BREAK"
#: the marker chunk for BREAK (A1111 uses the same ("BREAK", -1) pair)
BREAK_CHUNK = (BREAK, -1.0)

Chunk = tuple[str, float]

# One token per match, tried in this order: escapes, openers, "(…:w)" closer, closers, text runs.
_TOKEN = re.compile(r"""
    \\[()\[\]\\]          # escaped literal
  | \\                    # lone backslash (dropped, as in A1111)
  | [(\[]                 # opener
  | :([+-]?[.\d]+)\)      # ":1.3)" closes a round group with an explicit weight
  | [)\]]                 # closer
  | [^\\()\[\]:]+         # plain text run
  | :                     # a colon that is not a weight
""", re.X)
_BREAK_SPLIT = re.compile(r"\s*\bBREAK\b\s*", re.S)
_BREAK_WORD = re.compile(r"\bBREAK\b")
_NEEDS_ESCAPE = re.compile(r"([\\()\[\]])")


def parse(text: str) -> list[Chunk]:
    """Weighted chunks of ``text``; ``[("", 1.0)]`` for an empty prompt.

    >>> parse("a (b:1.5) [c]")
    [('a ', 1.0), ('b', 1.5), (' ', 1.0), ('c', 0.9090909090909091)]
    """
    texts: list[str] = []
    weights: list[float] = []
    is_break: list[bool] = []
    rounds: list[int] = []
    squares: list[int] = []

    def scale(start: int, factor: float) -> None:
        for i in range(start, len(weights)):
            if not is_break[i]:
                weights[i] *= factor

    def add(piece: str) -> None:
        for i, part in enumerate(_BREAK_SPLIT.split(piece)):
            if i > 0:
                texts.append(BREAK)
                weights.append(BREAK_CHUNK[1])
                is_break.append(True)
            if part:
                texts.append(part)
                weights.append(1.0)
                is_break.append(False)

    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok[0] == "\\":
            if len(tok) == 2:
                texts.append(tok[1])
                weights.append(1.0)
                is_break.append(False)
        elif tok == "(":
            rounds.append(len(texts))
        elif tok == "[":
            squares.append(len(texts))
        elif m.group(1) is not None and rounds:
            if _is_number(m.group(1)):
                scale(rounds.pop(), float(m.group(1)))
            else:  # "(a:.)": the colon and dot are text, the ")" still closes the group
                add(tok[:-1])
                scale(rounds.pop(), ROUND)
        elif tok == ")" and rounds:
            scale(rounds.pop(), ROUND)
        elif tok == "]" and squares:
            scale(squares.pop(), SQUARE)
        else:
            add(tok)
    for start in rounds:
        scale(start, ROUND)
    for start in squares:
        scale(start, SQUARE)

    out: list[Chunk] = []
    for t, w, b in zip(texts, weights, is_break, strict=True):
        if out and not b and out[-1][1] == w and out[-1] != BREAK_CHUNK:
            out[-1] = (out[-1][0] + t, w)
        else:
            out.append(BREAK_CHUNK if b else (t, w))
    return out or [("", 1.0)]


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def escape(text: str) -> str:
    """``text`` with ``\\ ( ) [ ]`` escaped so that it parses back as literal text."""
    return _NEEDS_ESCAPE.sub(r"\\\1", text)


def format_weight(weight: float) -> str:
    """A weight rounded to 2 decimals, without trailing zeros: ``1.3``, ``0.91``, ``2``."""
    s = f"{round(float(weight), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _trim_around_breaks(chunks: list[Chunk] | tuple[Chunk, ...]) -> list[Chunk]:
    """Whitespace touching BREAK is only a separator (the parser splits on ``\\s*BREAK\\s*``):
    drop it, so that emit writes one canonical form."""
    out = list(chunks)
    for i, (text, weight) in enumerate(out):
        if (text, weight) == BREAK_CHUNK:
            continue
        if i + 1 < len(out) and out[i + 1] == BREAK_CHUNK:
            text = text.rstrip()
        if i > 0 and out[i - 1] == BREAK_CHUNK:
            text = text.lstrip()
        out[i] = (text, weight)
    return out


def emit(chunks: list[Chunk] | tuple[Chunk, ...]) -> str:
    """Prompt text for ``chunks``: ``(text:1.3)`` for weighted text (2 decimals), plain text when
    the weight rounds to 1, literal brackets escaped, ``BREAK`` for the marker chunk.

    A literal word "BREAK" inside a text chunk is written ``BREA\\K`` (a lone backslash, which
    the parser drops) so that it does not turn into a break when parsed again.
    """
    parts: list[str] = []
    for text, weight in _trim_around_breaks(chunks):
        if (text, weight) == BREAK_CHUNK:
            parts.append(f" {BREAK} ")
        elif text:
            body = _BREAK_WORD.sub(r"BREA\\K", escape(text))
            w = format_weight(weight)
            parts.append(body if w == "1" else f"({body}:{w})")
    out = "".join(parts)
    # the spaces around BREAK are only separators; at either end they are noise
    if parts and parts[0] == f" {BREAK} ":
        out = out.lstrip()
    if parts and parts[-1] == f" {BREAK} ":
        out = out.rstrip()
    return out


def split_terms(text: str, keep_breaks: bool = False) -> list[Chunk]:
    """Comma-separated terms of a prompt with their weights, in order, whitespace collapsed.

    A term whose parts carry different weights (``a (b) c``) gets the largest of them.
    ``BREAK`` separates terms like a comma; it is returned as :data:`BREAK_CHUNK` only with
    ``keep_breaks``. Empty terms are dropped.

    >>> split_terms("(bad hands:1.3), blurry, [text]")
    [('bad hands', 1.3), ('blurry', 1.0), ('text', 0.9090909090909091)]
    """
    terms: list[Chunk] = []
    words: list[str] = []
    weight: float | None = None

    def close() -> None:
        nonlocal weight
        term = " ".join("".join(words).split())
        if term:
            terms.append((term, weight if weight is not None else 1.0))
        words.clear()
        weight = None

    for chunk_text, w in parse(text):
        if (chunk_text, w) == BREAK_CHUNK:
            close()
            if keep_breaks:
                terms.append(BREAK_CHUNK)
            continue
        for i, piece in enumerate(chunk_text.split(",")):
            if i > 0:
                close()
            words.append(piece)
            if piece.strip():
                weight = w if weight is None else max(weight, w)
    close()
    return terms


def join_terms(terms: list[Chunk] | tuple[Chunk, ...]) -> str:
    """Prompt text for terms: ``", "``-separated, each written as by :func:`emit`, BREAK kept."""
    out = ""
    for term in terms:
        if term == BREAK_CHUNK:
            out = f"{out} {BREAK} " if out else f"{BREAK} "
        else:
            piece = emit([term])
            out = f"{out}, {piece}" if out and not out.endswith(f"{BREAK} ") else out + piece
    return out.strip()
