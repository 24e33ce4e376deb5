"""The host-agnostic fix loop: diagnose, repaint what is wrong, re-score, keep the best.

Driven through ports only: an :class:`~lib_qfix.protocols.Inpainter`, an optional
:class:`~lib_qfix.protocols.FaceRestorer`, a ``diagnose`` callable (image ->
:class:`~lib_qfix.types.ImageReport`, normally the real scorer + detectors) and an optional
``regenerate`` callable. Rules:
- bounded: at most ``options.rounds`` rounds (plus ``options.regenerate_rounds`` regenerations);
- every round starts from the best image so far, with seed ``seed + round`` so a retry differs;
- **keep the best, never the last**: a result replaces the best only when its merit beats the
  best's by more than ``options.min_improvement`` and its quality is not below the original's
  (with ``keep_best`` off the last result is kept);
- stop early when nothing is left to fix, or when ``should_stop()`` returns a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from lib_qfix.errors import error_text
from lib_qfix.fix.outcome import DONE, FAILED, SKIPPED, FixAction, FixOutcome, RoundRecord
from lib_qfix.fix.plan import FixGroup, global_defects, plan_round
from lib_qfix.prompts.negatives import additions_for_regions, merge_negative
from lib_qfix.protocols import FaceRestorer, Inpainter, InpaintParams, RestoreParams
from lib_qfix.types import ImageReport

#: merit lost per local defect region (quality is 0..1): a fixed hand is worth a small quality dip
DEFECT_PENALTY = 0.05

Diagnose = Callable[[np.ndarray], ImageReport]
#: regenerate(negative, seed) -> a new full image (same size), for global defects
Regenerate = Callable[[str, int], np.ndarray]
StopCheck = Callable[[], "str | None"]


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


def _never_stop() -> str | None:
    return None


@dataclass
class _Search:
    """The loop's state: the original, the best image so far and the rounds recorded."""

    original: ImageReport
    image: np.ndarray
    report: ImageReport
    keep_best: bool
    min_improvement: float
    rounds: list[RoundRecord] = field(default_factory=list)

    @property
    def merit(self) -> float:
        return merit(self.report)

    def keeps(self, after: ImageReport) -> bool:
        """Whether ``after`` replaces the best so far: with ``keep_best`` its merit must beat the
        best's by more than ``min_improvement`` **and** its quality must not fall below the
        original's (an original is never replaced by a worse-scoring image); without
        ``keep_best`` the last wins."""
        if not self.keep_best:
            return True
        floor = self.original.quality if self.original.quality is not None else float("-inf")
        quality = after.quality if after.quality is not None else float("-inf")
        return merit(after) > self.merit + self.min_improvement and quality >= floor

    def judge(self, actions: list[FixAction], out: np.ndarray | None, diagnose: Diagnose) -> RoundRecord:
        """Record one round (diagnosing ``out`` when there is one) and keep ``out`` if it is better."""
        found, q_before, m_before = found_names(self.report), self.report.quality, self.merit
        after = diagnose(out) if out is not None else None
        kept = after is not None and self.keeps(after)
        rec = RoundRecord(len(self.rounds), found, tuple(actions), q_before,
                          after.quality if after is not None else None, m_before,
                          merit(after) if after is not None else None, kept)
        self.rounds.append(rec)
        if kept and out is not None and after is not None:
            self.image, self.report = out, after
        return rec


def run_fix_loop(image: np.ndarray, options: Any, *, diagnose: Diagnose, inpainter: Inpainter,
                 restorer: FaceRestorer | None = None, prompt: str = "", negative: str = "", seed: int = 0,
                 regenerate: Regenerate | None = None, report: ImageReport | None = None,
                 should_stop: StopCheck = _never_stop) -> FixOutcome:
    """Fix one (H, W, 3) uint8 RGB image. ``report`` is the input's diagnosis if already known.
    A disabled run diagnoses nothing. Exceptions from one pass are recorded on its action and the
    pass is skipped."""
    if not options.enable:
        empty = ImageReport(None, int(image.shape[1]), int(image.shape[0]), None, "")
        return FixOutcome(image, False, report or empty, report or empty, stopped="disabled")
    before = report if report is not None else diagnose(image)
    if options.mode == "score_only":
        return FixOutcome(image, False, before, before, stopped="score_only")
    search = _Search(before, image, before, bool(options.keep_best), float(options.min_improvement))
    stopped = ""
    if options.regenerate and regenerate is not None and global_defects(before):
        stopped = _regenerate_phase(search, options, diagnose, regenerate, prompt, negative, seed, should_stop)
    if not stopped:
        stopped = _inpaint_phase(search, options, diagnose, inpainter, restorer, prompt, negative, seed,
                                 should_stop)
    return FixOutcome(search.image, search.image is not image, before, search.report, tuple(search.rounds),
                      stopped)


def _regenerate_phase(search: _Search, options: Any, diagnose: Diagnose, regenerate: Regenerate,
                      prompt: str, negative: str, seed: int, should_stop: StopCheck) -> str:
    """Global defects cannot be inpainted: regenerate on the same seed with the augmented negative.
    Returns a stop reason ("" to go on to the inpaint rounds)."""
    for _ in range(int(options.regenerate_rounds)):
        stop = should_stop()
        if stop or not global_defects(search.report):
            return stop or ""
        neg = merge_negative(negative, additions_for_regions(global_defects(search.report), options))
        action, out = _attempt(FixAction("regenerate", (), prompt, neg, seed), partial(regenerate, neg, seed))
        search.judge([action], out, diagnose)
    return ""


def _inpaint_phase(search: _Search, options: Any, diagnose: Diagnose, inpainter: Inpainter,
                   restorer: FaceRestorer | None, prompt: str, negative: str, seed: int,
                   should_stop: StopCheck) -> str:
    """Local inpainting rounds, each from the best image so far; returns why they ended."""
    inpaint = InpaintParams.from_options(options)
    restore = RestoreParams.from_options(options)
    for r in range(int(options.rounds)):
        stop = should_stop()
        if stop:
            return stop
        groups = plan_round(search.report, options, prompt, negative)
        if not groups:
            return "nothing to fix"
        img, actions = search.image, list[FixAction]()
        for g in groups:
            stop = should_stop()
            planned = FixAction(g.kind, tuple(x.box for x in g.regions if x.box), g.prompt, g.negative, seed + r)
            if stop:
                actions.append(replace(planned, status=SKIPPED, reason=stop))
                continue
            action, out = _attempt(planned, partial(inpainter.inpaint, img, g.mask, g.prompt, g.negative,
                                                    seed + r, inpaint))
            if out is not None and g.kind == "face" and restorer is not None and restore.enabled:
                action, out = _restore(action, out, g, restorer, restore)
            if out is not None:
                img = out
            actions.append(action)
        if not any(a.status == DONE for a in actions):
            search.judge(actions, None, diagnose)
            return stop or "every pass failed"
        search.judge(actions, img, diagnose)
        if stop:
            return stop
    return "max rounds"


def _restore(action: FixAction, out: np.ndarray, group: FixGroup, restorer: FaceRestorer,
             params: RestoreParams) -> tuple[FixAction, np.ndarray]:
    """Restore an inpainted face; restoration is optional, so a failure keeps the inpainted face."""
    try:
        return replace(action, restored=True), restorer.restore(out, group.mask, params)
    except Exception as e:
        return replace(action, reason=f"restorer failed: {error_text(e)}"), out


def _attempt(planned: FixAction, call: Callable[[], np.ndarray]) -> tuple[FixAction, np.ndarray | None]:
    """Run one pass; a failure becomes a FAILED action with its reason, never an exception."""
    try:
        out = call()
    except Exception as e:
        return replace(planned, status=FAILED, reason=error_text(e)), None
    if out is None:
        return replace(planned, status=SKIPPED, reason="the pass returned no image"), None
    return planned, out
