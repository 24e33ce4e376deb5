"""Do the hands in an image meet the arms of the bodies in it? Limb counts from pose + hands.

Inputs are in image pixels: a :class:`Body` per person (MediaPipe pose landmarks and visibility)
and the hands MediaPipe found (21 landmarks each; landmark 0 is the wrist). Distances are in units
of the body's size, :func:`body_unit`: the larger of the 2-D shoulder width and half the 2-D torso
length, so that a body seen from the side still has a sensible unit.

- a hand *meets an arm* when its wrist lies within :data:`ATTACH` units of the pose's wrist, its
  hand points (pinky, index, thumb: 17-22), or the forearm's line (elbow -> wrist, extended by
  a third); each arm takes at most one hand, the nearest;
- a hand that meets no arm but lies within reach of a body (its wrist within :data:`REACH` units
  of a shoulder, its palm 0.15..1.2 units long) is an anatomy defect of that body:
  ``extra_limb`` when both of the body's arms already end in a hand (a third hand needs a third
  arm), else ``detached_hand`` when the free arm's wrist is confidently placed (visibility >= the
  floor) more than :data:`DETACHED` units away -- the hand floats apart from its arm;
- ``missing_limb`` (judged conservatively, arms only): a frontal body (shoulder width >= 0.55 of
  the torso length) whose one arm is clearly there (all three joints >= 0.9 visibility) while the
  other's elbow and wrist are both below 0.5, the shoulder clearly seen, no hand within reach of
  it and the guessed arm inside the frame. An arm hidden behind the back or an object reads the
  same, so this stays a weak signal; legs are not judged (the pose model tracks them too poorly).

Hands near a face that has no pose (a person the pose pass missed) are left alone: their arm may
be that person's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib_qfix.detect.pose_rules import (
    L_ELBOW,
    L_HIP,
    L_SHOULDER,
    L_WRIST,
    R_ELBOW,
    R_HIP,
    R_SHOULDER,
    R_WRIST,
)

ATTACH = 0.45
#: a hand this far (body units) from the free arm's end floats apart from it; between ATTACH and
#: this the pose may simply have misplaced the wrist (seen up to 0.95 on a figure with a third arm)
DETACHED = 1.0
REACH = 2.6
PALM_RANGE = (0.15, 1.2)
FRONTAL = 0.55
CLEAR_ARM = 0.9
LOST_ARM = 0.5
#: pose landmarks of the hand, per side: pinky, index, thumb
HAND_POINTS = {"left": (17, 19, 21), "right": (18, 20, 22)}
ARMS = {"left": (L_SHOULDER, L_ELBOW, L_WRIST), "right": (R_SHOULDER, R_ELBOW, R_WRIST)}


@dataclass(frozen=True)
class Body:
    """One person: ``points`` (33, 2+) pixels, ``visibility`` (33,), ``world`` (33, 3) metres or None."""

    points: np.ndarray
    visibility: np.ndarray
    world: np.ndarray | None = None


@dataclass(frozen=True)
class LimbFinding:
    """One limb-count defect: ``defect`` name, ``reason``, ``points`` (N, 2) pixels it concerns,
    ``body`` the index of the body, ``hand`` the index of the hand (-1: none), ``confidence`` 0..1."""

    defect: str
    reason: str
    points: np.ndarray
    body: int
    hand: int
    confidence: float


def _shoulders_torso(p: np.ndarray) -> tuple[float, float]:
    """(2-D shoulder width, 2-D shoulder-midpoint-to-hip-midpoint length) in pixels of points ``p``."""
    width = float(np.linalg.norm(p[L_SHOULDER] - p[R_SHOULDER]))
    torso = float(np.linalg.norm((p[L_SHOULDER] + p[R_SHOULDER]) / 2 - (p[L_HIP] + p[R_HIP]) / 2))
    return width, torso


def body_unit(body: Body) -> float:
    """The body's size in pixels: max(2-D shoulder width, half the 2-D shoulder-to-hip length)."""
    width, torso = _shoulders_torso(body.points[:, :2])
    return max(width, torso / 2, 1.0)


def _to_segment(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    d = b - a
    t = float(np.clip((x - a) @ d / max(float(d @ d), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(x - (a + t * d)))


def arm_distance(body: Body, side: str, wrist: np.ndarray) -> float:
    """How far (in body units) a hand's wrist ``wrist`` (x, y) is from the end of the body's arm."""
    p = body.points[:, :2]
    _, elbow, pose_wrist = ARMS[side]
    ends = [p[pose_wrist]] + [p[i] for i in HAND_POINTS[side]]
    d = min(float(np.linalg.norm(wrist - e)) for e in ends)
    tip = p[pose_wrist] + (p[pose_wrist] - p[elbow]) / 3
    d = min(d, _to_segment(wrist, p[elbow], tip))
    return d / body_unit(body)


def judge_limbs(bodies: list[Body], hands: list[np.ndarray], hand_scores: list[float],
                unposed_faces: list[tuple[float, float, float, float]], width: int, height: int,
                min_visibility: float) -> list[LimbFinding]:
    """Limb-count findings for ``bodies`` and ``hands`` ((21, 2+) pixel landmarks each); see the
    module doc. ``unposed_faces`` are face boxes with no body, whose people may own hands."""
    out: list[LimbFinding] = []
    owner: dict[int, tuple[int, str]] = {}
    pairs = sorted((arm_distance(b, side, h[0, :2]), bi, side, hi)
                   for bi, b in enumerate(bodies) for side in ARMS for hi, h in enumerate(hands))
    taken: set[tuple[int, str]] = set()
    for d, bi, side, hi in pairs:
        if d > ATTACH or hi in owner or (bi, side) in taken:
            continue
        owner[hi] = (bi, side)
        taken.add((bi, side))
    for hi, h in enumerate(hands):
        if hi in owner:
            continue
        wrist = h[0, :2]
        palm = float(np.linalg.norm(h[9, :2] - h[0, :2]))
        near = [(float(min(np.linalg.norm(wrist - b.points[s, :2]) for s in (L_SHOULDER, R_SHOULDER)))
                 / body_unit(b), bi) for bi, b in enumerate(bodies)]
        near = [(d, bi) for d, bi in near if d <= REACH
                and PALM_RANGE[0] <= palm / body_unit(bodies[bi]) <= PALM_RANGE[1]]
        if not near:
            continue
        d, bi = min(near)
        body = bodies[bi]
        if any(_face_distance(wrist, f) < d * body_unit(body) for f in unposed_faces):
            continue  # as near a person the pose pass missed: that arm may be theirs
        free = [s for s in ARMS if (bi, s) not in taken]
        box_pts = h[:, :2]
        if not free:
            out.append(LimbFinding("extra_limb", f"a third hand: both arms of this body already end in a hand "
                                   f"(this one {d:.1f} body widths from a shoulder)", box_pts, bi, hi,
                                   hand_scores[hi]))
            continue
        side = min(free, key=lambda s: arm_distance(body, s, wrist))
        vis = float(body.visibility[ARMS[side][2]])
        gap = arm_distance(body, side, wrist)
        if vis >= min_visibility and gap > DETACHED:
            end = body.points[ARMS[side][2], :2][None]
            out.append(LimbFinding("detached_hand", f"hand does not meet an arm: {gap:.1f} body widths from the "
                                   f"{side} arm's wrist (> {ATTACH})", np.vstack([box_pts, end]), bi, hi,
                                   hand_scores[hi] * vis))
    for bi, body in enumerate(bodies):
        out.extend(_missing_arm(body, bi, hands, width, height))
    return out


def _face_distance(x: np.ndarray, box: tuple[float, float, float, float]) -> float:
    return float(np.linalg.norm(x - np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])))


def _mirror(x: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Points ``x`` (N, 2) mirrored across the body's midline (the perpendicular bisector of the
    shoulders): where the other arm would be."""
    mid = (left + right) / 2
    u = (left - right) / max(float(np.linalg.norm(left - right)), 1e-9)
    return x - 2 * ((x - mid) @ u)[:, None] * u


def _missing_arm(body: Body, bi: int, hands: list[np.ndarray], width: int, height: int) -> list[LimbFinding]:
    p, vis = body.points[:, :2], body.visibility
    sw, torso = _shoulders_torso(p)
    if sw < FRONTAL * torso or min(vis[L_SHOULDER], vis[R_SHOULDER]) < CLEAR_ARM:
        return []
    out = []
    for side, other in (("left", "right"), ("right", "left")):
        s, e, w = ARMS[side]
        if min(vis[i] for i in ARMS[other]) < CLEAR_ARM or max(vis[e], vis[w]) >= LOST_ARM:
            continue
        reach = float(sum(np.linalg.norm(p[a] - p[b]) for a, b in zip(ARMS[other][:-1], ARMS[other][1:], strict=True)))
        guess = np.vstack([p[s], _mirror(p[list(ARMS[other][1:])], p[L_SHOULDER], p[R_SHOULDER])])
        if not (np.all(guess[:, 0] >= 0) and np.all(guess[:, 0] < width) and np.all(guess[:, 1] >= 0)
                and np.all(guess[:, 1] < height)):
            continue
        if any(np.linalg.norm(h[0, :2] - p[s]) < 1.2 * reach for h in hands
               if np.linalg.norm(h[0, :2] - p[ARMS[other][2]]) > ATTACH * body_unit(body)):
            continue
        out.append(LimbFinding("missing_limb", f"{side} arm missing: the pose sees the {other} arm clearly but not "
                               f"this one (elbow {vis[e]:.2f}, wrist {vis[w]:.2f} visibility) and no hand is near",
                               guess, bi, -1, float(vis[s]) * (1 - float(max(vis[e], vis[w])))))
    return out
