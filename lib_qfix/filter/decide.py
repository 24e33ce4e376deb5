"""Keep or reject each image: a quality threshold or ``keep_top`` ("N" images or "P%"),
optionally only the best of each near-duplicate burst. Every reject says why: the rule that
rejected it, plus each defect the scorer or a detector found (the defect and its signal)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lib_qfix.filter.records import ERROR, KEEP, REJECT, Decision, ImageRecord


class DecideError(ValueError):
    """A bad threshold or keep-top value; the message names the option, the value and what is allowed."""


def parse_keep_top(text: str | int | None) -> tuple[str, float] | None:
    """``"50"`` -> ("count", 50); ``"20%"`` -> ("percent", 20.0); None/"" -> None."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    s = str(text).strip()
    try:
        if s.endswith("%"):
            p = float(s[:-1])
            if not 0 <= p <= 100 or not math.isfinite(p):
                raise ValueError
            return ("percent", p)
        n = int(s)
        if n < 0:
            raise ValueError
        return ("count", n)
    except ValueError:
        raise DecideError(f"keep-top: {text!r} is not allowed; allowed: a count like 100 or a "
                          "percentage like 20%") from None


def check_threshold(t: float) -> float:
    if not isinstance(t, (int, float)) or not math.isfinite(t) or not 0 <= t <= 1:
        raise DecideError(f"threshold: {t!r} is not allowed; allowed: a number from 0 to 1")
    return float(t)


def defect_reasons(rec: ImageRecord) -> list[str]:
    """One line per defect region: ``"blur (offline): laplacian variance 12 < 80"``."""
    out = []
    for r in rec.regions:
        if not r.is_defect:
            continue
        name = ", ".join(r.defects) or r.kind
        where = f" at {list(r.box)}" if r.box is not None else ""
        why = "; ".join(r.reasons) or f"confidence {r.confidence:.2f}"
        out.append(f"{name} ({r.detector or r.kind}){where}: {why}")
    if not out:
        out = list(rec.reasons)
    return out


def decide(records: Sequence[ImageRecord], threshold: float = 0.5, keep_top: str | int | None = None,
           bursts: dict[str, int] | None = None, best_of_burst: bool = False) -> list[Decision]:
    """Decisions in the order of ``records``. Ranks: 1 = best quality (ties by path).
    With ``best_of_burst`` the non-best members of each burst are rejected first and ``keep_top``
    counts among what remains."""
    threshold = check_threshold(threshold)
    top = parse_keep_top(keep_top)
    bursts = bursts or {}
    good = sorted((r for r in records if r.quality is not None), key=lambda r: (-(r.quality or 0.0), r.path))
    rank = {r.path: i + 1 for i, r in enumerate(good)}
    best: dict[int, ImageRecord] = {}
    for r in good:
        b = bursts.get(r.path, -1)
        if b >= 0 and b not in best:
            best[b] = r
    rule: dict[str, list[str]] = {}
    eligible = []
    for r in good:
        b = bursts.get(r.path, -1)
        if best_of_burst and b >= 0 and best[b].path != r.path:
            rule[r.path] = [f"burst {b}: near-duplicate of {best[b].rel} (quality {best[b].quality:.3f} "
                            f"> {r.quality:.3f})"]
        else:
            eligible.append(r)
    if top is not None:
        n = int(top[1]) if top[0] == "count" else math.ceil(len(eligible) * top[1] / 100.0)
        label = f"{top[1]:g}%" if top[0] == "percent" else str(int(top[1]))
        for i, r in enumerate(eligible):
            if i >= n:
                rule[r.path] = [f"rank {rank[r.path]}: outside the kept top {label} ({n} images)"]
    else:
        for r in eligible:
            if r.quality is not None and r.quality < threshold:
                rule[r.path] = [f"quality {r.quality:.3f} < threshold {threshold:.3f} ({r.scorer})"]
    out = []
    for r in records:
        b = bursts.get(r.path, -1)
        is_best = b >= 0 and best.get(b) is not None and best[b].path == r.path
        if r.quality is None:
            out.append(Decision(r, ERROR, (r.error or "not scored",), 0, b, False))
        elif r.path in rule:
            out.append(Decision(r, REJECT, tuple(rule[r.path] + defect_reasons(r)), rank[r.path], b, is_best))
        else:
            out.append(Decision(r, KEEP, (), rank[r.path], b, is_best))
    return out
