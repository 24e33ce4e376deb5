"""Process workers for the local engine: read, hash, decode and score whole batches in separate
processes, so a scorer written in Python/numpy uses every core despite the GIL.

Used for scorers that are cheap to build in each process (the offline scorer); heavy models
(CLIP) stay in one process, where torch already spreads work over the cores. Workers ignore
SIGINT: Ctrl-C is handled once, by the main process, which then cancels what is queued.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from typing import Any

import cv2

from lib_qfix.filter.job import RunConfig, Task, score_files
from lib_qfix.filter.records import ImageRecord
from lib_qfix.options import Options
from lib_qfix.scoring import scorer_for

_scorer: Any = None
#: glibc ``mallopt`` parameters and the values the workers use (bytes)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 << 20, 128 << 20


def keep_freed_memory() -> bool:
    """Let glibc keep freed blocks below 32 MB in the process's heap (up to 128 MB unused at its top)
    instead of returning them to the system, so the next image's temporaries reuse the same pages.

    By default every numpy temporary over ~128 KB is a fresh mapping whose first touch page-faults,
    which cost more than the arithmetic of the offline score (measure() at 512x512: ~14 ms -> ~10 ms;
    noise, detail and BRISQUE 2-5x faster). Only in QFix's own worker processes, never in a host's.
    Returns whether the setting took (glibc only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):  # musl or another libc: keep its defaults
        return False


def init_worker(options: Options) -> None:
    """Pool initializer: ignore Ctrl-C, one OpenCV thread, build the scorer once per process."""
    global _scorer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the pool already has a process per core: OpenCV's own threads would only contend for them
    cv2.setNumThreads(1)
    keep_freed_memory()
    _scorer, _ = scorer_for(options)


def process_batch(tasks: list[Task], options: Options, cfg: RunConfig) -> list[ImageRecord]:
    """One finished record per task, in order (pickled back to the main process)."""
    return score_files(_scorer, options, cfg, tasks)
