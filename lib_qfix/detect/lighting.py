"""Lighting detector (registry name "lighting"): is a face lit from the other side than the scene?

Measured only where it can be: the **left/right** light side, from shading. Shading is separated
from reflectance the Retinex way: on ln(L*) (CIE lightness, blurred 1.5 px) only small gradients
are kept (< :data:`FACE_GRADIENT` per px on a face, < :data:`SCENE_GRADIENT` in the scene), because
colour edges (a flag's stripes, a collar) are steep and shading is gentle. The mean horizontal
gradient over what is kept, times the width it spans, is the light's left/right pull:

- a face's (central ellipse of each face box, 70 % x 80 %): ``face`` in ln units across the face
  (+: lit from the right, as the viewer sees it);
- the scene's (the whole image outside the face boxes): ``scene`` in ln units across the image.

Verdicts (whole-image region, kind "shading", defect "inconsistent_lighting"):
- a face with |face| >= ``options.lighting_min_shading`` and the scene with |scene| >= 0.6 x that,
  of opposite signs: the face is lit from the other side than the scene;
- two side-lit faces (each >= the same bound) lit from opposite sides.
Vertical light is not judged: a scene's vertical shading is mostly its layout (sky above, ground
below). Frontal or soft light (weak shading) gives no verdict. Reliability (measured on the
scene fixtures, see the README): synthetic opposite-side shading found in most strong cases and no
false alarm on the bundled photos, but it is a rough cue: strong coloured light, cast shadows and
faces turned sideways confuse it, which is why the detector is off by default.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.detect.downscale import downscale, scale_to
from lib_qfix.detect.face_boxes import detect_face_boxes
from lib_qfix.detect.mediapipe_runtime import check_image
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, Region

ANALYSIS_SIDE = 512
FACE_GRADIENT = 0.05
SCENE_GRADIENT = 0.02
#: the scene must pull at least this fraction of the face bound
SCENE_FRACTION = 0.6
MIN_FACE_PX = 40
FACE_CONFIDENCE = 0.5


def _pull(log_l: np.ndarray, mask: np.ndarray, limit: float) -> tuple[float, int]:
    """(mean d ln L / dx over the gentle-gradient pixels of ``mask``, how many there were)."""
    gx = cv2.Sobel(log_l, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(log_l, cv2.CV_32F, 0, 1, ksize=3) / 8
    keep = mask & (np.hypot(gx, gy) < limit)
    n = int(keep.sum())
    return (float(gx[keep].mean()) if n >= 50 else 0.0), n


def light_sides(image: np.ndarray, faces: list[tuple[float, float, float, float]]) -> tuple[list[float], float]:
    """(left/right pull per face in ln units across it, the scene's pull across the image) for an
    RGB ``image`` and face boxes in its pixels; see the module doc."""
    h, w = image.shape[:2]
    lightness = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    log_l = cv2.GaussianBlur(np.log(lightness + 8.0), (0, 0), 1.5)
    outside = np.ones((h, w), bool)
    for x0, y0, x1, y1 in faces:
        outside[max(0, int(y0)):max(0, int(y1)), max(0, int(x0)):max(0, int(x1))] = False
    pulls = []
    for x0, y0, x1, y1 in faces:
        ellipse = np.zeros((h, w), np.uint8)
        centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        cv2.ellipse(ellipse, centre, (max(1, int((x1 - x0) * 0.35)), max(1, int((y1 - y0) * 0.4))), 0, 0, 360, 1, -1)
        pull, _ = _pull(log_l, ellipse > 0, FACE_GRADIENT)
        pulls.append(pull * (x1 - x0))
    scene, _ = _pull(log_l, outside, SCENE_GRADIENT)
    return pulls, scene * w


def _side(pull: float) -> str:
    return "right" if pull > 0 else "left"


class LightingDetector:
    """Registry name "lighting"."""

    name = "lighting"

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """An "inconsistent_lighting" finding (whole-image region) or nothing."""
        image = check_image(image)
        s = scale_to(image, ANALYSIS_SIDE)
        faces = [tuple(v * s for v in f.box) for f in detect_face_boxes(image, FACE_CONFIDENCE)]
        faces = [f for f in faces if f[2] - f[0] >= MIN_FACE_PX * s]
        if not faces:
            return []
        pulls, scene = light_sides(downscale(image, s), faces)  # type: ignore[arg-type]
        bound = float(options.lighting_min_shading)
        lit = [p for p in pulls if abs(p) >= bound]
        reasons = []
        if abs(scene) >= SCENE_FRACTION * bound:
            against = [p for p in lit if np.sign(p) != np.sign(scene)]
            if against:
                reasons.append(f"a face is lit from the {_side(against[0])} (shading {abs(against[0]):.2f}) but the "
                               f"scene from the {_side(scene)} (shading {abs(scene):.2f})")
        if any(p > 0 for p in lit) and any(p < 0 for p in lit):
            reasons.append(f"faces lit from opposite sides (shading {max(lit):.2f} and {min(lit):.2f})")
        if not reasons:
            return []
        strength = max(abs(p) for p in lit)
        return [Region("shading", None, float(min(1.0, 0.5 + strength / 2)), DEFECT, tuple(reasons),
                       ("inconsistent_lighting",), self.name)]
