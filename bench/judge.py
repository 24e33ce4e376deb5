"""LLM judge throughput: the concurrent client versus one call at a time, and the verdict cache.

A real OpenAI-compatible server on 127.0.0.1 (:mod:`testkit.judge_server`) answers every request
after a fixed delay (what a vision model costs per image, scaled down). The same N distinct images
are scored by the ``llm-judge`` scorer (judge alone) three ways:

- ``seq``: one image per ``score()`` call with ``judge_concurrency`` 1 (a naive loop);
- ``conc``: one ``score()`` call over all images with ``judge_concurrency`` C;
- ``rerun``: ``conc`` again over a warm cache folder (no calls expected).

Each is run ``--repeats`` times; medians are reported. The last line reads
``judge: seq_img_per_s=… conc_img_per_s=… ratio=… concurrency=C delay_ms=… images=N cache_hit_rate=…
rerun_img_per_s=… calls=…`` (``ratio`` = conc / seq; the ideal is C; ``cache_hit_rate`` = cache hits /
images on the rerun; ``calls`` = requests the server saw in total).

Usage: ``.venv/bin/python bench/judge.py [--images 24] [--delay 0.2] [--concurrency 8] [--repeats 3]``
(about 15 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/judge.py` from anywhere

from lib_qfix.judge.scorer import create_llm_judge  # noqa: E402
from lib_qfix.judge.setup import JudgeSetup  # noqa: E402
from lib_qfix.judge.stats import STATS  # noqa: E402
from testkit.judge_server import GOOD, JudgeServer, verdict_reply  # noqa: E402


def images(n: int, side: int = 512) -> list[np.ndarray]:
    """``n`` distinct photo-like images (smooth gradients plus noise; distinct pixels = distinct cache keys)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:side, 0:side] / side
    out = []
    for i in range(n):
        base = np.stack([xx * (i % 7 + 1) / 7, yy, (xx + yy) / 2], -1) * 200
        out.append(np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8))
    return out


def one_run(url: str, imgs: list[np.ndarray], prompts: list[str], concurrency: int) -> tuple[float, ...]:
    """(seq img/s, conc img/s, rerun img/s, rerun cache hit rate) with fresh scorers and cache."""
    with tempfile.TemporaryDirectory() as cache:
        seq = create_llm_judge(setup=JudgeSetup(url, "bench-vlm", "", ""), concurrency=1, timeout=30)
        t0 = time.perf_counter()
        for im, p in zip(imgs, prompts, strict=True):
            seq.score([im], [p])
        t_seq = time.perf_counter() - t0
        conc = create_llm_judge(setup=JudgeSetup(url, "bench-vlm", "", cache), concurrency=concurrency, timeout=30)
        t0 = time.perf_counter()
        conc.score(imgs, prompts)
        t_conc = time.perf_counter() - t0
        STATS.reset()
        t0 = time.perf_counter()
        conc.score(imgs, prompts)
        t_rerun = time.perf_counter() - t0
        hits = STATS.snapshot().cache_hits / len(imgs)
    n = len(imgs)
    return n / t_seq, n / t_conc, n / t_rerun, hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--delay", type=float, default=0.2, help="seconds the server takes per answer")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    imgs = images(args.images)
    prompts = [f"a test image number {i}" for i in range(len(imgs))]
    seq_rates, conc_rates, rerun_rates, hit_rates = [], [], [], []
    with JudgeServer(lambda req: verdict_reply(GOOD, delay=args.delay)) as srv:
        for rep in range(args.repeats):
            seq, conc, rerun, hits = one_run(srv.url, imgs, prompts, args.concurrency)
            seq_rates.append(seq)
            conc_rates.append(conc)
            rerun_rates.append(rerun)
            hit_rates.append(hits)
            print(f"run {rep + 1}: seq {seq:.2f} img/s, conc {conc:.2f} img/s (x{conc / seq:.2f}), "
                  f"rerun {rerun:.1f} img/s, cache hits {hits:.0%}")
        calls = srv.count
    s, c = statistics.median(seq_rates), statistics.median(conc_rates)
    print(f"judge: seq_img_per_s={s:.2f} conc_img_per_s={c:.2f} ratio={c / s:.2f} concurrency={args.concurrency} "
          f"delay_ms={args.delay * 1000:.0f} images={len(imgs)} cache_hit_rate={statistics.median(hit_rates):.2f} "
          f"rerun_img_per_s={statistics.median(rerun_rates):.1f} calls={calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
