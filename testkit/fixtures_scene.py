"""Labelled fixtures for the scene detectors (text reading, logos, composition, lighting), built in
memory from public-domain photos shipped in installed packages (scikit-image, matplotlib) plus the
hand labels of :data:`LABELS_FILE` (``testkit/scene_labels.json``), and synthetic perturbations with
known answers:

- text: words and garbled strings rendered on a sign pasted inside a photo (not in a corner, so the
  text detector calls them "text"), legible vs garbled (random letters, sliced glyphs, doubled glyphs);
- logos: flat-colour marks (badge, rounded square with an initial, star, ring, shield, scikit-image's
  own logo) pasted into corners with a margin;
- clutter: the people of the portraits composited (through their segmentation mask) onto busy
  (gravel, grass, a garage, a collage) and plain (flat, gradient, blurred) backgrounds;
- framing: the portraits cropped so the subject is cut top and bottom, shrunk into a corner, or
  pushed against the top edge;
- lighting: a face shaded from one side with the scene shaded from the same or the other side.

Everything is deterministic. Nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from testkit.fixtures_detect import FACE_LABELS, _fit, _font, photo

LABELS_FILE = Path(__file__).with_name("scene_labels.json")
PEOPLE = ("astronaut", "grace_hopper", "camera")
LEGIBLE = ("OPEN", "COFFEE SHOP", "Welcome Home", "BAKERY", "Happy Birthday", "HOTEL", "Fresh Bread",
           "PARKING", "Station Road", "Book Store", "PIZZA", "Grand Opening")
#: SD-style gibberish: letter strings that are no words, and malformed versions of real ones
GIBBERISH = ("SOPRWIAN", "Xqzvt Rwpkl", "BRAACKKE CFAEE", "Grnoveery", "HAPPPY BIRTDHAY", "WKLEJRM",
             "Cbfzeq Sdhpo", "TRBNNKAP")
SLICED = ("OPEN", "Welcome Home", "BAKERY", "Fresh Bread")


@dataclass
class SceneCase:
    """One labelled image: ``label`` is the expected finding (e.g. "garbled", "legible",
    "cluttered", "clean", "logo", "bad_framing", "inconsistent"), ``truth`` boxes where there are
    some, ``prompt`` the prompt it is judged with."""

    name: str
    image: np.ndarray
    label: str
    truth: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    prompt: str = ""
    #: the hand labels of a real photo (see ``scene_labels.json``)
    meta: dict = field(default_factory=dict)


def labels() -> dict[str, dict]:
    """The hand labels of the bundled photos (``testkit/scene_labels.json``)."""
    return json.loads(LABELS_FILE.read_text(encoding="utf-8"))["photos"]


def real_cases() -> list[SceneCase]:
    """The bundled photos at their own size with their hand labels in ``meta`` (``label`` is
    "clean" when the labels name no defect)."""
    out = []
    for name, lab in labels().items():
        bad = [k for k in ("cluttered", "bad_framing", "inconsistent_lighting", "logo") if lab.get(k)]
        out.append(SceneCase(f"real-{name}", photo(name), bad[0] if bad else "clean", meta=lab))
    return out


# --- text ---------------------------------------------------------------------------------------

def render_line(text: str, size: int = 34, fg=(30, 30, 30), bg=(238, 228, 200)) -> np.ndarray:
    """``text`` in black on a sign-coloured board with a margin (RGB uint8)."""
    font = _font(size)
    x0, y0, x1, y1 = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)
    board = Image.new("RGB", (x1 - x0 + size, y1 - y0 + size), bg)
    ImageDraw.Draw(board).text((size // 2 - x0, size // 2 - y0), text, font=font, fill=fg)
    return np.asarray(board).copy()


def slice_glyphs(line: np.ndarray, seed: int) -> np.ndarray:
    """Malformed glyphs: 8 px vertical strips rolled up or down (an SD-like broken lettering)."""
    rng = np.random.default_rng(seed)
    out = line.copy()
    h, w = out.shape[:2]
    for _ in range(max(3, w // 30)):
        x = int(rng.integers(h // 3, max(h // 3 + 1, w - h // 3 - 8)))
        out[:, x:x + 8] = np.roll(out[:, x:x + 8], int(rng.integers(-h // 4, h // 4 + 1)), axis=0)
    return out


def text_cases() -> list[SceneCase]:
    """Signs pasted into the middle band of 4 photos: legible words (prompt asks for them, or not),
    gibberish letter strings and sliced glyphs; truth box = the sign."""
    bases = [_fit(photo(n)) for n in ("coffee", "rocket", "chelsea", "camera")]
    cases = []
    items = [(t, "legible", render_line(t)) for t in LEGIBLE] \
        + [(t, "garbled", render_line(t)) for t in GIBBERISH] \
        + [(t, "garbled", slice_glyphs(render_line(t), i)) for i, t in enumerate(SLICED)]
    for i, (text, label, board) in enumerate(items):
        img = bases[i % len(bases)].copy()
        bh, bw = board.shape[:2]
        if bw > 400:
            board = cv2.resize(board, (400, int(bh * 400 / bw)), interpolation=cv2.INTER_AREA)
            bh, bw = board.shape[:2]
        x, y = (512 - bw) // 2, 200 + (i % 3) * 40
        img[y:y + bh, x:x + bw] = board
        prompt = f'a street with a sign saying "{text}"' if label == "legible" and i % 2 == 0 else "a street photo"
        cases.append(SceneCase(f"text-{label}-{i}", img, label, {"text": [(x, y, x + bw, y + bh)]}, prompt))
    return cases


# --- logos --------------------------------------------------------------------------------------

def _logo(kind: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha) of a flat-colour mark ``side`` px square."""
    s = side * 4  # drawn 4x, reduced: smooth edges
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    colours = [(200, 30, 40), (20, 80, 170), (250, 190, 20), (20, 140, 70), (240, 240, 240), (20, 20, 20)]
    c1, c2 = colours[kind % 6], colours[(kind + 3) % 6]
    if kind % 6 == 0:  # round badge with an initial
        d.ellipse((0, 0, s - 1, s - 1), fill=c1)
        d.text((s * 0.28, s * 0.12), "Q", font=_font(int(s * 0.7)), fill=c2)
    elif kind % 6 == 1:  # rounded square with an initial
        d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=c1)
        d.text((s * 0.25, s * 0.1), "M", font=_font(int(s * 0.7)), fill=c2)
    elif kind % 6 == 2:  # star
        pts = [(s / 2 + s / 2 * math.cos(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.45),
                s / 2 - s / 2 * math.sin(math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.45)) for k in range(10)]
        d.polygon(pts, fill=c1)
    elif kind % 6 == 3:  # ring with a dot
        d.ellipse((0, 0, s - 1, s - 1), fill=c1)
        d.ellipse((s * 0.2, s * 0.2, s * 0.8, s * 0.8), fill=(0, 0, 0, 0))
        d.ellipse((s * 0.4, s * 0.4, s * 0.6, s * 0.6), fill=c2)
    elif kind % 6 == 4:  # shield, two colours
        d.polygon([(0, 0), (s, 0), (s, s * 0.55), (s / 2, s), (0, s * 0.55)], fill=c1)
        d.rectangle((s * 0.42, 0, s * 0.58, s * 0.8), fill=c2)
    else:  # scikit-image's own logo (a real multi-colour logo)
        from skimage import data

        logo = Image.fromarray(data.logo()).convert("RGBA").resize((s, s), Image.LANCZOS)
        img.alpha_composite(logo)
    small = np.asarray(img.resize((side, side), Image.LANCZOS)).astype(np.float32)
    return small[..., :3], small[..., 3:] / 255.0


def paste_logo(base: np.ndarray, kind: int, side: int, corner: int, margin: int) -> tuple[np.ndarray, tuple]:
    """``base`` with logo ``kind`` (``side`` px) in ``corner`` (0 TL, 1 TR, 2 BL, 3 BR), ``margin`` px
    in; returns (image, box)."""
    rgb, alpha = _logo(kind, side)
    h, w = base.shape[:2]
    x = margin if corner in (0, 2) else w - margin - side
    y = margin if corner in (0, 1) else h - margin - side
    out = base.astype(np.float32).copy()
    out[y:y + side, x:x + side] = rgb * alpha + out[y:y + side, x:x + side] * (1 - alpha)
    return np.clip(out, 0, 255).astype(np.uint8), (x, y, x + side, y + side)


def logo_cases() -> list[SceneCase]:
    """6 mark designs x 3 sizes (28, 44, 72 px) on 5 photos at 512 px (90 images), rotating corners."""
    bases = [_fit(photo(n)) for n in ("astronaut", "coffee", "rocket", "chelsea", "camera")]
    cases, i = [], 0
    for kind in range(6):
        for side in (28, 44, 72):
            for k, base in enumerate(bases):
                img, box = paste_logo(base, kind, side, (i + k) % 4, 8 + 4 * ((i + k) % 3))
                cases.append(SceneCase(f"logo-{kind}-{side}-{k}", img, "logo", {"logo": [box]}))
            i += 1
    return cases


# --- clutter and framing ------------------------------------------------------------------------

def _grey3(g: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.stack([g] * 3, -1))


def backgrounds() -> dict[str, tuple[str, np.ndarray]]:
    """name -> (label "cluttered" | "clean", 512 px RGB background)."""
    from skimage import data

    tiles = [_fit(photo(n), 128) for n in ("coffee", "chelsea", "rocket", "stereo_motorcycle")]
    collage = np.vstack([np.hstack(tiles), np.hstack(tiles[::-1])] * 2)
    ramp = np.tile(np.linspace(90, 200, 512)[:, None], (1, 512)).astype(np.uint8)
    return {"gravel": ("cluttered", _grey3(data.gravel())), "grass": ("cluttered", _grey3(data.grass())),
            "garage": ("cluttered", _fit(photo("stereo_motorcycle"))), "collage": ("cluttered", collage),
            "flat": ("clean", np.full((512, 512, 3), (180, 190, 200), np.uint8)), "gradient": ("clean", _grey3(ramp)),
            "bokeh": ("clean", cv2.GaussianBlur(_fit(photo("rocket")), (0, 0), 12)),
            "blurred": ("clean", cv2.GaussianBlur(_fit(photo("coffee")), (0, 0), 9))}


def person_matte(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(512 px RGB portrait, its soft subject mask (H, W, 1) float32) from the segmentation model."""
    from lib_qfix.detect.segmentation import subject

    img = _fit(photo(name))
    return img, cv2.GaussianBlur(subject(img).mask, (0, 0), 1.0)[..., None]


def clutter_cases() -> list[SceneCase]:
    """The 3 portraits' people on 8 backgrounds (24 images)."""
    out = []
    for name in PEOPLE:
        img, m = person_matte(name)
        for bg_name, (label, bg) in backgrounds().items():
            comp = (img * m + bg * (1 - m)).astype(np.uint8)
            out.append(SceneCase(f"clutter-{name}-{bg_name}", comp, label))
    return out


def framing_cases() -> list[SceneCase]:
    """Badly framed versions of the portraits (cut top and bottom, person shrunk into a corner, no
    head room) and well framed ones (the photos, and the person re-centred smaller on a plain wall)."""
    out = []
    wall = np.full((512, 512, 3), (180, 190, 200), np.uint8)
    for name in PEOPLE:
        img, m = person_matte(name)
        fx0, fy0, fx1, fy1 = FACE_LABELS[name]
        src = photo(name)
        s = 512 / min(src.shape[:2])
        top = int(max(0, fy0 * s - (src.shape[0] * s - 512) / 2))
        # a wide strip from the middle of the face down: cut at the top and the bottom
        strip = img[top + 30:top + 30 + 200]
        out.append(SceneCase(f"framing-strip-{name}", np.ascontiguousarray(cv2.resize(strip, (512, 200))),
                             "bad_framing"))
        # the person shrunk to 20 % and put in a corner of a plain wall
        small, sm = cv2.resize(img, (102, 102), interpolation=cv2.INTER_AREA), cv2.resize(m, (102, 102))[..., None]
        canvas = wall.copy().astype(np.float32)
        canvas[400:502, 400:502] = small * sm + canvas[400:502, 400:502] * (1 - sm)
        out.append(SceneCase(f"framing-tiny-{name}", canvas.astype(np.uint8), "bad_framing"))
        # no head room: shifted up until the top of the face meets the top edge
        shift = max(0, top - 2)
        pushed = np.vstack([img[shift:], np.repeat(img[-1:], shift, axis=0)]) if shift else img
        out.append(SceneCase(f"framing-headroom-{name}", np.ascontiguousarray(pushed), "bad_framing"))
        # well framed: the photo itself, and the person at 60 % centred on the wall
        out.append(SceneCase(f"framing-ok-{name}", img, "clean"))
        mid, mm = cv2.resize(img, (308, 308), interpolation=cv2.INTER_AREA), cv2.resize(m, (308, 308))[..., None]
        canvas = wall.copy().astype(np.float32)
        canvas[204:512, 102:410] = mid * mm + canvas[204:512, 102:410] * (1 - mm)
        out.append(SceneCase(f"framing-centred-{name}", canvas.astype(np.uint8), "clean"))
    return out


# --- lighting -----------------------------------------------------------------------------------

def shade(img: np.ndarray, mask: np.ndarray, angle_deg: float, strength: float) -> np.ndarray:
    """``img`` darkened by a linear ramp inside ``mask`` (float (H, W) 0..1): light from ``angle_deg``
    (0 = from the right, 180 = from the left), the far side at 1 - ``strength`` brightness."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask > 0.5)
    if xs.size == 0:
        return img
    cx, cy, r = xs.mean(), ys.mean(), max(xs.ptp(), ys.ptp(), 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle_deg)
    t = ((xx - cx) * math.cos(a) - (yy - cy) * math.sin(a)) / r  # -1 far side .. 1 lit side
    gain = 1 - strength * (1 - np.clip((t + 1) / 2, 0, 1))
    g = 1 + (gain - 1) * mask
    return np.clip(img.astype(np.float32) * g[..., None], 0, 255).astype(np.uint8)


def lighting_cases() -> list[SceneCase]:
    """Each portrait with the face lit from one side and the rest of the scene lit from the same side
    ("clean") or the opposite one ("inconsistent"), 2 sides x 2 strengths (20 images: the camera
    man only from his own light's side)."""
    out = []
    for name in PEOPLE:
        img = photo(name)
        fx0, fy0, fx1, fy1 = FACE_LABELS[name]
        face = np.zeros(img.shape[:2], np.float32)
        cv2.ellipse(face, ((fx0 + fx1) // 2, (fy0 + fy1) // 2), ((fx1 - fx0) // 2, (fy1 - fy0) // 2), 0, 0, 360, 1, -1)
        face = cv2.GaussianBlur(face, (0, 0), 3)
        rest = 1 - face
        # the camera man's face is lit from the right in the photo itself: shading it from the left
        # leaves it ambiguous, so only the photo's own side is used there
        for side in ((0,) if name == "camera" else (0, 180)):
            for strength in (0.45, 0.65):
                lit = shade(shade(img, face, side, strength), rest, side, strength)
                out.append(SceneCase(f"light-same-{name}-{side}-{strength}", lit, "clean"))
                lit = shade(shade(img, face, side, strength), rest, 180 - side, strength)
                out.append(SceneCase(f"light-flip-{name}-{side}-{strength}", lit, "inconsistent"))
    return out
