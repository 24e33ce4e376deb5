"""The labelled fixture set for the detectors (faces, hands, watermarks), built in memory.

Sources: public-domain photos that ship inside installed packages (scikit-image's astronaut, camera,
coffee, chelsea, rocket; matplotlib's grace_hopper) and synthetic cases with known answers:

- faces pasted at 5 scales (face box short side 24..200 px) onto people-free photos; the face box
  in each source photo is a hand-checked label (:data:`FACE_LABELS`), moved with the paste;
- watermark text at 5 opacities x 3 sizes in the 4 corners (rotating), the box from PIL's text bbox;
- rendered hands (:func:`render_hand`: palm, fingers and thumb drawn with shading; MediaPipe finds
  them) composited into multi-person scenes; the hand ground truth is what MediaPipe finds on each
  single-person tile at full size, mapped into the scene (see :func:`multi_person_scenes`);
- clean photos with no text and no hands, for false regions.

Hand landmark sets (no image) are in :mod:`testkit.fixtures_hand_landmarks`.

Everything is deterministic (fixed seeds). Nothing is downloaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

Box = tuple[int, int, int, int]

#: hand-checked face boxes (x0, y0, x1, y1) in the source photos: eyebrows to chin, ear to ear
FACE_LABELS: dict[str, Box] = {"astronaut": (170, 62, 282, 178), "grace_hopper": (160, 120, 372, 336),
                               "camera": (196, 116, 280, 204)}
WATERMARK_TEXTS = ("shutterstock", "© Getty Images", "SAMPLE", "www.example.com", "iStock by Getty")
OPACITIES = (0.25, 0.4, 0.55, 0.7, 0.9)
FONT_SIZES = (14, 22, 34)
FACE_SIDES = (24, 40, 64, 112, 200)


@dataclass
class Case:
    """One labelled image: ground-truth boxes per kind ("face", "hand", "watermark")."""

    name: str
    image: np.ndarray
    truth: dict[str, list[Box]] = field(default_factory=dict)


def photo(name: str) -> np.ndarray:
    """A bundled photo as (H, W, 3) uint8 RGB."""
    from lib_qfix.samples import grace_hopper, skimage_photo

    return grace_hopper() if name == "grace_hopper" else skimage_photo(name)


def _fit(img: np.ndarray, size: int = 512) -> np.ndarray:
    h, w = img.shape[:2]
    s = size / min(h, w)
    img = cv2.resize(img, (max(size, round(w * s)), max(size, round(h * s))), interpolation=cv2.INTER_AREA)
    y, x = (img.shape[0] - size) // 2, (img.shape[1] - size) // 2
    return np.ascontiguousarray(img[y:y + size, x:x + size])


def render_hand(size: int = 256, spread: float = 1.0, skin: tuple[int, int, int] = (214, 160, 128),
                background: np.ndarray | None = None, angle: float = 0.0) -> np.ndarray:
    """An open hand (palm towards the viewer, thumb on the left) drawn on a ``size`` square:
    ``spread`` scales the finger splay, ``angle`` rotates (degrees), ``background`` (any RGB image)
    is resized under it (default flat grey 90)."""
    img = np.full((size, size, 3), 90, np.uint8) if background is None else cv2.resize(background, (size, size))
    s = size / 256
    shape = np.zeros((size, size), np.uint8)
    palm = np.array([[90, 200], [92, 140], [100, 118], [160, 118], [168, 140], [166, 200], [150, 225],
                     [105, 225]], np.float32) * s
    cv2.fillPoly(shape, [palm.astype(np.int32)], 255)
    for base_x, length, deg in ((106, 62, -8), (124, 72, -2), (142, 68, 4), (160, 52, 12)):
        a = math.radians(deg * spread)
        x0, y0 = base_x * s, 122 * s
        x1, y1 = x0 + math.sin(a) * length * s, y0 - math.cos(a) * length * s
        cv2.line(shape, (int(x0), int(y0)), (int(x1), int(y1)), 255, max(1, int(16 * s)), cv2.LINE_AA)
        cv2.circle(shape, (int(x1), int(y1)), max(1, int(8 * s)), 255, -1, cv2.LINE_AA)
    thumb = [(96, 190), (72, 160), (58, 132)]
    for (a, b), (c, d) in zip(thumb[:-1], thumb[1:], strict=True):
        cv2.line(shape, (int(a * s), int(b * s)), (int(c * s), int(d * s)), 255, max(1, int(20 * s)), cv2.LINE_AA)
    cv2.circle(shape, (int(58 * s), int(132 * s)), max(1, int(10 * s)), 255, -1, cv2.LINE_AA)
    cv2.rectangle(shape, (int(105 * s), int(220 * s)), (int(152 * s), size), 255, -1)
    alpha = cv2.GaussianBlur(shape, (0, 0), max(0.5, s)).astype(np.float32)[..., None] / 255
    depth = cv2.distanceTransform((shape > 127).astype(np.uint8), cv2.DIST_L2, 5)
    shade = (0.65 + 0.35 * np.clip(depth / (10 * s), 0, 1))[..., None]
    out = img.astype(np.float32) * (1 - alpha) + np.array(skin, np.float32) * shade * alpha
    out = np.clip(out, 0, 255).astype(np.uint8)
    if angle:
        m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1)
        out = cv2.warpAffine(out, m, (size, size), borderMode=cv2.BORDER_REFLECT)
    return out


def hand_mask(hand: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of a :func:`render_hand` image (default background) that are hand."""
    return np.abs(hand.astype(int) - 90).sum(-1) > 30


def coffee_with_hand(spread: float = 1.0, angle: float = 15) -> np.ndarray:
    """The coffee photo at 512 x 512 with a 200 px :func:`render_hand` pasted at (160, 150)."""
    canvas = cv2.resize(photo("coffee"), (512, 512))
    hand = render_hand(200, spread, angle=angle)
    _paste(canvas, hand, 160, 150, hand_mask(hand))
    return canvas


def _paste(dst: np.ndarray, src: np.ndarray, x: int, y: int, mask: np.ndarray | None = None) -> None:
    h, w = src.shape[:2]
    if mask is None:
        dst[y:y + h, x:x + w] = src
    else:
        dst[y:y + h, x:x + w][mask] = src[mask]


def face_cases() -> list[Case]:
    """Faces pasted at 5 scales onto people-free photos (3 faces x 5 scales x 2 backgrounds = 30),
    plus the three source photos themselves."""
    cases = []
    rng = np.random.default_rng(3)
    for name, (fx0, fy0, fx1, fy1) in FACE_LABELS.items():
        src = photo(name)
        cases.append(Case(f"photo-{name}", src, {"face": [(fx0, fy0, fx1, fy1)]}))
        # a head crop: the face box grown 1.8x, so hair and chin context come along
        cx, cy, side = (fx0 + fx1) / 2, (fy0 + fy1) / 2, max(fx1 - fx0, fy1 - fy0)
        hx0, hy0 = int(max(0, cx - side * 0.9)), int(max(0, cy - side * 0.9))
        head = src[hy0:int(cy + side * 0.9), hx0:int(cx + side * 0.9)]
        for bg_name in ("coffee", "rocket"):
            for face_side in FACE_SIDES:
                s = face_side / side
                small = cv2.resize(head, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
                canvas = _fit(photo(bg_name)).copy()
                x = int(rng.integers(0, 512 - small.shape[1] + 1))
                y = int(rng.integers(0, 512 - small.shape[0] + 1))
                _paste(canvas, small, x, y)
                box = (int(x + (fx0 - hx0) * s), int(y + (fy0 - hy0) * s), int(x + (fx1 - hx0) * s),
                       int(y + (fy1 - hy0) * s))
                cases.append(Case(f"face-{name}-{bg_name}-{face_side}", canvas, {"face": [box]}))
    return cases


def _font(size: int) -> ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def watermark_cases() -> list[Case]:
    """Corner watermarks: 5 opacities x 3 sizes, on 5 photos (75 images), white or black text."""
    cases = []
    photos = [_fit(photo(n)) for n in ("astronaut", "coffee", "rocket", "chelsea", "camera")]
    i = 0
    for opacity in OPACITIES:
        for size in FONT_SIZES:
            for k, base in enumerate(photos):
                text = WATERMARK_TEXTS[(i + k) % len(WATERMARK_TEXTS)]
                corner = (i + k) % 4
                img = Image.fromarray(base).convert("RGBA")
                layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
                draw = ImageDraw.Draw(layer)
                font = _font(size)
                bl, bt, br, bb = draw.textbbox((0, 0), text, font=font)
                margin = 10
                x = margin if corner in (0, 2) else 512 - margin - (br - bl)
                y = margin if corner in (0, 1) else 512 - margin - (bb - bt)
                colour = (255, 255, 255) if k % 2 == 0 else (0, 0, 0)
                draw.text((x - bl, y - bt), text, font=font, fill=(*colour, int(255 * opacity)))
                out = np.asarray(Image.alpha_composite(img, layer).convert("RGB"))
                cases.append(Case(f"wm-{opacity}-{size}-{k}", out, {"watermark": [(x, y, x + br - bl, y + bb - bt)]}))
            i += 1
    return cases


def clean_cases() -> list[Case]:
    """Photos with no text and no hands (faces labelled where there are faces)."""
    out = [Case(f"clean-{n}", _fit(photo(n)), {}) for n in ("coffee", "chelsea", "rocket")]
    out.append(Case("clean-astronaut", photo("astronaut"), {"face": [FACE_LABELS["astronaut"]]}))
    return out


def person_tile(seed: int, size: int = 384) -> np.ndarray:
    """One person: a head photo with two rendered hands below it on a plain backdrop."""
    rng = np.random.default_rng(seed)
    name = ("astronaut", "grace_hopper", "camera")[seed % 3]
    fx0, fy0, fx1, fy1 = FACE_LABELS[name]
    src = photo(name)
    side = max(fx1 - fx0, fy1 - fy0)
    cx, cy = (fx0 + fx1) // 2, (fy0 + fy1) // 2
    head = src[max(0, cy - side):cy + side, max(0, cx - side):cx + side]
    head = cv2.resize(head, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
    tile = np.full((size, size, 3), rng.integers(60, 160, 3), np.uint8)
    _paste(tile, head, size // 4, 0)
    skins = ((214, 160, 128), (190, 130, 95), (140, 95, 70), (235, 190, 160))
    hand_size = size // 3
    for x in (int(size * 0.02), int(size * 0.64)):
        hand = render_hand(hand_size, float(rng.uniform(0.5, 1.5)), skins[int(rng.integers(0, 4))],
                           angle=float(rng.uniform(-35, 35)))
        _paste(tile, hand, x, int(size * 0.5 + rng.integers(0, size * 0.15)), hand_mask(hand))
    return tile


def multi_person_scenes(detect_hands, grids: tuple[tuple[int, int], ...] = ((2, 2), (2, 3), (3, 3), (3, 4)),
                        size: int = 512) -> list[Case]:
    """Group scenes of person tiles resized into ``size`` squares. ``detect_hands(tile)`` returns the
    hand boxes found on a single-person tile at full size (the ground truth), which are mapped
    into scene coordinates."""
    cases = []
    seed = 0
    for rows, cols in grids:
        tiles, truth = [], []
        tile = 384
        for r in range(rows):
            row = []
            for c in range(cols):
                t = person_tile(seed)
                seed += 1
                row.append(t)
                for x0, y0, x1, y1 in detect_hands(t):
                    truth.append((x0 + c * tile, y0 + r * tile, x1 + c * tile, y1 + r * tile))
            tiles.append(np.hstack(row))
        scene = np.vstack(tiles)
        s = size / max(scene.shape[:2])
        scene = cv2.resize(scene, (size, size), interpolation=cv2.INTER_AREA) if scene.shape[0] == scene.shape[1] \
            else cv2.resize(scene, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        sy = scene.shape[0] / (rows * tile)
        sx = scene.shape[1] / (cols * tile)
        boxes = [(int(a * sx), int(b * sy), int(c * sx), int(d * sy)) for a, b, c, d in truth]
        cases.append(Case(f"group-{rows}x{cols}", np.ascontiguousarray(scene), {"hand": boxes}))
    return cases


def magnify_eye(image: np.ndarray, centre: tuple[float, float], radius: int = 14, scale: float = 1.7) -> np.ndarray:
    """``image`` with the square of ``radius`` px around ``centre`` (an eye, (x, y) px) magnified
    ``scale`` x and blended in through a soft disc: the planted "asymmetric eyes" defect."""
    cx, cy = centre
    patch = image[int(cy) - radius:int(cy) + radius, int(cx) - radius:int(cx) + radius]
    big = cv2.resize(patch, None, fx=scale, fy=scale)
    n = big.shape[0]
    mask = np.zeros((n, n), np.float32)
    cv2.circle(mask, (n // 2, n // 2), n // 2 - 2, 1, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 2)[..., None]
    out = image.copy()
    y, x = int(cy - n / 2), int(cx - n / 2)
    out[y:y + n, x:x + n] = (big * mask + out[y:y + n, x:x + n] * (1 - mask)).astype(np.uint8)
    return out
