"""Anatomy detector: MediaPipe pose + hands per person, judged for twisted joints and limb counts.

Pipeline per image: faces (the memoised face pass of :mod:`lib_qfix.detect.face_boxes`) anchor one
crop per person, the :data:`MAX_PEOPLE` largest: 5 face widths either side, 1.5 face heights
above to 8 below the face centre (a standing body is ~7.5 heads tall); a crop longer than 70 % of
the image side becomes the whole frame, and without faces the whole frame is one crop (people
seen from behind). In each crop MediaPipe pose runs (one body); bodies found twice are merged
(their shoulder midpoints within half a shoulder width). Hands are searched as the hand detector
does (:mod:`lib_qfix.detect.hands`: the whole frame, then its crops around each person, which
enlarge hands 2-4x) and on a 2x2 grid of tiles over each body crop (a hand floating away from the
body lies outside the hand detector's crops and is too small for the whole-frame pass), up to 4 per
pass, merged by NMS; a "hand" mostly inside a face is dropped. Each body is judged by :mod:`lib_qfix.detect.pose_rules` (``twisted_joint``), and bodies and
hands together by :mod:`lib_qfix.detect.body_hands` (``extra_limb``, ``detached_hand``,
``missing_limb``).

Only defects are returned, as ``Region(kind="body")``: the box of the landmarks concerned grown by
a quarter of the body's size (:func:`lib_qfix.detect.body_hands.body_unit`), the polygon their
grown hull, ``landmarks`` the body's 33 pose points (x, y) in pixels, MediaPipe's order (for a
pose guide). ``confidence`` is the mean visibility of the joints a rule used (pose rules) or the
hand's score times the arm's visibility (limb counts). ``anatomy_visibility`` is the visibility a
landmark needs before any rule uses it. Cost (bench/detect.py, 512 px): ~160 ms CPU for an image
with one person (a pose pass and up to 8 hand passes), ~50 ms where the pose finds nobody (the hand
passes are then skipped); off by default.
"""

from __future__ import annotations

import numpy as np

from lib_qfix.detect.body_hands import Body, body_unit, judge_limbs
from lib_qfix.detect.face_boxes import detect_face_boxes, grid_tiles
from lib_qfix.detect.face_checks import hull
from lib_qfix.detect.hands import CROP_COMPLEXITY, run_hands
from lib_qfix.detect.hands import person_crops as hand_crops
from lib_qfix.detect.mediapipe_runtime import check_image, solution
from lib_qfix.detect.nms import inside_fraction, nms, to_int_box
from lib_qfix.detect.pose_rules import L_SHOULDER, R_SHOULDER, check_pose
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, Region, box_area

MAX_PEOPLE = 3
PERSON_FACE_CONFIDENCE = 0.5
CROP_MAX_FRACTION = 0.7
#: pose detector threshold (MediaPipe's default); landmark visibility is judged separately
POSE_CONFIDENCE = 0.5
#: hands this sure count for limb counts (rendered and real hands score 0.5-0.9 in MediaPipe)
HAND_CONFIDENCE = 0.5
GROW = 0.25


def person_crops(faces: list[tuple[float, float, float, float]], width: int,
                 height: int) -> list[tuple[int, int, int, int]]:
    """Body crops from face boxes (largest first, at most :data:`MAX_PEOPLE`); the whole frame when
    there is no face or a crop would be longer than 70 % of the image side."""
    full = (0, 0, width, height)
    crops: list[tuple[int, int, int, int]] = []
    for x0, y0, x1, y1 in sorted(faces, key=lambda b: -box_area(b))[:MAX_PEOPLE]:
        fw, fh = x1 - x0, y1 - y0
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        c = to_int_box((cx - 5 * fw, cy - 1.5 * fh, cx + 5 * fw, cy + 8 * fh), width, height)
        if max(c[2] - c[0], c[3] - c[1]) > CROP_MAX_FRACTION * max(width, height):
            c = full
        if c not in crops and min(c[2] - c[0], c[3] - c[1]) >= 32:
            crops.append(c)
    return crops or [full]


class AnatomyDetector:
    """Registry name "anatomy". Safe to share between threads (MediaPipe calls are locked)."""

    name = "anatomy"

    def bodies_and_hands(self, image: np.ndarray) -> tuple[list[Body], list[np.ndarray], list[float],
                                                           list[tuple[float, float, float, float]]]:
        """(bodies, hand landmark arrays (21, 3) px, hand scores, face boxes without a body)."""
        image = check_image(image)
        h, w = image.shape[:2]
        faces = [f.box for f in detect_face_boxes(image, PERSON_FACE_CONFIDENCE)]
        bodies: list[Body] = []
        hands, scores, boxes = [], [], []
        bodies_crops = person_crops(faces, w, h)
        for x0, y0, x1, y1 in bodies_crops:
            cw, ch = x1 - x0, y1 - y0
            crop = image[y0:y1, x0:x1]
            for pose in solution("pose", min_detection_confidence=POSE_CONFIDENCE).run(crop):
                pts = pose.points * (cw, ch, cw) + (x0, y0, 0.0)
                mid = (pts[L_SHOULDER, :2] + pts[R_SHOULDER, :2]) / 2
                if any(np.linalg.norm(mid - (b.points[L_SHOULDER, :2] + b.points[R_SHOULDER, :2]) / 2)
                       < 0.5 * body_unit(b) for b in bodies):
                    continue
                bodies.append(Body(pts, pose.visibility, pose.world))
        if not bodies:  # nobody to judge: the hand passes would be wasted
            return [], [], [], faces
        # hands where the hand detector looks for them (the whole frame with the full model, its
        # crops around each person), and on 2x2 tiles over each body crop
        full = (0, 0, w, h)
        tiles = [(x0 + a, y0 + b, x0 + c, y0 + d) for x0, y0, x1, y1 in bodies_crops
                 for a, b, c, d in grid_tiles(x1 - x0, y1 - y0)]
        for crop in [full] + hand_crops(faces, w, h) + tiles:
            complexity = 1 if crop == full else CROP_COMPLEXITY
            for hand in run_hands(image, crop, 4, HAND_CONFIDENCE, "anatomy", complexity):
                if hand.score >= HAND_CONFIDENCE and not any(inside_fraction(hand.box, f) > 0.7 for f in faces):
                    hands.append(hand.points)
                    scores.append(hand.score)
                    boxes.append(hand.box)
        keep = nms(boxes, scores, 0.3, 0.6)
        unposed = [f for f in faces if not any(_face_in_body(f, b) for b in bodies)]
        return bodies, [hands[i] for i in keep], [scores[i] for i in keep], unposed

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Anatomy defects in an (H, W, 3) uint8 RGB image as ``Region(kind="body")``."""
        image = check_image(image)
        h, w = image.shape[:2]
        bodies, hands, scores, unposed = self.bodies_and_hands(image)
        floor = options.anatomy_visibility
        out: list[Region] = []
        for body in bodies:
            verdict = check_pose(body.points, body.visibility, body.world, floor)
            if not verdict.plausible:
                idx = list(verdict.joints)
                out.append(_region(body.points[idx, :2], body, w, h, float(np.mean(body.visibility[idx])),
                                   verdict.reasons, ("twisted_joint",)))
        for f in judge_limbs(bodies, hands, scores, unposed, w, h, floor):
            out.append(_region(f.points, bodies[f.body], w, h, f.confidence, (f.reason,), (f.defect,)))
        return out


def _face_in_body(face: tuple[float, float, float, float], body: Body) -> bool:
    """Is the face box on this body (its nose landmark inside the box grown by half)?"""
    x0, y0, x1, y1 = face
    fw, fh = x1 - x0, y1 - y0
    nx, ny = body.points[0, :2]
    return bool(x0 - fw / 2 <= nx <= x1 + fw / 2 and y0 - fh / 2 <= ny <= y1 + fh / 2)


def _region(points: np.ndarray, body: Body, w: int, h: int, confidence: float, reasons: tuple[str, ...],
            defects: tuple[str, ...]) -> Region:
    pad = GROW * body_unit(body)
    ring = np.stack([np.cos(np.linspace(0, 2 * np.pi, 8, endpoint=False)),
                     np.sin(np.linspace(0, 2 * np.pi, 8, endpoint=False))], axis=1) * pad
    grown = (points[:, None, :2] + ring[None]).reshape(-1, 2)
    grown[:, 0] = grown[:, 0].clip(0, w - 1)
    grown[:, 1] = grown[:, 1].clip(0, h - 1)
    box = to_int_box((grown[:, 0].min(), grown[:, 1].min(), grown[:, 0].max() + 1, grown[:, 1].max() + 1), w, h)
    skeleton = tuple((float(x), float(y)) for x, y in body.points[:, :2])
    return Region("body", box, float(np.clip(confidence, 0.0, 1.0)), DEFECT, reasons, defects, "anatomy",
                  hull(grown), skeleton)
