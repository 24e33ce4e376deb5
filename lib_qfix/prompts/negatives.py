"""Weighted negatives for defects, merged into the user's negative prompt without duplicates.

Rules of :func:`merge_negative`:

- terms are compared case- and spacing-insensitively (``"Extra  Fingers"`` is ``"extra fingers"``);
- the user's text stays exactly as written (terms, order, brackets, BREAK) except that a user term
  which an addition asks to weigh *more* is rewritten in place with the larger weight (except in a
  comma-separated piece holding prompt-editing syntax such as ``[cat:dog:0.5]``, which is never
  rewritten: there the user's weight stays);
- new terms are appended at the end, in the order given, as ``(term:1.3)``;
- added weights are clamped to :data:`WEIGHT_RANGE` (0.5..1.8): above ~1.8 A1111 attention
  starts to distort images, below 0.5 a negative term does little. The user's own weights
  are never clamped.

:func:`additions_for_regions` picks the catalogue terms for the defective regions, scales them by
``options.negative_strength`` (0.5..2) and adds the per-kind user negatives (``face_negative``,
``hand_negative``, ``text_negative``) and ``extra_negative`` with the weights written there.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from lib_qfix.options import DEFAULTS, NEGATIVE_FIELD, Options
from lib_qfix.prompts.attention import BREAK_CHUNK, emit, format_weight, join_terms, split_terms
from lib_qfix.prompts.catalogue import CATALOGUE, region_defects

Term = tuple[str, float]

#: inclusive range every added weight is clamped to
WEIGHT_RANGE = (0.5, 1.8)
PROMPT_TOKEN = "[PROMPT]"


# A1111 prompt editing / alternation ("[cat:dog:0.5]", "[cat|dog]") is resolved before attention
# parsing; rewriting a piece that holds it would break it, so such pieces are never rewritten.
_SCHEDULING = re.compile(r"\[[^\]]*[:|][^\]]*\]")


def term_key(term: str) -> str:
    """The comparison key of a term: lower case, whitespace collapsed."""
    return " ".join(term.lower().split())


def clamp_weight(weight: float, lo: float = WEIGHT_RANGE[0], hi: float = WEIGHT_RANGE[1]) -> float:
    return min(hi, max(lo, float(weight)))


def _same_or_lower(new: float, old: float) -> bool:
    # compare as written (2 decimals) so that merging twice changes nothing
    return float(format_weight(new)) <= float(format_weight(old))


def dedupe(terms: Iterable[Term]) -> list[Term]:
    """Terms with duplicates (by :func:`term_key`) folded into the first, keeping the larger weight."""
    out: list[Term] = []
    where: dict[str, int] = {}
    for text, weight in terms:
        key = term_key(text)
        if not key:
            continue
        if key in where:
            i = where[key]
            out[i] = (out[i][0], max(out[i][1], float(weight)))
        else:
            where[key] = len(out)
            out.append((" ".join(text.split()), float(weight)))
    return out


def top_level_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the comma-separated pieces of ``text`` outside any bracket group, with the
    same bracket rules as the attention parser (escapes, unmatched closers are literal)."""
    spans: list[tuple[int, int]] = []
    start = rounds = squares = i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2 if i + 1 < len(text) and text[i + 1] in "()[]\\" else 1
            continue
        if c == "(":
            rounds += 1
        elif c == ")" and rounds:
            rounds -= 1
        elif c == "[":
            squares += 1
        elif c == "]" and squares:
            squares -= 1
        elif c == "," and not rounds and not squares:
            spans.append((start, i))
            start = i + 1
        i += 1
    spans.append((start, len(text)))
    return spans


def merge_negative(user_negative: str, additions: Sequence[Term], clamp: bool = True) -> str:
    """``user_negative`` with ``additions`` merged in (see the module docs for the rules).

    >>> merge_negative("ugly, Blurry", [("blurry", 1.3), ("extra fingers", 1.2)])
    'ugly, (Blurry:1.3), (extra fingers:1.2)'
    """
    adds = dedupe((t, clamp_weight(w) if clamp else w) for t, w in additions)
    spans = top_level_spans(user_negative)
    pieces = [split_terms(user_negative[a:b], keep_breaks=True) for a, b in spans]
    existing: dict[str, tuple[int, int, float]] = {}  # key -> (piece, term, max weight)
    for p, terms in enumerate(pieces):
        for t, (text, weight) in enumerate(terms):
            if (text, weight) == BREAK_CHUNK:
                continue
            key = term_key(text)
            if key in existing:
                pp, tt, old = existing[key]
                existing[key] = (pp, tt, max(old, weight))
            else:
                existing[key] = (p, t, weight)

    raised: dict[int, dict[int, float]] = {}
    new: list[Term] = []
    for text, weight in adds:
        hit = existing.get(term_key(text))
        if hit is None:
            new.append((text, weight))
        elif not _same_or_lower(weight, hit[2]) and not _SCHEDULING.search(user_negative[slice(*spans[hit[0]])]):
            raised.setdefault(hit[0], {})[hit[1]] = weight

    out = user_negative
    for p in sorted(raised, reverse=True):  # right to left keeps earlier spans valid
        a, b = spans[p]
        terms = [(text, raised[p].get(t, w)) for t, (text, w) in enumerate(pieces[p])]
        src = user_negative[a:b]
        lead, trail = src[: len(src) - len(src.lstrip())], src[len(src.rstrip()):]
        out = out[:a] + lead + join_terms(terms) + trail + out[b:]
    if new:
        base = out.rstrip(" ,\t\r\n")
        added = ", ".join(emit([t]) for t in new)
        out = f"{base}, {added}" if base else added
    return out


def additions_for_regions(regions: Iterable[Any], options: Options | None = None) -> list[Term]:
    """Weighted negative terms for the defective regions (``Region.is_defect``), deduplicated.

    Order: catalogue terms per region and defect (weights x ``negative_strength``, clamped), then
    the per-kind user negatives of the kinds present, then ``extra_negative``. A defective region
    without ``defects`` uses its kind's default (:data:`~lib_qfix.prompts.catalogue.KIND_DEFAULT_DEFECT`). No defective region:
    an empty list (``extra_negative`` is added only to negatives QFix builds). An unknown defect
    name is skipped with a ``UserWarning``.
    """
    if options is None:
        options = DEFAULTS
    strength = float(getattr(options, "negative_strength", 1.0))
    defective = [r for r in regions if r.is_defect]
    if not defective:
        return []
    terms: list[Term] = []
    for region in defective:
        for defect in region_defects(region):
            entry = CATALOGUE.get(defect)
            if entry is None:
                warnings.warn(f"unknown defect {defect!r} on a {region.kind} region; no negative added",
                              stacklevel=2)
                continue
            terms.extend((t, clamp_weight(w * strength)) for t, w in entry.negatives)
    seen_options: list[str] = []
    for region in defective:
        opt = NEGATIVE_FIELD.get(region.kind)
        if opt and opt not in seen_options:
            seen_options.append(opt)
    for opt in [*seen_options, "extra_negative"]:
        terms.extend(t for t in split_terms(getattr(options, opt, "") or "") if t != BREAK_CHUNK)
    return dedupe(terms)


def negative_for_regions(regions: Iterable[Any], options: Options | None = None) -> str:
    """The suggested weighted negative for the defective regions ("" when there are none)."""
    return merge_negative("", additions_for_regions(regions, options))


def positives_for_regions(regions: Iterable[Any]) -> list[str]:
    """Positive quality keywords for the defective regions, in order, without duplicates."""
    out: list[str] = []
    for region in regions:
        if not region.is_defect:
            continue
        for defect in region_defects(region):
            entry = CATALOGUE.get(defect)
            for word in entry.positives if entry else ():
                if word not in out:
                    out.append(word)
    return out


def expand_prompt(template: str, image_prompt: str) -> str:
    """``template`` with every ``[PROMPT]`` replaced by ``image_prompt``; a template without the
    token comes back unchanged. With an empty image prompt, the commas left dangling around the
    token are removed (``"[PROMPT], detailed face"`` -> ``"detailed face"``)."""
    if PROMPT_TOKEN not in template:
        return template
    if image_prompt.strip():
        return template.replace(PROMPT_TOKEN, image_prompt)
    pieces = [p.strip() for p in template.split(PROMPT_TOKEN)]
    pieces = [p.strip(", ").strip() for p in pieces]
    return ", ".join(p for p in pieces if p)
