"""``qfix diagnose`` on 12-megapixel JPEGs (4000x3000): wall time per photo after start-up, as a
multiple of a full Pillow decode of the same file, and the peak memory of the command.

The photos are bundled public-domain photos enlarged to 4000x3000 with a little sensor-like noise
(JPEG quality 92), written to a temporary folder. Per photo, interleaved, median over repeats:
the full decode (``Image.open(p).convert("RGB")`` to an array), ``qfix diagnose`` as it runs
(in-process ``lib_qfix.cli.main``, every default detector on, after one warm-up call) and the same
with ``--work-size 0`` (full size: what it did before working sizes). Peak memory: the maximum
resident set (VmHWM) of a ``python -m lib_qfix diagnose`` subprocess over all photos, each way.
Goal: <= 5x the decode, <= 600 MB.

    .venv/bin/python bench/large.py [--photos 4] [--repeats 3]

Last line: ``large: ratio=… diagnose_ms=… decode_ms=… peak_mb=… full_size_ratio=… full_size_peak_mb=…``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib_qfix.samples import skimage_photo  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "stereo_motorcycle")


def write_photos(folder: Path, n: int) -> list[Path]:
    paths = []
    rng = np.random.default_rng(0)
    for name in PHOTOS[:n]:
        big = cv2.resize(skimage_photo(name), (4000, 3000), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        big = np.clip(big + rng.normal(0.0, 3.0, big.shape), 0, 255).astype(np.uint8)
        p = folder / f"{name}.jpg"
        Image.fromarray(big).save(p, quality=92)
        paths.append(p)
    return paths


def decode(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def diagnose_cli(path: Path, out: Path, extra: list[str]) -> None:
    from lib_qfix.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["diagnose", str(path), "--json", str(out), "--no-progress", *extra])
    if rc != 0:
        raise SystemExit(f"qfix diagnose {path} exited {rc}")


def peak_mb(paths: list[Path], out: Path, extra: list[str]) -> float:
    """Peak resident memory (MB) of one ``qfix diagnose`` process over all ``paths``."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent through fork + exec
    code = ("import runpy, sys; sys.argv = ['qfix'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('lib_qfix', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0])")
    cmd = [sys.executable, "-c", code, "diagnose", *map(str, paths), "--json", str(out), "--no-progress", *extra]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return int(res.stdout.strip().splitlines()[-1]) / 1024  # kB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=4, help=f"how many (1..{len(PHOTOS)})")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qfix-large-"))
    paths = write_photos(tmp, max(1, min(a.photos, len(PHOTOS))))
    out = tmp / "report.json"
    diagnose_cli(paths[0], out, [])  # start-up: imports, models, first calls (not counted)
    diagnose_cli(paths[0], out, ["--work-size", "0"])
    ratios, full_ratios, dec_ms, diag_ms, full_ms = [], [], [], [], []
    print(f"{'photo':<20}{'decode ms':>10}{'diagnose ms':>12}{'ratio':>7}{'full-size ms':>13}{'ratio':>7}")
    for p in paths:
        d, g, f = [], [], []
        for _ in range(a.repeats):
            t = time.perf_counter()
            decode(p)
            d.append(time.perf_counter() - t)
            t = time.perf_counter()
            diagnose_cli(p, out, [])
            g.append(time.perf_counter() - t)
            t = time.perf_counter()
            diagnose_cli(p, out, ["--work-size", "0"])
            f.append(time.perf_counter() - t)
        dm, gm, fm = (statistics.median(v) for v in (d, g, f))
        dec_ms.append(dm)
        diag_ms.append(gm)
        full_ms.append(fm)
        ratios.append(gm / dm)
        full_ratios.append(fm / dm)
        print(f"{p.name:<20}{dm * 1000:>10.0f}{gm * 1000:>12.0f}{gm / dm:>7.1f}{fm * 1000:>13.0f}{fm / dm:>7.1f}")
    peak = peak_mb(paths, out, [])
    full_peak = peak_mb(paths, out, ["--work-size", "0"])
    ratio, full_ratio = statistics.median(ratios), statistics.median(full_ratios)
    print(f"goal <= 5x the decode: {'met' if ratio <= 5 else 'NOT met'}; peak <= 600 MB: "
          f"{'met' if peak <= 600 else 'NOT met'} (this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    print(f"large: ratio={ratio:.2f} diagnose_ms={statistics.median(diag_ms) * 1000:.0f} "
          f"decode_ms={statistics.median(dec_ms) * 1000:.0f} peak_mb={peak:.0f} "
          f"full_size_ratio={full_ratio:.2f} full_size_peak_mb={full_peak:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
