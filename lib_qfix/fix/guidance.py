"""ControlNet units for one inpaint pass, built from the options and the regions being repainted.

Pure core: no host imports. The loop calls :func:`control_units` per region group and hands the
units to the inpainter in :class:`~lib_qfix.protocols.InpaintParams`; an adapter resolves the
``auto`` model and the preprocessor against what its host lists (:func:`resolve_model`,
:func:`resolve_module`) and runs the pass unguided, with a note, when it cannot.

Which unit guides which pass (:data:`SERVES`): the hand, face and body units their own kind, with a
control image QFix draws from the detections (:mod:`lib_qfix.guides`; several regions of one
pass are combined pixel by pixel with max); depth the anatomy passes (hands, faces); inpaint and
tile every pass, on the pass's own image (no control image).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lib_qfix.fix.infotext import CONTROLNET, NOTE
from lib_qfix.guides import body_guide, face_guide, hand_guide
from lib_qfix.guides.body import POSE_POINTS
from lib_qfix.options import FIELD_BY_KEY, Options
from lib_qfix.options.groups import CN_UNITS
from lib_qfix.protocols import ControlUnit
from lib_qfix.types import LOCAL_KINDS, Region

log = logging.getLogger("qfix")


def body_region_guide(region: Region, size: tuple[int, int]) -> np.ndarray | None:
    """The OpenPose body skeleton of a body region's 33 pose landmarks (lib_qfix.detect.anatomy), or None
    without them."""
    if region.kind != "body" or not region.landmarks or len(region.landmarks) != POSE_POINTS:
        return None
    return body_guide(np.asarray(region.landmarks, dtype=np.float64), size)


#: unit kind -> the region kinds of the passes it guides
SERVES: dict[str, tuple[str, ...]] = {"hand": ("hand",), "face": ("face",), "body": ("body",),
                                      "depth": ("hand", "face"), "inpaint": LOCAL_KINDS, "tile": LOCAL_KINDS}
#: unit kind -> the renderer of its control image (used with module "none")
GUIDES: dict[str, Callable[[Region, tuple[int, int]], np.ndarray | None]] = {
    "hand": hand_guide, "face": face_guide, "body": body_region_guide}
#: depth module "auto": the extension's hand refiner for hands, MiDaS for the rest
AUTO_DEPTH = {"hand": "depth_hand_refiner"}
DEPTH_DEFAULT = "depth_midas"
#: the hand refiner's own model is named "..._inpaint_depth_hand_..."
HAND_DEPTH_WORD = "depth_hand"


def _opt(options: Options, unit: str, what: str = "") -> Any:
    return getattr(options, f"controlnet_{unit}{'_' + what if what else ''}")


def _module(options: Options, unit: str, target: str) -> str:
    """The unit's preprocessor; "auto" is the field's default, or for depth the rule of :data:`AUTO_DEPTH`."""
    module = str(_opt(options, unit, "module"))
    if module == "auto":
        module = str(FIELD_BY_KEY[f"controlnet_{unit}_module"].default)
    if module == "auto":
        module = AUTO_DEPTH.get(target, DEPTH_DEFAULT)
    return module


def guide_image(unit: str, regions: Sequence[Region], width: int, height: int) -> np.ndarray | None:
    """The (height, width, 3) uint8 control image of ``unit`` for ``regions``: the pixelwise max of
    each region's guide; None when no region has one (e.g. no landmarks) or the unit draws none."""
    render = GUIDES.get(unit)
    if render is None:
        return None
    out: np.ndarray | None = None
    for r in regions:
        try:
            g = render(r, (width, height))
        except Exception as e:  # a guide is a help: a region it cannot draw just has none
            log.debug("QFix: no %s guide for %s: %s", unit, r.box, e)
            continue
        if g is not None:
            out = g if out is None else np.maximum(out, g)
    return out


def control_units(kind: str, regions: Sequence[Region], options: Options, width: int,
                  height: int) -> tuple[ControlUnit, ...]:
    """The units switched on in ``options`` that guide a pass over ``regions`` of region kind ``kind``
    in a ``width`` x ``height`` image (empty with ``use_controlnet`` off). A unit with module "none"
    carries QFix's own guide and is left out when no region has one. Guidance end is at least its start."""
    if not options.use_controlnet:
        return ()
    out = []
    for unit in CN_UNITS:
        if not _opt(options, unit) or kind not in SERVES[unit]:
            continue
        image = None
        if _module(options, unit, kind) == "none" and unit in GUIDES:
            image = guide_image(unit, regions, width, height)
            if image is None:
                continue
        out.append(unit_for(unit, kind, options, image))
    return tuple(out)


def unit_for(unit: str, target: str, options: Options, image: np.ndarray | None = None) -> ControlUnit:
    """The :class:`ControlUnit` of ``unit`` (a :data:`CN_UNITS` name) for a pass over ``target`` (a
    region kind, or "detail" for the upscale's tiles), from its options: "auto" preprocessor resolved
    (:func:`_module`), guidance end at least its start, model keywords for ``resolve_model``.
    ``image`` None: the host preprocesses the pass's own image."""
    module = _module(options, unit, target)
    keywords = (HAND_DEPTH_WORD, CN_UNITS[unit]) if module == AUTO_DEPTH["hand"] else (CN_UNITS[unit],)
    start = float(_opt(options, unit, "start"))
    return ControlUnit(unit, module, str(_opt(options, unit, "model")), float(_opt(options, unit, "weight")),
                       start, max(start, float(_opt(options, unit, "end"))), str(_opt(options, unit, "mode")),
                       image, target, keywords)


def _base(name: str) -> str:
    """A model name without its " [hash]" suffix, lower-case."""
    return name.split(" [", 1)[0].strip().lower()


def pick_model(keywords: Sequence[str], names: Sequence[str], sdxl: bool | None = None) -> str | None:
    """The first of ``names`` (the host's model list, in its order) containing the first keyword that
    matches any; among those, names without another unit's word (an "inpaint_depth_hand" model is
    no plain inpaint model) and, when ``sdxl`` is known, names whose "xl" agrees with it come first."""
    words = set(CN_UNITS.values())
    for kw in keywords:
        hits = [n for n in names if kw.lower() in _base(n)]
        if hits:
            def rank(n: str, kw: str = kw) -> tuple[bool, bool]:
                low = _base(n)
                foreign = any(w in low for w in words if w not in kw)
                return (sdxl is not None and ("xl" in low) != sdxl, foreign)

            return min(hits, key=rank)
    return None


def resolve_model(unit: ControlUnit, names: Sequence[str], sdxl: bool | None = None) -> str | None:
    """The host's model name for ``unit`` (``auto``: :func:`pick_model`; else the exact name, or the
    same name with any hash and case), None when the host has none."""
    if unit.model == "auto":
        return pick_model(unit.keywords or (unit.kind,), names, sdxl)
    if unit.model in names:
        return unit.model
    want = unit.model.strip().lower()
    return next((n for n in names if n.lower() == want or _base(n) == _base(want)), None)


def resolve_module(module: str, names: Sequence[str]) -> str | None:
    """The host's spelling of preprocessor ``module`` (Forge says "None" where A1111 says "none"),
    None when the host lacks it."""
    if module in names:
        return module
    return next((n for n in names if n.lower() == module.lower()), None)


def describe(units: Sequence[ControlUnit]) -> str:
    """``"openpose(0.8)+depth(0.6)"``: what guided one pass."""
    return "+".join(f"{u.label}({u.weight:g})" for u in units)


@dataclass(eq=False)
class ControlRecord:
    """What guided the passes of one image, for its infotext: ``used`` (pass kind -> ``describe``
    of each distinct unit, in order) and ``notes`` (each once). Both hosts' adapters keep one."""

    used: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def record(self, units: Iterable[ControlUnit]) -> None:
        """Units that guided a pass (each under its ``target``, else its kind)."""
        for cu in units:
            seen = self.used.setdefault(cu.target or cu.kind, [])
            if describe([cu]) not in seen:
                seen.append(describe([cu]))

    def pairs(self) -> dict[str, str]:
        """``QFix controlnet`` (``hand=openpose(0.8); face=openpose(0.6)``) and ``QFix note``, when any."""
        out = {}
        if self.used:
            out[CONTROLNET] = "; ".join(f"{t}={'+'.join(d)}" for t, d in self.used.items())
        if self.notes:
            out[NOTE] = "; ".join(self.notes)
        return out
