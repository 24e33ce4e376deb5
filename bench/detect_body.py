"""Body and face-detail checks for bench/detect.py: anatomy (pose + hands), extra fingers, teeth, waxy
skin -- recall and precision on labelled cases, false regions on the clean photos, and their cost.

Cases (testkit/fixtures_body.py, testkit/fixtures_parts.py; labels of the real photos in
tests/data/body_labels.json):

- anatomy: 24 clean mannequin figures (photo heads, rendered hands) and 24 with one planted limb
  defect (extra_limb, detached_hand, missing_limb), plus the bundled photos (none has a defect);
  a hit is a region with the planted defect overlapping its box (``strict``) or any limb-count defect
  on the defective figure (``any``); precision counts every region on every image. Twisted joints:
  the pose rules on 7 named perturbations of a canonical body and on real MediaPipe pose sets;
- extra fingers: 24 rendered hands with five fingers and 24 with six (hand detector, its option on);
- teeth: the astronaut's smile at 3 scales and mirrored, unedited / a missing tooth (2 places) /
  fused teeth (face detector, its option on);
- waxy skin: Grace Hopper's face at 3 scales, unedited / smoothed mild and strong / blurred / JPEG.

Run alone: .venv/bin/python bench/detect.py body
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from lib_qfix.detect.face_boxes import clear_memo
from lib_qfix.detect.mediapipe_runtime import solution
from lib_qfix.detect.nms import intersection
from lib_qfix.detect.pose_rules import check_pose
from lib_qfix.registry import create_detector
from lib_qfix.samples import all_photos
from testkit.fixtures_body import POSE_PERTURBATIONS, anatomy_cases, canonical_pose
from testkit.fixtures_parts import finger_cases, labels, mouth_cases, skin_cases

LIMB_DEFECTS = ("extra_limb", "detached_hand", "missing_limb")


def _pr(hits: int, positives: int, correct: int, found: int) -> tuple[float, float]:
    return hits / max(positives, 1), (correct / found if found else 1.0)


def _ms(values: list[tuple[float, float]]) -> str:
    """Median wall and process-CPU milliseconds of (wall, cpu) second pairs (on a shared machine the
    CPU time is the steadier figure; MediaPipe may use a second thread, so it can exceed the wall)."""
    if not values:
        return "n/a"
    return (f"median {statistics.median(v[0] for v in values) * 1000:.0f} ms "
            f"(cpu {statistics.median(v[1] for v in values) * 1000:.0f} ms)")


def _cpu(values: list[tuple[float, float]]) -> float:
    return statistics.median(v[1] for v in values)


def _timed(fn, *args):
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, (time.perf_counter() - t, time.process_time() - c)


def _judged(detector, cases, options, want: str | None = None):
    """(defects per case, (wall, cpu) seconds per case): the defects of the regions ``detector`` finds."""
    out, lat = [], []
    for c in cases:
        clear_memo()
        regions, dt = _timed(detector.detect, c.image, options)
        lat.append(dt)
        out.append([d for r in regions for d in r.defects if want is None or d == want])
    return out, lat


def bench_anatomy(opts) -> dict[str, float]:
    print("\n== anatomy (pose + hands): 24 clean + 24 planted mannequin figures, and the bundled photos")
    det = create_detector("anatomy")
    on = opts.replace(detect_anatomy=True)
    cases = anatomy_cases()
    photos = {n: img for n, img in all_photos().items() if n in labels()}
    det.detect(cases[0].image, on)
    lat, strict, lenient, positives, correct, found, per = [], 0, 0, 0, 0, 0, {}
    for c in cases:
        clear_memo()
        regions, dt = _timed(det.detect, c.image, on)
        lat.append(dt)
        found += len(regions)
        if not c.defects:
            continue
        positives += 1
        want = c.defects[0]
        good = [r for r in regions if want in r.defects and intersection(r.box, c.boxes[0]) > 0]
        strict += bool(good)
        lenient += any(d in LIMB_DEFECTS for r in regions for d in r.defects)
        correct += sum(1 for r in regions if any(d in LIMB_DEFECTS for d in r.defects))
        per.setdefault(want, [0, 0])
        per[want][0] += bool(good)
        per[want][1] += 1
    false_real, lat_photos = 0, []
    for img in photos.values():
        clear_memo()
        regions, dt = _timed(det.detect, img, on)
        lat_photos.append(dt)
        found += len(regions)
        false_real += len(regions)
    recall, precision = _pr(strict, positives, correct, found)
    print(f"  planted limb defects found: strict {strict}/{positives}, any limb defect {lenient}/{positives}; "
          + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(per.items())))
    print(f"  regions: {found} in all ({correct} limb defects on defective figures); precision {precision:.2f}; "
          f"on the {len(photos)} bundled photos: {false_real}")
    print(f"  cost per 512 px figure (one person) {_ms(lat)}, per bundled photo {_ms(lat_photos)}")
    # twisted joints: the rules on named perturbations and on real pose sets
    flagged = 0
    for f, word in POSE_PERTURBATIONS.items():
        p, v, w = canonical_pose()
        flagged += any(word in r for r in check_pose(*f((p.copy(), v.copy(), w.copy()))).reasons)
    real = []
    for img in list(photos.values()) + [c.image for c in cases if not c.defects]:
        h, w = img.shape[:2]
        for pose in solution("pose", min_detection_confidence=0.5).run(img):
            real.append(check_pose(pose.points * (w, h, w), pose.visibility, pose.world, on.anatomy_visibility))
    kept = sum(v.plausible for v in real)
    print(f"  twisted-joint rules: perturbations flagged {flagged}/{len(POSE_PERTURBATIONS)}; real MediaPipe poses "
          f"(photos + clean figures) kept plausible {kept}/{len(real)}")
    return {"anatomy_recall": recall, "anatomy_precision": precision, "anatomy_false_real": false_real,
            "anatomy_cpu_ms": _cpu(lat) * 1000, "twisted_recall": flagged / len(POSE_PERTURBATIONS),
            "twisted_false": len(real) - kept}


def bench_fingers(opts) -> dict[str, float]:
    print("\n== extra fingers: 24 rendered hands with five fingers, 24 with six (flat and photo backdrops)")
    det = create_detector("hand")
    on = opts.replace(detect_extra_fingers=True)
    cases = finger_cases()
    det.detect(cases[0].image, on)
    found, lat_on = _judged(det, cases, on, "extra_fingers")
    _, lat_off = _judged(det, cases, opts)
    hits = sum(bool(f) for f, c in zip(found, cases, strict=True) if c.defects)
    false = sum(bool(f) for f, c in zip(found, cases, strict=True) if not c.defects)
    pos = sum(bool(c.defects) for c in cases)
    recall, precision = _pr(hits, pos, hits, hits + false)
    for backdrop in ("flat", "coffee"):
        idx = [i for i, c in enumerate(cases) if c.name.endswith(backdrop)]
        print(f"    {backdrop}: six found {sum(bool(found[i]) for i in idx if cases[i].defects)}/"
              f"{sum(bool(cases[i].defects) for i in idx)}, five flagged "
              f"{sum(bool(found[i]) for i in idx if not cases[i].defects)}/{sum(not cases[i].defects for i in idx)}")
    print(f"  recall {recall:.2f} ({hits}/{pos}), precision {precision:.2f}; hand detector {_ms(lat_on)} with the "
          f"check, {_ms(lat_off)} without")
    return {"fingers_recall": recall, "fingers_precision": precision,
            "fingers_cpu_ms": (_cpu(lat_on) - _cpu(lat_off)) * 1000}


def _face_bench(title: str, cases, opts, option: str, defects: tuple[str, ...]) -> tuple[float, float, float]:
    det = create_detector("face")
    on = opts.replace(**{option: True})
    det.detect(cases[0].image, on)
    found, lat_on = _judged(det, cases, on)
    _, lat_off = _judged(det, cases, opts)
    found = [[d for d in f if d in defects] for f in found]
    hits = sum(bool(set(f) & set(c.defects)) for f, c in zip(found, cases, strict=True) if c.defects)
    n_found = sum(bool(f) for f in found)
    pos = sum(bool(c.defects) for c in cases)
    recall, precision = _pr(hits, pos, hits, n_found)
    print(f"\n== {title}")
    for c, f in zip(cases, found, strict=True):
        if bool(f) != bool(c.defects):
            print(f"    {'missed' if c.defects else 'false'}: {c.name} {list(f)}")
    print(f"  recall {recall:.2f} ({hits}/{pos}), precision {precision:.2f}; face detector {_ms(lat_on)} with the "
          f"check, {_ms(lat_off)} without")
    return recall, precision, (_cpu(lat_on) - _cpu(lat_off)) * 1000


def bench_clean(opts, clean_images: list[np.ndarray]) -> int:
    """Regions the new checks add on the clean set (all of them on vs the defaults)."""
    on = opts.replace(detect_anatomy=True, detect_extra_fingers=True, detect_teeth=True, detect_waxy_skin=True)
    extra = 0
    for img in clean_images:
        for name, switch in (("face", None), ("hand", None), ("anatomy", "detect_anatomy")):
            clear_memo()
            base = [] if switch else create_detector(name).detect(img, opts)
            new = create_detector(name).detect(img, on)
            extra += len(new) - len(base) + sum(len(r.defects) for r in new) - sum(len(r.defects) for r in base)
    return extra


def bench_body(opts, clean_images: list[np.ndarray]) -> dict[str, float]:
    """Every section; the figures for the benchmark's last line."""
    out = bench_anatomy(opts)
    out.update(bench_fingers(opts))
    r, p, ms = _face_bench("teeth: the astronaut's smile (3 scales, mirrored): unedited / missing tooth / fused",
                           mouth_cases(), opts, "detect_teeth", ("missing_teeth", "fused_teeth"))
    out.update(teeth_recall=r, teeth_precision=p, teeth_cpu_ms=ms)
    r, p, ms = _face_bench("waxy skin: Grace Hopper's face (3 scales): unedited / smoothed mild, strong / blur / JPEG",
                           skin_cases(), opts, "detect_waxy_skin", ("waxy_skin",))
    out.update(skin_recall=r, skin_precision=p, skin_cpu_ms=ms)
    out["body_false_on_clean"] = bench_clean(opts, clean_images)
    print(f"\n  new regions or defects on the clean photos with every body check on: {out['body_false_on_clean']}")
    return out
