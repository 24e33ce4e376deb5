"""Cropped subjects: a face or hand cut by the image frame.

A subject counts as cut when its box reaches within ``margin`` (fraction of the image side, default
1 %) of an edge, or when landmarks that the model extrapolates for the whole face/hand fall outside the
image (MediaPipe predicts the full shape, so points past the frame mean the frame cut it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EDGE_MARGIN = 0.01
#: fraction of landmarks outside the frame that makes a subject "cut"
OUTSIDE_FRACTION = 0.03


def cut_edges(box: Sequence[float], width: int, height: int, margin: float = EDGE_MARGIN) -> list[str]:
    """Edges ("left", "top", "right", "bottom") the box touches or crosses."""
    mx, my = margin * width, margin * height
    edges = []
    if box[0] <= mx:
        edges.append("left")
    if box[1] <= my:
        edges.append("top")
    if box[2] >= width - mx:
        edges.append("right")
    if box[3] >= height - my:
        edges.append("bottom")
    return edges


def outside_fraction(points: np.ndarray, width: int, height: int) -> float:
    """Fraction (0..1) of (N, 2+) pixel points outside the image."""
    if len(points) == 0:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    return float(np.mean((x < 0) | (y < 0) | (x >= width) | (y >= height)))


def cropped_reason(what: str, box: Sequence[float], width: int, height: int,
                   points: np.ndarray | None = None) -> str | None:
    """``"face cut by the frame (left, top)"``-style reason, or None when the subject is whole."""
    edges = cut_edges(box, width, height)
    frac = outside_fraction(points, width, height) if points is not None else 0.0
    if not edges and frac < OUTSIDE_FRACTION:
        return None
    where = ", ".join(edges) if edges else "edge"
    extra = f"; {frac:.0%} of its landmarks lie outside the image" if frac >= OUTSIDE_FRACTION else ""
    return f"{what} cut by the frame ({where}){extra}"
