"""Face detector: MediaPipe face detection + face mesh on crops, with verdicts and mask outlines.

Pipeline per image: full-range detection (short-range when it finds nothing), filter by
``face_confidence`` and ``face_min_area``/``face_max_area`` (fractions of the image area), then for
each face of at least 48 px (largest first, at most :data:`MAX_MESH_FACES`; smaller faces get a box
mask, a mesh there is slow and its eye shapes meaningless) a face mesh with iris refinement on a square
crop 1.6x the box (the mesh's own detector is short-range, so it needs a face-filling crop). A face
under 48 px is kept only when a mesh confirms it (:data:`MAX_CONFIRM_FACES`), or when
:mod:`lib_qfix.detect.face_boxes`' fine pass already confirmed it on a zoomed crop (model
``ZOOMED``): the mesh on a 22 px face flips with a pixel of box offset (it lost a real 24 px face).

Verdicts (each adds a reason and a defect name): ``blurry_face`` (sharpness inside the face vs the
whole image), ``asymmetric_eyes`` (mesh eye widths, iris sizes, eye line vs mouth line),
``small_face`` (box short side < 96 px; eye symmetry is not judged on heads turned past 0.35 yaw), ``cropped_face`` (cut by the frame; only with
``detect_cropping``), ``missing_teeth`` / ``fused_teeth`` (:mod:`lib_qfix.detect.face_mouth`; only
with ``detect_teeth``), ``waxy_skin`` (:mod:`lib_qfix.detect.face_skin`; only with ``detect_waxy_skin``). ``polygon`` follows ``face_mask``: "hull" the mesh hull, "eyes" the hull of both
eye outlines, "box" none (use the box); without a mesh the box is used and a reason says so.
``landmarks`` holds the mesh points (x, y) in pixels when there is a mesh. A detection of at least
48 px that the mesh cannot confirm is kept only with confidence >= 0.75 (animal faces).
"""

from __future__ import annotations

import cv2
import numpy as np

from lib_qfix.detect import face_checks as fc
from lib_qfix.detect.cropping import cropped_reason
from lib_qfix.detect.face_boxes import ZOOMED, RawFace, detect_face_boxes
from lib_qfix.detect.face_mouth import teeth_verdict
from lib_qfix.detect.face_skin import waxy_verdict
from lib_qfix.detect.mediapipe_runtime import check_image, solution
from lib_qfix.detect.nms import scale_box, to_int_box
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, OK, Region, box_area

MAX_MESH_FACES = 8
MIN_MESH_PX = 48
MESH_CROP = 1.6
MESH_MAX_SIDE = 384
#: a detection the mesh cannot confirm (no mesh on a face this big) needs this confidence: cats and
#: other animal faces reach 0.5-0.6 with MediaPipe's face detector
UNCONFIRMED_PX = 48
UNCONFIRMED_CONFIDENCE = 0.75
#: faces under MIN_MESH_PX must be confirmed by a face mesh (used for nothing else: eye shapes mean
#: nothing at that size): a circuit-board detail and the back of a head scored 0.74-0.76 as faces,
#: and the mesh rejects both while confirming every real face of bench/hands.py's photos and
#: bench/detect.py's pasted faces (24-40 px). The smallest faces past this count keep the 0.75 rule.
MAX_CONFIRM_FACES = 16


class FaceDetector:
    """Registry name "face". Safe to share between threads (MediaPipe calls are locked)."""

    name = "face"

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Faces in an (H, W, 3) uint8 RGB image as ``Region(kind="face")``, largest first."""
        image = check_image(image)
        h, w = image.shape[:2]
        faces = [f for f in detect_face_boxes(image, options.face_confidence)
                 if options.face_min_area <= box_area(to_int_box(f.box, w, h)) / (w * h) <= options.face_max_area]
        if not faces:  # no grey copy or sharpness to compute for an image without faces
            return []
        faces.sort(key=lambda f: -box_area(f.box))
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        image_sharpness = fc.sharpness(gray)
        judged = [self._judge(image, gray, image_sharpness, f, i < MAX_MESH_FACES, options, i < MAX_CONFIRM_FACES)
                  for i, f in enumerate(faces)]
        return [r for r in judged if r is not None]

    def _judge(self, image: np.ndarray, gray: np.ndarray, image_sharpness: float, face: RawFace,
               use_mesh: bool, options: Options, confirm: bool = True) -> Region | None:
        h, w = image.shape[:2]
        box = to_int_box(face.box, w, h)
        mesh = None
        reasons: list[str] = []
        side = min(box[2] - box[0], box[3] - box[1])
        if use_mesh and side >= MIN_MESH_PX:
            mesh = face_mesh(image, face.box)
            if mesh is None and side >= UNCONFIRMED_PX and face.score < UNCONFIRMED_CONFIDENCE:
                return None
        elif side < MIN_MESH_PX and face.model != ZOOMED and (face_mesh(image, face.box) is None if confirm
                                                             else face.score < UNCONFIRMED_CONFIDENCE):
            return None
        defects: list[str] = []
        blur, _ = fc.blur_verdict(gray, box, image_sharpness)
        if blur:
            reasons.append(blur)
            defects.append("blurry_face")
        if mesh is not None:
            eyes = fc.eye_verdicts(mesh)
            if eyes:
                reasons.extend(eyes)
                defects.append("asymmetric_eyes")
            if options.detect_teeth:
                teeth, teeth_defect, _ = teeth_verdict(image, mesh)
                if teeth and teeth_defect:
                    reasons.append(teeth)
                    defects.append(teeth_defect)
            if options.detect_waxy_skin:
                waxy, _ = waxy_verdict(image, mesh)
                if waxy:
                    reasons.append(waxy)
                    defects.append("waxy_skin")
        small = fc.small_verdict(box)
        if small:
            reasons.append(small)
            defects.append("small_face")
        if options.detect_cropping:
            cut = cropped_reason("face", scale_box(face.box, 1.1), w, h, mesh)
            if cut:
                reasons.append(cut)
                defects.append("cropped_face")
        polygon = None
        if mesh is None:
            reasons.append("no face mesh on this face: box mask" if side >= MIN_MESH_PX
                           else "face too small for a mesh: box mask")
        elif options.face_mask == "hull":
            polygon = fc.hull(mesh)
        elif options.face_mask == "eyes":
            polygon = fc.hull(mesh[list(fc.RIGHT_EYE_RING + fc.LEFT_EYE_RING)])
        landmarks = tuple((float(x), float(y)) for x, y in mesh[:, :2]) if mesh is not None else None
        return Region("face", box, face.score, DEFECT if defects else OK, tuple(reasons), tuple(defects),
                      self.name, polygon, landmarks)


def face_mesh(image: np.ndarray, face_box: tuple[float, float, float, float]) -> np.ndarray | None:
    """Refined face mesh (478, 3) in image pixels (z scaled like x) for the face in ``face_box``,
    or None when the mesh finds no face in the crop. Points may lie outside the image (a cut face)."""
    h, w = image.shape[:2]
    bx0, by0, bx1, by1 = (int(round(v)) for v in scale_box(face_box, MESH_CROP, square=True))
    x0, y0, x1, y1 = max(bx0, 0), max(by0, 0), min(bx1, w), min(by1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    # a face cut by the frame keeps its place in a grey-padded square, so the mesh can still fit it
    crop = cv2.copyMakeBorder(image[y0:y1, x0:x1], y0 - by0, by1 - y1, x0 - bx0, bx1 - x1,
                              cv2.BORDER_CONSTANT, value=(128, 128, 128))
    x0, y0, x1, y1 = bx0, by0, bx1, by1
    scale = min(1.0, MESH_MAX_SIDE / max(crop.shape[:2]))
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cw, ch = (x1 - x0), (y1 - y0)
    pts = solution("face_mesh", max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3).run(crop)
    return None if pts is None else pts * (cw, ch, cw) + (x0, y0, 0.0)
