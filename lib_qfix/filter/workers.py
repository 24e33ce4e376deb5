"""Process workers for the local engine: read, hash, decode and score whole batches in separate
processes, so a scorer written in Python/numpy uses every core despite the GIL.

Used for scorers that are cheap to build in each process (the offline scorer); heavy models
(CLIP) stay in one process, where torch already spreads work over the cores. Workers ignore
SIGINT: Ctrl-C is handled once, by the main process, which then cancels what is queued.
"""

from __future__ import annotations

import signal
from typing import Any

import cv2

from lib_qfix.filter.job import RunConfig, Task, score_files
from lib_qfix.filter.records import ImageRecord
from lib_qfix.options import Options
from lib_qfix.scoring import scorer_for

_scorer: Any = None


def init_worker(options: Options) -> None:
    """Pool initializer: ignore Ctrl-C, one OpenCV thread, build the scorer once per process."""
    global _scorer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the pool already has a process per core: OpenCV's own threads would only contend for them
    cv2.setNumThreads(1)
    _scorer, _ = scorer_for(options)


def process_batch(tasks: list[Task], options: Options, cfg: RunConfig) -> list[ImageRecord]:
    """One finished record per task, in order (pickled back to the main process)."""
    return score_files(_scorer, options, cfg, tasks)
