"""Is a body pose anatomically possible? Rules on MediaPipe's 33 pose landmarks ("twisted joints").

Input: ``points`` (33, 3) pixels (x, y; z MediaPipe's relative depth on x's scale), ``visibility``
(33,) 0..1 and ``world`` (33, 3) metres around the hip centre (MediaPipe's 3-D estimate, free of
foreshortening); index order as in :mod:`lib_qfix.detect.mp_pose`. A rule runs only when every
landmark it uses has visibility >= ``min_visibility`` (knees, ankles and feet: at least
:data:`LEG_VISIBILITY`): MediaPipe guesses hidden joints from its body prior, and a guess is no
evidence.

Rules (thresholds are generous: the pose model is itself a strong prior that pulls bodies towards
normal ones, so what still comes out abnormal is worth a reason; each failure names the joint):

- bone ratios (3-D): forearm / upper arm within 0.4..2.0 (adult ~0.8; MediaPipe's 3-D estimate of
  a real photo and of its mirror image differ by up to 0.7 here), shin / thigh within 0.45..2.0
  (~1.0), and the same bone left vs right within 1.8x;
- bone drawn too long (2-D vs 3-D): a limb bone whose image length per metre of its 3-D length
  exceeds 1.8x the median of the torso's (shoulders, hips, both flanks) -- what the image shows
  is longer than the skeleton that the model fitted can be (perspective of a limb reaching
  towards the camera stays well under 1.8x at portrait distances);
- knee bent backwards (3-D): with the foot (heel -> toe) giving "forward", the shin swings
  forward of the thigh's line by more than 25 deg;
- elbow or knee folded flat: the angle between the two bones under 15 deg (3-D);
- torso twist (3-D, seen from above): shoulder line vs hip line more than 70 deg apart;
- head twist (3-D, seen from above): ear line vs shoulder line more than 100 deg apart (the
  neck turns ~80 deg each way).

Every failure is the shared defect ``twisted_joint``; ``joints`` lists the landmarks involved, for
the region's box and mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lib_qfix.detect.hand_plausibility import angle_deg

L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_TOE, R_TOE, NOSE, L_EAR, R_EAR = 29, 30, 31, 32, 0, 7, 8
#: (name, (root, middle, end)) of the four limbs; "left" is the subject's left
LIMBS = (("left arm", (L_SHOULDER, L_ELBOW, L_WRIST)), ("right arm", (R_SHOULDER, R_ELBOW, R_WRIST)),
         ("left leg", (L_HIP, L_KNEE, L_ANKLE)), ("right leg", (R_HIP, R_KNEE, R_ANKLE)))
FEET = {"left leg": (L_HEEL, L_TOE), "right leg": (R_HEEL, R_TOE)}
TORSO = ((L_SHOULDER, R_SHOULDER), (L_HIP, R_HIP), (L_SHOULDER, L_HIP), (R_SHOULDER, R_HIP))

MIN_VISIBILITY = 0.6
ARM_RATIO = (0.4, 2.0)
LEG_RATIO = (0.45, 2.0)
SIDE_RATIO = 1.8
DRAWN_LONG = 1.8
KNEE_BACK_DEG = 25.0
FOLDED_DEG = 15.0
TORSO_TWIST_DEG = 70.0
HEAD_TWIST_DEG = 100.0
#: ears are often half-hidden by hair; the head rule accepts them at this visibility
EAR_VISIBILITY = 0.3
#: legs need more: MediaPipe loses legs on busy backgrounds yet reports them 0.6-0.8 visible
#: (measured on the mannequin fixtures), and a lost leg reads as a broken one
LEG_VISIBILITY = 0.8


@dataclass(frozen=True)
class PoseVerdict:
    """``reasons`` empty means plausible; ``joints`` the landmark indices the failures involve."""

    reasons: tuple[str, ...] = ()
    joints: tuple[int, ...] = ()
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def plausible(self) -> bool:
        return not self.reasons


def _line_angle_from_above(a: np.ndarray, b: np.ndarray) -> float:
    """Angle 0..180 deg between two left-to-right vectors seen from above (x-z plane of the world)."""
    return angle_deg(a[[0, 2]], b[[0, 2]])


def check_pose(points: np.ndarray, visibility: np.ndarray, world: np.ndarray | None,
               min_visibility: float = MIN_VISIBILITY) -> PoseVerdict:
    """Judge one body; see the module docstring for the rules."""
    p = np.asarray(points, dtype=np.float64)
    vis = np.asarray(visibility, dtype=np.float64)
    if p.shape != (33, 3) or vis.shape != (33,) or not np.all(np.isfinite(p)):
        raise ValueError(f"pose landmarks: shapes {p.shape}, {vis.shape} are not allowed; allowed: (33, 3), (33,)")
    if world is None:
        return PoseVerdict(measures={"world": 0.0})
    w = np.asarray(world, dtype=np.float64)

    legs = {L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE, L_HEEL, R_HEEL, L_TOE, R_TOE}

    def seen(*idx: int) -> bool:
        floor = max(min_visibility, LEG_VISIBILITY) if legs.intersection(idx) - {L_HIP, R_HIP} else min_visibility
        return bool(np.all(vis[list(idx)] >= floor))

    def length(a: np.ndarray, i: int, j: int) -> float:
        """Distance of landmarks i, j: 3-D in ``world``, in the image plane (x, y) in ``points``."""
        return float(np.linalg.norm(a[i, :3 if a is w else 2] - a[j, :3 if a is w else 2]))

    reasons: list[str] = []
    joints: list[int] = []
    measures: dict[str, float] = {}

    def fail(reason: str, *idx: int) -> None:
        reasons.append(reason)
        joints.extend(idx)

    # --- bone ratios within a limb, and the same bone on both sides
    bones: dict[str, tuple[float, float]] = {}
    for name, (a, b, c) in LIMBS:
        if not seen(a, b, c):
            continue
        upper, lower = length(w, a, b), length(w, b, c)
        bones[name] = (upper, lower)
        ratio = lower / max(upper, 1e-6)
        measures[f"{name} ratio"] = ratio
        low, high = ARM_RATIO if "arm" in name else LEG_RATIO
        part = ("forearm", "upper arm") if "arm" in name else ("shin", "thigh")
        if not low <= ratio <= high:
            fail(f"{name}: {part[0]} is {ratio:.2f}x the {part[1]} (allowed {low}..{high})", a, b, c)
        fold = angle_deg(w[a] - w[b], w[c] - w[b])
        if fold < FOLDED_DEG:
            fail(f"{name}: {'elbow' if 'arm' in name else 'knee'} folded flat ({fold:.0f} deg < {FOLDED_DEG:.0f})", a, b, c)
    for kind in ("arm", "leg"):
        left, right = bones.get(f"left {kind}"), bones.get(f"right {kind}")
        if left and right:
            for k, part in enumerate(("upper", "lower")):
                r = max(left[k], right[k]) / max(min(left[k], right[k]), 1e-6)
                if r > SIDE_RATIO:
                    side = "left" if left[k] > right[k] else "right"
                    fail(f"{side} {part} {kind} is {r:.2f}x the other side's (> {SIDE_RATIO})",
                         *dict(LIMBS)[f"{side} {kind}"])

    # --- bones drawn longer than the fitted skeleton allows
    scales = [length(p, i, j) / max(length(w, i, j), 1e-6) for i, j in TORSO if seen(i, j)]
    if len(scales) >= 2:
        torso_scale = float(np.median(scales))
        for name, (a, b, c) in LIMBS:
            for i, j in ((a, b), (b, c)):
                if seen(i, j) and length(w, i, j) > 0.05:
                    drawn = length(p, i, j) / length(w, i, j) / max(torso_scale, 1e-6)
                    if drawn > DRAWN_LONG:
                        fail(f"{name}: a bone drawn {drawn:.1f}x longer than the body's scale allows", i, j)

    # --- knee bent backwards, judged against the foot's forward direction
    for name, (hip, knee, ankle) in LIMBS[2:]:
        heel, toe = FEET[name]
        if not seen(hip, knee, ankle, heel, toe):
            continue
        thigh, shin, fwd = w[knee] - w[hip], w[ankle] - w[knee], w[toe] - w[heel]
        t = thigh / max(np.linalg.norm(thigh), 1e-9)
        off = shin - t * float(shin @ t)  # the shin's swing away from the thigh's line
        bend = angle_deg(thigh, shin)
        if float(off @ fwd) > 0 and bend > KNEE_BACK_DEG:
            fail(f"{name}: knee bent backwards {bend:.0f} deg (> {KNEE_BACK_DEG:.0f})", hip, knee, ankle)

    # --- torso and head twist, seen from above
    if seen(L_SHOULDER, R_SHOULDER, L_HIP, R_HIP):
        twist = _line_angle_from_above(w[L_SHOULDER] - w[R_SHOULDER], w[L_HIP] - w[R_HIP])
        measures["torso twist"] = twist
        if twist > TORSO_TWIST_DEG:
            fail(f"torso twisted {twist:.0f} deg between shoulders and hips (> {TORSO_TWIST_DEG:.0f})",
                 L_SHOULDER, R_SHOULDER, L_HIP, R_HIP)
    if seen(L_SHOULDER, R_SHOULDER, NOSE) and min(vis[L_EAR], vis[R_EAR]) >= EAR_VISIBILITY:
        turn = _line_angle_from_above(w[L_EAR] - w[R_EAR], w[L_SHOULDER] - w[R_SHOULDER])
        measures["head turn"] = turn
        if turn > HEAD_TWIST_DEG:
            fail(f"head turned {turn:.0f} deg against the shoulders (> {HEAD_TWIST_DEG:.0f})",
                 NOSE, L_EAR, R_EAR, L_SHOULDER, R_SHOULDER)
    return PoseVerdict(tuple(dict.fromkeys(reasons)), tuple(dict.fromkeys(joints)), measures)
