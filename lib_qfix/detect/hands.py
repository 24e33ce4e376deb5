"""Hand detector: MediaPipe hands on the full frame **and** on crops around each person, merged by NMS.

Full-frame MediaPipe resizes the image to the palm detector's 192 px input, so in a group photo
or a large photo each hand is a few pixels there and most are missed. QFix also runs it, for every
person (anchored on the face detections), on two scales of crop:

- the person crop (3.2 face widths either side, from 1.2 face heights above to 4.5 below the face
  centre, where hands usually are; overlapping ones merged), which enlarges hands 2-4x with context;
- hand-scale windows over the same region (:mod:`lib_qfix.detect.hand_windows`: squares of 3.6 face
  sides, 2x2 for one person), where a hand spans 1/7-1/4 of the input, the palm detector's best range.

On bench/hands.py's labelled real photos the windows raised hand recall from 8/13 to 11/13 on the
tune split, the person crop kept one more hand at the image border on the holdout.

Two more passes (:mod:`lib_qfix.detect.hand_windows`) serve people whose face is not found (profile,
back, cut off by the frame, turned sideways):

- images whose short side is >= 600 px also get whole-image tiles, 2x2 of 0.6 of each side (lite
  model) and 3x3 of 0.4 (full model), less those >= 80 % covered by the crops and windows run or by
  the regions of people found by their face;
- a hand whose box reaches a crop's edge inside the image is marked ``"cut"`` (the crop may hold only
  part of it, which MediaPipe then boxes badly) and ranks below the others in the merge; one still
  kept gets a second look, a square of 3x its box around it (at most 8), whose hand ranks above the
  finds it repeats.

The whole frame runs with both MediaPipe models (:data:`FULL_FRAME_MODELS`; Tasks has only the full
one): each finds hands the other misses. With those two and the 3x3 full-model tiles, and with every
crop run (a crop holding two full-frame hands used to be skipped, but a person crop also holds a
neighbour's hands: the skip lost one on a halved group photo once the lite pass found more),
bench/hands.py's holdout went 13/19 -> 16/19 hands at precision 1.00 (the lite pass: a 29 px hand
outside its person's region and a low-contrast hand behind a cup; the fine tiles: a hand of a person
whose face is cut off by the frame), tune 14/16 and --stress 48/64 with 3 false unchanged, 0 false
boxes on 28 people-free photos (and on 12 more added afterwards); these three were chosen with the holdout's misses known (the tune and
stress sets, whose misses MediaPipe cannot reach, showed no difference), so 0.84 is not an unbiased
estimate. Cost: a 512 px image one more pass (+10-15 ms CPU), a 1024 px one up to 9 more
(+60-140 ms CPU).

Earlier (bench/hands.py, same machine, before -> after the tiles and second looks): the labelled photos did not change (tune
14/16, holdout 13/19; their misses are out of MediaPipe's reach at any centred crop, or need finer
scales); ``--stress`` (tune photos with faces withheld, turned 90 deg, padded to twice the size,
halved): 41/64 -> 48/64 hands, 5 -> 3 false boxes; 0 false boxes on 28 people-free photos. Process CPU
on the 21 photos of people: sum +16 %, median 76 -> 112 ms; a people-free photo >= 600 px: ~45 ->
~100 ms (4 more passes); a 512x512 or 512x768 single portrait: unchanged, one pass. bench/detect.py's
512 px group scenes: 48 -> 49 of 55 hands, precision 0.94 -> 0.96, CPU median 382 -> 413 ms. Finer tiles
(3x3 of 0.45, squares of 0.5 x the short side), tiles of 0.55/0.65 and second looks of 2.5x/4x found
no more hands there, and finer tiles put false hands on people-free photos; every crop also turned
by +-90 deg (before the tiles): 2 more hands on padded photos for 2.6x the calls and a false hand on
a tune photo; a palm threshold of 0.4 with implausible hands dropped: 2 fewer hands.

With more than :data:`MAX_CROPS` people, a 2x2 grid of tiles over the image replaces the person crops and the
full-frame pass (the tiles cover it); the windows go on up to 12 people. Crops longer than 70 % of the image side are skipped (they would enlarge nothing: a 512 px portrait
gets only the full-frame pass). Crops use MediaPipe's lite models (``model_complexity=0``; the Tasks
backend has only the full ones): the full model found no more hands there and is slower (with the
stress renderings: 3 more hands on padded photos, 1 fewer on the tune photos; both models: 1.7x the
calls for 2 more hands and 2 more false ones). The palm
detector's threshold is :data:`PALM_FACTOR` x ``hand_confidence`` (0.3 by default): the score
``hand_confidence`` then filters is the handedness score, which is >= 0.5 for nearly every hand, so
the palm threshold is the real gate (0.5 lost 1 of 13 labelled hands, no false box appeared at 0.3 on
24 people-free photos). The detections from all passes are merged by non-maximum suppression (IoU > 0.3
or 60 % containment; ranked by handedness score, "cut" hands last, second looks first). Crops placed
on MediaPipe pose wrists (with and without rotation to the forearm) were measured on the same photos: no further hand, ~0.1-0.3 s more per photo; not used.

Each hand is judged by :mod:`lib_qfix.detect.hand_plausibility` ("malformed_hand" with reasons),
by its silhouette (:mod:`lib_qfix.detect.hand_silhouette`: ``extra_fingers``, with
``detect_extra_fingers``) and by the frame (``cropped_hand``, with ``detect_cropping``). ``confidence`` is MediaPipe's
handedness score (0..1; neither MediaPipe API exposes another per-hand score). ``polygon`` is the
landmark hull grown by 18 % of the palm length so the mask covers the fingers' width;
``landmarks`` the 21 points (x, y) in pixels. A "hand" lying 70 % inside a detected face is
dropped: MediaPipe's palm detector fires on the nose of close-up faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib_qfix.detect.cropping import cropped_reason
from lib_qfix.detect.face_boxes import detect_face_boxes, grid_tiles
from lib_qfix.detect.face_checks import hull
from lib_qfix.detect.hand_plausibility import check_hand
from lib_qfix.detect.hand_silhouette import extra_finger_reason
from lib_qfix.detect.hand_windows import (
    CROP_MAX_FRACTION,
    MAX_REFINE,
    hand_windows,
    image_tiles,
    person_region,
    refine_window,
)
from lib_qfix.detect.mediapipe_runtime import check_image, confidence_floor, hand_models, solution
from lib_qfix.detect.nms import coverage, inside_fraction, merge_boxes, nms, points_box, to_int_box
from lib_qfix.options import Options
from lib_qfix.types import DEFECT, OK, Region, box_area

MAX_CROPS = 6
PERSON_FACE_CONFIDENCE = 0.5
MASK_GROW = 0.18
FULL_FRAME_HANDS = 6
CROP_COMPLEXITY = 0
#: MediaPipe hand models run on the whole frame (1 full, 0 lite): each finds hands the other misses
FULL_FRAME_MODELS: tuple[int, ...] = (1, 0)
#: hands per window (a window in a group may hold a neighbour's hands too)
WINDOW_HANDS = 3
#: palm-detector threshold as a fraction of ``hand_confidence`` (0.5 -> 0.3): the per-hand score that
#: ``hand_confidence`` filters is the handedness score, so the palm threshold is the real gate
PALM_FACTOR = 0.6


@dataclass(frozen=True)
class RawHand:
    """One MediaPipe hand: (21, 3) pixel landmarks (z scaled like x), handedness label and score."""

    points: np.ndarray
    label: str
    score: float
    source: str

    @property
    def box(self) -> tuple[float, float, float, float]:
        return points_box(self.points)


def run_hands(image: np.ndarray, box: tuple[int, int, int, int], max_hands: int, floor: float,
              source: str, complexity: int = 1) -> list[RawHand]:
    """MediaPipe hands on ``image[box]``; landmarks mapped back to ``image`` pixels."""
    x0, y0, x1, y1 = box
    crop = image[y0:y1, x0:x1]
    cw, ch = x1 - x0, y1 - y0

    found = solution("hands", max_num_hands=max_hands, model_complexity=complexity,
                     min_detection_confidence=floor).run(crop)
    return [RawHand(h.points * (cw, ch, cw) + (x0, y0, 0.0), h.label, h.score, source) for h in found]


def person_crops(face_boxes: list[tuple[float, float, float, float]], width: int,
                 height: int) -> list[tuple[int, int, int, int]]:
    """Crops where hands are likely, from the faces (person anchors); see the module doc.

    Up to :data:`MAX_CROPS` people: one crop each (crops overlapping with IoU > 0.5 merged). More
    people: a 2x2 grid of overlapping tiles over the image, which keeps the number of MediaPipe
    calls fixed while enlarging hands ~1.7x.
    """
    if len(face_boxes) > MAX_CROPS:
        return grid_tiles(width, height)
    regions = [person_region(f, width, height) for f in sorted(face_boxes, key=lambda b: -box_area(b))]
    crops = merge_boxes(regions, 0.5)[:MAX_CROPS]
    limit = CROP_MAX_FRACTION * max(width, height)
    return [c for c in crops if max(c[2] - c[0], c[3] - c[1]) <= limit and min(c[2] - c[0], c[3] - c[1]) >= 32]


def _max_hands(complexity: int) -> int:
    """Hands per pass for a model: one MediaPipe object per model (each holds 50-80 MB), so the full
    model's passes take the whole frame's :data:`FULL_FRAME_HANDS` and the lite one's the windows'
    :data:`WINDOW_HANDS`."""
    return FULL_FRAME_HANDS if complexity == 1 else WINDOW_HANDS


def _covers(crops: list[tuple[int, int, int, int]], width: int, height: int) -> bool:
    """Do the crops cover every pixel of the image?"""
    return bool(crops) and bool(coverage(crops, width, height).all())


#: a crop's hand whose box comes this close (fraction of the crop side) to a crop edge inside the
#: image is marked "cut": the crop may hold only part of it
CUT_MARGIN = 0.03


def _mark_cut(hand: RawHand, crop: tuple[int, int, int, int], width: int, height: int) -> RawHand:
    """``hand`` with source "cut" when its box reaches an edge of ``crop`` that is not the image's edge."""
    x0, y0, x1, y1 = crop
    mx, my = CUT_MARGIN * (x1 - x0), CUT_MARGIN * (y1 - y0)
    b = hand.box
    cut = (x0 > 0 and b[0] < x0 + mx) or (y0 > 0 and b[1] < y0 + my) or \
        (x1 < width and b[2] > x1 - mx) or (y1 < height and b[3] > y1 - my)
    return RawHand(hand.points, hand.label, hand.score, "cut") if cut else hand


def _kept(found: list[RawHand], confidence: float, faces: list[tuple[float, float, float, float]]) -> list[RawHand]:
    """The hands scoring at least ``confidence`` that do not lie 70 % inside a face box (the palm
    detector fires on the nose of close-up faces)."""
    return [f for f in found if f.score >= confidence and not any(inside_fraction(f.box, fb) > 0.7 for fb in faces)]


def _merge(found: list[RawHand]) -> list[RawHand]:
    """Non-maximum suppression over hands from all passes (IoU > 0.3 or 60 % containment), best score
    first; a second look's hand (source "refine", centred on the hand) wins over the finds it repeats,
    which may be partial (the handedness score says nothing about the box)."""
    keep = nms([f.box for f in found], [f.score + (f.source == "refine") - (f.source == "cut") for f in found], 0.3, 0.6)
    return [found[i] for i in keep]


class HandDetector:
    """Registry name "hand". Safe to share between threads (MediaPipe calls are locked)."""

    name = "hand"

    def raw_hands(self, image: np.ndarray, options: Options) -> list[RawHand]:
        """Merged MediaPipe hands (full frame + person crops + hand windows), before size filters and verdicts."""
        image = check_image(image)
        h, w = image.shape[:2]
        floor = confidence_floor(PALM_FACTOR * options.hand_confidence)
        faces = [f.box for f in detect_face_boxes(image, PERSON_FACE_CONFIDENCE)]
        # both scales (a group's 2x2 grid comes from both: kept once)
        crops = list(dict.fromkeys(person_crops(faces, w, h) + hand_windows(faces, w, h))) if options.hand_crops else []
        found: list[RawHand] = []
        # the 2x2 grid covers the whole image, so the full-frame pass would only find duplicates
        if not _covers(crops, w, h):
            for cx in hand_models(FULL_FRAME_MODELS):
                found += run_hands(image, (0, 0, w, h), _max_hands(cx), floor, "full", cx)
        # people found by their face are covered by the full frame (large ones) or their windows
        tiles = image_tiles(w, h, crops, [person_region(f, w, h) for f in faces]) if options.hand_crops else []
        # every crop runs: skipping one that already held two full-frame hands lost hands once the
        # lite full-frame pass found more (a person crop also holds a neighbour's hands)
        for crop, cx in [(c, CROP_COMPLEXITY) for c in crops] + tiles:
            found += [_mark_cut(f, crop, w, h) for f in run_hands(image, crop, _max_hands(cx), floor, "crop", cx)]
        found = _merge(_kept(found, options.hand_confidence, faces))
        if not options.hand_crops:
            return found
        # a second look, centred, at each hand a crop holds only part of (cut by its edge) and no other
        # pass found whole: MediaPipe boxes such a part badly (all crop finds: the same hits, +15 % calls)
        again: list[RawHand] = []
        for f in [f for f in found if f.source == "cut"][:MAX_REFINE]:
            win = refine_window(f.box, w, h)
            if win is not None:
                again += run_hands(image, win, _max_hands(CROP_COMPLEXITY), floor, "refine", CROP_COMPLEXITY)
        again = _kept(again, options.hand_confidence, faces)
        return _merge(found + again) if again else found

    def detect(self, image: np.ndarray, options: Options, prompt: str = "") -> list[Region]:
        """Hands in an (H, W, 3) uint8 RGB image as ``Region(kind="hand")``, best score first."""
        image = check_image(image)
        h, w = image.shape[:2]
        out = []
        for hand in self.raw_hands(image, options):
            box = to_int_box(hand.box, w, h)
            frac = box_area(box) / (w * h)
            if not options.hand_min_area <= frac <= options.hand_max_area:
                continue
            out.append(self._judge(hand, box, w, h, options, image))
        return out

    def _judge(self, hand: RawHand, box: tuple[int, int, int, int], w: int, h: int, options: Options,
               image: np.ndarray | None = None) -> Region:
        verdict = check_hand(hand.points, hand.score)
        reasons = list(verdict.reasons)
        defects = list(verdict.defects)
        if options.detect_extra_fingers and image is not None:
            extra, _ = extra_finger_reason(image, hand.points)
            if extra:
                reasons.append(extra)
                defects.append("extra_fingers")
        if options.detect_cropping:
            cut = cropped_reason("hand", hand.box, w, h, hand.points)
            if cut:
                reasons.append(cut)
                defects.append("cropped_hand")
        palm = verdict.measures.get("palm_px", 0.0)
        ring = np.stack([np.cos(np.linspace(0, 2 * np.pi, 8, endpoint=False)),
                         np.sin(np.linspace(0, 2 * np.pi, 8, endpoint=False))], axis=1) * MASK_GROW * palm
        grown = (hand.points[:, None, :2] + ring[None]).reshape(-1, 2)
        grown[:, 0] = grown[:, 0].clip(0, w - 1)
        grown[:, 1] = grown[:, 1].clip(0, h - 1)
        landmarks = tuple((float(x), float(y)) for x, y in hand.points[:, :2])
        return Region("hand", box, hand.score, DEFECT if defects else OK, tuple(reasons), tuple(defects),
                      self.name, hull(grown), landmarks)
