"""Is a hand anatomically plausible? Rules on MediaPipe's 21 hand landmarks.

Input: ``points`` (21, 3) in pixels, z in the same scale as x (MediaPipe's relative depth times the
image width), index order wrist 0; thumb 1-4 (CMC, MCP, IP, tip); index 5-8, middle 9-12,
ring 13-16, pinky 17-20 (MCP, PIP, DIP, tip). Lengths are in units of the palm length
(wrist to middle MCP, 3-D) so the rules do not depend on image size.

Rules (each failing rule gives a reason; thresholds are generous because MediaPipe's landmark model
is a shape prior that pulls even bad hands towards normal ones):

- finger length: index..pinky MCP-to-tip and thumb CMC-to-tip 3-D length within 0.3..1.9 palm lengths
  (shorter: a collapsed/missing finger -> ``missing_fingers``);
- segment ratios: each phalanx's share of its finger within 0.35..2.4x the anatomical share
  (proximal : middle : distal ~ 1 : 0.62 : 0.52);
- joint angles: no finger joint bends more than 130 deg, and no middle/distal phalanx leaves the
  finger's flexion plane (proximal phalanx x palm normal) by more than 45 deg (fingers only bend one way);
- crossing: proximal phalanges of two fingers cross in the image, or two or more finger pairs cross;
- collapsed fingers: two neighbouring fingers whose PIP, DIP and tip coincide (< 0.07 palm) ->
  ``fused_fingers``;
- knuckle order: index, middle, ring, pinky MCPs out of order along the knuckle line;
- handedness consistency: the thumb base must sit on the index side of the palm; a handedness score
  < 0.6 (the classifier cannot tell left from right) is weak evidence, counted only with another rule.

``extra_fingers`` is never claimed here: 21 landmarks cannot show a sixth finger (the hand's
silhouette can: :mod:`lib_qfix.detect.hand_silhouette`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FINGERS = {"index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "ring": (13, 14, 15, 16), "pinky": (17, 18, 19, 20)}
THUMB = (1, 2, 3, 4)
SHARES = np.array([1.0, 0.62, 0.52]) / 2.14
LENGTH_RANGE = (0.3, 1.9)
SHARE_RANGE = (0.35, 2.4)
MAX_BEND_DEG = 130.0
MAX_LATERAL_DEG = 45.0
FUSED_PALM = 0.07
MIN_HANDEDNESS = 0.6


@dataclass(frozen=True)
class Plausibility:
    """``plausible`` False means "malformed hand"; ``defects`` uses the shared defect names."""

    plausible: bool
    reasons: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    measures: dict[str, float] = field(default_factory=dict)


def angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between vectors ``u`` and ``v`` (any dimension), degrees 0..180 (0 for a zero vector)."""
    c = float(np.dot(u, v)) / max(float(np.linalg.norm(u) * np.linalg.norm(v)), 1e-9)
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def _cross2(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def segments_cross(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> bool:
    """Do 2-D segments p1-p2 and q1-q2 properly intersect (touching ends do not count)?"""
    d1, d2 = _cross2(q2 - q1, p1 - q1), _cross2(q2 - q1, p2 - q1)
    d3, d4 = _cross2(p2 - p1, q1 - p1), _cross2(p2 - p1, q2 - p1)
    return d1 * d2 < 0 and d3 * d4 < 0


def check_hand(points: np.ndarray, handedness_score: float = 1.0) -> Plausibility:
    """Judge one hand; see the module docstring for the rules."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (21, 3) or not np.all(np.isfinite(p)):
        raise ValueError(f"hand landmarks: shape {p.shape} is not allowed; allowed: (21, 3) finite values")
    palm = float(np.linalg.norm(p[9] - p[0]))
    if palm < 1e-6:
        return Plausibility(False, ("hand landmarks collapsed to a point",), ("malformed_hand",))
    strong: list[str] = []
    defects: set[str] = set()
    measures: dict[str, float] = {"palm_px": palm}
    normal = np.cross(p[5] - p[0], p[17] - p[0])
    normal /= max(np.linalg.norm(normal), 1e-9)

    for name, idx in list(FINGERS.items()) + [("thumb", THUMB)]:
        segs = [p[b] - p[a] for a, b in zip(idx[:-1], idx[1:], strict=True)]
        lens = np.array([np.linalg.norm(s) for s in segs])
        total = float(lens.sum()) / palm
        measures[f"{name}_length"] = total
        if total < LENGTH_RANGE[0]:
            strong.append(f"{name} finger collapsed: {total:.2f} palm lengths (< {LENGTH_RANGE[0]})")
            defects.add("missing_fingers")
            continue
        if total > LENGTH_RANGE[1]:
            strong.append(f"{name} finger too long: {total:.2f} palm lengths (> {LENGTH_RANGE[1]})")
        if name == "thumb":
            continue
        share = lens / lens.sum() / SHARES
        worst = int(np.argmax(np.abs(np.log(share))))
        if not SHARE_RANGE[0] <= share[worst] <= SHARE_RANGE[1]:
            strong.append(f"{name} finger segment {worst + 1} is {share[worst]:.2f}x its normal share of the finger")
        chain = [p[0]] + [p[i] for i in idx]
        for j in range(1, 4):  # MCP, PIP, DIP
            bend = angle_deg(chain[j] - chain[j - 1], chain[j + 1] - chain[j])
            if bend > MAX_BEND_DEG:
                strong.append(f"{name} finger bends {bend:.0f} deg at joint {j} (> {MAX_BEND_DEG:.0f})")
        lateral_axis = np.cross(segs[0], normal)
        lateral_axis /= max(np.linalg.norm(lateral_axis), 1e-9)
        for k in (1, 2):
            side = float(np.degrees(np.arcsin(min(1.0, abs(np.dot(segs[k], lateral_axis)) / max(lens[k], 1e-9)))))
            if side > MAX_LATERAL_DEG:
                strong.append(f"{name} finger bends sideways {side:.0f} deg (> {MAX_LATERAL_DEG:.0f})")
                break

    names = list(FINGERS)
    crossings = 0
    for i in range(4):
        for j in range(i + 1, 4):
            a, b = FINGERS[names[i]], FINGERS[names[j]]
            if segments_cross(p[a[0], :2], p[a[1], :2], p[b[0], :2], p[b[1], :2]):
                strong.append(f"{names[i]} and {names[j]} fingers cross at the base")
            if any(segments_cross(p[a[s], :2], p[a[s + 1], :2], p[b[t], :2], p[b[t + 1], :2])
                   for s in range(3) for t in range(3)):
                crossings += 1
        if i < 3:
            a, b = FINGERS[names[i]], FINGERS[names[i + 1]]
            gap = max(float(np.linalg.norm(p[a[k]] - p[b[k]])) for k in (1, 2, 3)) / palm
            if gap < FUSED_PALM:
                strong.append(f"{names[i]} and {names[i + 1]} fingers fused: {gap:.2f} palm lengths apart")
                defects.add("fused_fingers")
    if crossings >= 2:
        strong.append(f"{crossings} pairs of fingers cross")

    knuckles = p[[5, 9, 13, 17], :2]
    axis = knuckles[3] - knuckles[0]
    if np.linalg.norm(axis) > 0.3 * np.linalg.norm(p[9, :2] - p[0, :2]):
        t = (knuckles - knuckles[0]) @ axis / float(axis @ axis)
        if not np.all(np.diff(t) > -0.05):
            strong.append("knuckles out of order along the palm")
    if np.linalg.norm(p[1] - p[17]) < np.linalg.norm(p[1] - p[5]) * 0.8:
        strong.append("thumb base on the little-finger side of the palm")

    reasons = list(dict.fromkeys(strong))
    measures["handedness_score"] = float(handedness_score)
    if handedness_score < MIN_HANDEDNESS:
        reasons.append(f"left/right uncertain (handedness score {handedness_score:.2f} < {MIN_HANDEDNESS})")
    if not strong:
        return Plausibility(True, tuple(reasons), (), measures)
    return Plausibility(False, tuple(reasons), ("malformed_hand", *sorted(defects)), measures)
