"""Reports of a working-size copy mapped to another size (the original photo's pixels).

``qfix diagnose`` decodes large photos at a bounded working size (:func:`lib_qfix.imageio.load_working`)
and runs every scorer and detector once on that copy; :func:`report_at` then gives the report in
the original's pixels (boxes, outlines and landmarks scaled, ``width``/``height`` the original's),
and in the other direction the regions an overlay of the working copy needs.
"""

from __future__ import annotations

import math
from dataclasses import replace

from lib_qfix.types import ImageReport, Region


def scale_region(region: Region, sx: float, sy: float, width: int, height: int) -> Region:
    """``region`` with x scaled by ``sx`` and y by ``sy``; boxes widened to whole pixels (floor of
    the start, ceil of the end) and clamped to ``width`` x ``height``. Global regions unchanged."""
    if region.box is None or (sx == 1.0 and sy == 1.0):
        return region
    x0, y0, x1, y1 = region.box
    box = (max(0, math.floor(x0 * sx)), max(0, math.floor(y0 * sy)),
           min(width, math.ceil(x1 * sx)), min(height, math.ceil(y1 * sy)))
    polygon = tuple((int(round(x * sx)), int(round(y * sy))) for x, y in region.polygon) if region.polygon else None
    landmarks = tuple((p[0] * sx, p[1] * sy, *p[2:]) for p in region.landmarks) if region.landmarks else None
    return replace(region, box=box, polygon=polygon, landmarks=landmarks)


def regions_at(report: ImageReport, width: int, height: int) -> tuple[Region, ...]:
    """The report's regions in the pixels of a ``width`` x ``height`` copy of its image."""
    if not report.width or not report.height or (report.width, report.height) == (width, height):
        return report.regions
    sx, sy = width / report.width, height / report.height
    return tuple(scale_region(r, sx, sy, width, height) for r in report.regions)


def report_at(report: ImageReport, width: int, height: int) -> ImageReport:
    """``report`` (made on a working copy) for the image at ``width`` x ``height``: regions mapped,
    size replaced. The signals stay the working copy's measurements (``megapixels`` included:
    what was measured), and a ``working_scale`` signal says how much smaller that copy was."""
    if report.error or (report.width, report.height) == (width, height):
        return report
    signals = dict(report.signals)
    signals["working_scale"] = report.width / width if width else 1.0
    return replace(report, width=width, height=height, regions=regions_at(report, width, height), signals=signals)
