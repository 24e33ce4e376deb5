"""Keep-best benchmark with planted outcomes: does the fix loop keep a good repair and reject a bad one?

The cases, the planted outcomes ((a) ``restore``, (a') ``near``, (b)-(e) ``noise``, ``blur``, ``other``,
``shift``) and the rules they are judged by are in :mod:`testkit.planted`; this is its command line.
(b)-(e) must never be kept. The last line reads
``keep_best: kept_good=<kept (a)>/<cases> kept_bad=<kept (b)-(e)>/<cases> cases=<all> near_passed=<(a') that passed
every region check>/<cases>``.

Usage: ``.venv/bin/python bench/keep_best.py [--rounds N] [--only NAME]`` (about a minute on a CPU).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/keep_best.py` from anywhere

from lib_qfix.options import DEFAULTS  # noqa: E402
from testkit.planted import evaluate, summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=DEFAULTS.rounds, help="fix rounds (default: the option's default)")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = evaluate(args.rounds, args.only)
    for r in rows:
        print(f"{'ok ' if r.right else 'BAD'} {r.case:18s} {r.outcome:8s} {r.result:28s} passes={r.passes} "
              f"rejected: {r.rejected or '-'}")
    print(f"({time.perf_counter() - t0:.0f} s)")
    print(summary(rows))
    return 0 if all(r.right for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
