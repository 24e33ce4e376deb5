"""Labelled fixtures for the hand-silhouette, teeth and skin checks, built in memory, deterministic.

- :func:`finger_cases`: rendered hands with five and with six fingers (:func:`six_finger_hand`,
  drawn like :func:`testkit.fixtures_detect.render_hand`);
- :func:`mouth_cases`: the astronaut's smile (the one open mouth that ships with the installed
  packages), unedited and with a missing tooth (:func:`missing_tooth`) or fused teeth
  (:func:`fused_teeth`); its teeth box is a hand-checked label in ``tests/data/body_labels.json``;
- :func:`skin_cases`: Grace Hopper's face (the one real face of 128+ px there) unedited, with its
  skin smoothed (:func:`smooth_skin`: the waxy look), blurred or JPEG-compressed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np

from testkit.distortions import gaussian_blur, jpeg
from testkit.fixtures_body import SKINS, BodyCase, Point
from testkit.fixtures_detect import FACE_LABELS, _fit, hand_mask, photo, render_hand


def six_finger_hand(size: int = 256, spread: float = 1.0, skin: tuple[int, int, int] = SKINS[0],
                    background: np.ndarray | None = None, angle: float = 0.0, extra: bool = True) -> np.ndarray:
    """:func:`testkit.fixtures_detect.render_hand` with (``extra``) a sixth finger beside the little
    finger, drawn and shaded the same way, on ``background`` (default flat grey 90), rotated ``angle``."""
    hand = render_hand(size, spread, skin)
    s = size / 256
    alpha = hand_mask(hand).astype(np.float32)[..., None]
    out = hand.astype(np.float32)
    if extra:
        shape = np.zeros((size, size), np.uint8)
        a = math.radians(24 * spread)
        x0, y0 = 168 * s, 140 * s
        x1, y1 = x0 + math.sin(a) * 46 * s, y0 - math.cos(a) * 46 * s
        cv2.line(shape, (int(x0), int(y0)), (int(x1), int(y1)), 255, max(1, int(14 * s)), cv2.LINE_AA)
        cv2.circle(shape, (int(x1), int(y1)), max(1, int(7 * s)), 255, -1, cv2.LINE_AA)
        f = cv2.GaussianBlur(shape, (0, 0), max(0.5, s)).astype(np.float32)[..., None] / 255
        depth = cv2.distanceTransform((shape > 127).astype(np.uint8), cv2.DIST_L2, 5)
        shade = (0.65 + 0.35 * np.clip(depth / (10 * s), 0, 1))[..., None]
        out = out * (1 - f) + np.array(skin, np.float32) * shade * f
        alpha = np.maximum(alpha, f)
    bg = np.full((size, size, 3), 90, np.float32) if background is None \
        else cv2.resize(background, (size, size)).astype(np.float32)
    out = np.clip(out * alpha + bg * (1 - alpha), 0, 255).astype(np.uint8)
    if angle:
        m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1)
        out = cv2.warpAffine(out, m, (size, size), borderMode=cv2.BORDER_REFLECT)
    return out


def finger_cases(size: int = 256) -> list[BodyCase]:
    """Rendered hands, 3 spreads x 4 angles x 2 backgrounds (flat, coffee), each once with five
    fingers (clean) and once with a sixth finger (``extra_fingers``; box = the hand's box)."""
    out: list[BodyCase] = []
    k = 0
    for backdrop in (None, "coffee"):
        bg = None if backdrop is None else _fit(photo(backdrop), size)
        for spread in (0.6, 1.0, 1.4):
            for angle in (-30, -10, 10, 30):
                skin = SKINS[k % len(SKINS)]
                k += 1
                for extra in (False, True):
                    img = six_finger_hand(size, spread, skin, bg, angle, extra)
                    name = f"{'six' if extra else 'five'}-{spread}-{angle}-{backdrop or 'flat'}"
                    out.append(BodyCase(name, img, ("extra_fingers",) if extra else (), [(0, 0, size, size)]))
    return out


def labels() -> dict:
    """The hand-checked labels of the bundled photos (``tests/data/body_labels.json``)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "data" / "body_labels.json"
    return json.loads(path.read_text(encoding="utf-8"))["photos"]


def _zoom(img: np.ndarray, scale: float, centre: Point, size: int = 512) -> tuple[np.ndarray, Point]:
    """``img`` scaled by ``scale`` and cropped to ``size`` around ``centre``; the crop's origin."""
    big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    h, w = big.shape[:2]
    x0 = int(np.clip(centre[0] * scale - size / 2, 0, max(0, w - size)))
    y0 = int(np.clip(centre[1] * scale - size / 2, 0, max(0, h - size)))
    return np.ascontiguousarray(big[y0:y0 + size, x0:x0 + size]), (x0, y0)


def missing_tooth(img: np.ndarray, box: tuple[int, int, int, int], at: float = 0.45) -> np.ndarray:
    """A dark hole one tooth wide (12 % of the teeth box) at ``at`` across the teeth box, coloured
    like the darkest part of the mouth, soft-edged."""
    x0, y0, x1, y1 = box
    out = img.astype(np.float32)
    dark = np.percentile(img[y0:y1, x0:x1].reshape(-1, 3), 5, axis=0)
    mask = np.zeros(img.shape[:2], np.float32)
    cx, half = x0 + at * (x1 - x0), max(1.0, 0.06 * (x1 - x0))
    cv2.rectangle(mask, (int(cx - half), y0), (int(round(cx + half)), y1), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.01 * (x1 - x0)))[..., None]
    return np.clip(out * (1 - mask) + dark * mask, 0, 255).astype(np.uint8)


def fused_teeth(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The teeth box's bright pixels smoothed along the row (a box filter a third of the box wide):
    the lines between teeth vanish, the band stays."""
    x0, y0, x1, y1 = box
    out = img.copy()
    patch = img[y0:y1, x0:x1].astype(np.float32)
    k = max(3, (x1 - x0) // 3)
    flat = cv2.blur(patch, (k, 1), borderType=cv2.BORDER_REFLECT)
    y = patch.mean(axis=2)
    bright = (y > np.percentile(y, 40)).astype(np.float32)
    bright = cv2.GaussianBlur(bright, (0, 0), 1.0)[..., None]
    out[y0:y1, x0:x1] = np.clip(flat * bright + patch * (1 - bright), 0, 255).astype(np.uint8)
    return out


def smooth_skin(img: np.ndarray, strength: int = 2) -> np.ndarray:
    """The waxy-skin perturbation: a bilateral filter over the whole image (edges kept, fine texture
    gone); ``strength`` 1 mild (d 15, sigma colour 40), 2 strong (d 9, sigma colour 60, twice)."""
    if strength == 1:
        return cv2.bilateralFilter(img, 15, 40, 9)
    return cv2.bilateralFilter(cv2.bilateralFilter(img, 9, 60, 7), 9, 60, 7)


def mouth_cases() -> list[BodyCase]:
    """The astronaut's smile at 3 scales (mouth 40, 60, 80 px) and mirrored: unedited (clean), a
    missing tooth at two places, fused teeth (24 images: 6 clean, 18 defective)."""
    src = photo("astronaut")
    box = labels()["astronaut"]["teeth_box"]
    out: list[BodyCase] = []
    for scale in (1.0, 1.5, 2.0):
        for mirror in (False, True):
            img = src[:, ::-1] if mirror else src
            b = (512 - box[2], box[1], 512 - box[0], box[3]) if mirror else tuple(box)
            zoomed, (ox, oy) = _zoom(img, scale, ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
            tb = (int(b[0] * scale - ox), int(b[1] * scale - oy), int(b[2] * scale - ox), int(b[3] * scale - oy))
            tag = f"{scale}{'-mirror' if mirror else ''}"
            out.append(BodyCase(f"smile-{tag}", zoomed, (), [tb]))
            for at in (0.4, 0.6):
                out.append(BodyCase(f"gap{at}-{tag}", missing_tooth(zoomed, tb, at), ("missing_teeth",), [tb]))
            out.append(BodyCase(f"fused-{tag}", fused_teeth(zoomed, tb), ("fused_teeth",), [tb]))
    return out


def skin_cases() -> list[BodyCase]:
    """Grace Hopper's face (the one bundled real face of 128+ px) at 3 scales: unedited (clean),
    skin smoothed mild and strong (``waxy_skin``), Gaussian-blurred (clean for the waxy check: a
    blurry face is another defect) and JPEG quality 25 (clean) -- 15 images."""
    src = photo("grace_hopper")
    fx0, fy0, fx1, fy1 = FACE_LABELS["grace_hopper"]
    out: list[BodyCase] = []
    for scale in (0.8, 1.0, 1.5):
        img, (ox, oy) = _zoom(src, scale, ((fx0 + fx1) / 2, (fy0 + fy1) / 2))
        fb = (int(fx0 * scale - ox), int(fy0 * scale - oy), int(fx1 * scale - ox), int(fy1 * scale - oy))
        out.append(BodyCase(f"real-{scale}", img, (), [fb]))
        out.append(BodyCase(f"mild-{scale}", smooth_skin(img, 1), ("waxy_skin",), [fb]))
        out.append(BodyCase(f"strong-{scale}", smooth_skin(img, 2), ("waxy_skin",), [fb]))
        out.append(BodyCase(f"blur-{scale}", gaussian_blur(img, 3), (), [fb]))
        out.append(BodyCase(f"jpeg-{scale}", jpeg(img, 3), (), [fb]))
    return out
