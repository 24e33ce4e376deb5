"""Records of what the fix loop found and did: frozen, so that callers cannot rewrite history.

Qualities are the scorer's 0..1 quality; ``merit`` is the number the loop compares results by
(see :mod:`lib_qfix.fix.merit`); region checks say how each repainted region fared
(see :mod:`lib_qfix.fix.fidelity`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from lib_qfix.types import Box, ImageReport

DONE, FAILED, SKIPPED = "done", "failed", "skipped"
#: the verdict of a round that produced no image to judge (every pass failed or was skipped)
NO_RESULT = "no result"


@dataclass(frozen=True)
class FixAction:
    """One inpaint (or regeneration) pass: a group of regions of one kind under one mask.

    ``kind`` is a region kind ("face", "hand", "watermark", "text") or "regenerate";
    ``boxes`` the boxes of the regions in the group; ``status`` one of done/failed/skipped and
    ``reason`` says why when it was not done.
    """

    kind: str
    boxes: tuple[Box, ...]
    prompt: str
    negative: str
    seed: int
    status: str = DONE
    reason: str = ""
    restored: bool = False

    @property
    def count(self) -> int:
        return max(1, len(self.boxes))


@dataclass(frozen=True)
class RegionCheck:
    """How one repainted region fared, judged on its own against the image before the pass.

    ``kind``/``box``: the region as it was found before the pass. ``score`` in 0..1: 1 = at least
    as good as before, 0 = broken. ``reason`` says why it failed ("face lost", "seam around the
    hand", ...; "" when it passed). ``measures``: what was measured (names and units in
    :mod:`lib_qfix.fix.fidelity`).
    """

    kind: str
    box: Box
    score: float = 1.0
    reason: str = ""
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.reason)


@dataclass(frozen=True)
class RoundRecord:
    """One round: what was found before it, what was done, the scores before and after, the
    region checks of what was repainted, and ``verdict``: why the result was not kept ("" when kept)."""

    index: int
    found: tuple[str, ...]
    actions: tuple[FixAction, ...]
    quality_before: float | None
    quality_after: float | None
    merit_before: float
    merit_after: float | None
    kept: bool
    checks: tuple[RegionCheck, ...] = ()
    verdict: str = ""


@dataclass(frozen=True, eq=False)
class FixOutcome:
    """The result of :func:`lib_qfix.fix.loop.run_fix_loop` for one image.

    ``image`` is the best result (the input itself when nothing improved it); ``changed`` says
    whether it differs from the input. ``report_before``/``report_after`` are the diagnoses of the
    input and of ``image``. ``stopped`` says why the loop ended ("nothing to fix", "max rounds",
    "interrupted", "skipped", "score_only", "disabled").
    """

    image: np.ndarray
    changed: bool
    report_before: ImageReport
    report_after: ImageReport
    rounds: tuple[RoundRecord, ...] = ()
    stopped: str = ""

    @property
    def quality_before(self) -> float | None:
        return self.report_before.quality

    @property
    def quality_after(self) -> float | None:
        return self.report_after.quality

    @property
    def rounds_used(self) -> int:
        return sum(1 for r in self.rounds if any(a.status == DONE for a in r.actions))

    def kept_actions(self) -> list[FixAction]:
        """Actions that led to the kept image. Every round starts from the best image so far, so
        the kept rounds form the kept image's lineage."""
        if not self.changed:
            return []
        return [a for r in self.rounds if r.kept for a in r.actions if a.status == DONE]

    def rejections(self) -> list[str]:
        """Why results were not kept, each reason once, in round order (e.g. ``["face lost"]``)."""
        out: list[str] = []
        for r in self.rounds:
            if not r.kept and r.verdict and r.verdict != NO_RESULT:
                out.extend([c.reason for c in r.checks if c.failed] or [r.verdict])
        return list(dict.fromkeys(out))

    def result(self) -> str:
        """``"kept"`` when a repaired image replaced the input, else ``"unchanged (<why>)"``."""
        if self.changed:
            return "kept"
        judged = [r for r in self.rounds if not r.kept and r.verdict != NO_RESULT]
        why = "results rejected" if judged else (self.stopped or "nothing to fix")
        return f"unchanged ({why})"

    def fixed_summary(self) -> str:
        """What the kept result fixed, e.g. ``"hand×2, face"`` (empty when unchanged)."""
        counts: Counter[str] = Counter()
        for a in self.kept_actions():
            counts[a.kind] += a.count
        return ", ".join(k if n == 1 else f"{k}×{n}" for k, n in counts.most_common())
