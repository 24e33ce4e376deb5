"""Benchmark for issue 14 (``qfix fix`` with diffusers). Run: ``.venv/bin/python bench/fix.py``.

Workload: N (default 6) A1111-style PNGs (parameters chunk) made from the astronaut photo (flips,
crops, shifts; 256x256), so every image has a face to repaint (``mode=fix_all``, one round, the
tiny random-weight pipeline of testkit/tiny_diffusers.py sampling the crop at 128 px in 10 steps at
denoise 0.4). Each engine runs the real ``qfix fix`` (detect -> fix -> region checks -> re-score
-> write PNG + report), timed from the call to the end (model load and, for Ray, cluster and
actor start-up included: what a user waits for). Measured:
  1. local engine on the CPU: seconds per image (wall / N) and the median worker seconds per image
     (``--threads`` torch threads per pipeline in both engines, default 1);
  2. the Ray engine (a local Ray instance, ``--ray-actors`` actors): the same,
     the ratio ray/local, and whether both made the same decisions;
  3. with a CUDA GPU (``--device cuda``): the local engine's seconds per image there.
Last line: ``fix: images=… local_s_per_img=… ray_s_per_img=… ray_over_local=… worker_median_s=…
identical=… gpu_s_per_img=…``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PIL.PngImagePlugin import PngInfo  # noqa: E402

INFOTEXT = ("an astronaut, portrait\nNegative prompt: blurry\nSteps: 10, Sampler: Euler a, CFG scale: 7, "
            "Seed: {seed}, Size: 256x256, Model: tiny, Version: v1.10.1")
SETS = ["mode=fix_all", "rounds=1", "inpaint_resolution=128", "use_controlnet=false"]


def make_images(folder: Path, n: int) -> None:
    from lib_qfix.samples import skimage_photo

    base = skimage_photo("astronaut")
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        crop = int(rng.integers(0, 60))
        img = base[crop:base.shape[0] - crop // 2, crop // 2:base.shape[1] - crop]
        if i % 2:
            img = img[:, ::-1]
        info = PngInfo()
        info.add_text("parameters", INFOTEXT.format(seed=1000 + i))
        Image.fromarray(np.ascontiguousarray(img)).resize((256, 256), Image.Resampling.LANCZOS).save(
            folder / f"{i:03d}.png", pnginfo=info)


def run_fix(imgs: Path, out: Path, model: str, *extra: str) -> tuple[float, list[dict], int]:
    """(wall seconds, records, exit code) of one ``qfix fix`` run in this process."""
    from lib_qfix.cli import main

    argv = ["fix", str(imgs), "--model", model, "--out", str(out), "--no-progress", "--restart"]
    for s in SETS:
        argv += ["--set", s]
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        rc = main(argv + list(extra))
    wall = time.perf_counter() - t0
    records = json.loads((out / "results.json").read_text())["records"]
    return wall, records, rc


def decisions(records: list[dict]) -> list[tuple]:
    from lib_qfix.fixrun.records import FixRecord

    return [FixRecord.from_json(r).decision() for r in records]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--ray-actors", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per pipeline, both engines (default 1)")
    args = ap.parse_args()
    import torch

    from lib_qfix.diffusers_host import job  # noqa: F401  (diffusers imported before any timing)
    from testkit.tiny_diffusers import save_tiny

    tmp = Path(tempfile.mkdtemp(prefix="qfix-bench-fix-"))
    model = save_tiny(tmp / "tiny-sd")
    make_images(tmp / "imgs", args.images)
    n = args.images
    print(f"workload: {n} images 256x256, tiny pipeline, torch {torch.__version__}, {args.threads} torch thread(s) "
          "per pipeline")

    threads = ["--threads", str(args.threads)]
    wall, local, rc = run_fix(tmp / "imgs", tmp / "out-local", model, "--device", "cpu", *threads)
    local_s = wall / n
    worker = statistics.median(r["seconds"] for r in local)
    fixed = sum(r["status"] == "fixed" for r in local)
    print(f"local (cpu): {wall:6.1f} s  {local_s:6.2f} s/img  worker median {worker:.2f} s/img  rc={rc} "
          f"fixed={fixed} results={[r['result'] for r in local][:3]}…")

    ray_s, ratio, same = float("nan"), float("nan"), None
    if not args.no_ray:
        wall_r, on_ray, rc_r = run_fix(tmp / "imgs", tmp / "out-ray", model, "--device", "cpu", "--engine", "ray",
                                       "--ray-actors", str(args.ray_actors), *threads)
        ray_s = wall_r / n
        ratio = ray_s / local_s
        same = decisions(local) == decisions(on_ray)
        print(f"ray ({args.ray_actors} actors): {wall_r:6.1f} s  {ray_s:6.2f} s/img  worker median "
              f"{statistics.median(r['seconds'] for r in on_ray):.2f} s/img  rc={rc_r}  ray/local {ratio:.2f}  "
              f"same decisions: {same}")

    gpu = "n/a"
    if torch.cuda.is_available():
        wall_g, _, _ = run_fix(tmp / "imgs", tmp / "out-gpu", model, "--device", "cuda")
        wall_g, on_gpu, rc_g = run_fix(tmp / "imgs", tmp / "out-gpu", model, "--device", "cuda")  # warm
        gpu = f"{wall_g / n:.3f}"
        print(f"local (cuda, {torch.cuda.get_device_name(0)}): {wall_g:6.1f} s  {wall_g / n:6.3f} s/img  worker "
              f"median {statistics.median(r['seconds'] for r in on_gpu):.3f} s/img  rc={rc_g}")
    print(f"fix: images={n} local_s_per_img={local_s:.2f} ray_s_per_img={ray_s:.2f} ray_over_local={ratio:.2f} "
          f"worker_median_s={worker:.2f} identical={same} gpu_s_per_img={gpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
