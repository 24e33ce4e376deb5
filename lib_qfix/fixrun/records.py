"""What a batch fix (``qfix fix``) records per image, whatever host and engine did the work.

Host-neutral and picklable: a Ray actor returns these, the resume log stores them as JSON lines
(:mod:`lib_qfix.fixrun.resume`), the report and the summary read them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

FIXED, UNCHANGED, ERROR = "fixed", "unchanged", "error"
STATUSES = (FIXED, UNCHANGED, ERROR)


@dataclass(frozen=True)
class FixTask:
    """One image to fix: ``path`` (absolute), ``rel`` (its name relative to the argument it came
    from), ``dst`` (where its result goes) and ``key`` (:func:`file_key`, to know it again)."""

    path: str
    rel: str
    dst: str
    key: str


def file_key(path: str | os.PathLike[str]) -> str:
    """``"<size>:<mtime in ns>"``: a file changed since it was fixed is fixed again on resume."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


@dataclass(frozen=True)
class FixRecord:
    """One image's result. ``status``: fixed (a repaired image was kept), unchanged, or error;
    ``dst``: the file written ("" when none); ``result``: ``FixOutcome.result()``; ``fixed``: what the
    kept result repaired (``hand×2, face``); ``found``: the defects found before; qualities 0..1;
    ``rejected``: why results were not kept; ``notes``: notes and warnings; ``pairs``: the QFix
    infotext keys written; ``regions_before``/``regions_after``: the diagnoses' regions
    (``Region.to_json``); ``seconds``: wall time of this image on its worker."""

    path: str
    rel: str
    key: str
    status: str
    dst: str = ""
    result: str = ""
    fixed: str = ""
    found: tuple[str, ...] = ()
    quality_before: float | None = None
    quality_after: float | None = None
    rejected: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    pairs: dict[str, str] = field(default_factory=dict)
    regions_before: tuple[dict[str, Any], ...] = ()
    regions_after: tuple[dict[str, Any], ...] = ()
    rounds: int = 0
    error: str = ""
    seconds: float = 0.0

    def decision(self) -> tuple[Any, ...]:
        """What was decided, without where or how fast: equal for two engines that agree."""
        q = (None if self.quality_before is None else round(self.quality_before, 4),
             None if self.quality_after is None else round(self.quality_after, 4))
        return (self.rel, self.status, self.result, self.fixed, self.found, q, self.rejected, self.rounds)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("found", "rejected", "notes", "regions_before", "regions_after"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FixRecord:
        """The record :meth:`to_json` wrote (unknown keys ignored); KeyError/TypeError for a bad one."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("found", "rejected", "notes", "regions_before", "regions_after"):
            kw[k] = tuple(kw.get(k, ()))
        kw["pairs"] = {str(k): str(v) for k, v in dict(kw.get("pairs", {})).items()}
        return cls(**kw)


def error_record(task: FixTask, message: str, seconds: float = 0.0) -> FixRecord:
    return FixRecord(task.path, task.rel, task.key, ERROR, error=message, seconds=seconds)


def count(records: Iterable[FixRecord]) -> Counter[str]:
    """How many records have each status (every status present, 0 when none)."""
    c: Counter[str] = Counter({s: 0 for s in STATUSES})
    c.update(r.status for r in records)
    return c


def fixed_counts(records: Sequence[FixRecord]) -> Counter[str]:
    """How many images had each thing fixed (``{"hand": 3, "face": 1}``), from ``fixed`` summaries."""
    c: Counter[str] = Counter()
    for r in records:
        for part in filter(None, (p.strip() for p in r.fixed.split(","))):
            kind, _, n = part.partition("×")
            c[kind] += int(n) if n.isdigit() else 1
    return c
