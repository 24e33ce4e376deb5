"""Waxy skin: a face whose skin has far less fine texture than real photos while its eyes are sharp.

Real skin in a photo carries fine texture (pores, fine hair, sensor grain); the plastic "AI look"
and beauty filters smooth it away while keeping the edges of eyes and lips. Measured on the face
mesh (:mod:`lib_qfix.detect.faces`), on the face resampled to :data:`CANON_PX` pixels between the
cheek contour points (234, 454) so the numbers do not depend on the face's size:

- ``skin_texture``: the mean Immerkaer response (:func:`lib_qfix.scoring.signals.immerkaer`, the
  noise operator the scorer uses) on both cheeks (mesh polygons, shrunk by 3 % of the face width),
  times :data:`~lib_qfix.scoring.signals.IMMERKAER_SCALE`: 8-bit grey levels; Grace Hopper's
  face (the one real face of 128+ px that ships with the installed packages) reads 1.6-2.5 at three
  scales, 0.7-1.0 after a bilateral skin-smoothing filter, 1.0-1.5 after a mild one;
- ``eye_sharpness``: :func:`lib_qfix.detect.face_checks.sharpness` (90th percentile |Laplacian|) on
  the eyes' box: ~220-250 on that face, 170-200 smoothed, 85-135 after a Gaussian blur of sigma 1.6.

Waxy when ``skin_texture`` < :data:`MIN_TEXTURE` and ``eye_sharpness`` >= :data:`MIN_EYE_SHARPNESS`
(with soft eyes it is a blurry face, which the blur verdict reports) and the face shows no JPEG
blocks (:func:`lib_qfix.scoring.signals.blockiness` < :data:`MAX_BLOCKINESS` at its own
resolution: quality 25 reads 1.5-1.7, the unedited face 1.0-1.2). Faces narrower than
:data:`MIN_FACE_PX` (cheek to cheek: the resampling only ever shrinks) or turned past 0.35 yaw are
not judged. Limits: the thresholds rest on one real face (bench/detect.py prints the figures);
JPEG compression too weak to leave blocks, retouched studio portraits (the astronaut's
face reads 0.5 when enlarged to 128 px) and heavy make-up also lack skin texture.
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.detect.face_checks import head_yaw, mesh_box, rescale, sharpness
from lib_qfix.landmarks import LEFT_EYE_RING, RIGHT_EYE_RING
from lib_qfix.scoring.signals import IMMERKAER_SCALE, blockiness, immerkaer, luminance

#: mesh polygons of the cheeks (below the eyes, beside the nose, above the mouth corners)
RIGHT_CHEEK = (116, 117, 118, 119, 100, 142, 203, 206, 216, 192, 213, 147, 123)
LEFT_CHEEK = (345, 346, 347, 348, 329, 371, 423, 426, 436, 416, 433, 376, 352)
CANON_PX = 128
MIN_FACE_PX = 128
MAX_YAW = 0.35
MIN_TEXTURE = 1.1
MIN_EYE_SHARPNESS = 150.0
#: JPEG blocks on the face (signals.blockiness >= this): the lost texture is the compression's
MAX_BLOCKINESS = 1.4


def skin_measures(image: np.ndarray, mesh: np.ndarray) -> dict[str, float] | None:
    """``skin_texture``, ``eye_sharpness`` and ``face_px`` of the face with ``mesh`` ((N, 2+)
    pixels) in ``image`` (RGB uint8), or None when the face is too small, turned, or cut."""
    m = np.asarray(mesh, np.float64)[:, :2]
    face_px = float(np.linalg.norm(m[454] - m[234]))
    if face_px < MIN_FACE_PX or head_yaw(mesh) > MAX_YAW:
        return None
    box = mesh_box(m[list(RIGHT_CHEEK + LEFT_CHEEK + RIGHT_EYE_RING + LEFT_EYE_RING)], image.shape)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    blocks = blockiness(luminance(np.ascontiguousarray(image[y0:y1, x0:x1])))
    scale = CANON_PX / face_px
    local = (m - (x0, y0)) * scale
    y = luminance(rescale(image[y0:y1, x0:x1], scale))
    mask = np.zeros(y.shape, np.uint8)
    for poly in (RIGHT_CHEEK, LEFT_CHEEK):
        cv2.fillPoly(mask, [np.round(local[list(poly)]).astype(np.int32)], 255)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=max(1, int(0.03 * CANON_PX)))
    if mask.sum() < 255 * 50:
        return None
    texture = float(immerkaer(y)[mask > 0].mean()) * IMMERKAER_SCALE
    eyes = local[list(RIGHT_EYE_RING + LEFT_EYE_RING)]
    ex0, ey0 = np.floor(eyes.min(axis=0)).astype(int)
    ex1, ey1 = np.ceil(eyes.max(axis=0)).astype(int)
    gray = np.clip(y, 0, 255).astype(np.uint8)
    eye = sharpness(gray[max(0, ey0 - 2):ey1 + 3, max(0, ex0 - 2):ex1 + 3])
    return {"skin_texture": texture, "eye_sharpness": eye, "face_px": face_px, "blockiness": blocks}


def waxy_verdict(image: np.ndarray, mesh: np.ndarray) -> tuple[str | None, dict[str, float]]:
    """A reason when the face's skin is waxy (see the module doc), else None; plus the measures."""
    found = skin_measures(image, mesh)
    if found is None:
        return None, {}
    if found["skin_texture"] < MIN_TEXTURE and found["eye_sharpness"] >= MIN_EYE_SHARPNESS \
            and found["blockiness"] < MAX_BLOCKINESS:
        return (f"waxy skin: skin texture {found['skin_texture']:.2f} < {MIN_TEXTURE} (real photos: 1.5-4) "
                f"while the eyes are sharp ({found['eye_sharpness']:.0f})"), found
    return None, found
