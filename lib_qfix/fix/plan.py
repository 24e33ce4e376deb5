"""Which regions to fix in one round, grouped into inpaint passes with their prompts and negatives.

Modes (``options.mode``): ``fix`` repairs local regions judged defective; ``fix_all`` repairs every
detected face and hand (and defective text/watermarks); ``score_only`` plans nothing.
Global defects (``box is None``) cannot be inpainted; they only feed the regenerate option.
Each defect's fix strategy (:mod:`lib_qfix.fix.strategy`: the catalogue's table with the
``strategies`` option's overrides) decides whether a defective region is repainted at all, and an
"inpaint_text" pass gets the text negatives on top of its regions' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lib_qfix.fix.strategy import (
    INPAINT_STRATEGIES,
    group_strategy,
    region_strategy,
    strategy_table,
    text_negatives,
)
from lib_qfix.masks import keep_largest, merge, region_mask
from lib_qfix.options import NEGATIVE_FIELD, PROMPT_FIELD, Options
from lib_qfix.prompts.negatives import (
    additions_for_regions,
    expand_prompt,
    merge_negative,
    positives_for_regions,
)
from lib_qfix.types import LOCAL_KINDS, ImageReport, Region

#: kinds that "fix_all" repaints even when judged ok
FIX_ALL_KINDS = ("face", "hand")


@dataclass(frozen=True, eq=False)
class FixGroup:
    """One inpaint pass: regions of one kind, their merged (H, W) uint8 mask, prompt and negative."""

    kind: str
    regions: tuple[Region, ...]
    mask: np.ndarray
    prompt: str
    negative: str
    #: the pass's fix strategy (:func:`lib_qfix.fix.strategy.group_strategy`)
    strategy: str = "inpaint"


def select_regions(report: ImageReport, options: Options) -> list[Region]:
    """Local regions to repaint under ``options.mode`` (boxed regions only); a defective region
    whose strategy does not repaint (regenerate, report) is left out."""
    if options.mode == "score_only":
        return []
    table = strategy_table(options.strategies)
    out = []
    for r in report.regions:
        if r.box is None or r.kind not in LOCAL_KINDS:
            continue
        if r.is_defect and region_strategy(r, table) in INPAINT_STRATEGIES:
            out.append(r)
        elif options.mode == "fix_all" and r.kind in FIX_ALL_KINDS:
            out.append(r)
    return out


def global_defects(report: ImageReport) -> list[Region]:
    """Defective whole-image regions (blur, noise, low quality, ...)."""
    return [r for r in report.regions if r.box is None and r.is_defect]


def top_k(regions: list[Region], k: int) -> list[Region]:
    """At most ``k`` regions per kind, largest first (``k == 0``: all)."""
    if k <= 0:
        return list(regions)
    out: list[Region] = []
    for kind in dict.fromkeys(r.kind for r in regions):
        out.extend(keep_largest([r for r in regions if r.kind == kind], k))
    return out


def kind_prompt(kind: str, options: Options, image_prompt: str, regions: Sequence[Region] = ()) -> str:
    """The inpaint prompt for ``kind``: its template with ``[PROMPT]`` replaced by the image's prompt
    (an empty template means the image's own prompt), followed by the catalogue's positive terms
    for the defects of ``regions`` that it does not already hold (e.g. "separated fingers")."""
    template = getattr(options, PROMPT_FIELD.get(kind, "text_prompt"), "") or "[PROMPT]"
    base = expand_prompt(template, image_prompt)
    return merge_negative(base, [(word, 1.0) for word in positives_for_regions(regions)])


def kind_negative(kind: str, regions: list[Region], options: Options, image_negative: str,
                  strategy: str = "inpaint") -> str:
    """The image's negative merged with the catalogue's weighted negatives for the defects in
    ``regions`` plus the kind's and the extra negative from options (for regions judged ok, as in
    "fix_all", only the kind's and the extra negative are added)."""
    parts = [image_negative]
    if not any(r.is_defect for r in regions):  # additions_for_regions adds these for defects only
        parts += [getattr(options, NEGATIVE_FIELD.get(kind, ""), "") or "", options.extra_negative]
    base = ", ".join(p.strip().strip(",") for p in parts if p and p.strip())
    extra = text_negatives(options.negative_strength) if strategy == "inpaint_text" else []
    return merge_negative(base, additions_for_regions(regions, options) + extra)


def plan_round(report: ImageReport, options: Options, image_prompt: str = "", image_negative: str = "") -> list[FixGroup]:
    """The inpaint passes for one round, in a stable order (faces, hands, watermarks, text).

    ``mask_merge == "merge"`` puts all regions of a kind into one pass; ``"none"`` gives one pass
    per region. Masks come from :func:`lib_qfix.masks.region_mask` (shape, dilation, feather).
    """
    regions = top_k(select_regions(report, options), options.mask_top_k)
    if not regions:
        return []
    shape = (report.height, report.width)
    table = strategy_table(options.strategies)
    groups: list[FixGroup] = []
    for kind in LOCAL_KINDS:
        of_kind = [r for r in regions if r.kind == kind]
        if not of_kind:
            continue
        batches = [of_kind] if options.mask_merge == "merge" else [[r] for r in of_kind]
        for batch in batches:
            prompt = kind_prompt(kind, options, image_prompt, batch)
            mask = merge([region_mask(r, shape, options) for r in batch])
            if not np.any(mask):
                continue  # a region that vanished under erosion has nothing to repaint
            strategy = group_strategy(batch, table)
            groups.append(FixGroup(kind, tuple(batch), mask, prompt,
                                   kind_negative(kind, batch, options, image_negative, strategy), strategy))
    return groups
