"""Face verdicts: blurry face, asymmetric eyes, small face. Pure numpy/OpenCV on pixels and mesh points.

Mesh indices are MediaPipe's canonical face mesh (468 points, 478 with iris refinement); "right"
is the subject's right eye (on the image's left in a frontal photo).
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.landmarks import LEFT_EYE, LEFT_EYE_RING, RIGHT_EYE, RIGHT_EYE_RING  # noqa: F401 (re-export)

#: a face whose box is narrower than this (pixels) has too few pixels for eyes, teeth, skin detail
SMALL_FACE_PX = 96
#: face sharpness below this fraction of the image's sharpness reads as a blurry face
BLUR_RATIO = 0.4
#: ...or below this absolute value (90th percentile |Laplacian| of 8-bit grey levels)
BLUR_ABSOLUTE = 10.0
#: eye width (3-D, so head turn cancels) ratio above which the eyes differ in size. The mesh is a
#: shape prior and understates differences: an eye enlarged 1.7x reads as ~1.25 (a normal face ~1.05)
EYE_WIDTH_RATIO = 1.2
#: iris radius ratio (refined mesh, longest radius so foreshortening cancels); normal ~1.02
IRIS_RATIO = 1.2
#: eye opening (lid gap / width) ratio above which one eye is much more open than the other
EYE_OPEN_RATIO = 2.2
#: angle (degrees) between the eye line and the mouth-corner line
EYE_TILT_DEG = 12.0
#: head turn (0 frontal .. 1 profile, from the nose tip between the cheek contour points) above which
#: the far eye is foreshortened or hidden and eye symmetry is not judged
MAX_YAW = 0.35


def head_yaw(mesh: np.ndarray) -> float:
    """0 for a frontal face, towards 1 for a profile: |nose-to-right-cheek - nose-to-left-cheek| / face width."""
    nose, right, left = mesh[1, :2], mesh[234, :2], mesh[454, :2]
    width = float(np.linalg.norm(left - right))
    return abs(float(np.linalg.norm(nose - right) - np.linalg.norm(nose - left))) / max(width, 1e-6)


def sharpness(gray: np.ndarray) -> float:
    """90th percentile of |Laplacian| (3x3) of an 8-bit grey image: ~100+ for a sharp photo,
    ~10 for a Gaussian blur of sigma 3."""
    if gray.size == 0:
        return 0.0
    # int16 Laplacian + partition: exact for 8-bit input and ~8x faster than float + percentile
    lap = np.abs(cv2.Laplacian(np.ascontiguousarray(gray, dtype=np.uint8), cv2.CV_16S, ksize=3)).ravel()
    k = int(0.9 * (lap.size - 1))
    return float(np.partition(lap, k)[k])


def mesh_box(points: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) pixels around ``points`` ((N, 2) pixels) with 2-3 px to spare, or None when
    that box leaves an image of ``shape`` (a part of the face cut by the frame is not judged)."""
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 3
    if x0 < 0 or y0 < 0 or x1 > shape[1] or y1 > shape[0]:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def rescale(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` resized by ``scale`` (cubic when enlarging, area averaging when shrinking), so a
    measure taken on it does not depend on the face's size in the photo."""
    return cv2.resize(np.ascontiguousarray(image), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)


def blur_verdict(gray_image: np.ndarray, box: tuple[int, int, int, int],
                 image_sharpness: float) -> tuple[str | None, dict[str, float]]:
    """A reason when the face inside ``box`` is blurry compared with the whole image, else None."""
    x0, y0, x1, y1 = box
    face = sharpness(gray_image[y0:y1, x0:x1])
    ratio = face / max(image_sharpness, 1e-6)
    signals = {"face_sharpness": face, "image_sharpness": image_sharpness, "sharpness_ratio": ratio}
    if ratio < BLUR_RATIO:
        return f"blurry face: sharpness {face:.0f} is {ratio:.2f} of the image's {image_sharpness:.0f} " \
               f"(< {BLUR_RATIO})", signals
    if face < BLUR_ABSOLUTE:
        return f"blurry face: sharpness {face:.0f} < {BLUR_ABSOLUTE:.0f}", signals
    return None, signals


def small_verdict(box: tuple[int, int, int, int]) -> str | None:
    side = min(box[2] - box[0], box[3] - box[1])
    if side < SMALL_FACE_PX:
        return (f"small face: {side} px across (< {SMALL_FACE_PX}); too few pixels for detail at this "
                "resolution, an inpaint at higher resolution helps")
    return None


def _eye(mesh: np.ndarray, idx: tuple[int, int, int, int]) -> tuple[float, float]:
    outer, inner, upper, lower = (mesh[i] for i in idx)
    width = float(np.linalg.norm(outer - inner))
    gap = float(np.linalg.norm(upper - lower))
    return width, gap / max(width, 1e-6)


def eye_verdicts(mesh: np.ndarray) -> list[str]:
    """Reasons for asymmetric eyes from mesh points ((N, 3) pixels, z scaled like x); [] if symmetric
    or if the head is turned too far (:data:`MAX_YAW`) to judge."""
    if len(mesh) < 468 or head_yaw(mesh) > MAX_YAW:
        return []
    (wr, open_r), (wl, open_l) = _eye(mesh, RIGHT_EYE), _eye(mesh, LEFT_EYE)
    reasons = []
    width_ratio = max(wr, wl) / max(min(wr, wl), 1e-6)
    if width_ratio > EYE_WIDTH_RATIO:
        reasons.append(f"asymmetric eyes: one eye is {width_ratio:.2f}x as wide as the other (> {EYE_WIDTH_RATIO})")
    if len(mesh) >= 478:
        ir = [max(float(np.linalg.norm(mesh[c, :2] - mesh[i, :2])) for i in range(c + 1, c + 5)) for c in (468, 473)]
        iris_ratio = max(ir) / max(min(ir), 1e-6)
        if iris_ratio > IRIS_RATIO:
            reasons.append(f"asymmetric eyes: one iris is {iris_ratio:.2f}x the size of the other (> {IRIS_RATIO})")
    # both near-closed eyes (blink) carry no shape information
    if max(open_r, open_l) > 0.12:
        open_ratio = max(open_r, open_l) / max(min(open_r, open_l), 1e-3)
        if open_ratio > EYE_OPEN_RATIO:
            reasons.append(f"asymmetric eyes: one eye is {open_ratio:.1f}x as open as the other (> {EYE_OPEN_RATIO})")
    eye_vec = (mesh[LEFT_EYE[0]] + mesh[LEFT_EYE[1]] - mesh[RIGHT_EYE[0]] - mesh[RIGHT_EYE[1]])[:2]
    mouth_vec = (mesh[291] - mesh[61])[:2]  # mouth corners, subject's left minus right
    tilt = abs(np.degrees(np.arctan2(eye_vec[1], eye_vec[0]) - np.arctan2(mouth_vec[1], mouth_vec[0])))
    tilt = min(tilt, 360 - tilt)
    if tilt > EYE_TILT_DEG:
        reasons.append(f"asymmetric eyes: eye line is tilted {tilt:.0f} deg against the mouth (> {EYE_TILT_DEG:.0f})")
    return reasons


def hull(points: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Convex hull of (N, 2+) pixel points as integer (x, y) tuples."""
    pts = np.round(points[:, :2]).astype(np.int32)
    return tuple((int(x), int(y)) for x, y in cv2.convexHull(pts).reshape(-1, 2))
