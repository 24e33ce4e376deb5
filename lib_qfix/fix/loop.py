"""The host-agnostic fix loop: diagnose, repaint what is wrong, re-score, keep the best.

Driven through ports only: an ``Inpainter``, an optional ``FaceRestorer``, and a ``diagnose``
callable (image -> :class:`~lib_qfix.types.ImageReport`, normally the real scorer + detectors).
Rules:
- bounded: at most ``options.rounds`` rounds (plus ``options.regenerate_rounds`` regenerations);
- every round starts from the best image so far, with seed ``seed + round`` so a retry differs;
- **keep the best, never the last**: a result replaces the best only when its merit beats the
  best's by more than ``options.min_improvement`` and its quality is not below the original's
  (with ``keep_best`` off the last result is kept);
- stop early when nothing is left to fix, or when ``should_stop()`` returns a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lib_qfix.fix.outcome import DONE, FAILED, SKIPPED, FixAction, FixOutcome, RoundRecord
from lib_qfix.fix.plan import global_defects, plan_round
from lib_qfix.types import ImageReport

#: merit lost per local defect region (quality is 0..1): a fixed hand is worth a small quality dip
DEFECT_PENALTY = 0.05

Diagnose = Callable[[np.ndarray], ImageReport]
#: regenerate(negative, seed) -> a new full image (same size), for global defects
Regenerate = Callable[[str, int], np.ndarray]


def merit(report: ImageReport) -> float:
    """What results are compared by: quality (0..1) minus :data:`DEFECT_PENALTY` per local defect.
    A report without a quality (scoring failed) ranks below everything."""
    if report.quality is None:
        return float("-inf")
    local = sum(1 for r in report.regions if r.box is not None and r.is_defect)
    return float(report.quality) - DEFECT_PENALTY * local


def found_names(report: ImageReport) -> tuple[str, ...]:
    """Names of what is wrong: defect names where known, else the region kind."""
    out: list[str] = []
    for r in report.regions:
        if r.is_defect:
            out.extend(r.defects or (r.kind,))
    return tuple(out)


def _keep(after: ImageReport, candidate: float, best: float, original: ImageReport, options: Any) -> bool:
    """Whether a result replaces the best so far: with ``keep_best`` its merit must beat the best's
    by more than ``min_improvement`` **and** its quality must not fall below the original's (an
    original is never replaced by a worse-scoring image); without ``keep_best`` the last wins."""
    if not options.keep_best:
        return True
    floor = original.quality if original.quality is not None else float("-inf")
    quality = after.quality if after.quality is not None else float("-inf")
    return candidate > best + float(options.min_improvement) and quality >= floor


def _never_stop() -> str | None:
    return None


def run_fix_loop(image: np.ndarray, options: Any, *, diagnose: Diagnose, inpainter: Any,
                 restorer: Any = None, prompt: str = "", negative: str = "", seed: int = 0,
                 regenerate: Regenerate | None = None, report: ImageReport | None = None,
                 should_stop: Callable[[], str | None] = _never_stop) -> FixOutcome:
    """Fix one (H, W, 3) uint8 RGB image. ``report`` is the input's diagnosis if already known.
    Exceptions from one inpaint pass are recorded on its action and the pass is skipped."""
    before = report if report is not None else diagnose(image)
    best_img, best_rep, best_merit = image, before, merit(before)
    rounds: list[RoundRecord] = []
    if not options.enable:
        return FixOutcome(image, False, before, before, stopped="disabled")
    if options.mode == "score_only":
        return FixOutcome(image, False, before, before, stopped="score_only")

    stopped = ""
    # Phase 1: global defects cannot be inpainted; optionally regenerate with the augmented negative.
    if options.regenerate and regenerate is not None and global_defects(before):
        from lib_qfix.prompts.negatives import additions_for_regions, merge_negative

        for _ in range(int(options.regenerate_rounds)):
            stop = should_stop()
            if stop or not global_defects(best_rep):
                stopped = stop or ""
                break
            neg = merge_negative(negative, additions_for_regions(global_defects(best_rep), options))
            action, out = _attempt("regenerate", (), prompt, neg, seed, lambda n=neg: regenerate(n, seed))
            rec, after = _record(len(rounds), best_rep, action, out, diagnose, options, best_merit, before)
            rounds.append(rec)
            if out is not None and after is not None and rec.kept:
                best_img, best_rep, best_merit = out, after, merit(after)

    # Phase 2: local inpainting rounds, each from the best image so far.
    if not stopped:
        stopped = "max rounds"
        for r in range(int(options.rounds)):
            stop = should_stop()
            if stop:
                stopped = stop
                break
            groups = plan_round(best_rep, options, prompt, negative)
            if not groups:
                stopped = "nothing to fix"
                break
            round_seed = seed + r
            img, actions = best_img, []
            for g in groups:
                stop = should_stop()
                if stop:
                    actions.append(FixAction(g.kind, _boxes(g), g.prompt, g.negative, round_seed, SKIPPED, stop))
                    continue
                action, out = _attempt(g.kind, _boxes(g), g.prompt, g.negative, round_seed,
                                       lambda g=g, img=img, s=round_seed: inpainter.inpaint(
                                           img, g.mask, g.prompt, g.negative, s, options))
                if out is not None and g.kind == "face" and restorer is not None \
                        and options.face_restorer != "none":
                    try:
                        out = restorer.restore(out, g.mask, options)
                        action = FixAction(**{**action.__dict__, "restored": True})
                    except Exception as e:  # restoration is optional: keep the inpainted face
                        action = FixAction(**{**action.__dict__, "reason": f"restorer failed: {_why(e)}"})
                if out is not None:
                    img = out
                actions.append(action)
            if not any(a.status == DONE for a in actions):
                rounds.append(RoundRecord(len(rounds), found_names(best_rep), tuple(actions), best_rep.quality,
                                          None, best_merit, None, False))
                stopped = stop or "every pass failed"
                break
            after = diagnose(img)
            m = merit(after)
            kept = _keep(after, m, best_merit, before, options)
            rounds.append(RoundRecord(len(rounds), found_names(best_rep), tuple(actions), best_rep.quality,
                                      after.quality, best_merit, m, kept))
            if kept:
                best_img, best_rep, best_merit = img, after, m
            if stop:
                stopped = stop
                break

    changed = best_img is not image
    return FixOutcome(best_img, changed, before, best_rep, tuple(rounds), stopped)


def _record(index: int, best_rep: ImageReport, action: FixAction, out: np.ndarray | None,
            diagnose: Diagnose, options: Any, best_merit: float,
            original: ImageReport) -> tuple[RoundRecord, ImageReport | None]:
    """Record of a single-action round (regeneration) and the new image's report."""
    found = found_names(best_rep)
    if out is None:
        return RoundRecord(index, found, (action,), best_rep.quality, None, best_merit, None, False), None
    after = diagnose(out)
    m = merit(after)
    kept = _keep(after, m, best_merit, original, options)
    return RoundRecord(index, found, (action,), best_rep.quality, after.quality, best_merit, m, kept), after


def _boxes(g: Any) -> tuple:
    return tuple(r.box for r in g.regions)


def _why(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _attempt(kind: str, boxes: tuple, prompt: str, negative: str, seed: int,
             call: Callable[[], np.ndarray]) -> tuple[FixAction, np.ndarray | None]:
    """Run one pass; a failure becomes a FAILED action with its reason, never an exception."""
    try:
        out = call()
    except Exception as e:
        return FixAction(kind, boxes, prompt, negative, seed, FAILED, _why(e)), None
    if out is None:
        return FixAction(kind, boxes, prompt, negative, seed, SKIPPED, "the pass returned no image"), None
    return FixAction(kind, boxes, prompt, negative, seed), out
