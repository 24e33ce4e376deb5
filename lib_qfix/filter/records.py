"""The per-image record of a filter run and the decision made on it (frozen, JSON round-trip)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib_qfix.types import Region

KEEP, REJECT, ERROR = "keep", "reject", "error"


def region_from_json(d: dict[str, Any]) -> Region:
    box = d.get("box")
    return Region(d["kind"], tuple(int(v) for v in box) if box is not None else None,
                  float(d.get("confidence", 0.0)), d.get("verdict", "ok"), tuple(d.get("reasons", ())),
                  tuple(d.get("defects", ())), d.get("detector", ""))


@dataclass(frozen=True)
class ImageRecord:
    """What the engine learned about one file.

    ``quality`` in 0..1 (None when the file could not be read: then ``error`` says why).
    ``regions``: the scorer's global regions plus detector regions, boxes in original pixels.
    ``dhash``: 64-bit perceptual difference hash (near-duplicate grouping); ``thumb``: JPEG bytes.
    ``mtime``: seconds since the epoch (burst grouping); ``cached``: the score came from the cache.
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


def score_payload(quality: float, scorer: str, signals: dict[str, float], reasons, regions,
                  warnings=()) -> dict[str, Any]:
    """The cached part of a record (depends on content + scorer + score options only)."""
    return {"quality": float(quality), "scorer": scorer,
            "signals": {k: float(v) for k, v in signals.items()},
            "reasons": list(reasons), "regions": [r.to_json() for r in regions], "warnings": list(warnings)}


def apply_payload(rec: ImageRecord, payload: dict[str, Any], **kw: Any) -> ImageRecord:
    from dataclasses import replace

    return replace(rec, quality=float(payload["quality"]), scorer=payload["scorer"],
                   signals=dict(payload["signals"]), reasons=tuple(payload["reasons"]),
                   regions=tuple(region_from_json(r) for r in payload["regions"]),
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
