"""The one record of a filter run, the decision made on it, and the counts of decisions.

:class:`ImageRecord` is what every engine returns for a file (threads, processes and Ray alike):
frozen and picklable, so a worker process or a Ray actor sends it back as it is. Its *score part*
(quality, scorer, signals, reasons, regions, warnings) is also what the score cache stores, as the
JSON of :meth:`ImageRecord.score_json`; :meth:`ImageRecord.with_score` reads that JSON back. A fresh
score goes through the same JSON (:func:`score_json`), so a file scored now and the same file read
from the cache carry the same score, whatever the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lib_qfix.types import Region

KEEP, REJECT, ERROR = "keep", "reject", "error"
STATUSES = (KEEP, REJECT, ERROR)
#: what happened to a file (:attr:`ImageRecord.status`)
SCORED, CACHED, DECODED = "scored", "cached", "decoded"


def score_json(quality: float, scorer: str, signals: Mapping[str, float], reasons: Iterable[str],
               regions: Iterable[Region], warnings: Iterable[str] = ()) -> dict[str, Any]:
    """The score part of a record as JSON-ready data (depends on content + scorer + score options
    only; the cache stores it per content hash and score key). ``quality`` in 0..1."""
    return {"quality": float(quality), "scorer": scorer,
            "signals": {k: float(v) for k, v in signals.items()},
            "reasons": list(reasons), "regions": [r.to_json() for r in regions], "warnings": list(warnings)}


@dataclass(frozen=True)
class ImageRecord:
    """What the engine learned about one file.

    ``path``: absolute; ``root``: the scanned folder it was found in; ``rel``: its path relative to
    ``root`` (POSIX). ``content``: blake2b-128 hex of the file bytes ("" when unread).
    ``width``/``height``: original pixels (after EXIF orientation). ``quality`` in 0..1 (None when
    the file could not be read or scored: then ``error`` says why). ``regions``: the scorer's
    global regions plus detector regions, boxes in original pixels. ``dhash``: 64-bit perceptual
    difference hash as an int (near-duplicate grouping); ``thumb``: JPEG bytes. ``mtime``: seconds
    since the epoch (burst grouping). ``cached``: the score came from the cache. ``seconds``: wall
    time spent reading, decoding and scoring this file (its share of its scorer batch; 0 for a
    cache hit).
    """

    path: str
    rel: str
    root: str = ""
    content: str = ""
    width: int = 0
    height: int = 0
    quality: float | None = None
    scorer: str = ""
    signals: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    dhash: int | None = None
    thumb: bytes | None = None
    mtime: float = 0.0
    error: str | None = None
    cached: bool = False
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """``"error"`` (see ``error``), ``"cached"``, ``"scored"``, or ``"decoded"`` (read and
        decoded, not scored yet)."""
        if self.error is not None:
            return ERROR
        if self.quality is None:
            return DECODED
        return CACHED if self.cached else SCORED

    def score_json(self) -> dict[str, Any]:
        """The score part as stored in the cache (see :func:`score_json`); only for scored records."""
        if self.quality is None:
            raise ValueError(f"{self.path}: not scored, nothing to store")
        return score_json(self.quality, self.scorer, self.signals, self.reasons, self.regions, self.warnings)

    def with_score(self, payload: Mapping[str, Any], **kw: Any) -> ImageRecord:
        """This record with the score part ``payload`` (from :meth:`score_json` or the cache) and
        any other fields in ``kw`` (e.g. ``cached=True``). Raises KeyError/ValueError/TypeError for
        a payload that is not one."""
        return replace(self, quality=float(payload["quality"]), scorer=payload["scorer"],
                       signals=dict(payload["signals"]), reasons=tuple(payload["reasons"]),
                       regions=tuple(Region.from_json(r) for r in payload["regions"]),
                       warnings=tuple(payload.get("warnings", ())), **kw)


@dataclass(frozen=True)
class Decision:
    """``status``: keep / reject / error. ``reasons``: why (each names the defect and the signal).
    ``rank``: 1 = best among readable images (0 for errors). ``burst``: burst id or -1."""

    record: ImageRecord
    status: str
    reasons: tuple[str, ...] = ()
    rank: int = 0
    burst: int = -1
    burst_best: bool = False

    @property
    def keep(self) -> bool:
        return self.status == KEEP

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "path": r.path, "rel": r.rel, "status": self.status, "rank": self.rank,
            "quality": None if r.quality is None else round(r.quality, 4),
            "reasons": list(self.reasons), "burst": self.burst, "burst_best": self.burst_best,
            "width": r.width, "height": r.height, "scorer": r.scorer,
            "signals": {k: round(v, 4) for k, v in r.signals.items()},
            "regions": [g.to_json() for g in r.regions], "error": r.error, "cached": r.cached,
            "content_hash": r.content, "warnings": list(r.warnings),
        }


def count_status(decisions: Sequence[Decision]) -> dict[str, int]:
    """``{"keep": n, "reject": n, "error": n}`` (every status present, 0 when none)."""
    counts = dict.fromkeys(STATUSES, 0)
    for d in decisions:
        counts[d.status] += 1
    return counts
