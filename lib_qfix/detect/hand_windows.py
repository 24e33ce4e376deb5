"""Where the hand detector looks besides the whole frame: hand-scale windows around each person,
whole-image tiles for people whose face is not found, and second looks around found hands.

MediaPipe's palm detector sees every input at 192 px, so a hand must span roughly 1/7-1/4 of the
input to be found. A hand is ~0.5-1 face side long, so around each detected face QFix covers the
person's region (3.2 face widths either side, 1.2 face heights above to 4.5 below the face centre,
where hands usually are) with square windows of :data:`WINDOW_FACES` face sides, evenly spaced
with gaps of at most :data:`WINDOW_STEP` of a side (so a hand on a seam is whole in a neighbour).
One person gets 2x2 windows; neighbours in a group share windows (IoU > 0.6 dropped), at most
:data:`MAX_WINDOWS` in all (bench/detect.py's rendered group scenes of 4-12 people: hand recall 0.64
with up to 6 people and 16 windows, 0.85 with up to 12 people and 12 windows, at ~1.4x the CPU).

A window longer than :data:`CROP_MAX_FRACTION` of the image side is skipped: it would enlarge
nothing (a single portrait at 512 px gets no windows, only the whole-frame pass). A skin-colour gate
(skip windows with no skin outside the faces) was measured and dropped: on the fixture backgrounds
(coffee, wood, rocket) 64 of 70 windows passed it, so it saved nothing.

More than :data:`MAX_PEOPLE` faces: a 2x2 grid of tiles over the image instead (the tiles cover it).

Besides the people found by their faces, :func:`image_tiles` covers images whose short side is at
least :data:`TILE_MIN_SIDE` with 2x2 tiles (people whose face is not found), and :func:`refine_window`
places the second look around a found hand. Measured on bench/hands.py's tune photos and stress
variants of them (faces withheld / rotated 90 deg / padded 2x / halved): hits 41/64 -> 48/64, false
boxes 5 -> 3, no change on the labelled photos themselves; tiles of 0.55 or 0.65, second looks of
2.5x or 4x: the same or worse; 3x3 tiles or squares of half the short side: no more hands, false
hands on people-free photos; tiles on a 535x426 people-free photo put a false hand on it.
"""

from __future__ import annotations

import numpy as np

from lib_qfix.detect.face_boxes import fine_tiles, grid_tiles
from lib_qfix.detect.nms import coverage, iou, square_inside, to_int_box
from lib_qfix.types import box_area

Box = tuple[int, int, int, int]
FloatBox = tuple[float, float, float, float]

MAX_PEOPLE = 12
#: a person's region around the face centre, in face widths (sideways) and heights (above, below);
#: 4.0 or 4.5 sideways: bench/hands.py --stress 48/64 -> 50/64 (both in one padded group photo), but
#: 3x2 windows per person instead of 2x2; not used
REGION_SIDE = 3.2
REGION_ABOVE = 1.2
REGION_BELOW = 4.5
CROP_MAX_FRACTION = 0.7
#: window side in face sides, and the largest gap between window starts as a fraction of the side
WINDOW_FACES = 3.6
WINDOW_STEP = 0.8
#: the cap keeps a group's cost near a dozen passes; largest faces first (smallest first found fewer
#: hands: bench/detect.py's group scenes 42/55 against 47/55)
MAX_WINDOWS = 12
#: images whose short side is at least this many pixels also get :func:`image_tiles`; smaller ones (a
#: 512x512 or 512x768 render) keep the full-frame pass only (a 535x426 people-free photo got a false hand
#: from tiles)
TILE_MIN_SIDE = 600
#: tile side as a fraction of each image side (2x2 tiles, overlapping)
TILE_FRACTION = 0.6
#: tile levels (n, fraction, model): n x n tiles of that fraction of each side, MediaPipe's lite (0) or
#: full (1) model; the 3x3 level shows a hand twice as large as the 2x2 one, and the full model there
#: put no false hand on the people-free photos where the lite one did (bench/hands.py)
TILE_LEVELS: tuple[tuple[int, float, int], ...] = ((2, TILE_FRACTION, 0), (3, 0.4, 1))
#: a tile covered this much (area fraction) by the person crops and windows already run is skipped
TILE_COVERED = 0.8
#: the second look around a found hand: a square of this many times the hand box's long side
REFINE_ZOOM = 3.0
MAX_REFINE = 8


def _starts(lo: float, hi: float, side: float) -> list[float]:
    """Evenly spaced window starts covering [lo, hi) with windows of ``side``; gaps <= WINDOW_STEP x side."""
    n = max(1, int(np.ceil((hi - lo - side) / (WINDOW_STEP * side) - 1e-9)) + 1)
    return [lo + (hi - lo - side) * i / max(n - 1, 1) for i in range(n)]


def person_region(face: FloatBox, width: int, height: int) -> Box:
    """Where a person's hands usually are, around face box ``face`` (pixels), clipped to the image:
    :data:`REGION_SIDE` face widths either side, :data:`REGION_ABOVE` face heights above to
    :data:`REGION_BELOW` below the face centre (the hand detector's person crop, too)."""
    x0, y0, x1, y1 = face
    fw, fh = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return to_int_box((cx - REGION_SIDE * fw, cy - REGION_ABOVE * fh, cx + REGION_SIDE * fw,
                       cy + REGION_BELOW * fh), width, height)


def hand_windows(face_boxes: list[FloatBox], width: int, height: int) -> list[Box]:
    """Windows for ``face_boxes`` (pixels) in a ``width`` x ``height`` image, largest faces first, at
    most :data:`MAX_WINDOWS`; see the module doc."""
    if len(face_boxes) > MAX_PEOPLE:
        return grid_tiles(width, height)
    limit = CROP_MAX_FRACTION * max(width, height)
    out: list[Box] = []
    for face in sorted(face_boxes, key=lambda b: -box_area(b)):
        rx0, ry0, rx1, ry1 = person_region(face, width, height)
        side = WINDOW_FACES * max(face[2] - face[0], face[3] - face[1])
        sx, sy = min(side, rx1 - rx0), min(side, ry1 - ry0)
        if max(sx, sy) > limit or min(sx, sy) < 32:
            continue
        for x in _starts(rx0, rx1, sx):
            for y in _starts(ry0, ry1, sy):
                win = to_int_box((x, y, x + sx, y + sy), width, height)
                if len(out) < MAX_WINDOWS and not any(iou(win, k) > 0.6 for k in out):
                    out.append(win)
    return out


def image_tiles(width: int, height: int, crops: list[Box], covered_by: tuple[Box, ...] | list[Box] = (),
                levels: tuple[tuple[int, float, int], ...] = TILE_LEVELS) -> list[tuple[Box, int]]:
    """Overlapping tiles over a ``width`` x ``height`` image whose short side is at least
    :data:`TILE_MIN_SIDE` px, for hands of people whose face was not found (profile, back, cut off by
    the frame) or outside their person region: per level ``(n, fraction, complexity)`` n x n tiles, each
    that fraction of each side, with the MediaPipe model of that complexity; tiles already in ``crops`` or
    covered more than :data:`TILE_COVERED` by them are left out. Returns (tile, complexity) pairs."""
    if min(width, height) < TILE_MIN_SIDE:
        return []
    covered = coverage([*crops, *covered_by], width, height)
    return [(t, cx) for n, frac, cx in levels for t in fine_tiles(width, height, n, frac)
            if t not in crops and covered[t[1]:t[3], t[0]:t[2]].mean() < TILE_COVERED]


def refine_window(hand: FloatBox, width: int, height: int) -> Box | None:
    """A square of :data:`REFINE_ZOOM` x the long side of ``hand`` (pixels) around its centre, shifted
    into the image; None when it would enlarge nothing (longer than :data:`CROP_MAX_FRACTION` of the
    image side) or is under 32 px."""
    side = REFINE_ZOOM * max(hand[2] - hand[0], hand[3] - hand[1])
    if side > CROP_MAX_FRACTION * max(width, height) or side < 32:
        return None
    return to_int_box(square_inside(hand, side, width, height), width, height)
