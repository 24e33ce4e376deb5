"""Result records shared by every part of QFix.

Images travel through the core as ``numpy.ndarray`` of shape (H, W, 3), dtype uint8, **RGB**.
Boxes are pixel coordinates ``(x0, y0, x1, y1)`` with exclusive ends, clamped to the image.
All records are frozen: derive new ones with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Box = tuple[int, int, int, int]


def box_area(box: Sequence[float] | None) -> float:
    """Area in pixels of an ``(x0, y0, x1, y1)`` box (int or float corners); 0 for ``None`` (a
    global region) or an empty box. The one box-area function of QFix."""
    if box is None:
        return 0.0
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])

#: Region kinds. Local kinds have a box; global kinds (whole-image signals) have ``box=None``.
LOCAL_KINDS = ("face", "hand", "watermark", "text", "body")
GLOBAL_KINDS = ("blur", "noise", "jpeg", "exposure", "low_resolution", "cropped", "low_quality",
                "clutter", "framing", "shading", "style")

OK = "ok"
DEFECT = "defect"
VERDICTS = (OK, DEFECT)


@dataclass(frozen=True)
class Region:
    """One finding: a detected object (face, hand, text) or a global defect (``box is None``).

    ``confidence`` is the detector's own confidence in 0..1. ``verdict`` is ``"ok"`` or
    ``"defect"``; ``reasons`` says why in words; ``defects`` names the specific defect
    kinds (keys of :mod:`lib_qfix.prompts.catalogue`) that drive weighted negatives.
    ``polygon`` is an optional outline (pixel (x, y) points) used for tighter masks than the box;
    ``landmarks`` optional named points, kept out of the JSON unless asked.
    """

    kind: str
    box: Box | None
    confidence: float
    verdict: str = OK
    reasons: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    detector: str = ""
    polygon: tuple[tuple[int, int], ...] | None = None
    landmarks: tuple[tuple[float, float], ...] | None = None

    @property
    def is_defect(self) -> bool:
        return self.verdict == DEFECT

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "box": list(self.box) if self.box is not None else None,
            "confidence": round(float(self.confidence), 4),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "defects": list(self.defects),
            "detector": self.detector,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Region:
        """The region :meth:`to_json` wrote: ``kind`` is required; a missing ``box`` is a global
        region, ``confidence`` (0..1, as rounded to 4 places by :meth:`to_json`) defaults to 0,
        ``verdict`` to ok. ``polygon`` and ``landmarks`` are not part of the JSON: None.
        Raises KeyError without ``kind``, ValueError/TypeError for a box that is not 4 numbers."""
        box = d.get("box")
        if box is not None:
            x0, y0, x1, y1 = (int(v) for v in box)
            box = (x0, y0, x1, y1)
        return cls(str(d["kind"]), box, float(d.get("confidence", 0.0)), str(d.get("verdict", OK)),
                   tuple(d.get("reasons", ())), tuple(d.get("defects", ())), str(d.get("detector", "")))


@dataclass(frozen=True)
class ScoreResult:
    """What a scorer says about one image.

    ``quality`` in 0..1 (1 = best). ``signals``: named raw or normalised measurements
    (units in each scorer's docs). ``regions``: global defects the scorer judged (``box=None``;
    the LLM judge also gives boxed ones). ``warnings``: what went wrong while scoring this image
    without failing it (e.g. the judge was unreachable and the base score was used).
    """

    quality: float
    scorer: str
    signals: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageReport:
    """Everything QFix knows about one image; the JSON shape of ``qfix diagnose``."""

    path: str | None
    width: int
    height: int
    quality: float | None
    scorer: str
    signals: dict[str, float] = field(default_factory=dict)
    regions: tuple[Region, ...] = ()
    negative: str = ""
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def defects(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.is_defect)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "width": self.width,
            "height": self.height,
            "quality": None if self.quality is None else round(float(self.quality), 4),
            "scorer": self.scorer,
            "signals": {k: round(float(v), 4) for k, v in self.signals.items()},
            "regions": [r.to_json() for r in self.regions],
            "negative": self.negative,
            "error": self.error,
            "warnings": list(self.warnings),
        }
