"""Benchmark for issue 6 (``qfix filter`` at scale). Run: ``.venv/bin/python bench/filter.py``.

Workload: N (default 2000) generated 512x512 JPEGs made from the public-domain photos bundled with
scikit-image/matplotlib (random crops, rotations, blur, noise, JPEG quality, exposure) so scores
differ. Measured, each with its target from the issue side by side:
  1. first run, offline scorer, empty cache (whole run: scan, decode, score, decide, CSV/JSON/HTML)
  2. second run over the unchanged folder (median of 3), same outputs
  3. peak memory: ru_maxrss of this process and its children
  4. CLIP RN50 with random weights (no download), images/s on CPU (and GPU when there is one)
  5. the Ray engine (local instance) on the same workload: decisions identical to the local engine
Last line: ``filter: img_per_s=… cached_img_per_s=… peak_mb=… ray_identical=…``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

TARGET_FIRST, TARGET_CACHED, TARGET_MB = 40.0, 1000.0, 1536.0


def generate(folder: Path, n: int, seed: int = 0) -> None:
    """``n`` varied 512x512 JPEGs in ``folder`` (20 per sub-folder), deterministic for ``seed``."""
    from lib_qfix.samples import all_photos

    photos = [cv2.resize(p, (768, 768), interpolation=cv2.INTER_AREA) for p in all_photos().values()]
    rng = np.random.default_rng(seed)
    for i in range(n):
        src = photos[i % len(photos)]
        ang = float(rng.uniform(-12, 12))
        m = cv2.getRotationMatrix2D((384, 384), ang, float(rng.uniform(1.0, 1.25)))
        img = cv2.warpAffine(src, m, (768, 768), borderMode=cv2.BORDER_REFLECT)
        y, x = rng.integers(0, 257, size=2)
        img = img[y:y + 512, x:x + 512].astype(np.float32)
        kind = rng.integers(0, 6)
        if kind == 1:
            img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.8, 4)))
        elif kind == 2:
            img = img + rng.normal(0, float(rng.uniform(3, 25)), img.shape)
        elif kind == 3:
            img = img * float(rng.uniform(0.25, 0.6))
        elif kind == 4:
            img = img * float(rng.uniform(1.5, 2.5))
        q = int(rng.integers(8, 40)) if kind == 5 else int(rng.integers(80, 95))
        d = folder / f"set_{i // 20:03d}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(d / f"img_{i:05d}.jpg", quality=q)


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # KiB on Linux; the larger of the two (children are sequential)


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children, after waiting for the
    worker processes a run shut down without waiting (so their time is counted)."""
    import multiprocessing

    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def filter_once(folder: Path, cache: Path, out: Path, engine: str = "local", **kw):
    """One full filter run as ``qfix filter`` does it; returns (seconds, decisions, RunResult)."""
    from lib_qfix.filter.job import RunConfig
    from lib_qfix.filter.pipeline import make_decisions, score_folders, write_outputs
    from lib_qfix.options import validate

    opts = validate({"scorer": "offline"})
    t0 = time.perf_counter()
    _, res = score_folders([folder], opts, RunConfig(), cache_path=cache, engine=engine, exclude=[out], **kw)
    dec = make_decisions(res, opts.quality_threshold)
    write_outputs(dec, out, opts.quality_threshold)
    return time.perf_counter() - t0, dec, res


def clip_rate(n: int) -> list[str]:
    try:
        from lib_qfix.scoring import clip_iqa  # noqa: F401
    except ImportError:
        return ["clip: n/a (scorer not available)"]
    from lib_qfix.registry import create_scorer

    lines = []
    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" not in devices:
        lines.append("clip RN50 random weights (cuda): n/a (no GPU on this machine)")
    for dev in devices:
        try:
            sc = create_scorer("clip-iqa", model="RN50", pretrained="random", pairs="quality5",
                               custom_pairs="", device=dev)
        except Exception as e:  # report, do not hide
            lines.append(f"clip ({dev}): n/a ({type(e).__name__}: {e})")
            continue
        rng = np.random.default_rng(0)
        imgs = [rng.integers(0, 256, (512, 512, 3), dtype=np.uint8) for _ in range(n)]
        sc.score(imgs[:2])  # warm-up
        t0 = time.perf_counter()
        for i in range(0, n, 8):
            sc.score(imgs[i:i + 8])
        rate = n / (time.perf_counter() - t0)
        lines.append(f"clip RN50 random weights ({dev}, {n} images 512x512, batch 8): {rate:.1f} img/s")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--ray-n", type=int, default=0, help="images for the Ray comparison (0 = all)")
    ap.add_argument("--clip-n", type=int, default=32)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--keep", help="generate into / reuse this folder")
    ap.add_argument("--clip-only", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.clip_only:
        import warnings

        warnings.filterwarnings("ignore")
        for line in clip_rate(a.clip_only):
            print(line)
        print(f"clip peak memory: {peak_mb():.0f} MB")
        return 0
    tmp = Path(a.keep or tempfile.mkdtemp(prefix="qfix-bench-"))
    imgs = tmp / "images"
    if not imgs.exists() or sum(1 for _ in imgs.rglob("*.jpg")) != a.n:
        shutil.rmtree(imgs, ignore_errors=True)
        t0 = time.perf_counter()
        generate(imgs, a.n)
        print(f"generated {a.n} 512x512 JPEGs in {time.perf_counter() - t0:.1f} s under {imgs}")
    cache = tmp / "cache.sqlite"
    for p in tmp.glob("cache*.sqlite*"):
        p.unlink()
    c0 = cpu_seconds()
    t1, dec, res = filter_once(imgs, cache, tmp / "out1")
    first = a.n / t1
    c1 = cpu_seconds()
    main_ms, workers_ms = ((c1[k] - c0[k]) * 1000 / a.n for k in (0, 1))
    cpu_ms = main_ms + workers_ms
    cores = os.cpu_count() or 1
    print(f"first run  : {t1:6.2f} s  {first:8.1f} img/s   target >= {TARGET_FIRST:.0f}  "
          f"ratio {first / TARGET_FIRST:.2f}  (scored {res.scored}, errors {res.failed})")
    print(f"first run CPU: {cpu_ms:.1f} ms per image ({main_ms:.1f} main process, {workers_ms:.1f} workers), i.e. at most {cores * 1000 / cpu_ms:.0f} img/s "
          f"on {cores} idle cores; load average {os.getloadavg()[0]:.1f} (other work on the machine lowers the wall figure)")
    times = [filter_once(imgs, cache, tmp / "out2")[0] for _ in range(3)]
    cached = a.n / statistics.median(times)
    print(f"cached run : {statistics.median(times):6.2f} s  {cached:8.1f} img/s   target >= {TARGET_CACHED:.0f}  "
          f"ratio {cached / TARGET_CACHED:.2f}  (median of 3: {', '.join(f'{t:.2f}' for t in times)} s)")
    keep = sum(d.keep for d in dec)
    print(f"decisions  : {keep} keep, {len(dec) - keep} reject/error; median quality "
          f"{statistics.median(d.record.quality for d in dec if d.record.quality is not None):.3f}")
    mb = peak_mb()
    print(f"peak memory: {mb:.0f} MB   target <= {TARGET_MB:.0f}  ratio {mb / TARGET_MB:.2f}  "
          "(offline filter runs: this process and its worker processes)")
    if a.clip_n > 0:  # in a child process, so that CLIP's memory is reported on its own line
        import subprocess

        r = subprocess.run([sys.executable, __file__, "--clip-only", str(a.clip_n)], capture_output=True, text=True)
        print(r.stdout.strip() or f"clip: failed ({r.stderr.strip().splitlines()[-1:]})")
    ray_ok = "n/a"
    if not a.no_ray:
        ray_ok = str(compare_ray(imgs, tmp, a.ray_n, dec)).lower()
    print(f"filter: img_per_s={first:.1f} cached_img_per_s={cached:.1f} peak_mb={mb:.0f} ray_identical={ray_ok} "
          f"cpu_ms_per_img={cpu_ms:.1f} idle_cores_img_per_s={cores * 1000 / cpu_ms:.0f}")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def compare_ray(imgs: Path, tmp: Path, n: int, local_dec) -> bool:
    """Ray engine on all images (or the first ``n`` sub-folders' worth) vs the local engine."""
    folder = imgs
    if n:
        folder = tmp / "ray_subset"
        shutil.rmtree(folder, ignore_errors=True)
        for p in sorted(imgs.rglob("*.jpg"))[:n]:
            dst = folder / p.relative_to(imgs)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, dst)
        _, local_dec, _ = filter_once(folder, tmp / "cache-local-sub.sqlite", tmp / "out-local-sub")
    t0 = time.perf_counter()
    tr, ray_dec, _ = filter_once(folder, tmp / "cache-ray.sqlite", tmp / "out-ray", engine="ray",
                                 ray_kwargs={"actors": os.cpu_count() or 2})
    total = time.perf_counter() - t0
    a = {d.record.rel: (d.status, round(d.record.quality or -1, 6)) for d in local_dec}
    b = {d.record.rel: (d.status, round(d.record.quality or -1, 6)) for d in ray_dec}
    same = a == b
    diff = sum(a.get(k) != b.get(k) for k in set(a) | set(b))
    label = f"{len(b)} images" + (" (subset)" if n else " (full workload)")
    print(f"ray engine : {tr:6.2f} s  {len(b) / tr:8.1f} img/s incl. Ray start ({label}); wall {total:.1f} s; "
          f"decisions identical to local: {same} ({diff} differ)")
    return same


if __name__ == "__main__":
    sys.exit(main())
