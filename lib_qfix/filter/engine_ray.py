"""The Ray engine: the same filter on a Ray cluster (``--engine ray``), for collections too large
for one machine.

The driver (:class:`lib_qfix.filter.core.Run`) does what needs the cache (stat fast path, lookups,
writes); the misses go through ``ray.data.from_items(...).map_batches(ScorerActor, concurrency=N)``:
an actor pool in which each actor builds the scorer once and then reads, hashes, decodes and scores
whole batches with the very function the local engine's workers use
(:func:`lib_qfix.filter.job.score_files`), so decisions match the local engine exactly. Results
stream back batch by batch and are committed to the cache as they come, so an interrupted run keeps
what finished. The files must be readable at the same paths on every node (a shared file system).
Ray is imported only here, only when this engine runs.

Ray Data moves batches as columns: tasks go out as columns of plain values and records come back as
one column of pickled :class:`ImageRecord`; :func:`tasks_to_rows`, :func:`columns_to_tasks`,
:func:`records_to_columns` and :func:`columns_to_records` are the only conversions.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lib_qfix
from lib_qfix.filter.cache import ScoreCache
from lib_qfix.filter.core import Run, RunResult
from lib_qfix.filter.job import RunConfig, Task, score_files
from lib_qfix.filter.records import ImageRecord
from lib_qfix.filter.scan import ScanItem
from lib_qfix.options import Options
from lib_qfix.scoring import scorer_for


def tasks_to_rows(tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Tasks as Ray Data rows (``path``, ``root``, ``rel``, ``mtime`` in seconds since the epoch)."""
    return [{"path": it.path, "root": it.root, "rel": it.rel, "mtime": mtime} for it, mtime in tasks]


def columns_to_tasks(batch: Mapping[str, Any]) -> list[Task]:
    """A batch of :func:`tasks_to_rows` rows (columns) as tasks again."""
    return [(ScanItem(str(p), str(r), str(rel)), float(m))
            for p, r, rel, m in zip(batch["path"], batch["root"], batch["rel"], batch["mtime"], strict=True)]


def records_to_columns(records: Sequence[ImageRecord]) -> dict[str, list[bytes]]:
    """Finished records as a Ray Data batch: one ``record`` column of pickles."""
    return {"record": [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in records]}


def columns_to_records(batch: Mapping[str, Any]) -> list[ImageRecord]:
    """A result batch of :func:`records_to_columns` as records again."""
    return [pickle.loads(bytes(b)) for b in batch["record"]]


class ScorerActor:
    """A Ray Data callable class: built once per actor (loads the scorer), then called per batch
    of task rows; returns one record per row."""

    def __init__(self, options: Options, cfg: RunConfig):
        self.options, self.cfg = options, cfg
        self.scorer, _ = scorer_for(options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        return records_to_columns(score_files(self.scorer, self.options, self.cfg, columns_to_tasks(batch)))


def _init_ray(address: str | None, actors: int) -> Any:
    import ray

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a private local instance: no dashboard, loopback only, small object store
            ray.init(num_cpus=actors, include_dashboard=False, _node_ip_address="127.0.0.1",
                     object_store_memory=256 * 1024 * 1024, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": _package_root()}})
    ctx = ray.data.DataContext.get_current()  # type: ignore[attr-defined]
    ctx.enable_progress_bars = False
    return ray


def _package_root() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(lib_qfix.__file__)))
    extra = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + extra if extra else "")


def run_ray(items: list[ScanItem], options: Options, cache: ScoreCache | None = None, cfg: RunConfig = RunConfig(),
            *, progress: Callable[[int, int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None, address: str | None = None,
            actors: int = 0) -> RunResult:
    """Like :func:`lib_qfix.filter.engine_local.run_local`, scoring on Ray with ``actors`` scorer
    actors (0 = one per CPU of this machine). ``address``: an existing cluster (None = start one)."""
    run = Run(items, options, cache, cfg, progress=progress, should_stop=should_stop)
    try:
        if run.todo:
            actors = actors or os.cpu_count() or 2
            ray = _init_ray(address, actors)
            ds = ray.data.from_items(tasks_to_rows(run.tasks),
                                     override_num_blocks=max(1, min(len(run.todo) // cfg.batch_size, 200)))
            ds = ds.map_batches(ScorerActor, fn_constructor_kwargs={"options": options, "cfg": cfg},
                                concurrency=actors, batch_size=cfg.batch_size, num_cpus=1,
                                batch_format="numpy")
            for batch in ds.iter_batches(batch_size=cfg.batch_size, batch_format="numpy"):
                run.commit(columns_to_records(batch))
                if run.batch_done():
                    break
    except KeyboardInterrupt:
        run.result.interrupted = True
    return run.finish()
