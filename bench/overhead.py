"""QFix's overhead when nothing needs fixing, as a fraction of a 20-step SD1.5 generation.

Runs the real pipeline (offline scorer, MediaPipe face/hand detectors, OCR text detector as the
options enable them) through the script's ``postprocess_image`` on the fake A1111 host, on 512x512
crops of public-domain photos, and compares with the host running without QFix. The headline uses
mode "score_only" (score + diagnose + infotext: exactly what fix mode does when nothing needs
fixing, on every photo); the fix-mode column shows what the same photos cost when the detectors
did find something (inner passes are the fake host's, so their model time is not included). Reference
generation: 1.5 s (a 20-step SD1.5 512x512 image on a mid-range GPU) or ``--gpu-ref SECONDS``.
Goal: <= 5 %. Last line: ``overhead: ms_per_image=<median> pct_of_generation=<median %>
cpu_ms_per_image=<median>``; the CPU figure (process CPU time, all threads, with minus without
QFix) is what other processes on a shared machine inflate least: on an idle 2-core machine the
wall time is about max(main-thread CPU, CPU / 2).

    python bench/overhead.py [--repeats 5] [--gpu-ref 1.5] [--no-text] [--scene] [--body]

``--scene`` also switches on the scene detectors that are off by default (logos, composition, lighting)
to show what they would add; ``--body`` the body checks that are off by default (anatomy from pose,
extra fingers, teeth, waxy skin).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "stereo_motorcycle")


def square512(name: str) -> np.ndarray:
    from PIL import Image

    from lib_qfix.samples import skimage_photo

    img = Image.fromarray(skimage_photo(name))
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return np.asarray(img.crop((left, top, left + s, top + s)).resize((512, 512), Image.LANCZOS))


def breakdown(img: np.ndarray, options, repeats: int) -> None:
    """Median ms of each stage on one photo (what the overhead is made of)."""
    from lib_qfix.diagnose import enabled_detectors
    from lib_qfix.registry import create_detector
    from lib_qfix.scoring import scorer_for

    scorer, _ = scorer_for(options)
    stages = [("score", lambda: scorer.score([img]))]
    stages += [(n, lambda n=n: create_detector(n).detect(img, options, "")) for n in enabled_detectors(options)]
    parts = []
    for label, fn in stages:
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        parts.append(f"{label} {statistics.median(ts) * 1000:.1f} ms")
    print("stages on coffee: " + ", ".join(parts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gpu-ref", type=float, default=1.5, help="seconds per generation to compare with")
    ap.add_argument("--no-text", action="store_true", help="turn the OCR text detector off")
    ap.add_argument("--scene", action="store_true", help="also run the scene detectors (logos, composition, lighting)")
    ap.add_argument("--body", action="store_true", help="also run the body checks (anatomy, extra fingers, teeth, skin)")
    a = ap.parse_args()

    import pytest

    from lib_qfix.options import DEFAULTS, positional
    from testkit.fake_a1111 import install
    from testkit.fake_a1111.host_api import make_runner, txt2img

    mp = pytest.MonkeyPatch()
    host = install(mp, Path(tempfile.mkdtemp(prefix="qfix-bench-")))
    from lib_qfix.a1111.script import QFixScript

    script = QFixScript()
    runner, defaults = make_runner(host, script)
    base = DEFAULTS.replace(enable=True, detect_text=not a.no_text)
    if a.scene:
        base = base.replace(detect_logos=True, detect_composition=True, detect_lighting=True)
    if a.body:
        base = base.replace(detect_anatomy=True, detect_extra_fingers=True, detect_teeth=True, detect_waxy_skin=True)
    on = [0] + positional(base.replace(mode="score_only"))
    fix = [0] + positional(base)
    off = [0] + defaults[1:]

    cpu: list[float] = []  # process CPU seconds of each gen() call, in call order

    def gen(args, img):
        host.base_image = img
        t, c = time.perf_counter(), time.process_time()
        _, processed = txt2img(host, runner, args, width=512, height=512)
        cpu.append(time.process_time() - c)
        return time.perf_counter() - t, processed

    images = {n: square512(n) for n in PHOTOS}
    t0 = time.perf_counter()
    gen(on, images["astronaut"])  # model construction and first calls: reported, not counted
    first = time.perf_counter() - t0
    print(f"reference generation: {a.gpu_ref:.2f} s (20-step SD1.5, 512x512)")
    print(f"first call (builds detectors): {first * 1000:.0f} ms, not counted")
    print(f"{'image':<18}{'QFix ms':>9}{'no QFix ms':>11}{'overhead ms':>12}{'% of gen':>9}{'cpu ms':>8}"
          f"{'fix-mode ms':>12}  passes")
    per_image, per_image_cpu = [], []
    for name, img in images.items():
        with_t, without_t, fix_t, with_c, without_c = [], [], [], [], []
        for _ in range(a.repeats):
            with_t.append(gen(on, img)[0])
            with_c.append(cpu[-1])
            without_t.append(gen(off, img)[0])
            without_c.append(cpu[-1])
            host.inner.clear()
            fix_t.append(gen(fix, img)[0])
        w, wo, fx = (statistics.median(t) for t in (with_t, without_t, fix_t))
        ov = max(0.0, w - wo)
        ov_cpu = max(0.0, statistics.median(with_c) - statistics.median(without_c))
        per_image.append(ov)
        per_image_cpu.append(ov_cpu)
        print(f"{name:<18}{w * 1000:>9.1f}{wo * 1000:>11.1f}{ov * 1000:>12.1f}{ov / a.gpu_ref * 100:>8.2f}%"
              f"{ov_cpu * 1000:>8.1f}{(fx - wo) * 1000:>12.1f}  {len(host.inner)}")
    breakdown(images["coffee"], base, a.repeats)
    med = statistics.median(per_image)
    pct = med / a.gpu_ref * 100
    print(f"goal <= 5%: {'met' if pct <= 5 else 'NOT met'} (ratio to goal {pct / 5:.2f}); "
          f"text detector {'off' if a.no_text else 'on'}")
    mp.undo()
    print(f"overhead: ms_per_image={med * 1000:.1f} pct_of_generation={pct:.2f} "
          f"cpu_ms_per_image={statistics.median(per_image_cpu) * 1000:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
