"""Composition detector (registry name "composition"): background clutter and the subject's fit in
the frame, from the subject mask of :mod:`lib_qfix.detect.segmentation`.

Everything is measured at :data:`ANALYSIS_SIDE` px (long side). The subject is the mask >= 0.5; it is
judged only when it covers :data:`MIN_AREA`..:data:`MAX_AREA` of the image and the mask is decisive
(:data:`MIN_DECISIVENESS`; soft masks of clutter are not subjects). Background = the image outside
the subject grown by 3 % of the long side (its own edges are not clutter).

**Clutter** (0..1, :func:`clutter_score`): 0.6 x edge density of the background (Canny on the
blurred grey image; 0.03 -> 0, 0.12 -> 1) + 0.25 x its colour variety (entropy of an 8x8x8 Lab
histogram; 2 -> 0, 3.5 bits -> 1) + 0.15 x how busy it is next to the subject (background / subject
edge density; 0.5 -> 0, 1.5 -> 1). Above ``options.clutter_threshold``: "cluttered_background".
A plain wall scores ~0, the bundled portraits 0.04-0.2, a person in front of a garage shelf ~0.9.

**Framing** (:func:`framing_problems`, each a reason of "bad_framing"):
- the subject is cut by both the top and the bottom edge (or both sides) over a wide stretch (>= 25 %
  of the edge): it does not fit the frame's aspect;
- with a face (a person): no head room (the face's top within 2 % of the top edge while the face is
  whole), or a person smaller than :data:`MIN_PERSON_AREA` of the frame (judged from
  :data:`MIN_FRAMING_AREA` up).
Cut limbs (a hand or foot cut off by the frame) are not judged: narrow crossings of the mask at an
edge were measured and are mostly mask noise and hair (8 false alarms on 15 well-framed fixtures);
body landmarks would be needed. Findings are whole-image regions (box None): kinds "clutter" and
"framing".
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.detect.downscale import downscale, scale_to
from lib_qfix.detect.face_boxes import detect_face_boxes
from lib_qfix.detect.mediapipe_runtime import check_image
from lib_qfix.detect.segmentation import Subject, subject
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, Region

ANALYSIS_SIDE = 512
MIN_AREA, MAX_AREA = 0.03, 0.85
#: framing is judged for smaller subjects too (a person lost in the frame)
MIN_FRAMING_AREA = 0.005
MIN_DECISIVENESS = 0.6
#: a person (face found) covering less of the frame than this is lost in it
MIN_PERSON_AREA = 0.04
#: edge crossings: a cut is "wide" above WIDE_CUT of the edge, a limb between LIMB_CUT
WIDE_CUT = 0.25
HEADROOM = 0.02
FACE_CONFIDENCE = 0.5


def _resize(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    s = scale_to(image, ANALYSIS_SIDE)
    if s >= 1.0:
        return image, mask, 1.0
    small = downscale(image, s)
    return small, cv2.resize(mask, small.shape[1::-1], interpolation=cv2.INTER_LINEAR), s


def clutter_score(image: np.ndarray, fg: np.ndarray) -> tuple[float, dict[str, float]]:
    """(clutter 0..1, measures) for an RGB ``image`` with subject mask ``fg`` (bool, same size)."""
    h, w = fg.shape
    k = max(3, int(0.03 * max(h, w)))
    bg = cv2.dilate(fg.astype(np.uint8), np.ones((k, k), np.uint8)) == 0
    if bg.mean() < 0.05:
        return 0.0, {"background": float(bg.mean())}
    grey = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (0, 0), 1.0)
    edges = cv2.Canny(grey, 60, 150) > 0
    e_bg = float(edges[bg].mean())
    e_fg = float(edges[fg].mean()) if fg.any() else 0.0
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB) // 32
    q = lab[..., 0].astype(np.int32) * 64 + lab[..., 1] * 8 + lab[..., 2]
    p = np.bincount(q[bg], minlength=512).astype(np.float64)
    p = p[p > 0] / p.sum()
    entropy = float(-(p * np.log2(p)).sum())
    ratio = e_bg / max(e_fg, 1e-3)
    score = 0.6 * np.clip((e_bg - 0.03) / 0.09, 0, 1) + 0.25 * np.clip((entropy - 2.0) / 1.5, 0, 1) \
        + 0.15 * np.clip(ratio - 0.5, 0, 1)
    return float(score), {"edges": e_bg, "subject_edges": e_fg, "colour_bits": entropy, "background": float(bg.mean())}


def _runs(line: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the True runs of a 1-D bool array."""
    d = np.diff(np.concatenate(([0], line.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def framing_problems(fg: np.ndarray, faces: list[tuple[float, float, float, float]]) -> list[str]:
    """Reasons the subject ``fg`` (bool (H, W)) is badly framed; ``faces`` are face boxes in the same
    pixels (a face makes the subject a person). See the module doc for the rules."""
    h, w = fg.shape
    out: list[str] = []
    edges = {"top": fg[0], "bottom": fg[-1], "left": fg[:, 0], "right": fg[:, -1]}
    width = {k: (w if k in ("top", "bottom") else h) for k in edges}
    wide = {k: any((b - a) >= WIDE_CUT * width[k] for a, b in _runs(v)) for k, v in edges.items()}
    if wide["top"] and wide["bottom"]:
        out.append("the subject is cut by both the top and the bottom edge: it does not fit the frame (a taller "
                   "frame or a wider shot would)")
    if wide["left"] and wide["right"]:
        out.append("the subject is cut by both side edges: it does not fit the frame (a wider frame would)")
    if faces:
        area = fg.mean()
        if area < MIN_PERSON_AREA:
            out.append(f"the person fills only {area:.1%} of the frame (< {MIN_PERSON_AREA:.0%})")
        for x0, y0, x1, y1 in faces:
            if 0 <= y0 <= HEADROOM * h and x0 >= 0 and x1 <= w and y1 <= h:
                out.append("no head room: the face touches the top edge")
                break
    return out


class CompositionDetector:
    """Registry name "composition"."""

    name = "composition"

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Clutter and framing findings (whole-image regions) for an (H, W, 3) uint8 RGB image."""
        image = check_image(image)
        subj: Subject = subject(image)
        if subj.box is None or not MIN_FRAMING_AREA <= subj.area <= MAX_AREA or subj.decisiveness < MIN_DECISIVENESS:
            return []
        small, mask, s = _resize(image, subj.mask)
        fg = mask >= 0.5
        out = []
        score, measures = clutter_score(small, fg)
        if subj.area >= MIN_AREA and score > options.clutter_threshold:
            out.append(Region("clutter", None, score, DEFECT, (
                f"busy background behind the subject (clutter {score:.2f} > {options.clutter_threshold:.2f}: edge "
                f"density {measures['edges']:.3f}, colour variety {measures['colour_bits']:.1f} bits)",),
                ("cluttered_background",), self.name))
        faces = [tuple(v * s for v in f.box) for f in detect_face_boxes(image, FACE_CONFIDENCE)]
        problems = framing_problems(fg, faces)  # type: ignore[arg-type]
        if problems:
            out.append(Region("framing", None, 0.6 + 0.1 * min(3, len(problems)), DEFECT, tuple(problems),
                              ("bad_framing",), self.name))
        return out
