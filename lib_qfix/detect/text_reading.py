"""Reading detected text: legible words versus garbled glyph strings, and text the prompt asks for.

The text detector (:mod:`lib_qfix.detect.text`) finds text lines; with ``options.text_reading`` the
lines it calls plain "text" are read by rapidocr's bundled recognition model (PP-OCR rec, ~50 ms a
line on one core: run only on detected boxes, at most :data:`MAX_LINES` per image, largest first).
Each reading is judged by :func:`judge`, without a dictionary:

- **recognition confidence** (the model's mean per-character probability, 0..1): malformed glyphs
  read below :data:`MIN_CONFIDENCE` (clean rendered words read 0.999+, sliced glyphs 0.86-0.96);
- **letter-trigram plausibility** (:func:`plausibility`: mean ln P of each letter given the two
  before, from :mod:`lib_qfix.detect.letter_trigrams`, built from English prose): random letter
  strings score below :data:`MIN_PLAUSIBILITY` (~-3.9 nats), real words above;
- **character statistics**: a glyph repeated 3+ times in a row ("HAPPPY"), case flipping inside a
  word ("CoFfEe"), a stray glyph from another script among Latin letters ("Bakeľy").

All-caps words of up to 4 letters (acronyms: "NYPD", "BBQ") and numbers are judged by confidence
only; a line in a script the table does not model (CJK, Cyrillic, ...) too.

:func:`match_prompt` compares a reading with the text the prompt asks for: a quoted string ('a sign
saying "OPEN"') or, unquoted, the prompt's own words, case-folded, accents and the glyphs OCR confuses
(0/O, 1/l/i, 5/S) folded. Close enough (similarity >= :data:`MATCH`)
reads as requested, whatever the trigrams say (brand names); a near miss (>= :data:`NEAR_MISS`,
"OPFN" for "OPEN") is garbled.
"""

from __future__ import annotations

import base64
import difflib
import re
import unicodedata
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from lib_qfix.detect import letter_trigrams
from lib_qfix.types import DEFECT, OK, Region

MAX_LINES = 8
#: below this OCR line confidence the glyphs are malformed
MIN_CONFIDENCE = 0.97
#: mean ln P per letter transition below which a word is not word-like (nats)
MIN_PLAUSIBILITY = -3.9
#: similarity (difflib ratio of letters and digits, case-folded) at which a reading is the requested text
MATCH = 0.85
NEAR_MISS = 0.5
#: accented Latin letters that are ordinary in European words (anything else among Latin letters is odd)
ACCENTS = frozenset("àáâãäåæçèéêëìíîïñòóôõöøœùúûüýÿßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØŒÙÚÛÜÝŸ")
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]{1,})[\"”'’]")
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Judgement:
    """A reading judged: ``garbled`` with a ``score`` (0..1, how sure), ``reasons`` in words;
    ``judged`` False when only the confidence could be used (numbers, acronyms, other scripts)."""

    text: str
    confidence: float
    garbled: bool
    score: float
    reasons: tuple[str, ...]
    judged: bool = True


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    raw = zlib.decompress(base64.b64decode("".join(letter_trigrams.DATA)))
    return np.frombuffer(raw, np.uint8).reshape(letter_trigrams.SHAPE).astype(np.float32) / -letter_trigrams.SCALE


def plausibility(word: str) -> float | None:
    """Mean ln P(letter | two before) over ``word``'s letters and its end (nats, <= 0; real English
    words mostly above -3.5, random letters below -4); None when ``word`` has no a-z letters.
    Accented letters count as their base letter."""
    base = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if "a" <= c <= "z")
    if not base:
        return None
    t = _table()
    s = [0, 0] + [ord(c) - 96 for c in base] + [0]
    return float(np.mean([t[s[i - 2], s[i - 1], s[i]] for i in range(2, len(s))]))


def _latin(c: str) -> bool:
    return ("a" <= c.lower() <= "z") or c in ACCENTS


def _case_flips(word: str) -> int:
    letters = [c for c in word if c.isalpha()]
    return sum(1 for a, b in zip(letters[1:], letters[2:], strict=False) if a.isupper() != b.isupper())


def judge(text: str, confidence: float) -> Judgement:
    """Is the reading ``text`` (OCR line confidence ``confidence``, 0..1) garbled? See the module doc."""
    reasons: list[str] = []
    score = 0.0
    if confidence < MIN_CONFIDENCE:
        score = max(score, min(1.0, 0.5 + (MIN_CONFIDENCE - confidence) * 5))
        reasons.append(f"malformed glyphs (OCR confidence {confidence:.2f} < {MIN_CONFIDENCE})")
    letters = [c for c in text if c.isalpha()]
    latin = [c for c in letters if _latin(c)]
    if letters and len(latin) < 0.5 * len(letters):
        return Judgement(text, confidence, score >= 0.5, score, tuple(reasons) or
                         ("script not modelled: judged by OCR confidence only",), judged=False)
    odd = sorted({c for c in letters if not _latin(c)})
    if odd:
        score = max(score, 0.7)
        reasons.append(f"stray glyph {''.join(odd)!r} among Latin letters")
    repeated = re.search(r"([^\W\d_])\1\1", text, re.IGNORECASE)
    if repeated and repeated.group(0).lower() != "www":
        score = max(score, 0.7)
        reasons.append(f"a glyph repeated: {repeated.group(0)!r}")
    words = [w for w in _WORDS.findall(text) if all(_latin(c) for c in w)]
    flipped = [w for w in words if _case_flips(w) >= 3]
    if flipped:
        score = max(score, 0.6)
        reasons.append(f"case flips inside {flipped[0]!r}")
    scored = [(w, plausibility(w)) for w in words if len(w) >= 3 and not (w.isupper() and len(w) <= 4)]
    scored = [(w, p) for w, p in scored if p is not None]
    if scored:
        mean = sum(p * len(w) for w, p in scored) / sum(len(w) for w, _ in scored)
        if mean < MIN_PLAUSIBILITY:
            score = max(score, min(1.0, 0.5 + (MIN_PLAUSIBILITY - mean) / 2))
            worst = min(scored, key=lambda x: x[1])[0]
            reasons.append(f"letters not word-like (trigram {mean:.1f} < {MIN_PLAUSIBILITY} nats; {worst!r})")
    judged = bool(scored) or bool(reasons)
    if not reasons:
        reasons.append("reads as words" if scored else "judged by OCR confidence only (no word to check)")
    return Judgement(text, confidence, score >= 0.5, score, tuple(reasons), judged)


#: glyphs OCR confuses with each other, folded together before comparing with the prompt
_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s"})


def _key(text: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if c.isalnum())
    return folded.translate(_CONFUSABLE)


def requested_texts(prompt: str) -> tuple[str, ...]:
    """The quoted strings of ``prompt`` ('a sign saying "OPEN"' -> ("OPEN",))."""
    return tuple(q.strip() for q in _QUOTED.findall(prompt or "") if _key(q))


def match_prompt(text: str, prompt: str) -> tuple[str, float, str]:
    """How a reading relates to the text ``prompt`` asks for: ("match" | "near" | "other", the
    similarity 0..1, the requested string compared with). Quoted strings are compared whole;
    without quotes, a reading whose every word (2+ letters) is a word of the prompt matches."""
    key = _key(text)
    if not key:
        return "other", 0.0, ""
    quoted = requested_texts(prompt)
    if quoted:
        best = max(quoted, key=lambda q: difflib.SequenceMatcher(None, key, _key(q)).ratio())
        ratio = difflib.SequenceMatcher(None, key, _key(best)).ratio()
        if ratio >= MATCH:
            return "match", ratio, best
        # a reading may be part of a longer requested text, or a longer reading hold it
        if len(key) >= 3 and any(key in _key(q) or _key(q) in key for q in quoted):
            return "match", ratio, best
        return ("near" if ratio >= NEAR_MISS else "other"), ratio, best
    prompt_words = {_key(w) for w in _WORDS.findall(prompt or "")}
    words = [_key(w) for w in _WORDS.findall(text) if len(_key(w)) >= 2]
    if words and all(w in prompt_words for w in words):
        return "match", 1.0, " ".join(words)
    return "other", 0.0, ""


def reread(region: Region, reading: Judgement, prompt: str, wanted: str | None) -> Region:
    """``region`` (a "text" line) judged again with its ``reading``. ``wanted``: what in the prompt asks
    for text (:func:`lib_qfix.detect.text.prompt_wants_text`, None when text is not allowed).

    Requested text read right (:func:`match_prompt`) is ok; a near miss of it, or gibberish, is
    "garbled_text" (with "text" first when the prompt does not ask for text: then the fix removes
    it); legible text is ok when the prompt asks for text, else "text" as before."""
    said = f"reads {reading.text!r} (OCR confidence {reading.confidence:.2f})"
    base = region.reasons[:1]
    how, ratio, requested = match_prompt(reading.text, prompt) if wanted else ("other", 0.0, "")
    if how == "match":
        return replace(region, verdict=OK, defects=(),
                       reasons=(*base, said, f"the text the prompt asks for ({requested!r})"))
    if how == "near":
        return replace(region, verdict=DEFECT, defects=("garbled_text",),
                       reasons=(*base, said, f"a near miss of the requested {requested!r} (similarity {ratio:.2f})"))
    if reading.garbled:
        return replace(region, verdict=DEFECT, defects=("garbled_text",) if wanted else ("text", "garbled_text"),
                       reasons=(*base, said, *reading.reasons))
    if wanted:
        return replace(region, verdict=OK, defects=(),
                       reasons=(*base, said, f"legible, and the prompt asks for text ({wanted})"))
    return replace(region, verdict=DEFECT, defects=("text",),
                   reasons=(*base, said, "legible text the prompt does not ask for"))
