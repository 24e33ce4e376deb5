"""Scene detectors for bench/detect.py: text reading (legible vs garbled), logos, clutter and framing,
lighting; precision/recall on the labelled fixtures of testkit/fixtures_scene.py (hand-labelled bundled
photos + synthetic perturbations), false regions on the clean photos, and median cost per image.

    .venv/bin/python bench/detect.py scene     # this section alone (about a minute)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from lib_qfix.detect.nms import iou
from lib_qfix.registry import create_detector
from testkit.fixtures_detect import clean_cases, watermark_cases
from testkit.fixtures_scene import (
    clutter_cases,
    framing_cases,
    lighting_cases,
    logo_cases,
    real_cases,
    text_cases,
)


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return tp / max(1, tp + fn), (tp / (tp + fp) if tp + fp else 1.0)


def _timed(fn: Callable, *args) -> tuple[object, float]:
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def bench_text_reading(opts) -> dict[str, float]:
    print("\n== text reading: 24 signs in photos (12 legible words, 8 gibberish strings, 4 with sliced glyphs)")
    det = create_detector("text")
    off = opts.replace(text_reading=False)
    det.detect(text_cases()[0].image, opts, "")  # loads the recognition model, not timed
    tp = fp = fn = asked_ok = asked = 0
    read_ms, plain_ms, missed = [], [], []
    for c in text_cases():
        regions, dt = _timed(det.detect, c.image, opts, c.prompt)
        _, dt0 = _timed(det.detect, c.image, off, c.prompt)
        read_ms.append(dt)
        plain_ms.append(dt0)
        line = next((r for r in regions if iou(r.box, c.truth["text"][0]) >= 0.3), None)
        garbled = line is not None and "garbled_text" in line.defects
        if c.label == "garbled":
            tp, fn = tp + garbled, fn + (not garbled)
            if not garbled:
                missed.append(next((x for x in (line.reasons if line else ()) if x.startswith("reads")), c.name))
        else:
            fp += garbled
            if '"' in c.prompt:
                asked += 1
                asked_ok += line is not None and line.verdict == "ok"
    recall, precision = _pr(tp, fp, fn)
    extra = statistics.median(read_ms) - statistics.median(plain_ms)
    print(f"  garbled_text: recall {recall:.2f} ({tp}/{tp + fn}), precision {precision:.2f}; requested signs read ok "
          f"{asked_ok}/{asked}; reading adds {extra * 1000:.0f} ms per image with one text line (median)")
    print("  missed: " + "; ".join(missed))
    found = []
    for c in real_cases():
        found += [f"{c.name}: {r.defects} {r.reasons[1] if len(r.reasons) > 1 else ''}" for r in
                  det.detect(c.image, opts) if r.kind == "text"]
    print("  bundled photos, text lines and their reading: " + ("; ".join(found) or "none"))
    return {"garbled_recall": recall, "garbled_precision": precision, "read_ms": extra * 1000}


def bench_logos(opts) -> dict[str, float]:
    print("\n== logos: 90 flat marks (6 designs x 3 sizes x 5 photos) in corners; clean, real and watermark photos")
    det = create_detector("logo")
    tp = fn = fp = 0
    lat = []
    for c in logo_cases():
        regions, dt = _timed(det.detect, c.image, opts)
        lat.append(dt)
        hit = [r for r in regions if iou(r.box, c.truth["logo"][0]) >= 0.3]
        tp, fn, fp = tp + bool(hit), fn + (not hit), fp + len(regions) - len(hit)
    clean_false = sum(len(det.detect(c.image, opts)) for c in clean_cases() + real_cases())
    wm = sum(len(det.detect(c.image, opts)) for c in watermark_cases())
    recall, precision = _pr(tp, fp + clean_false, fn)
    print(f"  recall {recall:.2f} ({tp}/{tp + fn}), precision {precision:.2f}; false on clean/real photos {clean_false}; "
          f"logo regions on the 75 watermark images {wm}; median {statistics.median(lat) * 1000:.1f} ms")
    return {"logo_recall": recall, "logo_precision": precision, "logo_ms": statistics.median(lat) * 1000,
            "logo_false_clean": clean_false}


def bench_composition(opts) -> dict[str, float]:
    print("\n== composition: 24 people on busy/plain backgrounds, 15 framings, 7 labelled photos")
    det = create_detector("composition")
    lat = []
    counts = {"clutter": [0, 0, 0], "framing": [0, 0, 0]}
    truth_of = {"clutter": "cluttered", "framing": "bad_framing"}
    for c in clutter_cases() + framing_cases() + real_cases():
        regions, dt = _timed(det.detect, c.image, opts)
        lat.append(dt)
        kinds = {r.kind for r in regions}
        for kind, counter in counts.items():
            if kind == "clutter" and c.name.startswith("framing"):
                continue  # framing cases carry no clutter label
            if kind == "framing" and c.name.startswith("clutter"):
                continue
            if c.meta and c.meta.get("cluttered" if kind == "clutter" else "bad_framing") is None:
                continue  # not applicable to this photo (no subject)
            want = c.label == truth_of[kind]
            got = kind in kinds
            counter[0] += want and got
            counter[1] += got and not want
            counter[2] += want and not got
    out = {}
    for kind, (tp, fp, fn) in counts.items():
        recall, precision = _pr(tp, fp, fn)
        out[f"{kind}_recall"], out[f"{kind}_precision"] = recall, precision
        print(f"  {kind}: recall {recall:.2f} ({tp}/{tp + fn}), precision {precision:.2f}")
    out["composition_ms"] = statistics.median(lat) * 1000
    print(f"  median {out['composition_ms']:.1f} ms per image (segmentation + faces + rules)")
    return out


def bench_lighting(opts) -> dict[str, float]:
    print("\n== lighting: 20 portraits with face and scene shaded from the same or opposite sides, 7 photos")
    det = create_detector("lighting")
    tp = fp = fn = 0
    lat = []
    for c in lighting_cases() + real_cases():
        regions, dt = _timed(det.detect, c.image, opts)
        lat.append(dt)
        want, got = c.label == "inconsistent", bool(regions)
        tp, fp, fn = tp + (want and got), fp + (got and not want), fn + (want and not got)
    recall, precision = _pr(tp, fp, fn)
    print(f"  recall {recall:.2f} ({tp}/{tp + fn}), precision {precision:.2f}; median {statistics.median(lat) * 1000:.1f} ms")
    return {"lighting_recall": recall, "lighting_precision": precision, "lighting_ms": statistics.median(lat) * 1000}


def scene_false_on_clean(opts) -> int:
    """Regions the three scene detectors give on the clean photos of bench/detect.py."""
    n = 0
    for name in ("logo", "composition", "lighting"):
        det = create_detector(name)
        for c in clean_cases():
            found = det.detect(c.image, opts)
            n += len(found)
            for r in found:
                print(f"  false {name} on {c.name}: {r.reasons[0]}")
    return n


def bench_scene(opts) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in (bench_text_reading, bench_logos, bench_composition, bench_lighting):
        out.update(part(opts))
    out["scene_false_on_clean"] = scene_false_on_clean(opts)
    print(f"  scene detectors' false regions on the clean photos: {out['scene_false_on_clean']:.0f}")
    return out


def scene_line(m: dict[str, float]) -> str:
    """The scene keys for the benchmark's last line."""
    keys = ("garbled_recall", "garbled_precision", "logo_recall", "logo_precision", "clutter_recall",
            "clutter_precision", "framing_recall", "framing_precision", "lighting_recall", "lighting_precision")
    return " ".join(f"{k}={m[k]:.2f}" for k in keys) + \
        f" scene_false_on_clean={m['scene_false_on_clean']:.0f} read_ms={m['read_ms']:.0f} " \
        f"logo_ms={m['logo_ms']:.0f} composition_ms={m['composition_ms']:.0f} lighting_ms={m['lighting_ms']:.0f}"


if __name__ == "__main__":
    from lib_qfix.options import DEFAULTS

    print(scene_line(bench_scene(DEFAULTS)))
