"""Region fidelity: after an inpaint pass, each repainted region is judged on its own.

The global score barely moves when one region changes, and a detector that no longer finds a face
in painted noise reports one defect fewer: judged globally, erasing the subject looks like a fix.
So every region a round repainted is compared with the same region before the pass, on a crop
around its box (cost: two small detector runs per face or hand, a few array passes per region;
regions the pass left unchanged are not measured). Each check gives a degradation ``d`` (0 = as
before, >= 1 = failed); the region's score is ``1 - min(1, max d)`` (0..1) and the most specific
failing check (:data:`REASON_ORDER`) names the reason.

- **presence** (faces, hands): the detector of the region's kind runs on a crop of
  :data:`CONTEXT` x the box, before and after (confidence floor :data:`PRESENCE_CONFIDENCE`).
  Where it found the subject before, it must find it after at a plausible place and size (IoU >=
  :data:`MATCH_IOU`, or centre within :data:`CENTRE_TOLERANCE` of the size and size ratio within
  :data:`SIZE_RANGE`) with at least :data:`KEEP_CONFIDENCE` x its confidence before: else "face
  moved" (something near it) or "face lost". Not found before on the crop: not judged.
- **local quality** (faces, hands): sharpness inside the region must keep :data:`BLUR_RATIO` of
  before's, the face detector's own blur ratio ("face blurred"); the noise estimate must stay under
  :data:`NOISE_RATIO` x before's + :data:`NOISE_FLOOR` grey levels ("face noisier").
- **band** (watermarks, text; before holds the letters, so the band is compared with its
  surroundings instead): |log(noise inside / noise in the ring)| beyond the larger of
  :data:`BAND_SOFT` and its value before the pass by more than ``BAND_LIMIT - BAND_SOFT``:
  "watermark band noisier/smoother than its surroundings".
- **seam** (all kinds): the 90th percentile, along the mask border, of how much more the two sides
  differ in local mean colour than before, above :data:`SEAM_COLOUR` grey levels: "seam around the face".
- **shift** (all kinds): the content just inside the border matches the old content displaced by
  d >= :data:`MIN_SHIFT_PX` px with under :data:`SHIFT_GAIN` of the undisplaced error: "face shifted".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from lib_qfix.detect.nms import iou
from lib_qfix.fix import local_stats as ls
from lib_qfix.fix.outcome import RegionCheck
from lib_qfix.fix.plan import FixGroup
from lib_qfix.options import Options
from lib_qfix.protocols import Detector
from lib_qfix.registry import create_detector
from lib_qfix.scoring.signals import luminance
from lib_qfix.types import Box, Region

#: (before image, after image, the groups the round repainted) -> one check per repainted region
RegionChecker = Callable[[np.ndarray, np.ndarray, Sequence[FixGroup]], tuple[RegionCheck, ...]]

SUBJECT_KINDS = ("face", "hand")
#: the presence crop's side over the box's longer side (context for the detector)
CONTEXT = 2.2
#: detector confidence floor (0..1) on the crops, and the share of its confidence before that the
#: subject must keep after
PRESENCE_CONFIDENCE, KEEP_CONFIDENCE = 0.3, 0.6
#: "the same subject": IoU (0..1), or centre offset (fraction of the size) and size ratio
MATCH_IOU, CENTRE_TOLERANCE, SIZE_RANGE = 0.3, 0.35, (0.6, 1.6)
#: sharpness after / before below which a face or hand is blurred (the face detector's 0.4)
BLUR_RATIO = 0.4
#: noise after may reach NOISE_RATIO x before + NOISE_FLOOR grey levels (before: ~1..4 in photos)
NOISE_RATIO, NOISE_FLOOR = 2.0, 4.0
#: |log noise ratio| of a band vs its ring: free up to log 1.5, failed past log 2.5 (beyond before's)
BAND_SOFT, BAND_LIMIT = math.log(1.5), math.log(2.5)
#: border colour step excess (90th percentile, grey levels) that fails; a perfect repaint gives ~0,
#: a 4-level brightness change 4, a different face or noise 50+
SEAM_COLOUR = 25.0
#: a slip: best displacement >= MIN_SHIFT_PX px with error under SHIFT_GAIN x the undisplaced error,
#: which must be >= SHIFT_MIN_ERROR grey levels (below that the content is too alike to tell)
SHIFT_GAIN, SHIFT_MIN_ERROR, MIN_SHIFT_PX = 0.5, 4.0, 2
#: which failing check names the reason (the most specific first: a lost face also leaves a seam)
REASON_ORDER = ("presence", "shift", "blur", "noise", "band", "seam")
#: a region whose pixels moved by at most this many grey levels was not repainted
UNCHANGED = 1
#: crop margin (px) around the mask for the local statistics: rings, windows and shifts fit in it
STATS_MARGIN = 2 * ls.RING_PX + ls.MAX_SHIFT_PX + 24


def _crop_box(box: Box, scale: float, w: int, h: int, margin: int = 0) -> Box:
    x0, y0, x1, y1 = box
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * scale / 2 + margin
    return (max(0, int(cx - side)), max(0, int(cy - side)), min(w, int(math.ceil(cx + side))),
            min(h, int(math.ceil(cy + side))))


def _mask_window(mask: np.ndarray, box: Box) -> Box:
    """The window around ``box`` holding its part of ``mask`` plus :data:`STATS_MARGIN`."""
    h, w = mask.shape
    x0, y0, x1, y1 = _crop_box(box, 1.0, w, h, STATS_MARGIN)
    ys, xs = np.nonzero(mask[y0:y1, x0:x1])
    if ys.size:
        x0, y0, x1, y1 = x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1
    m = STATS_MARGIN
    return max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)


def _relation(ref: Box, box: Box) -> str:
    """``"same"`` when ``box`` is ``ref`` at a plausible place and size, ``"near"`` when it overlaps
    ``ref`` or its centre lies within one ``ref`` size but is not the same, else ``"other"``."""
    rsize = math.sqrt(max(1, (ref[2] - ref[0]) * (ref[3] - ref[1])))
    size = math.sqrt(max(1, (box[2] - box[0]) * (box[3] - box[1])))
    centre = math.hypot((box[0] + box[2] - ref[0] - ref[2]) / 2, (box[1] + box[3] - ref[1] - ref[3]) / 2)
    overlap = iou(ref, box)
    if overlap >= MATCH_IOU or (centre <= CENTRE_TOLERANCE * rsize and SIZE_RANGE[0] <= size / rsize <= SIZE_RANGE[1]):
        return "same"
    return "near" if overlap > 0 or centre <= rsize else "other"


class FidelityChecker:
    """The real :data:`RegionChecker`: the registered detectors (``create_detector(kind)``) and
    :mod:`lib_qfix.fix.local_stats`. ``options`` give the detectors' settings and the mask feather."""

    def __init__(self, options: Options, prompt: str = "",
                 detector_for: Callable[[str], Detector] | None = None) -> None:
        self.prompt = prompt
        self.detector_for: Callable[[str], Detector] = detector_for or create_detector
        self.feather = int(getattr(options, "mask_feather", 4))
        self.options = options.replace(
            face_min_area=0.0, face_max_area=1.0, hand_min_area=0.0, hand_max_area=1.0, hand_crops=False,
            face_confidence=min(float(options.face_confidence), PRESENCE_CONFIDENCE),
            hand_confidence=min(float(options.hand_confidence), PRESENCE_CONFIDENCE))

    def __call__(self, before: np.ndarray, after: np.ndarray, groups: Sequence[FixGroup]) -> tuple[RegionCheck, ...]:
        return tuple(self.check(before, after, g.mask, r) for g in groups for r in g.regions if r.box is not None)

    def check(self, before: np.ndarray, after: np.ndarray, mask: np.ndarray, region: Region) -> RegionCheck:
        """One region repainted under ``mask`` (the whole image's mask), judged before -> after."""
        assert region.box is not None
        x0, y0, x1, y1 = _mask_window(mask, region.box)
        b, a, m = before[y0:y1, x0:x1], after[y0:y1, x0:x1], mask[y0:y1, x0:x1]
        touched = m > 0
        if not touched.any() or int(np.abs(a.astype(np.int16) - b)[touched].max()) <= UNCHANGED:
            return RegionCheck(region.kind, region.box, 1.0, "", {"changed": 0.0})
        found: dict[str, tuple[float, str]] = {}
        measures: dict[str, float] = {"changed": 1.0}
        if region.kind in SUBJECT_KINDS:
            found["presence"] = self._presence(region, before, after, measures)
            found.update(self._quality(region.kind, b, a, ls.rings(m, self.feather).core, measures))
        else:
            found["band"] = self._band(region.kind, b, a, m, measures)
        found.update(self._border(region.kind, b, a, m, measures))
        worst = max(d for d, _ in found.values())
        reason = next((found[k][1] for k in REASON_ORDER if k in found and found[k][0] >= 1), "")
        return RegionCheck(region.kind, region.box, round(1.0 - min(1.0, worst), 4), reason, measures)

    def _presence(self, region: Region, before: np.ndarray, after: np.ndarray,
                  measures: dict[str, float]) -> tuple[float, str]:
        assert region.box is not None
        h, w = before.shape[:2]
        det = self.detector_for(region.kind)

        def boxes(image: np.ndarray, window: Box) -> list[tuple[Box, float]]:
            x0, y0, x1, y1 = window
            found = det.detect(image[y0:y1, x0:x1], self.options, self.prompt)
            return [(r.box, float(r.confidence)) for r in found if r.box is not None]

        # the context crop first; a subject not seen there (a small one may need the whole image) is
        # judged on the whole images, so "it vanished" is never an unjudged "fixed"
        ref: list[tuple[Box, float]] = []
        for window in (_crop_box(region.box, CONTEXT, w, h), (0, 0, w, h)):
            own = (region.box[0] - window[0], region.box[1] - window[1], region.box[2] - window[0],
                   region.box[3] - window[1])
            ref = [(b, c) for b, c in boxes(before, window) if _relation(own, b) == "same"]
            if ref:
                break
        measures["presence_before"] = float(bool(ref))
        if not ref:
            return 0.0, ""  # the detector does not see it: presence cannot judge the result
        best, conf = max(ref, key=lambda bc: (iou(bc[0], own), bc[1]))
        after_boxes = boxes(after, window)
        # as sure as before, within a factor: a weak "face" in painted noise is not the face
        found = {_relation(best, b) for b, c in after_boxes if c >= KEEP_CONFIDENCE * conf}
        measures["presence_after"] = float("same" in found)
        if "same" in found:
            return 0.0, ""
        return 1.0, f"{region.kind} moved" if "near" in found else f"{region.kind} lost"

    @staticmethod
    def _quality(kind: str, b: np.ndarray, a: np.ndarray, core: np.ndarray,
                 measures: dict[str, float]) -> dict[str, tuple[float, str]]:
        gb, ga = luminance(b), luminance(a)
        sb, sa = ls.sharpness(gb, core), ls.sharpness(ga, core)
        nb, na = ls.noise_sigma(gb, core), ls.noise_sigma(ga, core)
        ratio = sa / sb if sb > 0 else 1.0
        measures.update(sharpness_ratio=round(ratio, 4), noise_before=round(nb, 3), noise_after=round(na, 3))
        blur = max(0.0, (1.0 - ratio) / (1.0 - BLUR_RATIO))
        noise = max(0.0, na - nb) / ((NOISE_RATIO - 1.0) * nb + NOISE_FLOOR)
        return {"blur": (blur, f"{kind} blurred"), "noise": (noise, f"{kind} noisier")}

    def _band(self, kind: str, b: np.ndarray, a: np.ndarray, m: np.ndarray,
              measures: dict[str, float]) -> tuple[float, str]:
        nb, na = ls.band_noise(b, m, self.feather), ls.band_noise(a, m, self.feather)
        measures.update(band_noise_before=round(nb, 4), band_noise_after=round(na, 4))
        # what exceeds both the free tolerance and the band's own unlikeness before the pass counts
        d = max(0.0, abs(na) - max(abs(nb), BAND_SOFT)) / (BAND_LIMIT - BAND_SOFT)
        return d, f"{kind} band {'noisier' if na > 0 else 'smoother'} than its surroundings"

    def _border(self, kind: str, b: np.ndarray, a: np.ndarray, m: np.ndarray,
                measures: dict[str, float]) -> dict[str, tuple[float, str]]:
        out: dict[str, tuple[float, str]] = {}
        rg = ls.rings(m, self.feather)
        pts = ls.border_points(rg)
        if pts.any():
            excess = float(np.percentile(ls.border_steps(a, rg, pts) - ls.border_steps(b, rg, pts), 90))
            measures["seam_colour"] = round(excess, 3)
            out["seam"] = (max(0.0, excess) / SEAM_COLOUR, f"seam around the {kind}")
        (dx, dy), err0, err = ls.misalignment(b, a, m, self.feather)
        measures.update(shift_px=float(math.hypot(dx, dy)), shift_error=round(err0, 3), shift_best=round(err, 3))
        slipped = max(abs(dx), abs(dy)) >= MIN_SHIFT_PX and err0 >= SHIFT_MIN_ERROR and err < SHIFT_GAIN * err0
        out["shift"] = (1.0 if slipped else 0.0, f"{kind} shifted {max(abs(dx), abs(dy))} px")
        return out


def region_checker(options: Options, prompt: str = "") -> RegionChecker:
    """The default region checker (real detectors) for ``options``."""
    return FidelityChecker(options, prompt)
