"""A :class:`~lib_qfix.judge.parse.Verdict` in QFix's terms: a 0..1 quality, signals, and regions
like every detector's.

- Quality: ``match_weight * (match - 1) / 9 + (1 - match_weight) * (quality - 1) / 9`` (one rating
  alone when the other is missing), then ``weight * judge + (1 - weight) * base`` with the base
  scorer's quality when there is one.
- Signals: ``judge:prompt_match`` and ``judge:quality`` (the ratings, 1..10), ``judge:score``
  (0..1), ``judge:defects`` (count), ``judge:base`` (the base scorer's 0..1 quality),
  ``judge:carried`` (1 when the verdict is the first image's, the call budget being spent).
- Regions: a finding of a catalogue kind becomes a region of the kind that defect belongs to
  (:func:`region_kind`: ``extra_fingers`` -> ``hand``, ``overexposed`` -> ``exposure``), verdict
  defect, ``defects`` = the catalogue kind (so it feeds the weighted negatives), a pixel box when
  the judge gave one and the kind is local (so it feeds the masks). A finding of an unknown kind is
  kept as text: a region of kind :data:`UNKNOWN_KIND` with no catalogue defect (no negative, never
  repainted).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from lib_qfix.detect.nms import inside_fraction, iou
from lib_qfix.judge import JUDGE_SCORER
from lib_qfix.judge.parse import Finding, Verdict
from lib_qfix.prompts.catalogue import KIND_DEFAULT_DEFECT
from lib_qfix.types import DEFECT, GLOBAL_KINDS, LOCAL_KINDS, Box, Region

#: a judge box and a detector box of the same kind are one finding from this overlap on: IoU, or the
#: share of the detector's box inside the judge's (the judge's boxes are coarse and often larger)
SAME_REGION = 0.5

#: region kind of a finding outside the vocabulary (kept as text)
UNKNOWN_KIND = "judge"
#: confidence given to the judge's findings (it states none; a detector's 0.5 is its floor)
CONFIDENCE = 0.7
MATCH, QUALITY, SCORE, DEFECTS, BASE, CARRIED = (
    "judge:prompt_match", "judge:quality", "judge:score", "judge:defects", "judge:base", "judge:carried")
#: words in a defect name -> region kind, for defects no region kind names as its default
#: (the first word found whose kind QFix has wins)
_WORDS = (("finger", "hand"), ("hand", "hand"), ("eye", "face"), ("face", "face"), ("teeth", "face"),
          ("skin", "face"), ("limb", "body"), ("joint", "body"), ("anatomy", "body"), ("exposed", "exposure"),
          ("signature", "watermark"), ("watermark", "watermark"), ("logo", "watermark"), ("text", "text"),
          ("background", "clutter"), ("background", "composition"), ("framing", "framing"),
          ("framing", "composition"), ("lighting", "shading"), ("lighting", "lighting"), ("era", "style"),
          ("style", "style"))


def region_kind(defect: str) -> str:
    """The region kind a catalogue defect belongs to: the kind whose default it is, a kind of the
    same name, else by its words (:data:`_WORDS`: fingers -> hand, eyes and teeth -> face, limbs ->
    body, over- or under-exposed -> exposure, signature and logo -> watermark, ...) when QFix has
    that kind, else ``low_quality``."""
    for kind, default in KIND_DEFAULT_DEFECT.items():
        if default == defect:
            return kind
    kinds = set(LOCAL_KINDS) | set(GLOBAL_KINDS)
    if defect in kinds:
        return defect
    for word, kind in _WORDS:
        if word in defect and kind in kinds:
            return kind
    return "low_quality"


def judge_quality(verdict: Verdict, match_weight: float = 0.5) -> float:
    """0..1 from the ratings (see the module doc); ``match_weight`` in 0..1."""
    m = None if verdict.prompt_match is None else (verdict.prompt_match - 1) / 9.0
    q = None if verdict.quality is None else (verdict.quality - 1) / 9.0
    if q is None:
        return 0.0 if m is None else m
    if m is None:
        return q
    w = min(1.0, max(0.0, float(match_weight)))
    return w * m + (1.0 - w) * q


def combine(judge: float, base: float | None, weight: float) -> float:
    """``weight * judge + (1 - weight) * base`` (the judge alone without a base)."""
    if base is None:
        return judge
    w = min(1.0, max(0.0, float(weight)))
    return w * judge + (1.0 - w) * float(base)


def pixel_box(box: tuple[float, float, float, float], width: int, height: int) -> Box | None:
    """A normalised box in pixels of a ``width`` x ``height`` image (None if it vanishes)."""
    x0, y0 = max(0, math.floor(box[0] * width)), max(0, math.floor(box[1] * height))
    x1, y1 = min(width, math.ceil(box[2] * width)), min(height, math.ceil(box[3] * height))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def finding_region(f: Finding, width: int, height: int) -> Region:
    """The region of one finding on a ``width`` x ``height`` image (see the module doc)."""
    why = f"judge: {f.reason}" if f.reason else "judge"
    if not f.known:
        box = pixel_box(f.box, width, height) if f.box else None
        return Region(UNKNOWN_KIND, box, CONFIDENCE, DEFECT, (f"judge: {f.kind}" + (f": {f.reason}" if f.reason else ""),),
                      (), JUDGE_SCORER)
    kind = region_kind(f.kind)
    box = pixel_box(f.box, width, height) if f.box and kind in LOCAL_KINDS else None
    return Region(kind, box, CONFIDENCE, DEFECT, (why,), (f.kind,), JUDGE_SCORER)


def regions_of(verdict: Verdict, width: int, height: int) -> tuple[Region, ...]:
    return tuple(finding_region(f, width, height) for f in verdict.findings)


def signals_of(verdict: Verdict, score: float, base: float | None, carried: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    if verdict.prompt_match is not None:
        out[MATCH] = float(verdict.prompt_match)
    if verdict.quality is not None:
        out[QUALITY] = float(verdict.quality)
    out[SCORE] = float(score)
    out[DEFECTS] = float(len(verdict.findings))
    if base is not None:
        out[BASE] = float(base)
    if carried:
        out[CARRIED] = 1.0
    return out


def rating_text(signals: Mapping[str, float]) -> str | None:
    """``"match 7/10, quality 6/10"`` from a report's signals (None when the judge gave no rating;
    ``" (carried)"`` appended when the verdict was the first image's)."""
    parts = [f"{label} {int(signals[k])}/10" for label, k in (("match", MATCH), ("quality", QUALITY)) if k in signals]
    if not parts:
        return None
    return ", ".join(parts) + (" (carried)" if signals.get(CARRIED) else "")


def judge_findings(regions: tuple[Region, ...] | list[Region]) -> list[str]:
    """One line per region the judge reported: ``"hand extra_fingers: six fingers on the left hand"``."""
    out = []
    for r in regions:
        if r.detector != JUDGE_SCORER:
            continue
        reason = "; ".join(x.removeprefix("judge: ").removeprefix("judge") for x in r.reasons).strip()
        name = f"{r.kind} {'/'.join(r.defects)}" if r.defects else r.kind
        out.append(f"{name}: {reason}" if reason else name)
    return out


def merge_findings(regions: Sequence[Region]) -> list[Region]:
    """``regions`` with each boxed judge finding that overlaps a detector's region of the same kind
    (:data:`SAME_REGION`) folded into that region: it becomes a defect with the judge's defects and
    reasons added, keeping the detector's tighter box and outline (one repaint, not two). Other
    regions are left as they are, in order."""
    out = list(regions)
    judged = [i for i, r in enumerate(out) if r.detector == JUDGE_SCORER and r.box is not None]
    dropped = set()
    for i in judged:
        j, jbox = out[i], out[i].box
        if jbox is None:
            continue
        best, best_overlap = None, SAME_REGION
        for k, d in enumerate(out):
            if d.detector == JUDGE_SCORER or d.box is None or d.kind != j.kind:
                continue
            overlap = max(iou(jbox, d.box), inside_fraction(d.box, jbox))
            if overlap >= best_overlap:
                best, best_overlap = k, overlap
        if best is not None:
            d = out[best]
            out[best] = replace(d, verdict=DEFECT, defects=tuple(dict.fromkeys(d.defects + j.defects)),
                                reasons=tuple(dict.fromkeys(d.reasons + j.reasons)))
            dropped.add(i)
    return [r for i, r in enumerate(out) if i not in dropped]
