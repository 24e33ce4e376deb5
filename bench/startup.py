"""Start-up of ``qfix diagnose`` on one small image: wall time of the whole command, as a user runs it.

Median of ``--runs`` subprocess runs (default 5) of ``python -m lib_qfix diagnose IMAGE`` on a
512x512 photo (every default detector on: the first image pays every import and model load),
interleaved with the bare interpreter (``python -c pass``) and ``import lib_qfix.cli`` as peers.
``--importtime`` also prints the slowest imports of one run (``python -X importtime``).
Goal: <= 1.5 s.

    .venv/bin/python bench/startup.py [--runs 5] [--importtime]

Last line: ``startup: diagnose_s=… cpu_s=… python_s=… import_s=…`` (``cpu_s``: the command's CPU
time, user + system over all its threads: what other processes on a shared machine inflate least)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


CPU: list[float] = []  # CPU seconds (user + system, all threads) of each timed child, in order


def timed(cmd: list[str]) -> float:
    """Wall seconds of one run of ``cmd``; its CPU seconds go to :data:`CPU`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


def slowest_imports(cmd: list[str], n: int = 12) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the ``n`` slowest top-level imports of one run."""
    res = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], cwd=ROOT, capture_output=True, text=True)
    rows = []
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cum, name = (p.strip() for p in line.removeprefix("import time:").split("|"))
            if cum.isdigit() and not name.startswith(" "):
                rows.append((int(cum) / 1e6, name))
    return sorted(rows, reverse=True)[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--importtime", action="store_true", help="print the slowest imports of one run")
    a = ap.parse_args()

    import numpy as np
    from PIL import Image

    from bench.overhead import square512

    folder = Path(tempfile.mkdtemp(prefix="qfix-startup-"))
    image = folder / "astronaut.png"
    Image.fromarray(np.ascontiguousarray(square512("astronaut"))).save(image)
    diagnose = [sys.executable, "-m", "lib_qfix", "diagnose", str(image), "--no-progress"]
    python = [sys.executable, "-c", "pass"]
    imports = [sys.executable, "-c", "import lib_qfix.cli"]
    timed(diagnose)  # file-system caches warm, as for a user's second run
    d, p, i, cpu = [], [], [], []
    for _ in range(a.runs):
        d.append(timed(diagnose))
        cpu.append(CPU[-1])
        p.append(timed(python))
        i.append(timed(imports))
    if a.importtime:
        for sec, name in slowest_imports(diagnose):
            print(f"  import {name:<40}{sec * 1000:8.0f} ms")
    dm, pm, im = (statistics.median(v) for v in (d, p, i))
    print(f"qfix diagnose of one 512x512 image: median {dm:.2f} s over {a.runs} runs "
          f"(min {min(d):.2f}, max {max(d):.2f}), CPU {statistics.median(cpu):.2f} s; bare python {pm:.2f} s; "
          f"import lib_qfix.cli {im:.2f} s; goal <= 1.5 s: {'met' if dm <= 1.5 else 'NOT met'} "
          f"(load average {os.getloadavg()[0]:.1f}: wall times include other processes)")
    print(f"startup: diagnose_s={dm:.2f} cpu_s={statistics.median(cpu):.2f} python_s={pm:.2f} import_s={im:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
