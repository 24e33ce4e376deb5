"""Small faces (24-40 px in a 512 px image) and the face-box passes' cost, on real MediaPipe.

The images are built here from photos that ship in installed packages: the astronaut's head
(skimage) shrunk and pasted onto the coffee photo, which has no face.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import lib_qfix.detect.mediapipe_runtime as mr
from lib_qfix.detect import face_boxes
from lib_qfix.detect.face_boxes import ZOOMED, RawFace, clear_memo, detect_face_boxes
from lib_qfix.detect.faces import FaceDetector
from lib_qfix.detect.nms import iou
from lib_qfix.options import DEFAULTS
from testkit.fixtures_detect import FACE_LABELS, photo


def _background() -> np.ndarray:
    img = photo("coffee")
    h, w = img.shape[:2]
    s = 512 / min(h, w)
    img = cv2.resize(img, (max(512, round(w * s)), max(512, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[:512, :512])


def pasted_face(face_px: int, x: int, y: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The coffee photo with the astronaut's head pasted so her face is ``face_px`` wide with its
    box's top-left at (``x``, ``y``); returns the image and that face box."""
    fx0, fy0, fx1, fy1 = FACE_LABELS["astronaut"]
    src = photo("astronaut")
    cx, cy, side = (fx0 + fx1) / 2, (fy0 + fy1) / 2, max(fx1 - fx0, fy1 - fy0)
    hx0, hy0 = int(cx - side * 0.9), int(cy - side * 0.9)  # the head with hair and chin
    head = src[hy0:int(cy + side * 0.9), hx0:int(cx + side * 0.9)]
    s = face_px / side
    small = cv2.resize(head, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    px, py = int(x - (fx0 - hx0) * s), int(y - (fy0 - hy0) * s)
    canvas = _background().copy()
    canvas[py:py + small.shape[0], px:px + small.shape[1]] = small
    return canvas, (x, y, x + int((fx1 - fx0) * s), y + int((fy1 - fy0) * s))


@pytest.fixture()
def calls(monkeypatch):
    """Counts MediaPipe calls (detector, mesh) made through the shared runtime."""
    count = [0]
    run = mr.LockedSolution.run

    def counting(self, rgb):
        count[0] += 1
        return run(self, rgb)

    monkeypatch.setattr(mr.LockedSolution, "run", counting)
    clear_memo()
    yield count
    clear_memo()


def test_24px_face_in_a_512px_image_is_found():
    # the 2x2 grid of full-range 0.6 tiles that ran before the fine pass missed this face (its
    # 307 px tile shows it at 15 px to the model); so did whole-image full- and short-range
    image, truth = pasted_face(24, 160, 300)
    clear_memo()
    regions = FaceDetector().detect(image, DEFAULTS)
    assert any(iou(r.box, truth) >= 0.3 for r in regions), [r.box for r in regions]
    assert len(regions) == 1


@pytest.mark.parametrize("face_px,x,y", [(24, 391, 49), (40, 60, 420)])
def test_small_faces_are_found_by_the_fine_pass(face_px, x, y):
    image, truth = pasted_face(face_px, x, y)
    clear_memo()
    found = detect_face_boxes(image, 0.5)
    assert [f for f in found if iou(f.box, truth) >= 0.3], [f.box for f in found]


def test_fine_pass_candidates_need_full_range_on_zoomed_crops():
    image, truth = pasted_face(24, 391, 49)
    full = mr.solution("face_detection", model_selection=1, min_detection_confidence=0.5)
    face = RawFace(tuple(float(v) for v in truth), 0.6, ((0.0, 0.0),) * 6, "short")
    sure = face_boxes._confirmed(image, face, full)
    assert sure is not None and sure.model == ZOOMED and iou(sure.box, truth) >= 0.3
    # the same box over plain coffee (no face there) is refused
    x0, y0 = 100, 300
    nothing = RawFace((x0, y0, x0 + 24.0, y0 + 24.0), 0.9, ((0.0, 0.0),) * 6, "short")
    assert face_boxes._confirmed(_background(), nothing, full) is None


def test_one_normal_face_costs_one_detector_call(calls):
    image, truth = pasted_face(112, 200, 150)
    found = detect_face_boxes(image, 0.5)
    assert len(found) == 1 and iou(found[0].box, truth) >= 0.3
    assert calls[0] == 1


def test_no_face_costs_at_most_the_fine_grid(calls):
    assert detect_face_boxes(_background(), 0.5) == ()
    # full + short-range on the whole image, then the fine grid; confirmations only for candidates
    assert calls[0] <= 2 + face_boxes.FINE_GRID ** 2 + 2


def test_fine_tiles_cover_the_image_with_overlap():
    tiles = face_boxes.fine_tiles(512, 512)
    assert len(tiles) == face_boxes.FINE_GRID ** 2
    cover = np.zeros((512, 512), bool)
    for x0, y0, x1, y1 in tiles:
        cover[y0:y1, x0:x1] = True
        assert x1 - x0 == 159 and y1 - y0 == 159
    assert cover.all()
    # neighbours overlap by more than a 40 px face
    xs = sorted({t[0] for t in tiles})
    assert all(b - a <= 159 - 40 for a, b in zip(xs, xs[1:], strict=False))
