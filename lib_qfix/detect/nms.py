"""Box arithmetic shared by the detectors: IoU, containment, non-maximum suppression, clamping.

Boxes are ``(x0, y0, x1, y1)`` in pixels with exclusive ends; float boxes are allowed in the
arithmetic and converted with :func:`to_int_box` at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lib_qfix.types import box_area

FloatBox = tuple[float, float, float, float]


def intersection(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union in 0..1 (0 for empty boxes)."""
    inter = intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def inside_fraction(a: Sequence[float], b: Sequence[float]) -> float:
    """The fraction (0..1) of ``a``'s area that lies inside ``b``."""
    aa = box_area(a)
    return intersection(a, b) / aa if aa > 0 else 0.0


def nms(boxes: Sequence[Sequence[float]], scores: Sequence[float], iou_threshold: float = 0.4,
        contain_threshold: float = 0.8) -> list[int]:
    """Indices of the boxes kept, best score first.

    A box is dropped when it overlaps a better one with IoU > ``iou_threshold``, or when more than
    ``contain_threshold`` of either box lies inside the other (the same hand found at two scales
    gives nested boxes with a low IoU).
    """
    order = list(np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"))
    keep: list[int] = []
    for i in order:
        b = boxes[i]
        if all(iou(b, boxes[k]) <= iou_threshold and inside_fraction(b, boxes[k]) <= contain_threshold
               and inside_fraction(boxes[k], b) <= contain_threshold for k in keep):
            keep.append(int(i))
    return keep


def clamp_box(box: Sequence[float], width: int, height: int) -> FloatBox:
    return (min(max(box[0], 0.0), width), min(max(box[1], 0.0), height),
            min(max(box[2], 0.0), width), min(max(box[3], 0.0), height))


def to_int_box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """Clamp to the image and round outwards to whole pixels (exclusive ends)."""
    x0, y0, x1, y1 = clamp_box(box, width, height)
    return (int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1)), int(np.ceil(y1)))


def scale_box(box: Sequence[float], factor: float, square: bool = False) -> FloatBox:
    """``box`` grown about its centre by ``factor`` (square: both sides become the longer one)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    w, h = box[2] - box[0], box[3] - box[1]
    if square:
        w = h = max(w, h)
    return (cx - w * factor / 2, cy - h * factor / 2, cx + w * factor / 2, cy + h * factor / 2)


def square_inside(box: Sequence[float], side: float, width: int, height: int) -> FloatBox:
    """A square of ``side`` pixels centred on ``box``, shifted into a ``width`` x ``height`` image
    (each side clipped to the image's when longer), not rounded."""
    sw, sh = min(side, width), min(side, height)
    x0 = min(max((box[0] + box[2] - sw) / 2, 0), width - sw)
    y0 = min(max((box[1] + box[3] - sh) / 2, 0), height - sh)
    return x0, y0, x0 + sw, y0 + sh


def coverage(boxes: Sequence[Sequence[int]], width: int, height: int) -> np.ndarray:
    """(height, width) bool mask of the pixels inside any of the integer ``boxes``."""
    covered = np.zeros((height, width), bool)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    return covered


def points_box(points: np.ndarray) -> FloatBox:
    """Bounding box of an (N, 2+) array of (x, y, ...) points."""
    return (float(points[:, 0].min()), float(points[:, 1].min()),
            float(points[:, 0].max()), float(points[:, 1].max()))


def merge_boxes(boxes: Sequence[Sequence[float]], iou_threshold: float) -> list[tuple[int, int, int, int]]:
    """Repeatedly replace two boxes overlapping with IoU > ``iou_threshold`` (or one inside the other)
    by their union; order of first appearance is kept."""
    out = [tuple(int(v) for v in b) for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if iou(a, b) > iou_threshold or inside_fraction(a, b) > 0.9 or inside_fraction(b, a) > 0.9:
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return out
