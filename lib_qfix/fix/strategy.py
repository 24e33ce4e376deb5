"""Fix strategy per defect: the catalogue's table (:data:`~lib_qfix.prompts.catalogue.DEFAULT_STRATEGY`)
with the ``strategies`` option's overrides, and what the plan and the loop make of it.

The option's text is ``"defect=strategy"`` pairs separated by ``,`` or ``;`` (``"blur=regenerate_keywords,
cropped=report"``); a preset may also write a JSON object (``{"blur": "regenerate_keywords"}``), which
:func:`format_strategies` turns into that text. Defects are the catalogue's names, strategies the keys of
:data:`~lib_qfix.prompts.catalogue.STRATEGIES`; anything else is a one-line :class:`OptionError`.

One region, one strategy (:func:`region_strategy`): a region with a box takes the first repainting
strategy any of its defects asks for, in the order pose-guided, text, plain (guidance is a superset);
otherwise, and always for whole-image findings (which cannot be repainted), the first regeneration
strategy (more steps before keywords); a region whose defects all say "report" is only reported.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lib_qfix.errors import OptionError
from lib_qfix.prompts.catalogue import (
    CATALOGUE,
    INPAINT_STRATEGIES,
    STRATEGIES,
    TEXT_NEGATIVE_DEFECTS,
    Term,
    default_strategy,
    region_defects,
)
from lib_qfix.types import Region

#: the option holding the overrides
OPTION = "strategies"
REGENERATE_STRATEGIES = ("regenerate_steps", "regenerate_keywords")
REPORT = "report"
#: ControlNet unit kinds (``ControlUnit.kind``) that only "inpaint_pose" passes keep: anatomy guidance
POSE_UNITS = ("hand", "face", "body", "depth")
#: "regenerate_steps" multiplies the image's sampling steps by this (capped at :data:`MAX_STEPS`)
STEPS_SCALE = 1.5
MAX_STEPS = 150
#: characters the option may hold
MAX_LENGTH = 2000
#: the option's help text
OPTION_HELP = ("Override the fix strategy per defect, as 'defect=strategy' pairs separated by ','. Strategies: "
               + ", ".join(STRATEGIES) + " (`qfix schema` lists what each does and each defect's default).")
_ITEM = re.compile(r"\s*([A-Za-z0-9_]+)\s*[=:]\s*([A-Za-z0-9_]+)\s*")


def _allowed() -> str:
    return ("allowed: 'defect=strategy' pairs separated by ',' with a strategy one of "
            + ", ".join(STRATEGIES) + " (defects: see `qfix schema`, x-fix-strategies)")


def parse_strategies(text: str) -> dict[str, str]:
    """``{defect: strategy}`` from the option's text; :class:`OptionError` names the bad pair."""
    out: dict[str, str] = {}
    for item in (i for i in re.split(r"[,;\n]", text or "") if i.strip()):
        m = _ITEM.fullmatch(item)
        if not m:
            raise OptionError(OPTION, item.strip(), _allowed())
        defect, strategy = m.group(1).lower(), m.group(2).lower()
        if defect not in CATALOGUE:
            hint = difflib.get_close_matches(defect, list(CATALOGUE), n=1, cutoff=0.5)
            guess = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise OptionError(OPTION, item.strip(), f"unknown defect {defect!r}{guess}; " + _allowed())
        if strategy not in STRATEGIES:
            hint = difflib.get_close_matches(strategy, list(STRATEGIES), n=1, cutoff=0.5)
            guess = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise OptionError(OPTION, item.strip(), f"unknown strategy {strategy!r}{guess}; " + _allowed())
        out[defect] = strategy
    return out


def check_strategies(text: str) -> None:
    """The ``strategies`` field's syntax check (raises :class:`OptionError`)."""
    parse_strategies(text)


def format_strategies(value: Any) -> Any:
    """A preset's JSON object ``{defect: strategy}`` as the option's text (validated); any other
    value comes back unchanged for the field to judge."""
    if not isinstance(value, Mapping):
        return value
    text = ", ".join(f"{k}={v}" for k, v in value.items())
    check_strategies(text)
    return text


def strategy_table(overrides: str = "") -> dict[str, str]:
    """Every catalogue defect -> its strategy: the catalogue's defaults with the option's overrides."""
    table = {d: default_strategy(d) for d in CATALOGUE}
    table.update(parse_strategies(overrides))
    return table


def region_strategy(region: Region, table: Mapping[str, str]) -> str:
    """The one strategy for ``region`` (see the module doc); a region judged ok (repainted only in
    "fix_all" mode) has its kind's default defect's."""
    local = region.box is not None
    wanted = [table.get(d) or default_strategy(d, local) for d in region_defects(region)] or \
             [default_strategy("", local)]
    order = (INPAINT_STRATEGIES if local else ()) + REGENERATE_STRATEGIES
    for s in order:
        if s in wanted:
            return s
    if not local and any(s in INPAINT_STRATEGIES for s in wanted):
        return "regenerate_keywords"  # a whole image cannot be repainted region-wise
    return REPORT


def group_strategy(regions: Iterable[Region], table: Mapping[str, str]) -> str:
    """The strategy of an inpaint pass over ``regions``: the strongest of theirs (pose, text, plain)."""
    found = {region_strategy(r, table) for r in regions}
    return next((s for s in INPAINT_STRATEGIES if s in found), "inpaint")


def strategy_units(strategy: str, units: Sequence[Any]) -> tuple[Any, ...]:
    """The ControlNet units a pass with ``strategy`` keeps: all for "inpaint_pose"; for the others
    the units that guide a pass as a whole (inpaint, tile), not the anatomy ones (:data:`POSE_UNITS`)."""
    if strategy == "inpaint_pose":
        return tuple(units)
    return tuple(u for u in units if getattr(u, "kind", "") not in POSE_UNITS)


def text_negatives(strength: float = 1.0) -> list[Term]:
    """The text negatives an "inpaint_text" pass adds (weights x ``strength``, unclamped: the
    negative merge clamps)."""
    return [(t, w * strength) for d in TEXT_NEGATIVE_DEFECTS for t, w in CATALOGUE[d].negatives]


@dataclass(frozen=True)
class RegeneratePlan:
    """What one same-seed regeneration asks: the findings it is for, positive quality keywords
    for the prompt (from "regenerate_keywords" findings), and ``steps_scale`` (1.0 = the image's
    own steps; :data:`STEPS_SCALE` when a finding says "regenerate_steps")."""

    regions: tuple[Region, ...]
    keywords: tuple[str, ...] = ()
    steps_scale: float = 1.0


def regenerate_plan(regions: Iterable[Region], table: Mapping[str, str]) -> RegeneratePlan | None:
    """The regeneration the defective ``regions`` ask for by their strategies, or None (nothing
    says regenerate)."""
    chosen = [(r, region_strategy(r, table)) for r in regions if r.is_defect]
    chosen = [(r, s) for r, s in chosen if s in REGENERATE_STRATEGIES]
    if not chosen:
        return None
    keywords: list[str] = []
    for r, s in chosen:
        if s == "regenerate_keywords":
            for d in region_defects(r):
                for word in CATALOGUE[d].positives if d in CATALOGUE else ():
                    if word not in keywords:
                        keywords.append(word)
    steps = STEPS_SCALE if any(s == "regenerate_steps" for _, s in chosen) else 1.0
    return RegeneratePlan(tuple(r for r, _ in chosen), tuple(keywords), steps)


def scaled_steps(steps: int, scale: float) -> int:
    """``steps`` x ``scale``, rounded, at least ``steps`` and at most :data:`MAX_STEPS` (when
    ``steps`` is below it)."""
    return max(int(steps), min(MAX_STEPS, int(round(steps * scale))))


def strategy_schema() -> dict[str, Any]:
    """The strategy table for ``qfix schema`` (``x-fix-strategies``): what each strategy does and
    each defect's default."""
    return {"strategies": dict(STRATEGIES), "defaults": {d: default_strategy(d) for d in CATALOGUE}}
