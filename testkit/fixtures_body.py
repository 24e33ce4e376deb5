"""Labelled body fixtures for the anatomy detector (pose + hands), built in memory, deterministic.

- :func:`figure`: a mannequin (shaded torso, arms, legs) with a real photo head (the bundled
  astronaut, Grace Hopper or camera-man face, :data:`testkit.fixtures_detect.FACE_LABELS`) and
  rendered hands (:func:`testkit.fixtures_detect.render_hand`) at the wrists, on a flat backdrop or a
  people-free photo. MediaPipe pose tracks its shoulders, elbows and wrists within ~15 px (its legs
  less well: the mannequin's legs are plain tubes), MediaPipe hands finds its hands.
- :func:`anatomy_cases`: clean figures in several poses, heads, scales and backdrops, and the same
  figures with one planted defect each, labelled with the defect and its box:
  ``extra_limb`` (a third arm ending in a hand), ``detached_hand`` (a hand drawn away from the arm,
  the arm ending in a stump), ``missing_limb`` (one arm not drawn, no hand);
- :data:`POSE_PERTURBATIONS`: changes to a real MediaPipe pose result (pixels, visibility, world)
  that make it anatomically impossible in one named way, for :mod:`lib_qfix.detect.pose_rules`.

Fingers, teeth and skin fixtures: :mod:`testkit.fixtures_parts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from testkit.fixtures_detect import FACE_LABELS, _fit, hand_mask, photo, render_hand

Point = tuple[float, float]
#: joint names of :func:`figure` ("l" = the figure's left, on the image's right)
JOINTS = ("neck", "ls", "rs", "le", "re", "lw", "rw", "lh", "rh", "lk", "rk", "la", "ra")

#: normal poses on a 512 canvas (shoulder width 100 px); hand direction follows the forearm
POSES: dict[str, dict[str, Point]] = {
    "arms_down": dict(neck=(256, 150), ls=(306, 165), rs=(206, 165), le=(322, 235), re=(190, 235),
                      lw=(330, 300), rw=(182, 300), lh=(290, 300), rh=(222, 300), lk=(294, 390),
                      rk=(218, 390), la=(298, 480), ra=(214, 480)),
    "arms_out": dict(neck=(256, 150), ls=(306, 165), rs=(206, 165), le=(370, 190), re=(142, 190),
                     lw=(430, 170), rw=(82, 170), lh=(290, 300), rh=(222, 300), lk=(294, 390),
                     rk=(218, 390), la=(298, 480), ra=(214, 480)),
    "one_up": dict(neck=(256, 150), ls=(306, 165), rs=(206, 165), le=(352, 110), re=(190, 235),
                   lw=(372, 45), rw=(182, 300), lh=(290, 300), rh=(222, 300), lk=(294, 390),
                   rk=(218, 390), la=(298, 480), ra=(214, 480)),
    "hands_front": dict(neck=(256, 150), ls=(306, 165), rs=(206, 165), le=(326, 235), re=(186, 235),
                        lw=(290, 270), rw=(222, 270), lh=(290, 300), rh=(222, 300), lk=(294, 390),
                        rk=(218, 390), la=(298, 480), ra=(214, 480)),
}
HEADS = ("astronaut", "grace_hopper", "camera")
CLOTHES = ((60, 80, 150), (150, 60, 50), (70, 110, 70), (200, 190, 170))
SKINS = ((214, 160, 128), (190, 130, 95), (235, 190, 160))
ARM_PX, LEG_PX, HAND_PX = 26, 34, 100


@dataclass
class BodyCase:
    """One figure: ``defects`` planted (empty = clean) and ``boxes`` where each defect is."""

    name: str
    image: np.ndarray
    defects: tuple[str, ...] = ()
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)


def _layer(img: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    alpha = cv2.GaussianBlur(mask, (0, 0), 1.0).astype(np.float32)[..., None] / 255
    depth = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    shade = (0.6 + 0.4 * np.clip(depth / 12, 0, 1))[..., None]
    return img * (1 - alpha) + np.array(colour, np.float32) * shade * alpha


def _limb(mask: np.ndarray, a: Point, b: Point, width: int) -> None:
    cv2.line(mask, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, width, cv2.LINE_AA)
    cv2.circle(mask, (int(b[0]), int(b[1])), width // 2, 255, -1, cv2.LINE_AA)


def paste_hand(img: np.ndarray, wrist: Point, direction: Point, skin: tuple[int, int, int],
               size: int = HAND_PX, spread: float = 1.0) -> tuple[int, int, int, int]:
    """Paste a rendered hand whose wrist sits at ``wrist`` and whose fingers point along
    ``direction``; returns its box (x0, y0, x1, y1), clipped to the image."""
    big = 4 * size  # rendered large, rotated, then reduced: clean edges
    hand = render_hand(big, spread, skin)
    mask = hand_mask(hand).astype(np.uint8) * 255
    angle = math.degrees(math.atan2(direction[0], -direction[1]))  # 0 = fingers up
    # rotate about the wrist point of the rendered hand (bottom centre of the palm)
    pivot = (128 / 256 * big, 232 / 256 * big)
    m = cv2.getRotationMatrix2D(pivot, -angle, size / big)
    m[0, 2] += wrist[0] - pivot[0]
    m[1, 2] += wrist[1] - pivot[1]
    h, w = img.shape[:2]
    warped = cv2.warpAffine(hand, m, (w, h))
    alpha = cv2.warpAffine(mask, m, (w, h)).astype(np.float32)[..., None] / 255
    img[:] = np.clip(img * (1 - alpha) + warped * alpha, 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(alpha[..., 0] > 0.5)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 0, 0)


def figure(joints: dict[str, Point], head: str = "astronaut", cloth: tuple[int, int, int] = CLOTHES[0],
           skin: tuple[int, int, int] = SKINS[0], background: np.ndarray | None = None, size: int = 512,
           arms: tuple[str, ...] = ("l", "r"), hands: tuple[str, ...] = ("l", "r")) -> np.ndarray:
    """A mannequin with a photo head on a ``size`` square; ``arms`` / ``hands`` say which sides get
    an arm / a hand at the wrist ("l", "r")."""
    j = {k: np.array(v, float) * size / 512 for k, v in joints.items()}
    bg = np.full((size, size, 3), (170, 170, 160), np.float32) if background is None \
        else cv2.resize(background, (size, size)).astype(np.float32)
    s = size / 512
    body = np.zeros((size, size), np.uint8)
    cv2.fillPoly(body, [np.array([j["ls"], j["rs"], j["rh"], j["lh"]], np.int32)], 255)
    for side in arms:
        _limb(body, j[side + "s"], j[side + "e"], int(ARM_PX * s))
        _limb(body, j[side + "e"], j[side + "w"], int(ARM_PX * s * 0.85))
    legs = np.zeros((size, size), np.uint8)
    for side in "lr":
        _limb(legs, j[side + "h"], j[side + "k"], int(LEG_PX * s))
        _limb(legs, j[side + "k"], j[side + "a"], int(LEG_PX * s * 0.85))
    neck = np.zeros((size, size), np.uint8)
    _limb(neck, j["neck"] + (0, -25 * s), j["neck"] + (0, 12 * s), int(30 * s))
    img = _layer(_layer(_layer(bg, legs, (50, 50, 60)), neck, skin), body, cloth)
    img = np.clip(img, 0, 255).astype(np.uint8)
    fx0, fy0, fx1, fy1 = FACE_LABELS[head]
    src = photo(head)
    side_px = max(fx1 - fx0, fy1 - fy0)
    cx, cy = (fx0 + fx1) // 2, (fy0 + fy1) // 2
    crop = src[max(0, cy - side_px):cy + int(side_px * 0.75), max(0, cx - int(side_px * 0.8)):cx + int(side_px * 0.8)]
    hw = int(np.linalg.norm(j["ls"] - j["rs"]) * 0.75)
    hh = int(hw * crop.shape[0] / crop.shape[1])
    crop = cv2.resize(crop, (hw, hh), interpolation=cv2.INTER_AREA)
    x0, y0 = int(j["neck"][0] - hw / 2), int(j["neck"][1] + 8 * s - hh)
    ell = np.zeros((hh, hw), np.float32)
    cv2.ellipse(ell, (hw // 2, hh // 2), (hw // 2 - 1, hh // 2 - 1), 0, 0, 360, 1, -1)
    ell = cv2.GaussianBlur(ell, (0, 0), 2 * s + 0.5)[..., None]
    ys, xs = slice(max(0, y0), y0 + hh), slice(max(0, x0), x0 + hw)
    part = ell[max(0, -y0):, max(0, -x0):]
    img[ys, xs] = (crop[max(0, -y0):, max(0, -x0):] * part + img[ys, xs] * (1 - part)).astype(np.uint8)
    for side in hands:
        paste_hand(img, tuple(j[side + "w"]), tuple(j[side + "w"] - j[side + "e"]), skin, int(HAND_PX * s))
    return img


def _box(points: list[Point], pad: float, size: int) -> tuple[int, int, int, int]:
    a = np.array(points, float) * size / 512
    return (int(max(0, a[:, 0].min() - pad)), int(max(0, a[:, 1].min() - pad)),
            int(min(size, a[:, 0].max() + pad)), int(min(size, a[:, 1].max() + pad)))


def anatomy_cases(size: int = 512) -> list[BodyCase]:
    """Clean figures (4 poses x 3 heads, 2 backdrops) and one planted defect per clean figure,
    rotating through extra_limb, detached_hand, missing_limb (24 clean, 24 defective)."""
    out: list[BodyCase] = []
    k = 0
    for backdrop in (None, "coffee"):
        bg = None if backdrop is None else _fit(photo(backdrop))
        for pose_name, joints in POSES.items():
            for head in HEADS:
                style = dict(head=head, cloth=CLOTHES[k % len(CLOTHES)], skin=SKINS[k % len(SKINS)],
                             background=bg, size=size)
                tag = f"{pose_name}-{head}-{backdrop or 'flat'}"
                out.append(BodyCase(f"clean-{tag}", figure(joints, **style)))
                kind = ("extra_limb", "detached_hand", "missing_limb")[(k + k // 3) % 3]
                out.append(_planted(kind, joints, style, tag, size))
                k += 1
    return out


def _planted(kind: str, joints: dict[str, Point], style: dict, tag: str, size: int) -> BodyCase:
    s = size / 512
    if kind == "missing_limb":
        img = figure(joints, arms=("r",), hands=("r",), **style)
        return BodyCase(f"missing-{tag}", img, ("missing_limb",),
                        [_box([joints["ls"], joints["le"], joints["lw"]], 30 * s, size)])
    if kind == "detached_hand":
        img = figure(joints, hands=("r",), **style)
        # the hand floats beside the body, 1.2-1.3 shoulder widths from the end of its arm, fingers down
        at = np.clip(np.array(joints["lw"]) + (70, 110), 60, 452)
        box = paste_hand(img, tuple(at * s), (0.0, 1.0), style["skin"], int(HAND_PX * s))
        return BodyCase(f"detached-{tag}", img, ("detached_hand",), [box])
    img = figure(joints, **style)
    # a third arm from the middle of the chest, folded in front of the belly, its hand pointing down
    mask = np.zeros(img.shape[:2], np.uint8)
    neck = np.array(joints["neck"])
    start, elbow, wrist = neck + (0, 50), neck + (-38, 110), neck + (0, 170)
    _limb(mask, tuple(start * s), tuple(elbow * s), int(ARM_PX * s))
    _limb(mask, tuple(elbow * s), tuple(wrist * s), int(ARM_PX * s * 0.85))
    img = np.clip(_layer(img.astype(np.float32), mask, style["cloth"]), 0, 255).astype(np.uint8)
    box = paste_hand(img, tuple(wrist * s), tuple(wrist - elbow), style["skin"], int(HAND_PX * s))
    return BodyCase(f"extra-{tag}", img, ("extra_limb",), [box])



# --- pose landmark sets for the pose rules: (points px (33, 3), visibility (33,), world metres (33, 3))

PoseSet = tuple[np.ndarray, np.ndarray, np.ndarray]

#: a standing adult, arms hanging, in MediaPipe's world frame (metres, hip centre at 0, y down,
#: z towards the camera negative; the subject's left on +x), adult proportions
_CANONICAL_WORLD = {
    0: (0.0, -0.62, -0.10), 1: (0.02, -0.66, -0.09), 2: (0.03, -0.66, -0.09), 3: (0.05, -0.66, -0.08),
    4: (-0.02, -0.66, -0.09), 5: (-0.03, -0.66, -0.09), 6: (-0.05, -0.66, -0.08), 7: (0.07, -0.64, 0.0),
    8: (-0.07, -0.64, 0.0), 9: (0.02, -0.58, -0.09), 10: (-0.02, -0.58, -0.09),
    11: (0.18, -0.50, 0.0), 12: (-0.18, -0.50, 0.0), 13: (0.22, -0.22, 0.0), 14: (-0.22, -0.22, 0.0),
    15: (0.24, 0.02, -0.02), 16: (-0.24, 0.02, -0.02), 17: (0.25, 0.08, -0.02), 18: (-0.25, 0.08, -0.02),
    19: (0.24, 0.09, -0.03), 20: (-0.24, 0.09, -0.03), 21: (0.22, 0.06, -0.04), 22: (-0.22, 0.06, -0.04),
    23: (0.10, 0.0, 0.0), 24: (-0.10, 0.0, 0.0), 25: (0.11, 0.42, -0.02), 26: (-0.11, 0.42, -0.02),
    27: (0.11, 0.82, 0.02), 28: (-0.11, 0.82, 0.02), 29: (0.11, 0.86, 0.06), 30: (-0.11, 0.86, 0.06),
    31: (0.12, 0.88, -0.12), 32: (-0.12, 0.88, -0.12),
}


def project(world: np.ndarray, scale: float = 300.0, origin: Point = (256.0, 300.0)) -> np.ndarray:
    """Pixel landmarks (33, 3) of ``world`` seen straight on (orthographic, ``scale`` px per metre)."""
    out = np.zeros((33, 3))
    out[:, 0] = origin[0] + world[:, 0] * scale
    out[:, 1] = origin[1] + world[:, 1] * scale
    out[:, 2] = world[:, 2] * scale
    return out


def canonical_pose() -> PoseSet:
    """A plausible standing body, every landmark fully visible."""
    world = np.array([_CANONICAL_WORLD[i] for i in range(33)], float)
    return project(world), np.ones(33), world


def _rot_y(v: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([v[0] * math.cos(a) + v[2] * math.sin(a), v[1], -v[0] * math.sin(a) + v[2] * math.cos(a)])


def _reproject(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    return project(w), v, w


def _knee_backwards(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    shin = w[27] - w[25]
    a = math.radians(50)  # the shin swings forward (towards -z, where the toes point)
    turned = np.array([shin[0], shin[1] * math.cos(a), -abs(shin[1]) * math.sin(a)])
    delta = w[25] + turned - w[27]
    w[[27, 29, 31]] += delta
    return _reproject((p, v, w))


def _long_forearm(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    delta = (w[15] - w[13]) * 1.6
    w[[15, 17, 19, 21]] += delta
    return _reproject((p, v, w))


def _drawn_long(pose: PoseSet) -> PoseSet:
    p, v, w = pose  # the image shows a forearm 2.5x as long as the 3-D skeleton's
    p[[16, 18, 20, 22]] += (p[16] - p[14]) * 1.5
    return p, v, w


def _folded_elbow(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    up = (w[11] - w[13]) / np.linalg.norm(w[11] - w[13])
    new = w[13] + up * np.linalg.norm(w[15] - w[13]) + np.array([0.01, 0, 0])
    w[[15, 17, 19, 21]] += new - w[15]
    return _reproject((p, v, w))


def _torso_twist(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    for i in (23, 24):
        w[i] = _rot_y(w[i], 90)
    return _reproject((p, v, w))


def _head_backwards(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    for i in range(11):
        w[i] = _rot_y(w[i], 180)
    return _reproject((p, v, w))


def _short_thigh(pose: PoseSet) -> PoseSet:
    p, v, w = pose
    delta = (w[23] - w[25]) * 0.75  # the knee drawn most of the way up to the hip
    w[[25, 27, 29, 31]] += delta
    return _reproject((p, v, w))


#: perturbation -> a word its reason must contain (every one is the defect ``twisted_joint``)
POSE_PERTURBATIONS = {_knee_backwards: "knee bent backwards", _long_forearm: "forearm",
                      _drawn_long: "drawn", _folded_elbow: "folded", _torso_twist: "torso twisted",
                      _head_backwards: "head turned", _short_thigh: "shin"}
