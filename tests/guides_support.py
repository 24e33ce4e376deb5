"""Real MediaPipe hand detections for the guide tests (rendered hands that MediaPipe finds), and the
geometry helpers the tests measure with."""

from __future__ import annotations

import functools

import numpy as np

from lib_qfix.detect.hands import run_hands
from lib_qfix.types import Region
from testkit.fixtures_detect import person_tile, render_hand

#: (spread, angle deg) of the rendered hands
HAND_POSES = ((1.0, 0.0), (0.6, -30.0), (1.4, 25.0), (1.0, 180.0), (0.8, 60.0), (1.2, -70.0))


@functools.lru_cache(maxsize=1)
def detected_hands() -> tuple[tuple[np.ndarray, str, np.ndarray], ...]:
    """(image, MediaPipe label, (21, 3) landmarks px) for every rendered hand MediaPipe finds (all
    of :data:`HAND_POSES` on 256 px squares, plus the hands of two person tiles), mirrored copies
    included (the other chirality)."""
    out = []
    images = [render_hand(256, s, angle=a) for s, a in HAND_POSES] + [person_tile(1), person_tile(4)]
    for img in images + [np.ascontiguousarray(i[:, ::-1]) for i in images]:
        h, w = img.shape[:2]
        for hand in run_hands(img, (0, 0, w, h), 2, 0.5, "test"):
            out.append((img, hand.label, hand.points))
    return tuple(out)


def hand_region(points: np.ndarray, defect: bool = False) -> Region:
    p = np.asarray(points)[:, :2]
    box = (int(p[:, 0].min()), int(p[:, 1].min()), int(p[:, 0].max()) + 1, int(p[:, 1].max()) + 1)
    return Region("hand", box, 0.9, "defect" if defect else "ok", landmarks=tuple((float(x), float(y)) for x, y in p))


def with_z(points: np.ndarray) -> np.ndarray:
    """(21, 3) with z = 0: the checker on the 2-D points a guide draws."""
    p = np.asarray(points, np.float64)[:, :2]
    return np.concatenate([p, np.zeros((len(p), 1))], axis=1)


def palm_length(p: np.ndarray) -> float:
    return float(np.linalg.norm(p[9, :2] - p[0, :2]))


def chirality(p: np.ndarray) -> float:
    """Sign of the turn from the wrist -> middle MCP axis to the index -> pinky span (image chirality)."""
    a, b = p[9, :2] - p[0, :2], p[17, :2] - p[5, :2]
    return float(np.sign(a[0] * b[1] - a[1] * b[0]))


def segment_distance(h: int, w: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(h, w) distance in px of every pixel centre to the segment a-b."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    d = b - a
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / max(float(d @ d), 1e-9), 0.0, 1.0)
    return np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))
