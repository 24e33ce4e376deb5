"""Cost of the upscale + detail step on CPU with the fake A1111 host, and QFix's overhead when the
step is off compared with the code path before it existed, in the same run.

Measured (medians, milliseconds):
- ``lanczos_ms``: the reference resize of a 512² image to 1024² (core, no host);
- ``upscaler_ms``: the adapter path (``shared.sd_upscalers`` lookup, the fake R-ESRGAN 4x+ stand-in,
  which is a Lanczos 4x plus unsharp mask, not a network: a real model's time is the host's), 512² -> 1024²;
- ``score_ms``: one offline score of a 1024² candidate (each step scores 2 or 3 candidates);
- ``step_ms_per_512``: the whole step without the detail pass with the default upscaler (Lanczos:
  the reference and one score); ``host_step_ms_per_512`` the same with R-ESRGAN 4x+ (stand-in, two scores);
- ``detail_ms_per_tile``: the detail pass through the script's inpainter on the fake host (inner
  pass built, run with an unchanged tile, guards, blending), per 512² tile, 9 tiles for 1024²; the
  model's sampling time is the host's and not included;
- ``blend_ms_per_tile``: the tiling core alone (crop, weights, accumulate), per tile;
- ``off_ms`` / ``today_ms``: QFix per 512² image with the step off, through the script as it is now,
  and with the step's entry point replaced by what the script did before (nothing); ``off_ratio``
  is their ratio (1.00 = unchanged, within the noise of a shared CPU); ``off_call_us``: what the step's
  entry point costs per image when the step is off (the only code the off path adds).

Last line: ``upscale: lanczos_ms=... upscaler_ms=... score_ms=... step_ms_per_512=... host_step_ms_per_512=...
detail_ms_per_tile=... blend_ms_per_tile=... off_ms=... today_ms=... off_ratio=... off_call_us=...``.

    .venv/bin/python bench/upscale.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/upscale.py` from anywhere

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def square(name: str, side: int = 512) -> np.ndarray:
    from PIL import Image

    from lib_qfix.samples import skimage_photo

    img = Image.fromarray(skimage_photo(name))
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return np.asarray(img.crop((left, top, left + s, top + s)).resize((side, side), Image.LANCZOS))


def median_ms(fn: Callable[[], Any], repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)

    import pytest

    from lib_qfix.fix import tiles
    from lib_qfix.fix import upscale_step as U
    from lib_qfix.options import DEFAULTS, positional
    from lib_qfix.scoring import scorer_for
    from testkit.fake_a1111 import install
    from testkit.fake_a1111.host_api import make_runner, txt2img

    mp = pytest.MonkeyPatch()
    host = install(mp, Path(tempfile.mkdtemp(prefix="qfix-bench-")))
    from lib_qfix.a1111 import script as script_module
    from lib_qfix.a1111.inpainter import A1111Inpainter
    from lib_qfix.a1111.upscaler import A1111Upscaler

    host.inpaint_fn = lambda p: p.init_images[0]  # the model's time is not QFix's
    img = square("astronaut")
    scorer, _ = scorer_for(DEFAULTS)
    big = U.lanczos(img, (1024, 1024))

    def score(x: np.ndarray) -> float | None:
        return scorer.score([x])[0].quality

    score(big)  # first call: BRISQUE model load, not counted
    lanczos_ms = median_ms(lambda: U.lanczos(img, (1024, 1024)), a.repeats)
    upscaler_ms = median_ms(lambda: A1111Upscaler().upscale(img, 2.0, "R-ESRGAN 4x+"), a.repeats)
    score_ms = median_ms(lambda: score(big), a.repeats)
    no_detail = DEFAULTS.replace(enable=True, upscale=True, detail_pass=False)  # the default upscaler, Lanczos
    step_ms = median_ms(lambda: U.run_upscale(img, no_detail, upscaler=A1111Upscaler(), score=score), a.repeats)
    host_step = no_detail.replace(upscaler="R-ESRGAN 4x+")
    host_step_ms = median_ms(lambda: U.run_upscale(img, host_step, upscaler=A1111Upscaler(), score=score), a.repeats)
    print(f"upscale 512² -> 1024²: lanczos {lanczos_ms:.1f} ms, adapter + stand-in model {upscaler_ms:.1f} ms, "
          f"score of 1024² {score_ms:.1f} ms; step without detail: {step_ms:.1f} ms with Lanczos (1 score), "
          f"{host_step_ms:.1f} ms with the host's R-ESRGAN 4x+ stand-in (2 scores)")

    # the detail pass through the script's inpainter on an outer txt2img, per tile
    from lib_qfix.a1111.script import QFixScript

    runner, _ = make_runner(host, QFixScript())
    host.base_image = img
    p, _ = txt2img(host, runner, [0] + positional(DEFAULTS), width=512, height=512)
    grid = tiles.tile_grid(1024, 1024, 512, 64)
    inpainter = A1111Inpainter(p, 0)
    detail = DEFAULTS.replace(enable=True, upscale=True)
    detail_opts = U.UpscaleParams.from_options(detail)
    run_detail = lambda: U._detail(big, grid, detail_opts, detail, inpainter, "a photo", "", 1, U._never_stop)  # noqa: E731
    detail_ms = median_ms(run_detail, a.repeats) / len(grid.tiles)
    blend_ms = median_ms(lambda: tiles.refine_tiled(big, grid, lambda px, t: px), a.repeats) / len(grid.tiles)
    print(f"detail pass on 1024² ({grid.describe()}): {detail_ms:.1f} ms per tile through the fake host, "
          f"{blend_ms:.1f} ms per tile for the tiling core alone")

    # overhead with the step off, now vs the script without the step (same run, interleaved)
    images = {n: square(n) for n in PHOTOS}
    args = [0] + positional(DEFAULTS.replace(enable=True, mode="score_only"))
    real = script_module.upscale_for

    def before(*_: Any, **__: Any) -> tuple[None, list[str]]:
        return None, []

    def gen(entry: Callable[..., Any], image: np.ndarray) -> float:
        mp.setattr(script_module, "upscale_for", entry)
        host.base_image = image
        t = time.perf_counter()
        txt2img(host, runner, args, width=512, height=512)
        return time.perf_counter() - t

    gen(real, images["astronaut"])  # detectors built, not counted
    off = DEFAULTS.replace(enable=True)
    calls = 2000
    t = time.perf_counter()
    for _ in range(calls):
        real(p, inpainter, img, off, scorer, "", "", 0)
    off_call_us = (time.perf_counter() - t) / calls * 1e6
    now, today = [], []
    for image in images.values():
        for _ in range(a.repeats):
            now.append(gen(real, image))
            today.append(gen(before, image))
    off_ms, today_ms = statistics.median(now) * 1000, statistics.median(today) * 1000
    print(f"QFix per 512² image (score_only, detectors on), upscale off: {off_ms:.1f} ms now, "
          f"{today_ms:.1f} ms without the step; the step's entry point when off: {off_call_us:.2f} µs per image")
    mp.undo()
    print(f"upscale: lanczos_ms={lanczos_ms:.1f} upscaler_ms={upscaler_ms:.1f} score_ms={score_ms:.1f} "
          f"step_ms_per_512={step_ms:.1f} host_step_ms_per_512={host_step_ms:.1f} detail_ms_per_tile={detail_ms:.1f} "
          f"blend_ms_per_tile={blend_ms:.1f} off_ms={off_ms:.1f} today_ms={today_ms:.1f} "
          f"off_ratio={off_ms / today_ms:.3f} off_call_us={off_call_us:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
