"""The host-agnostic fix loop: diagnose, repaint what is wrong, check the repainted regions,
re-score, keep the best.

Driven through ports only: an :class:`~lib_qfix.protocols.Inpainter`, an optional
:class:`~lib_qfix.protocols.FaceRestorer`, a ``diagnose`` callable (image ->
:class:`~lib_qfix.types.ImageReport`, normally the real scorer + detectors), an optional
``check_regions`` (:data:`~lib_qfix.fix.fidelity.RegionChecker`; default: the real detectors on
crops, :func:`~lib_qfix.fix.fidelity.region_checker`) and an optional ``regenerate`` callable. Rules:
- bounded: at most ``options.rounds`` rounds (plus ``options.regenerate_rounds`` regenerations);
- every round starts from the best image so far, with seed ``seed + round`` so a retry differs;
- **keep the best, never the last**: after each round the regions it repainted are checked on
  their own (a lost face or a noise band is rejected whatever the global score says), then the
  result is judged by the rules of :mod:`lib_qfix.fix.merit` (with ``keep_best`` off the last
  result that passed its region checks is kept);
- stop early when nothing is left to fix, or when ``should_stop()`` returns a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Protocol

import numpy as np

from lib_qfix.errors import error_text
from lib_qfix.fix import fidelity
from lib_qfix.fix.fidelity import RegionChecker
from lib_qfix.fix.guidance import control_units
from lib_qfix.fix.merit import decide, merit
from lib_qfix.fix.outcome import FAILED, SKIPPED, FixAction, FixOutcome, RegionCheck, RoundRecord
from lib_qfix.fix.plan import FixGroup, plan_round
from lib_qfix.fix.strategy import regenerate_plan, strategy_table, strategy_units
from lib_qfix.options import Options
from lib_qfix.prompts.negatives import additions_for_regions, merge_negative
from lib_qfix.protocols import FaceRestorer, Inpainter, InpaintParams, PassStopped, RestoreParams
from lib_qfix.types import ImageReport

Diagnose = Callable[[np.ndarray], ImageReport]


class Regenerate(Protocol):
    """regenerate(negative, seed, prompt=..., steps_scale=...) -> a new full image (same size), for the
    findings whose fix strategy says regenerate (:mod:`lib_qfix.fix.strategy`): ``prompt`` is the prompt
    with the findings' quality keywords ("" = the image's own), ``steps_scale`` multiplies the image's
    sampling steps (1.0: the same)."""

    def __call__(self, negative: str, seed: int, prompt: str = "", steps_scale: float = 1.0) -> np.ndarray: ...


StopCheck = Callable[[], "str | None"]


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

    def judge(self, actions: list[FixAction], out: np.ndarray | None, diagnose: Diagnose,
              checks: tuple[RegionCheck, ...] = ()) -> RoundRecord:
        """Record one round and keep ``out`` when :func:`lib_qfix.fix.merit.decide` says so. ``out``
        is diagnosed only when it has one and its region checks passed."""
        found, q_before, m_before = found_names(self.report), self.report.quality, merit(self.report)
        failed = any(c.failed for c in checks)
        after = diagnose(out) if out is not None and not failed else None
        decision = decide(self.original, self.report, after, checks, produced=out is not None,
                          keep_best=self.keep_best, min_improvement=self.min_improvement)
        rec = RoundRecord(len(self.rounds), found, tuple(actions), q_before,
                          after.quality if after is not None else None, m_before,
                          merit(after, checks) if after is not None else None, decision.kept, checks,
                          decision.reason)
        self.rounds.append(rec)
        if decision.kept and out is not None and after is not None:
            self.image, self.report = out, after
        return rec


def run_fix_loop(image: np.ndarray, options: Options, *, diagnose: Diagnose, inpainter: Inpainter,
                 restorer: FaceRestorer | None = None, prompt: str = "", negative: str = "", seed: int = 0,
                 regenerate: Regenerate | None = None, report: ImageReport | None = None,
                 should_stop: StopCheck = _never_stop, check_regions: RegionChecker | None = None) -> FixOutcome:
    """Fix one (H, W, 3) uint8 RGB image. ``report`` is the input's diagnosis if already known.
    A disabled run diagnoses nothing. Exceptions from one pass are recorded on its action and the
    pass is skipped. ``check_regions`` judges the regions a round repainted (default: built from
    the real detectors when the first round has something to repaint)."""
    if not options.enable:
        empty = ImageReport(None, int(image.shape[1]), int(image.shape[0]), None, "")
        return FixOutcome(image, False, report or empty, report or empty, stopped="disabled")
    before = report if report is not None else diagnose(image)
    if options.mode == "score_only":
        return FixOutcome(image, False, before, before, stopped="score_only")
    search = _Search(before, image, before, bool(options.keep_best), float(options.min_improvement))
    stopped = ""
    table = strategy_table(options.strategies)
    if options.regenerate and regenerate is not None and regenerate_plan(before.regions, table):
        stopped = _regenerate_phase(search, options, diagnose, regenerate, prompt, negative, seed, should_stop)
    if not stopped:
        stopped = _inpaint_phase(search, options, diagnose, inpainter, restorer, prompt, negative, seed,
                                 should_stop, check_regions)
    return FixOutcome(search.image, search.image is not image, before, search.report, tuple(search.rounds),
                      stopped)


def _regenerate_phase(search: _Search, options: Options, diagnose: Diagnose, regenerate: Regenerate,
                      prompt: str, negative: str, seed: int, should_stop: StopCheck) -> str:
    """Findings whose strategy says regenerate (global defects by default): regenerate on the same
    seed with the augmented negative, the findings' quality keywords in the prompt and, for
    "regenerate_steps", more sampling steps. Returns a stop reason ("" to go on to the inpaint rounds)."""
    table = strategy_table(options.strategies)
    for _ in range(int(options.regenerate_rounds)):
        stop = should_stop()
        plan = regenerate_plan(search.report.regions, table)
        if stop or plan is None:
            return stop or ""
        neg = merge_negative(negative, additions_for_regions(plan.regions, options))
        new_prompt = merge_negative(prompt, [(w, 1.0) for w in plan.keywords])
        planned = FixAction("regenerate", (), new_prompt, neg, seed)
        try:
            action, out = _attempt(planned, partial(regenerate, neg, seed, prompt=new_prompt,
                                                    steps_scale=plan.steps_scale))
        except PassStopped as e:  # the user stopped the generation: record it, judge nothing
            search.judge([replace(planned, status=SKIPPED, reason=e.reason)], None, diagnose)
            return e.reason
        search.judge([action], out, diagnose)
    return ""


def _inpaint_phase(search: _Search, options: Options, diagnose: Diagnose, inpainter: Inpainter,
                   restorer: FaceRestorer | None, prompt: str, negative: str, seed: int,
                   should_stop: StopCheck, check_regions: RegionChecker | None) -> str:
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
        img, actions, repainted = search.image, list[FixAction](), list[FixGroup]()
        for g in groups:
            stop = should_stop()
            planned = FixAction(g.kind, tuple(x.box for x in g.regions if x.box), g.prompt, g.negative, seed + r)
            if stop:
                actions.append(replace(planned, status=SKIPPED, reason=stop))
                continue
            units = control_units(g.kind, g.regions, options, img.shape[1], img.shape[0])
            guided = replace(inpaint, units=strategy_units(g.strategy, units))
            try:
                action, out = _attempt(planned, partial(inpainter.inpaint, img, g.mask, g.prompt, g.negative,
                                                        seed + r, guided))
            except PassStopped as e:  # the user stopped the generation: this round's passes are discarded
                actions.append(replace(planned, status=SKIPPED, reason=e.reason))
                search.judge(actions, None, diagnose)
                return e.reason
            if out is not None and g.kind == "face" and restorer is not None and restore.enabled:
                action, out = _restore(action, out, g, restorer, restore)
            if out is not None:
                img = out
                repainted.append(g)
            actions.append(action)
        if not repainted:
            search.judge(actions, None, diagnose)
            return stop or "every pass failed"
        if check_regions is None:
            check_regions = fidelity.region_checker(options, prompt)
        search.judge(actions, img, diagnose, check_regions(search.image, img, repainted))
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
    """Run one pass; a failure becomes a FAILED action with its reason, never an exception
    (:class:`PassStopped`, the user stopping the generation, is not a failure: it propagates)."""
    try:
        out = call()
    except PassStopped:
        raise
    except Exception as e:
        return replace(planned, status=FAILED, reason=error_text(e)), None
    if out is None:
        return replace(planned, status=SKIPPED, reason="the pass returned no image"), None
    return planned, out
