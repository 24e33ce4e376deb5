"""Keep-best cases with planted outcomes: does the fix loop keep a good repair and reject a bad one?

Each case is a public-domain photo (scikit-image, matplotlib) with a defect planted where the real
detectors find it: an eye enlarged 1.7x (asymmetric eyes) on the astronaut and on Grace Hopper, a
semi-transparent watermark on coffee and on the camera man, a rendered hand (testkit/fixtures_detect.py)
with one finger painted out on the astronaut. For every case the real
:func:`lib_qfix.fix.loop.run_fix_loop` runs with the real diagnosis (offline scorer + detectors) and
its default region checks; the only fake is the :class:`~lib_qfix.protocols.Inpainter`, which does
one planted thing under the mask it is handed and pastes it back through that (feathered) mask as
A1111 does (``out = image * (1 - a) + result * a``):

- (a) ``restore``: the original pixels, as a perfect model would paint them (must be kept);
- (a') ``near``: the original pixels as a near-perfect model paints them: warped by up to 1.5 px,
  JPEG quality 80, 4 grey levels brighter. It must pass every region check (the checks must not
  demand pixel identity); it is kept only when it also scores at least as well as the input (the
  "never worse-scoring" rule has no tolerance), so it is reported apart: ``near_passed``;
- (b) ``noise``: coloured noise, what a model with random weights paints;
- (c) ``blur``: the region blurred (Gaussian, sigma 4 px);
- (d) ``other``: a different person's face / the hand with another finger missing / a patch of
  another photo over a text band;
- (e) ``shift``: the original pixels displaced by (5, 4) px, which leaves a seam.

(b)-(e) must never be kept. :func:`evaluate` runs every case x outcome; :func:`summary` is the line
``keep_best: kept_good=<kept (a)>/<cases> kept_bad=<kept (b)-(e)>/<cases> cases=<all> near_passed=<(a') that passed
every region check>/<cases>``. ``bench/keep_best.py`` is the command line over it; tests/test_fix_fidelity.py
runs part of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from lib_qfix.diagnose import diagnose
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.landmarks import RIGHT_EYE_RING
from lib_qfix.options import DEFAULTS
from lib_qfix.protocols import InpaintParams
from lib_qfix.samples import grace_hopper, skimage_photo
from lib_qfix.types import Region
from testkit.fixtures_detect import _font, render_hand

OUTCOMES = ("restore", "near", "noise", "blur", "other", "shift")
GOOD = ("restore",)
#: outcomes that must pass the region checks; kept or not by the scores alone
NEUTRAL = ("near",)
#: rejection reasons that come from the scores, not from a region check
SCORE_REASONS = ("score below the original", "not better")
SHIFT = (5, 4)
OPTIONS = DEFAULTS.replace(enable=True)


@dataclass
class Case:
    """``clean``: the photo; ``bad``: with the planted defect; ``other``: what outcome (d) pastes
    (a whole image of the same size, aligned by ``other_box`` -> the region box when given)."""

    name: str
    kind: str
    clean: np.ndarray
    bad: np.ndarray
    other: np.ndarray
    other_box: tuple[int, int, int, int] | None = None


def _face(img: np.ndarray) -> Region:
    return next(r for r in diagnose(img, OPTIONS).regions if r.kind == "face")


def enlarge_eye(img: np.ndarray, face: Region, scale: float = 1.7) -> np.ndarray:
    """The subject's right eye magnified ``scale`` x inside a soft disc (the face detector then
    reports asymmetric eyes)."""
    assert face.landmarks is not None
    eye = np.array(face.landmarks)[list(RIGHT_EYE_RING)]
    (cx, cy), r = eye.mean(0), int((eye[:, 0].max() - eye[:, 0].min()) * 0.9)
    x0, y0 = int(cx - r), int(cy - r)
    patch = img[y0:y0 + 2 * r, x0:x0 + 2 * r].astype(np.float32)
    big = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    c = big.shape[0] // 2
    yy, xx = np.mgrid[-r:r, -r:r]
    a = np.clip((r - np.hypot(xx, yy)) / (0.3 * r), 0, 1)[..., None]
    out = img.copy()
    out[y0:y0 + 2 * r, x0:x0 + 2 * r] = np.clip(big[c - r:c + r, c - r:c + r] * a + patch * (1 - a), 0, 255)
    return out


def watermark(img: np.ndarray, text: str, xy: tuple[int, int], size: int, opacity: float) -> np.ndarray:
    """White ``text`` at ``opacity`` (0..1) composited over ``img``."""
    base = Image.fromarray(img).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(xy, text, font=_font(size), fill=(255, 255, 255, int(255 * opacity)))
    return np.asarray(Image.alpha_composite(base, layer).convert("RGB"))


def paint_out_finger(hand: np.ndarray, background: np.ndarray, finger: int) -> np.ndarray:
    """``hand`` (a :func:`render_hand` square) with finger 0..3 (index..little) painted over with
    ``background``, along the line render_hand draws it."""
    s = hand.shape[0] / 256
    base_x, length, deg = ((106, 62, -8), (124, 72, -2), (142, 68, 4), (160, 52, 12))[finger]
    a = math.radians(deg)
    x0, y0 = base_x * s, 118 * s
    x1, y1 = x0 + math.sin(a) * (length + 10) * s, y0 - math.cos(a) * (length + 10) * s
    m = np.zeros(hand.shape[:2], np.uint8)
    cv2.line(m, (int(x0), int(y0)), (int(x1), int(y1)), 255, int(24 * s))
    alpha = cv2.GaussianBlur(m, (0, 0), 1.5)[..., None] / 255.0
    return (hand * (1 - alpha) + background * alpha).astype(np.uint8)


def build_cases() -> list[Case]:
    astronaut, hopper, coffee, camera = (skimage_photo("astronaut"), grace_hopper(), skimage_photo("coffee"),
                                         skimage_photo("camera"))
    f_ast, f_hop = _face(astronaut), _face(hopper)
    assert f_ast.box is not None and f_hop.box is not None
    x, y, size = 320, 320, 180
    backdrop = astronaut[y:y + size, x:x + size]
    hand = render_hand(size, 1.0, background=backdrop)
    with_hand, bad_hand, other_hand = astronaut.copy(), astronaut.copy(), astronaut.copy()
    with_hand[y:y + size, x:x + size] = hand
    bad_hand[y:y + size, x:x + size] = paint_out_finger(hand, backdrop, 3)
    other_hand[y:y + size, x:x + size] = paint_out_finger(hand, backdrop, 0)
    return [
        Case("astronaut-face", "face", astronaut, enlarge_eye(astronaut, f_ast), hopper, f_hop.box),
        Case("hopper-face", "face", hopper, enlarge_eye(hopper, f_hop), astronaut, f_ast.box),
        Case("coffee-watermark", "watermark", coffee,
             watermark(coffee, "SAMPLE WATERMARK", (150, 180), 40, 0.45), astronaut),
        Case("camera-watermark", "watermark", camera,
             watermark(camera, "www.example.com", (250, 440), 30, 0.55), coffee),
        Case("astronaut-hand", "hand", with_hand, bad_hand, other_hand),
    ]


def coloured_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) float blotchy coloured noise (4 px blotches plus grain, 0..255 give or take), like
    random latents decoded: what a model with random weights paints."""
    h, w = shape[:2]
    coarse = rng.integers(0, 256, (h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
    return np.asarray(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 30, (h, w, 3)))


def near_copy(img: np.ndarray, seed: int) -> np.ndarray:
    """``img`` as a near-perfect model would paint it: a smooth random warp of at most 1.5 px,
    JPEG quality 80, 4 grey levels brighter."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    flow = [cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 12) for _ in range(2)]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(img, xx + flow[0] * 1.5 / np.abs(flow[0]).max(), yy + flow[1] * 1.5 / np.abs(flow[1]).max(),
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    _, buf = cv2.imencode(".jpg", np.ascontiguousarray(warped[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return np.clip(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.int16) + 4, 0, 255).astype(np.uint8)


def _other_for(case: Case, box: tuple[int, int, int, int]) -> np.ndarray:
    """What outcome (d) pastes, aligned so that ``case.other_box`` lands on ``box``."""
    if case.other_box is None:
        h, w = case.bad.shape[:2]
        return cv2.resize(case.other, (w, h)) if case.other.shape[:2] != (h, w) else case.other
    (ox0, oy0, ox1, oy1), (x0, y0, x1, y1) = case.other_box, box
    sx, sy = (x1 - x0) / (ox1 - ox0), (y1 - y0) / (oy1 - oy0)
    m = np.float32([[sx, 0, x0 - ox0 * sx], [0, sy, y0 - oy0 * sy]])
    return cv2.warpAffine(case.other, m, case.bad.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


class PlantedInpainter:
    """An Inpainter that paints one planted ``outcome`` (see the module docstring) under the mask."""

    def __init__(self, case: Case, outcome: str, region_box: tuple[int, int, int, int]) -> None:
        self.case, self.outcome, self.box, self.calls = case, outcome, region_box, 0

    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
                params: InpaintParams) -> np.ndarray:
        self.calls += 1
        rng = np.random.default_rng(seed)
        h, w = image.shape[:2]
        if self.outcome == "restore":
            result = self.case.clean
        elif self.outcome == "near":
            result = near_copy(self.case.clean, seed)
        elif self.outcome == "noise":
            result = coloured_noise(image.shape, rng)
        elif self.outcome == "blur":
            result = cv2.GaussianBlur(image, (0, 0), 4)
        elif self.outcome == "other":
            result = _other_for(self.case, self.box)
        else:
            shift = np.float32([[1, 0, SHIFT[0]], [0, 1, SHIFT[1]]])
            result = cv2.warpAffine(self.case.clean, shift, (w, h), borderMode=cv2.BORDER_REFLECT)
        a = mask.astype(np.float32)[..., None] / 255.0
        return np.clip(image * (1 - a) + np.asarray(result, np.float32) * a + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Row:
    """One case x outcome: whether the loop kept the result, what it said."""

    case: str
    outcome: str
    kept: bool
    result: str
    rejected: str
    passes: int

    @property
    def good(self) -> bool:
        return self.outcome in GOOD

    @property
    def passed_checks(self) -> bool:
        """Kept, or rejected only by the scores (no region check failed)."""
        return self.kept or all(r.strip().startswith(SCORE_REASONS) for r in self.rejected.split(";"))

    @property
    def right(self) -> bool:
        if self.outcome in NEUTRAL:
            return self.passed_checks
        return self.kept == self.good


def evaluate(rounds: int = DEFAULTS.rounds, only: str = "") -> list[Row]:
    """Every case (whose name contains ``only``) x every outcome through the real fix loop."""
    opts = OPTIONS.replace(rounds=rounds)
    rows = []
    for case in build_cases():
        if only and only not in case.name:
            continue
        before = diagnose(case.bad, opts)
        planted = [r.box for r in before.regions if r.kind == case.kind and r.is_defect and r.box is not None]
        if not planted:
            raise RuntimeError(f"{case.name}: the planted {case.kind} defect was not found")
        for outcome in OUTCOMES:
            inp = PlantedInpainter(case, outcome, planted[0])
            out = run_fix_loop(case.bad, opts, diagnose=lambda im: diagnose(im, opts), inpainter=inp,
                               report=before, seed=1)
            rows.append(Row(case.name, outcome, out.changed, out.result(), "; ".join(out.rejections()), inp.calls))
    return rows


def summary(rows: list[Row]) -> str:
    """The benchmark's last line (see the module docstring)."""
    good = [r for r in rows if r.good]
    near = [r for r in rows if r.outcome in NEUTRAL]
    bad = [r for r in rows if not r.good and r.outcome not in NEUTRAL]
    return (f"keep_best: kept_good={sum(r.kept for r in good)}/{len(good)} "
            f"kept_bad={sum(r.kept for r in bad)}/{len(bad)} cases={len(rows)} "
            f"near_passed={sum(r.passed_checks for r in near)}/{len(near)}")

