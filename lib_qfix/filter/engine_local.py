"""The local engine: decode in a thread pool while the main thread scores batches.

Flow per file: ``stat`` -> cache (stat fast path -> content hash -> score) -> on a miss a worker
thread reads, hashes and decodes the file (PIL releases the GIL, so decoding overlaps scoring) ->
the main thread checks the cache again by content (a renamed or touched file is not re-scored),
scores what is left in batches and commits each batch to the cache in one transaction.
Ctrl-C or ``should_stop()`` ends the run between batches: the records finished so far come back
with ``interrupted=True`` and the cache holds every committed batch.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from lib_qfix.filter.cache import ScoreCache, score_key
from lib_qfix.filter.decode import Decoded, content_hash, decode_bytes, read_file
from lib_qfix.filter.job import RunConfig, score_decoded, score_settings
from lib_qfix.filter.records import ImageRecord, apply_payload
from lib_qfix.filter.scan import ScanItem
from lib_qfix.imageio import ImageLoadError

#: progress(done, total, cached) is called after every batch
Progress = Callable[[int, int, int], None]


@dataclass
class RunResult:
    """``records`` in scan order (only finished ones when ``interrupted``); ``warnings`` for the run;
    ``cache_error``: why the score cache turned off during the run (the scores are all here)."""

    records: list[ImageRecord]
    interrupted: bool = False
    scored: int = 0
    cached: int = 0
    failed: int = 0
    warnings: list[str] = field(default_factory=list)
    cache_error: str | None = None


def _error(item: ScanItem, msg: str, **kw: Any) -> ImageRecord:
    return ImageRecord(path=item.path, rel=item.rel, root=item.root, error=msg, **kw)


def _base(item: ScanItem, st: os.stat_result, h: str) -> ImageRecord:
    return ImageRecord(path=item.path, rel=item.rel, root=item.root, content=h, mtime=st.st_mtime)


def commit_batch(finished, done: dict[int, ImageRecord], res: RunResult, cache: ScoreCache | None,
                 key: str) -> None:
    """Record one finished batch: ``finished`` yields (index, record with its image metadata,
    error or None, score payload, stat). Failures are counted; successes go to ``done`` and to the
    cache in one transaction (every engine commits the same way, so a run can resume from any)."""
    files, contents, scores = [], [], []
    for i, base, err, payload, st in finished:
        if err:
            done[i] = replace(base, error=err)
            res.failed += 1
            continue
        done[i] = apply_payload(base, payload)
        res.scored += 1
        files.append((base.path, st, base.content))
        contents.append((base.content, base.width, base.height, base.dhash, base.thumb))
        scores.append((base.content, key, payload))
    if cache is not None:
        cache.put_many(files, contents, scores)


def _decode_job(item: ScanItem, cfg: RunConfig) -> tuple[str, Decoded | str]:
    """(hash, decoded) or (hash or "", error message); runs in a worker thread."""
    try:
        data = read_file(item.path)
    except ImageLoadError as e:
        return "", str(e)
    h = content_hash(data)
    try:
        return h, decode_bytes(data, item.path, work_side=cfg.work_side, max_pixels=cfg.max_pixels)
    except ImageLoadError as e:
        return h, str(e)
    except Exception as e:  # anything else about one file is that file's error, never the run's
        return h, f"{item.path}: cannot read image ({type(e).__name__}: {e})"


def resolve_scorer(options: Any, scorer: Any = None) -> tuple[Any, list[str]]:
    if scorer is not None:
        return scorer, []
    from lib_qfix.scoring import scorer_for

    return scorer_for(options)


def cache_lookup(cache: ScoreCache | None, item: ScanItem, st: os.stat_result, key: str,
                 verify: bool) -> ImageRecord | None:
    """The finished record from the cache via the stat fast path, or None."""
    if cache is None or verify:
        return None
    h = cache.hash_for(item.path, st)
    if h is None:
        return None
    payload, content = cache.score(h, key), cache.content(h)
    if payload is None or content is None:
        return None
    w, hh, dh, thumb = content
    return apply_payload(replace(_base(item, st, h), width=w, height=hh, dhash=dh, thumb=thumb),
                         payload, cached=True)


def split_cached(items: list[ScanItem], cache: ScoreCache | None, key: str, verify: bool
                 ) -> tuple[dict[int, ImageRecord], list[tuple[int, ScanItem, os.stat_result]]]:
    """(finished records by index: cache hits and unstat-able files, the rest to decode and score)."""
    done: dict[int, ImageRecord] = {}
    todo: list[tuple[int, ScanItem, os.stat_result]] = []
    for i, item in enumerate(items):
        try:
            st = os.stat(item.path, follow_symlinks=False)
        except OSError as e:
            done[i] = _error(item, f"{item.path}: cannot stat ({e.strerror or e})")
            continue
        hit = cache_lookup(cache, item, st, key, verify)
        if hit is not None:
            done[i] = hit
        else:
            todo.append((i, item, st))
    return done, todo


def start_run(items: list[ScanItem], options: Any, cache: ScoreCache | None, cfg: RunConfig,
              scorer: Any = None, progress: Progress | None = None):
    """What every engine does first: resolve the scorer and its cache key, take what the cache
    already has. Returns (scorer, key, done {index: record}, todo [(index, item, stat)], result)."""
    scorer, warnings = resolve_scorer(options, scorer)
    key = score_key(scorer.name, scorer.version, score_settings(options, cfg))
    done, todo = split_cached(items, cache, key, cfg.verify)
    res = RunResult([], warnings=list(warnings))
    res.cached = sum(r.cached for r in done.values())
    res.failed = len(done) - res.cached
    if progress:
        progress(len(done), len(items), res.cached)
    return scorer, key, done, todo, res


def batch_done(done: dict, total: int, res: RunResult, progress: Progress | None,
               should_stop: Callable[[], bool] | None) -> bool:
    """Report progress after a batch; True (and ``res.interrupted``) when the run must stop."""
    if progress:
        progress(len(done), total, res.cached)
    if should_stop is not None and should_stop():
        res.interrupted = True
    return res.interrupted


def run_local(items: list[ScanItem], options: Any, cache: ScoreCache | None = None, cfg: RunConfig = RunConfig(),
              *, scorer: Any = None, progress: Progress | None = None,
              should_stop: Callable[[], bool] | None = None) -> RunResult:
    """Score ``items`` (see the module doc); never raises for a bad image."""
    scorer_given = scorer
    scorer, key, done, todo, res = start_run(items, options, cache, cfg, scorer, progress)
    total = len(items)
    workers = cfg.workers or os.cpu_count() or 2
    if cfg.pool not in ("auto", "threads", "processes"):
        raise ValueError(f"pool: {cfg.pool!r} is not allowed; allowed: auto, threads, processes")
    use_procs = cfg.pool == "processes" or (
        cfg.pool == "auto" and scorer_given is None and options.scorer == "offline" and workers > 1
        and len(todo) >= 64)
    if use_procs and todo:
        _run_processes(todo, options, cfg, workers, key, cache, done, res, progress, should_stop, total)
        res.records = [done[i] for i in sorted(done)]
        return res
    window = max(2 * cfg.batch_size, workers * 4)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qfix-decode")
    pending: deque[tuple[int, ScanItem, os.stat_result, Future]] = deque()
    it = iter(todo)
    try:
        while True:
            while len(pending) < window:
                nxt = next(it, None)
                if nxt is None:
                    break
                pending.append((*nxt, pool.submit(_decode_job, nxt[1], cfg)))
            if not pending:
                break
            batch: list[tuple[int, ImageRecord, Decoded, os.stat_result]] = []
            while pending and len(batch) < cfg.batch_size:
                i, item, st, fut = pending.popleft()
                h, dec = fut.result()
                if isinstance(dec, str):
                    done[i] = replace(_error(item, dec), content=h)
                    res.failed += 1
                    continue
                base = replace(_base(item, st, h), width=dec.width, height=dec.height, dhash=dec.dhash,
                               thumb=dec.thumb)
                payload = cache.score(h, key) if cache is not None else None
                if payload is not None:  # same content seen under another path or stat
                    done[i] = apply_payload(base, payload, cached=True)
                    res.cached += 1
                    if cache is not None:
                        cache.put_many([(item.path, st, h)], [(h, dec.width, dec.height, dec.dhash, dec.thumb)], [])
                    continue
                batch.append((i, base, dec, st))
            if batch:
                payloads = score_decoded(scorer, options, [b[2] for b in batch])
                commit_batch(((i, base, p if isinstance(p, str) else None, p, st)
                              for (i, base, _dec, st), p in zip(batch, payloads, strict=True)),
                             done, res, cache, key)
            if batch_done(done, total, res, progress, should_stop):
                break
    except KeyboardInterrupt:
        res.interrupted = True
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    res.records = [done[i] for i in sorted(done)]
    return res


def _process_rows(rows, by_index):
    """A worker's (index, hash, error, (w, h, dhash, thumb) or None, payload) rows as commit_batch input."""
    for i, h, err, meta, payload in rows:
        item, st = by_index[i]
        base = _base(item, st, h)
        if meta is not None:
            base = replace(base, width=meta[0], height=meta[1], dhash=meta[2], thumb=meta[3])
        yield i, base, err or None, payload, st


def _run_processes(todo, options, cfg, workers, key, cache, done, res, progress, should_stop, total) -> None:
    """Score ``todo`` in a spawned process pool, batches in flight = 2 per worker; commits each
    finished batch to the cache. Fills ``done``/``res`` in place."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from lib_qfix.filter.workers import init_worker, process_batch

    by_index = {i: (item, st) for i, item, st in todo}
    batches = [[(i, item.path) for i, item, _ in todo[k:k + cfg.batch_size]]
               for k in range(0, len(todo), cfg.batch_size)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_worker, initargs=(options,))
    it = iter(batches)
    pending: set[Future] = set()
    try:
        while True:
            while len(pending) < 2 * workers:
                b = next(it, None)
                if b is None:
                    break
                pending.add(pool.submit(process_batch, b, options, cfg))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                commit_batch(_process_rows(fut.result(), by_index), done, res, cache, key)
            if batch_done(done, total, res, progress, should_stop):
                break
    except KeyboardInterrupt:
        res.interrupted = True
    finally:
        pool.shutdown(wait=not res.interrupted, cancel_futures=True)
