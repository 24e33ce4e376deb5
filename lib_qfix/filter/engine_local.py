"""The local engine: score on this machine, in threads or in worker processes.

Threads (any scorer): a thread pool reads, hashes and decodes files (PIL releases the GIL, so
decoding overlaps scoring) while the main thread checks the cache again by content (a renamed or
touched file is not re-scored) and scores what is left in batches. Processes (the offline scorer on
64+ files, see :class:`~lib_qfix.filter.job.RunConfig`): each worker process reads, decodes and
scores whole batches (:mod:`lib_qfix.filter.workers`). Either way the finished records go to
:meth:`lib_qfix.filter.core.Run.commit` batch by batch.

Ctrl-C or ``should_stop()`` ends the run between batches: the records finished so far come back
with ``interrupted=True`` and the cache holds every committed batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Any

from lib_qfix.filter import workers as worker_mod
from lib_qfix.filter.cache import ScoreCache
from lib_qfix.filter.core import Progress, Run, RunResult
from lib_qfix.filter.decode import Decoded
from lib_qfix.filter.job import RunConfig, Task, decode_file, score_decoded
from lib_qfix.filter.records import ImageRecord
from lib_qfix.filter.scan import ScanItem
from lib_qfix.options import Options

POOLS = ("auto", "threads", "processes")


def run_local(items: list[ScanItem], options: Options, cache: ScoreCache | None = None, cfg: RunConfig = RunConfig(),
              *, scorer: Any = None, progress: Progress | None = None,
              should_stop: Callable[[], bool] | None = None) -> RunResult:
    """Score ``items`` (see the module doc); never raises for a bad image. ``scorer``: use this
    scorer object (threads only) instead of the one ``options`` ask for."""
    run = Run(items, options, cache, cfg, scorer, progress, should_stop)
    workers = cfg.workers or os.cpu_count() or 2
    if cfg.pool not in POOLS:
        raise ValueError(f"pool: {cfg.pool!r} is not allowed; allowed: {', '.join(POOLS)}")
    use_procs = cfg.pool == "processes" or (
        cfg.pool == "auto" and scorer is None and options.scorer == "offline" and workers > 1
        and len(run.todo) >= 64)
    if use_procs and run.todo:
        _run_processes(run, options, cfg, workers)
    else:
        _run_threads(run, options, cfg, workers)
    return run.finish()


def _run_threads(run: Run, options: Options, cfg: RunConfig, workers: int) -> None:
    """Decode in a thread pool (a window of 2 batches or 4 files per thread ahead), score in this
    thread, commit each batch."""
    window = max(2 * cfg.batch_size, workers * 4)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qfix-decode")
    pending: deque[Future[tuple[ImageRecord, Decoded | None]]] = deque()
    it = iter(run.tasks)
    try:
        while True:
            while len(pending) < window:
                task = next(it, None)
                if task is None:
                    break
                pending.append(pool.submit(decode_file, task[0], cfg, task[1]))
            if not pending:
                break
            batch: list[tuple[ImageRecord, Decoded]] = []
            while pending and len(batch) < cfg.batch_size:
                rec, dec = pending.popleft().result()
                if dec is None:
                    run.commit([rec])
                elif not run.reuse(rec):  # same content seen under another path or stat
                    batch.append((rec, dec))
            if batch:
                run.commit(score_decoded(run.scorer, options, batch))
            if run.batch_done():
                break
    except KeyboardInterrupt:
        run.result.interrupted = True
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _batches(tasks: list[Task], size: int, workers: int) -> list[list[Task]]:
    """``tasks`` in batches of ``size``, except the last ``2 * workers`` batches' worth, which go in
    quarter batches: the workers then run out of work within ~1/4 batch of each other instead of
    one waiting up to a whole batch (~0.15 s of offline scoring) for the other at the end."""
    head = max(0, len(tasks) - 2 * workers * size) // size * size  # whole batches before the tail
    small = max(1, size // 4)
    return ([tasks[k:k + size] for k in range(0, head, size)]
            + [tasks[k:k + small] for k in range(head, len(tasks), small)])


def _run_processes(run: Run, options: Options, cfg: RunConfig, workers: int) -> None:
    """Score in a spawned process pool, batches in flight = 2 per worker; commits each finished
    batch. Workers ignore SIGINT: Ctrl-C reaches this process only, which cancels what is queued."""
    batches = _batches(run.tasks, cfg.batch_size, workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=worker_mod.init_worker, initargs=(options,))
    it = iter(batches)
    pending: set[Future[list[ImageRecord]]] = set()
    try:
        while True:
            while len(pending) < 2 * workers:
                b = next(it, None)
                if b is None:
                    break
                pending.add(pool.submit(worker_mod.process_batch, b, options, cfg))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                run.commit(fut.result())
            if run.batch_done():
                break
    except KeyboardInterrupt:
        run.result.interrupted = True
    finally:
        pool.shutdown(wait=not run.result.interrupted, cancel_futures=True)
