"""The driver side of a filter run, the same for every engine (threads, processes, Ray).

A :class:`Run` resolves the scorer and its cache key, stats every file and takes what the cache
already has (the stat fast path), then receives the engine's finished :class:`ImageRecord` batches
(:meth:`Run.commit`: counted, and stored in the cache in one transaction per batch, so a run can
resume from whatever any engine committed), reports progress and asks whether to stop after each
batch (:meth:`Run.batch_done`). Where a file is read and scored is the engine's business; what
every engine does with one file is :mod:`lib_qfix.filter.job`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lib_qfix.filter.cache import ScoreCache, score_key
from lib_qfix.filter.job import RunConfig, Task, score_settings
from lib_qfix.filter.records import ImageRecord
from lib_qfix.filter.scan import ScanItem
from lib_qfix.options import Options
from lib_qfix.scoring import scorer_for

#: progress(done, total, cached) is called after every batch (numbers of files)
Progress = Callable[[int, int, int], None]


@dataclass
class RunResult:
    """``records`` in scan order (only finished ones when ``interrupted``); ``warnings`` for the run;
    ``cache_error``: why the score cache turned off during the run (the scores are all here).
    ``scored``/``cached``/``failed``: numbers of files scored now, read from the cache, failed."""

    records: list[ImageRecord]
    interrupted: bool = False
    scored: int = 0
    cached: int = 0
    failed: int = 0
    warnings: list[str] = field(default_factory=list)
    cache_error: str | None = None


def resolve_scorer(options: Options, scorer: Any = None) -> tuple[Any, list[str]]:
    """(``scorer`` or the one ``options`` ask for, warnings)."""
    if scorer is not None:
        return scorer, []
    return scorer_for(options)


class Run:
    """One run's bookkeeping. After construction ``todo`` holds (item, stat) of every file the
    cache could not answer, in scan order; the engine scores those and hands the records to
    :meth:`commit`, then calls :meth:`batch_done`; :meth:`finish` returns the result.

    ``scorer``: None = the one ``options`` ask for (the driver resolves it even when workers build
    their own: its name and version key the cache, its warnings are the run's)."""

    def __init__(self, items: Sequence[ScanItem], options: Options, cache: ScoreCache | None, cfg: RunConfig,
                 scorer: Any = None, progress: Progress | None = None,
                 should_stop: Callable[[], bool] | None = None):
        self.scorer, warnings = resolve_scorer(options, scorer)
        self.key = score_key(self.scorer.name, self.scorer.version, score_settings(options, cfg))
        self.cache, self.total = cache, len(items)
        self.progress, self.should_stop = progress, should_stop
        self.result = RunResult([], warnings=list(warnings))
        self._done: dict[int, ImageRecord] = {}
        self._pending: dict[str, tuple[int, os.stat_result]] = {}
        self.todo: list[tuple[ScanItem, os.stat_result]] = []
        for i, item in enumerate(items):
            try:
                st = os.stat(item.path, follow_symlinks=False)
            except OSError as e:
                self._done[i] = ImageRecord(path=item.path, rel=item.rel, root=item.root,
                                            error=f"{item.path}: cannot stat ({e.strerror or e})")
                self.result.failed += 1
                continue
            hit = None if cfg.verify else self._lookup(item, st)
            if hit is not None:
                self._done[i] = hit
                self.result.cached += 1
            else:
                self._pending[item.path] = (i, st)
                self.todo.append((item, st))
        if progress:
            progress(len(self._done), self.total, self.result.cached)

    @property
    def tasks(self) -> list[Task]:
        """``todo`` as worker tasks: (item, mtime in seconds since the epoch)."""
        return [(item, st.st_mtime) for item, st in self.todo]

    def _lookup(self, item: ScanItem, st: os.stat_result) -> ImageRecord | None:
        """The finished record from the cache via the stat fast path, or None (a damaged entry
        is a miss: the file is scored again)."""
        if self.cache is None:
            return None
        h = self.cache.hash_for(item.path, st)
        if h is None:
            return None
        payload, content = self.cache.score(h, self.key), self.cache.content(h)
        if payload is None or content is None:
            return None
        w, hh, dh, thumb = content
        rec = ImageRecord(path=item.path, rel=item.rel, root=item.root, content=h, width=w, height=hh,
                          dhash=dh, thumb=thumb, mtime=st.st_mtime)
        try:
            return rec.with_score(payload, cached=True)
        except (KeyError, TypeError, ValueError):
            return None

    def reuse(self, rec: ImageRecord) -> bool:
        """For a decoded, unscored ``rec``: when the cache holds a score for its content (the same
        bytes under another path, or touched), finish it from there (and record its path) -> True."""
        if self.cache is None:
            return False
        payload = self.cache.score(rec.content, self.key)
        if payload is None:
            return False
        try:
            hit = rec.with_score(payload, cached=True, seconds=0.0)
        except (KeyError, TypeError, ValueError):
            return False
        i, st = self._pending.pop(rec.path)
        self._done[i] = hit
        self.result.cached += 1
        self.cache.put_many([(rec.path, st, rec.content)],
                            [(rec.content, rec.width, rec.height, rec.dhash, rec.thumb)], [])
        return True

    def commit(self, records: Iterable[ImageRecord]) -> None:
        """Record finished files (scored, or failed with ``error``): failures are counted; scores
        go to the cache in one transaction (a failing cache turns itself off, scores are kept)."""
        files, contents, scores = [], [], []
        for rec in records:
            i, st = self._pending.pop(rec.path)
            self._done[i] = rec
            if rec.error is not None or rec.quality is None:
                self.result.failed += 1
                continue
            self.result.scored += 1
            files.append((rec.path, st, rec.content))
            contents.append((rec.content, rec.width, rec.height, rec.dhash, rec.thumb))
            scores.append((rec.content, self.key, rec.score_json()))
        if self.cache is not None and files:
            self.cache.put_many(files, contents, scores)

    def batch_done(self) -> bool:
        """Report progress after a batch; True (and ``interrupted``) when the run must stop."""
        if self.progress:
            self.progress(len(self._done), self.total, self.result.cached)
        if self.should_stop is not None and self.should_stop():
            self.result.interrupted = True
        return self.result.interrupted

    def finish(self) -> RunResult:
        """The result, records in scan order (what finished, when interrupted)."""
        self.result.records = [self._done[i] for i in sorted(self._done)]
        return self.result
