"""How the fix loop compares results: the one place for the rules and weights of "keep the best".

A round's result is judged against the best image so far (``best``) and the input (``original``)
with its diagnosis (``after``) and the checks of the regions it repainted (``checks``, see
:mod:`lib_qfix.fix.fidelity`). Rules, in order; the first that applies decides:

1. no image (every pass failed or was skipped): not kept, :data:`~lib_qfix.fix.outcome.NO_RESULT`;
2. a region check failed (the subject lost or moved, the region blurred, noisier, shifted, a seam,
   a band unlike its surroundings): **rejected with that reason, whatever the scores say**, also
   with ``keep_best`` off: erasing the subject is never a fix;
3. the result could not be scored: rejected;
4. ``keep_best`` off: kept (the last result wins);
5. quality below the original's: rejected (an original is never replaced by a worse-scoring
   image, by any margin);
6. merit not above the best's merit by more than ``min_improvement`` + :data:`SCORE_RESOLUTION`:
   rejected ("not better");
7. otherwise kept.

Merit (:func:`merit`) = quality (0..1) − :data:`FINDING_PENALTY` × local defect regions
+ :data:`REGION_WEIGHT` × Σ (region score − 1) over the repainted regions: a removed finding is
worth 0.05 of quality; a repainted region that came out a little worse than before (score < 1 but
not failed: slightly softer, a faint seam) costs up to half as much. The best so far is
its own reference, so its region term is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lib_qfix.fix.outcome import NO_RESULT, RegionCheck
from lib_qfix.types import ImageReport

#: merit lost per local defect region (quality is 0..1): a fixed hand is worth a small quality dip
FINDING_PENALTY = 0.05
#: merit lost per repainted region at score 0 (scores in 0..1, 1 costs nothing): a region that
#: only just passed its checks costs half a finding, so it cannot cancel a real fix
REGION_WEIGHT = 0.025
#: merit differences up to this are noise: the offline score of a photo moves by ~0.002 when one
#: region is repainted with the very same content, so a repaint that fixes nothing must not win on
#: such a wobble (a removed finding is worth :data:`FINDING_PENALTY`, ten times more)
SCORE_RESOLUTION = 0.005


def findings(report: ImageReport) -> int:
    """Local defect regions (boxed regions judged defective)."""
    return sum(1 for r in report.regions if r.box is not None and r.is_defect)


def merit(report: ImageReport, checks: Sequence[RegionCheck] = ()) -> float:
    """What results are compared by (see the module docstring). A report without a quality
    (scoring failed) ranks below everything."""
    if report.quality is None:
        return float("-inf")
    region = sum(min(1.0, max(0.0, c.score)) - 1.0 for c in checks)
    return float(report.quality) - FINDING_PENALTY * findings(report) + REGION_WEIGHT * region


@dataclass(frozen=True)
class Decision:
    """``kept`` and, when not kept, ``reason`` in words (the infotext's ``QFix rejected``)."""

    kept: bool
    reason: str = ""


def failed_checks(checks: Sequence[RegionCheck]) -> str:
    """The reasons of the failed checks, each once ("" when every check passed)."""
    return "; ".join(dict.fromkeys(c.reason for c in checks if c.failed))


def decide(original: ImageReport, best: ImageReport, after: ImageReport | None,
           checks: Sequence[RegionCheck] = (), *, produced: bool = True, keep_best: bool = True,
           min_improvement: float = 0.0) -> Decision:
    """Apply the rules of the module docstring to one result. ``after`` may be None when the result
    was not diagnosed (a failed check makes its diagnosis unnecessary)."""
    if not produced:
        return Decision(False, NO_RESULT)
    failed = failed_checks(checks)
    if failed:
        return Decision(False, failed)
    if after is None or after.quality is None:
        return Decision(False, "not scored")
    if not keep_best:
        return Decision(True)
    if original.quality is not None and after.quality < original.quality:
        return Decision(False, f"score below the original ({_pair(after.quality, original.quality)})")
    m_after, m_best = merit(after, checks), merit(best)
    if not m_after > m_best + min_improvement + SCORE_RESOLUTION:
        return Decision(False, f"not better (merit {m_after:.3f} vs {m_best:.3f})")
    return Decision(True)


def _pair(low: float, high: float) -> str:
    """``low < high`` with as many decimals as it takes to show they differ (3 to 6)."""
    for digits in range(3, 7):
        if f"{low:.{digits}f}" != f"{high:.{digits}f}":
            break
    return f"{low:.{digits}f} < {high:.{digits}f}"
