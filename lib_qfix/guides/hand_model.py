"""A well-formed hand fitted to detected MediaPipe hand landmarks: the pose QFix asks ControlNet for
when the detected hand is malformed.

Points are pixels (x right, y down) in MediaPipe's 21-point order: wrist 0; thumb 1-4 (CMC, MCP, IP,
tip); index 5-8, middle 9-12, ring 13-16, pinky 17-20 (MCP, PIP, DIP, tip) -- the topology of
OpenPose's hand keypoints.

How the hand is built (:func:`plausible_hand`):

1. **Palm frame** of the detection: origin the wrist, y axis wrist -> middle MCP, unit the palm length
   ``L`` (px); x axis across the palm towards the pinky. Its sign is the hand's chirality *as seen in
   the image* (a right palm looks like a left back): read from the index -> pinky MCP span; when the
   palm is seen edge-on (span < 0.15 L) from the side the thumb is on, then from the handedness
   label, else a right hand. The wrist, the middle MCP (so ``L``) and the chirality are kept exactly.
2. **Template**: a canonical right hand in that frame (:data:`BASES`, :data:`DIRECTIONS`,
   :data:`LENGTHS`, from adult proportions and MediaPipe's own landmarks on a rendered open hand);
   a left-looking hand is the same template mirrored (x -> -x) by the frame.
3. **Parameters from the detection**, each clamped around the template: knuckle (MCP) and thumb-base
   positions (the detected palm when every knuckle is within 0.3 L of the template and in order
   along the palm at least 0.1 L apart, else the template's palm); first-segment direction (+-20 deg
   of the template, +-25 for the thumb), fanned in order index..pinky so fingers cannot cross;
   in-plane bends at PIP and DIP with one sign for all four fingers (a hand curls one way), PIP at
   most 25 deg and DIP at most min(PIP, 15) (monotone: the bend fades towards the tip, and the tip
   stays within 40 deg of the proximal phalanx); thumb bends -15..35 deg (towards the palm positive)
   of one sign; each finger's length from the detected length (flexion towards the camera shortens
   it) clamped to 0.7..1.15 of the template, phalanges in the template's ratios.
4. Mapped back to the image: ``p = wrist + L (x * x_axis + y * y_axis)``.
5. **Checked** with :func:`lib_qfix.detect.hand_plausibility.check_hand` (z = 0) and a thumb/index
   crossing test; if a rare mix of clamped parameters is rejected, the detection's share of every
   parameter is halved, then dropped (the template in the detected frame, which always passes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib_qfix.detect.hand_plausibility import check_hand, segments_cross

#: chain starts: thumb CMC, index/middle/ring/pinky MCP (landmark indices)
CHAIN_BASES = (1, 5, 9, 13, 17)
#: template base positions (palm-frame units: x towards the pinky, y wrist -> middle MCP)
BASES = np.array([(-0.25, 0.24), (-0.23, 0.98), (0.0, 1.0), (0.21, 0.95), (0.40, 0.86)])
#: template first-segment directions, degrees from the y axis towards the pinky side
DIRECTIONS = np.array([-40.0, -3.0, 1.0, 5.0, 11.0])
#: template bends (degrees, towards the pinky side positive) at the chain's 2nd and 3rd joints
BENDS = np.array([(6.0, 9.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)])
#: template segment lengths (palm units): thumb CMC-MCP-IP-tip; fingers proximal, middle, distal
LENGTHS = np.array([(0.34, 0.27, 0.23), (0.40, 0.24, 0.20), (0.45, 0.27, 0.23), (0.42, 0.26, 0.21),
                    (0.33, 0.20, 0.17)])

BASE_TOLERANCE = 0.3
MIN_KNUCKLE_GAP = 0.1
DIRECTION_RANGE = np.array([25.0, 20.0, 20.0, 20.0, 20.0])
MAX_PIP_DEG, MAX_DIP_DEG = 25.0, 15.0
THUMB_BEND_RANGE = (-15.0, 35.0)
LENGTH_FACTOR_RANGE = (0.7, 1.15)
#: fingers fan out in order: each proximal direction at least this much (deg) past the previous one
FAN_STEP_DEG = 1.0
EDGE_ON_SPAN = 0.15
THUMB_SIDE = 0.1
#: detection weights tried in turn (1 = the detection's clamped pose, 0 = the template)
BLEND_STEPS = (1.0, 0.5, 0.0)


@dataclass(frozen=True)
class PalmFrame:
    """Wrist (px), unit axes (image px directions), palm length ``scale`` (px) and chirality."""

    wrist: np.ndarray
    x_axis: np.ndarray
    y_axis: np.ndarray
    scale: float

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        d = points - self.wrist
        return np.stack([d @ self.x_axis, d @ self.y_axis], axis=1) / self.scale

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return self.wrist + self.scale * (points[:, :1] * self.x_axis + points[:, 1:2] * self.y_axis)


@dataclass(frozen=True)
class HandPose:
    """A hand in palm-frame parameters, one row per chain (thumb, index, middle, ring, pinky)."""

    bases: np.ndarray       # (5, 2) chain start positions
    directions: np.ndarray  # (5,) first segment direction, degrees
    bends: np.ndarray       # (5, 2) signed bends at the next two joints, degrees
    factors: np.ndarray     # (5,) length factor on the template lengths

    def blend(self, other: HandPose, t: float) -> HandPose:
        """``t`` of this pose plus ``1 - t`` of ``other``."""
        def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return b + t * (a - b)
        return HandPose(mix(self.bases, other.bases), mix(self.directions, other.directions),
                        mix(self.bends, other.bends), mix(self.factors, other.factors))

    def points(self) -> np.ndarray:
        """(21, 2) palm-frame landmarks."""
        out = np.zeros((21, 2))
        for c, start in enumerate(CHAIN_BASES):
            p = self.bases[c].copy()
            out[start] = p
            angle = self.directions[c]
            for k in range(3):
                if k:
                    angle += self.bends[c, k - 1]
                a = np.radians(angle)
                p = p + LENGTHS[c, k] * self.factors[c] * np.array([np.sin(a), np.cos(a)])
                out[start + k + 1] = p
        return out


TEMPLATE = HandPose(BASES.copy(), DIRECTIONS.copy(), BENDS.copy(), np.ones(5))


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else None


def _chirality(p: np.ndarray, wrist: np.ndarray, y_axis: np.ndarray, across: np.ndarray, scale: float,
               handedness: str | None) -> float:
    """+1 when the pinky lies along ``across`` (a MediaPipe "Right" palm-facing hand), else -1."""
    span = float((p[17] - p[5]) @ across) / scale
    if abs(span) >= EDGE_ON_SPAN:
        return 1.0 if span > 0 else -1.0
    thumb = float((p[1:5].mean(axis=0) - wrist) @ across) / scale
    if abs(thumb) >= THUMB_SIDE:
        return -1.0 if thumb > 0 else 1.0
    return -1.0 if handedness is not None and handedness.lower() == "left" else 1.0


def palm_frame(points: np.ndarray, handedness: str | None = None) -> PalmFrame:
    """The detection's palm frame (see the module doc). A collapsed palm (wrist on the middle MCP)
    takes half the landmarks' extent as its length and the wrist -> knuckles direction (else up)."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    wrist = p[0]
    y_axis = _unit(p[9] - wrist)
    scale = float(np.linalg.norm(p[9] - wrist))
    extent = float(np.ptp(p, axis=0).max())
    if y_axis is None or scale < 0.05 * extent:
        scale = max(0.5 * extent, 1.0)
        y_axis = _unit(p[[5, 9, 13, 17]].mean(axis=0) - wrist)
        if y_axis is None:
            y_axis = np.array([0.0, -1.0])
    across = np.array([-y_axis[1], y_axis[0]])
    return PalmFrame(wrist, across * _chirality(p, wrist, y_axis, across, scale, handedness), y_axis, scale)


def _wrap(deg: np.ndarray | float) -> np.ndarray:
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


def _chain_angles(q: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Directions (deg from +y towards +x) and lengths of a chain's three segments."""
    seg = q[start + 1:start + 4] - q[start:start + 3]
    return np.degrees(np.arctan2(seg[:, 0], seg[:, 1])), np.linalg.norm(seg, axis=1)


def _palm_bases(q: np.ndarray) -> np.ndarray:
    """Detected chain bases when the palm is plausible (module doc, step 3), else the template's."""
    det = q[list(CHAIN_BASES)]
    near = np.linalg.norm(det - BASES, axis=1) <= BASE_TOLERANCE
    ordered = bool(np.all(np.diff(det[1:, 0]) >= MIN_KNUCKLE_GAP)) and det[0, 0] < det[1, 0]
    return det.copy() if near.all() and ordered else BASES.copy()


def detected_pose(q: np.ndarray) -> HandPose:
    """The detection's palm-frame landmarks ``q`` (21, 2) as a pose clamped to plausible ranges."""
    bases = _palm_bases(q)
    directions, bends, factors = DIRECTIONS.copy(), BENDS.copy(), np.ones(5)
    raw_bends = np.zeros((5, 2))
    for c, start in enumerate(CHAIN_BASES):
        angles, lengths = _chain_angles(q, start)
        if lengths[0] > 0.04:
            directions[c] = DIRECTIONS[c] + np.clip(_wrap(angles[0] - DIRECTIONS[c]),
                                                    -DIRECTION_RANGE[c], DIRECTION_RANGE[c])
        for k in (0, 1):
            if lengths[k] > 0.04 and lengths[k + 1] > 0.04:
                raw_bends[c, k] = float(_wrap(angles[k + 1] - angles[k]))
        factors[c] = np.clip(lengths.sum() / LENGTHS[c].sum(), *LENGTH_FACTOR_RANGE)
    for c in range(2, 5):  # fan out: no finger's proximal phalanx turns past its neighbour's
        directions[c] = max(directions[c], directions[c - 1] + FAN_STEP_DEG)
    sign = 1.0 if raw_bends[1:].sum() >= 0 else -1.0
    for c in range(1, 5):
        pip = float(np.clip(sign * raw_bends[c, 0], 0.0, MAX_PIP_DEG))
        dip = float(np.clip(sign * raw_bends[c, 1], 0.0, min(pip, MAX_DIP_DEG)))
        bends[c] = (sign * pip, sign * dip)
    thumb = np.clip(raw_bends[0], *THUMB_BEND_RANGE)
    if thumb[0] * thumb[1] < 0:  # one sign: the smaller opposite bend goes
        thumb[int(np.argmin(np.abs(thumb)))] = 0.0
    bends[0] = thumb
    return HandPose(bases, directions, bends, factors)


def _acceptable(q: np.ndarray, frame: PalmFrame) -> bool:
    """Does the plausibility checker accept the image-space hand, and does the thumb stay clear of
    the index finger?"""
    if any(segments_cross(q[a], q[a + 1], q[b], q[b + 1]) for a in (1, 2, 3) for b in (5, 6, 7)):
        return False
    pts = np.concatenate([frame.to_image(q), np.zeros((21, 1))], axis=1)
    return check_hand(pts).plausible


def plausible_hand(points: np.ndarray, handedness: str | None = None) -> np.ndarray:
    """(21, 2) well-formed hand fitted to detected ``points`` ((21, 2) or (21, 3) pixels, z ignored):
    the same wrist, palm frame, chirality and palm length; five fingers with template phalanx ratios
    and gentle, monotone flexion taken from the detection where plausible and clamped where not (see
    the module doc). ``handedness`` ("Left"/"Right", MediaPipe's label) only decides the side of a
    palm seen edge-on with no telling thumb. Raises ValueError for another shape or non-finite values."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != 21 or p.shape[1] not in (2, 3) or not np.all(np.isfinite(p)):
        raise ValueError(f"hand landmarks: shape {p.shape} is not allowed; allowed: (21, 2) or (21, 3) finite values")
    if handedness is not None and handedness.lower() not in ("left", "right"):
        raise ValueError(f"handedness: {handedness!r} is not allowed; allowed: 'Left', 'Right' or None")
    frame = palm_frame(p, handedness)
    fitted = detected_pose(frame.to_frame(p[:, :2]))
    for t in BLEND_STEPS:
        q = fitted.blend(TEMPLATE, t).points()
        if t == 0.0 or _acceptable(q, frame):
            return frame.to_image(q)
    raise AssertionError("unreachable: the last blend step is the template")
