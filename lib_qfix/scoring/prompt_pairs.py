"""Antonym prompt pairs for CLIP-IQA.

A pair's probability is ``p = softmax(logit_scale * [cos(img, positive), cos(img, negative)])[0]``
in 0..1 and is reported as the signal ``clip:<name>`` in the pair's own wording (for ``noisy_clean``
a high value means *noisy*). ``sign`` says how the pair enters the quality score: +1 means the
positive side is better, -1 the negative side is better (1 - p counts), 0 means the attribute has no
quality direction (brightness, mood) and is reported only. ``weight`` (>= 0) is its share of the
weighted mean.

Sets (see docs/field.md): ``paper`` (the CLIP-IQA paper's "Good photo."/"Bad photo."),
``quality5`` (the five pairs pyiqa averages), ``look`` and ``feel`` (the paper's attribute pairs).
Custom pairs come from the ``custom_pairs`` option: ``"positive|negative[|weight]"`` separated by ``;``,
at most :data:`MAX_CUSTOM_PAIRS` pairs; the option's syntax is checked when options are validated
(:func:`check_custom_pairs` is the field's check), so a bad pair is a field error everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lib_qfix.errors import OptionError


@dataclass(frozen=True)
class PromptPair:
    """One antonym pair; ``name`` becomes the signal key ``clip:<name>``."""

    name: str
    positive: str
    negative: str
    weight: float = 1.0
    sign: int = 1

    @property
    def signal(self) -> str:
        return f"clip:{self.name}"


def _p(name: str, pos: str, neg: str, weight: float = 1.0, sign: int = 1) -> PromptPair:
    return PromptPair(name, pos, neg, weight, sign)


PAIR_SETS: dict[str, tuple[PromptPair, ...]] = {
    "paper": (_p("good_bad", "Good photo.", "Bad photo."),),
    "quality5": (
        _p("good_bad", "Good image.", "bad image."),
        _p("sharp_blurry", "Sharp image.", "blurry image."),
        _p("sharp_edges", "sharp edges.", "blurry edges."),
        _p("high_low_resolution", "High resolution image.", "low resolution image."),
        _p("noisefree_noisy", "Noise-free image.", "noisy image."),
    ),
    "look": (
        _p("bright_dark", "Bright photo.", "Dark photo.", 0.0, 0),
        _p("sharp_blurry", "Sharp photo.", "Blurry photo."),
        _p("noisy_clean", "Noisy photo.", "Clean photo.", 1.0, -1),
        _p("colorful_dull", "Colorful photo.", "Dull photo.", 0.0, 0),
        _p("high_low_contrast", "High contrast photo.", "Low contrast photo.", 0.0, 0),
    ),
    "feel": (
        _p("aesthetic_not", "Aesthetic photo.", "Not aesthetic photo."),
        _p("happy_sad", "Happy photo.", "Sad photo.", 0.0, 0),
        _p("natural_synthetic", "Natural photo.", "Synthetic photo.", 0.0, 0),
        _p("new_old", "New photo.", "Old photo.", 0.0, 0),
        _p("scary_peaceful", "Scary photo.", "Peaceful photo.", 0.0, 0),
        _p("complex_simple", "Complex photo.", "Simple photo.", 0.0, 0),
    ),
}

#: custom pairs per option value (each pair costs two text encodings the first time it is seen)
MAX_CUSTOM_PAIRS = 16
_CUSTOM_HELP = (f"allowed: at most {MAX_CUSTOM_PAIRS} pairs as 'positive|negative[|weight]' separated by ';' "
                "(both texts non-empty, weight a number >= 0)")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:24] or "x"


def parse_custom_pairs(text: str) -> tuple[PromptPair, ...]:
    """Pairs from the ``custom_pairs`` option; raises :class:`OptionError` naming the bad item."""
    out: list[PromptPair] = []
    items = [i.strip() for i in (text or "").split(";") if i.strip()]
    if len(items) > MAX_CUSTOM_PAIRS:
        raise OptionError("custom_pairs", f"{len(items)} pairs", _CUSTOM_HELP)
    for item in items:
        parts = [s.strip() for s in item.split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise OptionError("custom_pairs", item, _CUSTOM_HELP)
        weight = 1.0
        if len(parts) == 3:
            try:
                weight = float(parts[2])
            except ValueError:
                raise OptionError("custom_pairs", item, _CUSTOM_HELP) from None
            if not weight >= 0 or weight == float("inf"):
                raise OptionError("custom_pairs", item, _CUSTOM_HELP)
        out.append(PromptPair(f"custom_{_slug(parts[0])}__{_slug(parts[1])}", parts[0], parts[1], weight))
    return tuple(out)


def check_custom_pairs(text: str) -> None:
    """The ``custom_pairs`` field's syntax check: raises :class:`OptionError` naming the bad pair."""
    parse_custom_pairs(text)


def resolve_pairs(pairs: str, custom_pairs: str = "") -> tuple[PromptPair, ...]:
    """The set named ``pairs`` followed by the custom pairs (duplicate names keep the first).

    Raises :class:`OptionError` for an unknown set name, a malformed custom pair, or a result whose
    quality weights are all zero (nothing to average)."""
    if pairs not in PAIR_SETS:
        raise OptionError("prompt_pairs", pairs, "one of " + ", ".join(PAIR_SETS))
    seen: dict[str, PromptPair] = {}
    for p in PAIR_SETS[pairs] + parse_custom_pairs(custom_pairs):
        seen.setdefault(p.name, p)
    result = tuple(seen.values())
    if sum(p.weight for p in result if p.sign) <= 0:
        raise OptionError("custom_pairs", custom_pairs, "at least one pair needs a weight > 0")
    return result


def quality_of(probs: dict[str, float], pairs: tuple[PromptPair, ...]) -> float:
    """Weighted mean (0..1) of the pairs' probabilities, oriented so that 1 is best."""
    num = den = 0.0
    for p in pairs:
        if p.sign == 0 or p.weight <= 0:
            continue
        v = probs[p.signal]
        num += p.weight * (v if p.sign > 0 else 1.0 - v)
        den += p.weight
    return num / den
