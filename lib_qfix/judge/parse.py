"""From the server's answer to a :class:`Verdict`: strict where the answer is well formed, a repair
step where it is not, never an exception other than :class:`JudgeAnswerError`.

Repairs (each one noted in ``Verdict.notes``):

- the message text (:mod:`lib_qfix.judge.envelope`): ``choices[0].message.content`` (a string or a
  list of text parts), or the ``delta`` pieces of an event stream a server sent although none was asked for;
- code fences and prose around the JSON are dropped (the first balanced ``{...}`` is used), and
  trailing commas removed;
- ratings: numbers, numeric strings or ``"7/10"``, rounded and clamped to 1..10; a missing or
  unreadable rating is None (both missing: no verdict);
- defects: a kind is matched to the vocabulary case-, space- and hyphen-insensitively (and with or
  without a plural ``s``); an unknown kind is kept as text (``Finding.known`` False), never an error;
  at most :data:`MAX_FINDINGS`; reasons cut to :data:`MAX_REASON` characters;
- boxes: 4 numbers as fractions of the image (0..1). Values above 1 are read as pixels of the
  image as sent (Qwen-VL style) when that size is known, or as per-mille (0..1000); then clamped
  to 0..1, corners sorted, and a box thinner than :data:`MIN_BOX` dropped (the finding stays,
  without a box).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lib_qfix.judge import prompt as jp

MAX_FINDINGS = 20
#: characters of an answer searched for JSON (a verdict is ~2,000)
MAX_TEXT = 200_000
MAX_REASON = 200
#: smallest box side kept, as a fraction of the image side
MIN_BOX = 0.01
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_RATING = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*10)?\s*$")


class JudgeAnswerError(ValueError):
    """The answer holds no usable verdict; the message says why in one line."""

    clear_message = True


@dataclass(frozen=True)
class Finding:
    """One defect the judge named: ``kind`` (a vocabulary name when ``known``, else the model's own
    words), ``reason`` (short text), ``box`` (x0, y0, x1, y1) as fractions of the image or None."""

    kind: str
    reason: str = ""
    box: tuple[float, float, float, float] | None = None
    known: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "box": list(self.box) if self.box else None,
                "known": self.known}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Finding:
        b = d.get("box")
        box = (float(b[0]), float(b[1]), float(b[2]), float(b[3])) if b else None
        return cls(str(d["kind"]), str(d.get("reason", "")), box, bool(d.get("known", True)))


@dataclass(frozen=True)
class Verdict:
    """The judge's verdict on one image: ratings 1..10 (None when the judge gave none; ``prompt_match``
    is None without a prompt), findings, and ``notes`` on what the parser had to repair."""

    prompt_match: int | None
    quality: int | None
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"prompt_match": self.prompt_match, "quality": self.quality,
                "findings": [f.to_json() for f in self.findings], "notes": list(self.notes)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Verdict:
        return cls(d.get("prompt_match"), d.get("quality"), tuple(Finding.from_json(f) for f in d.get("findings", ())),
                   tuple(d.get("notes", ())))


# ---------------------------------------------------------------------- JSON with repairs

def objects(text: str, limit: int = 20) -> list[str]:
    """Up to ``limit`` balanced ``{...}`` spans of ``text``, outermost first, in order
    (string-aware; at most ``2 * limit`` starting points are tried, so the work stays linear)."""
    out: list[str] = []
    start, tries = text.find("{"), 0
    while start >= 0 and len(out) < limit and tries < 2 * limit:
        tries += 1
        found = _balanced(text, start)
        start = text.find("{", start + (len(found) if found else 1))
        if found is not None:
            out.append(found)
    return out


def _balanced(text: str, start: int) -> str | None:
    """The balanced ``{...}`` starting at ``text[start]``, or None."""
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def load_object(text: str) -> tuple[dict[str, Any], list[str]]:
    """(the JSON object in ``text``, repair notes); raises :class:`JudgeAnswerError`."""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return data, []
    except (ValueError, RecursionError):
        pass
    notes = ["answer repaired (text around the JSON)"]
    found = objects(_FENCE.sub("", text[:MAX_TEXT]))
    if not found:
        raise JudgeAnswerError("judge answer holds no JSON object")
    for obj in found:
        for candidate in (obj, _TRAILING_COMMA.sub(r"\1", obj)):
            try:
                data = json.loads(candidate)
            except (ValueError, RecursionError):
                continue
            if isinstance(data, dict):
                return data, notes
    raise JudgeAnswerError("judge answer is not valid JSON")


# ---------------------------------------------------------------------- fields

def rating(value: Any) -> tuple[int | None, bool]:
    """(a 1..10 rating or None, whether it had to be clamped)."""
    if isinstance(value, bool) or value is None:
        return None, False
    if isinstance(value, str):
        m = _RATING.match(value)
        if not m:
            return None, False
        value = float(m.group(1))
    if not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        return None, False
    r = int(round(float(value)))
    return min(10, max(1, r)), not 1 <= r <= 10


def _norm(kind: str) -> str:
    return re.sub(r"[\s\-]+", "_", kind.strip().lower())


def match_kind(kind: str, vocabulary: Sequence[str]) -> str | None:
    """The vocabulary name ``kind`` stands for, or None."""
    k = _norm(kind)
    names = set(vocabulary)
    for cand in (k, k + "s", k[:-1] if k.endswith("s") else k):
        if cand in names:
            return cand
    return None


def box_of(value: Any, sent: tuple[int, int] | None) -> tuple[tuple[float, float, float, float] | None, str]:
    """(normalised box or None, a repair note or "") for one finding's ``box``."""
    if value is None:
        return None, ""
    if isinstance(value, dict):
        value = [value.get(k) for k in ("x0", "y0", "x1", "y1")]
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None, "box dropped (not 4 numbers)"
    try:
        v = [float(x) for x in value]
    except (TypeError, ValueError):
        return None, "box dropped (not 4 numbers)"
    if any(x != x or abs(x) == float("inf") for x in v):
        return None, "box dropped (not finite)"
    note = ""
    if max(v) > 2.0:  # not fractions (a little past 1 is a fraction to clamp)
        if sent is not None and max(v[0], v[2]) <= sent[0] * 1.05 and max(v[1], v[3]) <= sent[1] * 1.05:
            v = [v[0] / sent[0], v[1] / sent[1], v[2] / sent[0], v[3] / sent[1]]
            note = "box read as pixels"
        elif max(v) <= 1000.0:
            v = [x / 1000.0 for x in v]
            note = "box read as per-mille"
    c = [min(1.0, max(0.0, x)) for x in v]
    if c != v:
        note = note or "box clamped to the image"
    x0, x1 = sorted((c[0], c[2]))
    y0, y1 = sorted((c[1], c[3]))
    if x1 - x0 < MIN_BOX or y1 - y0 < MIN_BOX:
        return None, "degenerate box dropped"
    return (x0, y0, x1, y1), note


def _first_key(data: dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in data:
            return data[n]
    return None


def parse_verdict(text: str, sent: tuple[int, int] | None = None,
                  vocabulary: Sequence[str] | None = None) -> Verdict:
    """The verdict in the assistant's ``text``; ``sent``: (width, height) of the image as sent."""
    vocab = tuple(vocabulary) if vocabulary is not None else jp.vocabulary()
    data, notes = load_object(text)
    match, m_clamped = rating(_first_key(data, jp.MATCH, "match", "prompt_adherence"))
    quality, q_clamped = rating(_first_key(data, jp.QUALITY, "technical_quality", "quality_rating"))
    if m_clamped or q_clamped:
        notes.append("rating clamped to 1..10")
    if match is None and quality is None:
        raise JudgeAnswerError("judge answer has no rating")
    raw = _first_key(data, jp.DEFECTS, "issues")
    if raw is None:
        raw = []
        notes.append("no defect list")
    elif not isinstance(raw, list):
        raw = [raw]
    findings: list[Finding] = []
    for item in raw:
        if len(findings) >= MAX_FINDINGS:
            notes.append(f"defects after the first {MAX_FINDINGS} dropped")
            break
        if isinstance(item, str):
            item = {jp.KIND: item}
        if not isinstance(item, dict):
            notes.append("defect that is not an object dropped")
            continue
        said = str(_first_key(item, jp.KIND, "type", "name") or "").strip()
        reason = " ".join(str(_first_key(item, jp.REASON, "description") or "").split())[:MAX_REASON]
        if not said:
            notes.append("defect without a kind dropped")
            continue
        kind = match_kind(said, vocab)
        if kind is None:
            notes.append(f"unknown kind kept as text: {said[:40]}")
        box, note = box_of(_first_key(item, jp.BOX, "bbox"), sent)
        if note:
            notes.append(note)
        findings.append(Finding(kind or said[:60], reason, box, kind is not None))
    return Verdict(match, quality, tuple(findings), tuple(dict.fromkeys(notes)))
