"""Infotext pairs for an image QFix touched, and reading them back.

Keys: option keys from :func:`lib_qfix.options.to_infotext` (only what differs from the preset,
plus enable and preset), and the result keys below, which are never option keys (paste-back reads
option keys only, so a result must not share one: ``QFix rounds`` is the option, ``QFix rounds
used`` what a run used). Values are plain str/int/float/bool; the host quotes values containing
``,`` ``:`` or newlines.

- ``QFix result``: ``kept`` (a repaired image replaced the input) or ``unchanged (<why>)``:
  ``results rejected``, ``nothing to fix``, or why the loop stopped;
- ``QFix rejected``: why results were not kept, each reason once (``face lost; not better (...)``);
- ``QFix score before`` / ``QFix score after`` (0..1, after only when kept), ``QFix fixed``
  (what the kept result repaired), ``QFix rounds used``;
- ``QFix judge before`` / ``QFix judge after``: the LLM judge's ratings (scorer ``llm-judge`` only);
- ``QFix found``: what the input's diagnosis found, per region kind, ok and defective alike
  (``face 1, hand 2 (1 defect), text 1``), so "did it see the hand?" is answered even when nothing was kept.
"""

from __future__ import annotations

from typing import Any

from lib_qfix import __version__
from lib_qfix.errors import error_text
from lib_qfix.fix.outcome import FixOutcome
from lib_qfix.judge.verdicts import rating_text
from lib_qfix.options import Options, to_infotext
from lib_qfix.types import ImageReport

SCORE_BEFORE = "QFix score before"
SCORE_AFTER = "QFix score after"
FIXED = "QFix fixed"
ROUNDS_USED = "QFix rounds used"
RESULT = "QFix result"
REJECTED = "QFix rejected"
NEGATIVE = "QFix suggested negative"
ERROR = "QFix error"
WARNINGS = "QFix warnings"
VERSION = "QFix version"
#: the upscale step (:func:`lib_qfix.fix.upscale_step.upscale_infotext`): upscaler used and sizes, the
#: detail pass's tiles and verdict, each candidate's score at the output size, which one was kept
UPSCALED, DETAIL_TILES, UPSCALE_SCORES, UPSCALE_KEPT = (
    "QFix upscaled", "QFix detail tiles", "QFix upscale scores", "QFix upscale kept")
#: ControlNet (:mod:`lib_qfix.a1111.controlnet`): which units guided which pass
#: (``hand=openpose(0.8); face=openpose(0.6)``), and notes such as ``ControlNet: no openpose model``
CONTROLNET, NOTE = "QFix controlnet", "QFix note"
#: the LLM judge's ratings of the input and of the kept result (``match 7/10, quality 6/10``; after only when kept)
JUDGE_BEFORE, JUDGE_AFTER = "QFix judge before", "QFix judge after"
FOUND = "QFix found"
RESULT_KEYS = (SCORE_BEFORE, SCORE_AFTER, FIXED, ROUNDS_USED, RESULT, REJECTED, NEGATIVE, ERROR, WARNINGS,
               VERSION, UPSCALED, DETAIL_TILES, UPSCALE_SCORES, UPSCALE_KEPT, CONTROLNET, NOTE, JUDGE_BEFORE,
               JUDGE_AFTER, FOUND)


def _q(x: float | None) -> str | None:
    return None if x is None else f"{float(x):.3f}"


def found_text(report: ImageReport) -> str | None:
    """``face 1, hand 2 (1 defect), text 1``: the regions of ``report`` with a box, counted per kind
    in the order first seen; None when there are none."""
    counts: dict[str, list[int]] = {}
    for r in report.regions:
        if r.box is not None:
            c = counts.setdefault(r.kind, [0, 0])
            c[0] += 1
            c[1] += int(r.is_defect)
    parts = [f"{k} {n}" + (f" ({d} defect{'s' if d > 1 else ''})" if d else "") for k, (n, d) in counts.items()]
    return ", ".join(parts) or None


def outcome_infotext(outcome: FixOutcome, options: Options,
                     preset_options: Options | None = None) -> dict[str, Any]:
    """Infotext pairs for one processed image (None values are left out by the host)."""
    out: dict[str, Any] = dict(to_infotext(options, preset_options))
    out[SCORE_BEFORE] = _q(outcome.quality_before)
    out[FOUND] = found_text(outcome.report_before)
    out[JUDGE_BEFORE] = rating_text(outcome.report_before.signals)
    if outcome.changed:
        out[SCORE_AFTER] = _q(outcome.quality_after)
        out[JUDGE_AFTER] = rating_text(outcome.report_after.signals)
        out[FIXED] = outcome.fixed_summary() or None
    if outcome.rounds:
        out[ROUNDS_USED] = outcome.rounds_used
    out[RESULT] = outcome.result()
    out[REJECTED] = "; ".join(outcome.rejections()) or None
    neg = outcome.report_before.negative
    out[NEGATIVE] = neg or None
    errors = _failures(outcome)
    out[ERROR] = "; ".join(errors) or None
    out[VERSION] = __version__
    return {k: v for k, v in out.items() if v is not None}


def _failures(outcome: FixOutcome) -> list[str]:
    return [f"{a.kind}: {a.reason}" for r in outcome.rounds for a in r.actions if a.status == "failed"]


def error_infotext(e: BaseException | str, options: Options | None = None,
                   preset_options: Options | None = None) -> dict[str, Any]:
    """Infotext for an image QFix could not process (left untouched)."""
    out: dict[str, Any] = dict(to_infotext(options, preset_options)) if options is not None else {}
    out[ERROR] = e if isinstance(e, str) else error_text(e)
    out[VERSION] = __version__
    return out
