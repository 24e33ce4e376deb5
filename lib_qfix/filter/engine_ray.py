"""The Ray engine: the same filter on a Ray cluster (``--engine ray``), for collections too large
for one machine.

The driver does what needs the cache (stat fast path, lookups, writes); the misses go through
``ray.data.from_items(...).map_batches(ScorerActor, concurrency=N)``: an actor pool in which each
actor builds the scorer once and then reads, hashes, decodes and scores whole batches with the very
functions the local engine uses (:func:`decode_bytes`, :func:`score_decoded`), so decisions match
the local engine exactly. Results stream back batch by batch and are committed to the cache as
they come, so an interrupted run keeps what finished. The files must be readable at the same paths
on every node (a shared file system). Ray is imported only here, only when this engine runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lib_qfix.filter.cache import ScoreCache
from lib_qfix.filter.engine_local import RunResult, _base, _decode_job, batch_done, commit_batch, start_run
from lib_qfix.filter.job import RunConfig, score_decoded
from lib_qfix.filter.scan import ScanItem


class ScorerActor:
    """A Ray Data callable class: built once per actor (loads the scorer), then called per batch
    of ``{"i": …, "path": …}`` rows; returns one row per input with the payload as JSON text."""

    def __init__(self, options: Any, cfg: RunConfig):
        from lib_qfix.scoring import scorer_for

        self.options, self.cfg = options, cfg
        self.scorer, _ = scorer_for(options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        from lib_qfix.filter.scan import ScanItem as Item

        out: dict[str, list[Any]] = {k: [] for k in ("i", "hash", "width", "height", "dhash", "thumb",
                                                    "payload", "error")}
        ok: list[tuple[int, Any]] = []
        for i, path in zip(batch["i"], batch["path"], strict=True):
            h, dec = _decode_job(Item(str(path), "", ""), self.cfg)
            if isinstance(dec, str):
                self._row(out, int(i), h, None, None, dec)
            else:
                ok.append((int(i), h, dec))
        if ok:
            payloads = score_decoded(self.scorer, self.options, [d for _, _, d in ok])
            for (i, h, dec), p in zip(ok, payloads, strict=True):
                self._row(out, i, h, dec, None if isinstance(p, str) else p, p if isinstance(p, str) else "")
        return out

    @staticmethod
    def _row(out, i, h, dec, payload, error) -> None:
        out["i"].append(i)
        out["hash"].append(h)
        out["width"].append(dec.width if dec else 0)
        out["height"].append(dec.height if dec else 0)
        out["dhash"].append(f"{dec.dhash:016x}" if dec else "")
        out["thumb"].append(dec.thumb if dec else b"")
        out["payload"].append(json.dumps(payload) if payload is not None else "")
        out["error"].append(error or "")


def _init_ray(address: str | None, actors: int) -> Any:
    import ray

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a private local instance: no dashboard, loopback only, small object store
            ray.init(num_cpus=actors, include_dashboard=False, _node_ip_address="127.0.0.1",
                     object_store_memory=256 * 1024 * 1024, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": _package_root()}})
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    return ray


def _package_root() -> str:
    import lib_qfix

    root = os.path.dirname(os.path.dirname(os.path.abspath(lib_qfix.__file__)))
    extra = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + extra if extra else "")


def _rows(batch: dict[str, Any], by_index) -> Any:
    """One Ray result batch (numpy columns) as :func:`commit_batch` input rows."""
    for n in range(len(batch["i"])):
        i = int(batch["i"][n])
        item, st = by_index[i]
        base = _base(item, st, str(batch["hash"][n]))
        if batch["error"][n]:
            yield i, base, str(batch["error"][n]), None, st
            continue
        base = replace(base, width=int(batch["width"][n]), height=int(batch["height"][n]),
                       dhash=int(str(batch["dhash"][n]), 16), thumb=bytes(batch["thumb"][n]))
        yield i, base, None, json.loads(str(batch["payload"][n])), st


def run_ray(items: list[ScanItem], options: Any, cache: ScoreCache | None = None, cfg: RunConfig = RunConfig(),
            *, progress: Callable[[int, int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None, address: str | None = None,
            actors: int = 0) -> RunResult:
    """Like :func:`lib_qfix.filter.engine_local.run_local`, scoring on Ray with ``actors`` scorer
    actors (0 = one per CPU of this machine). ``address``: an existing cluster (None = start one)."""
    # the driver resolves the scorer too: its name and version key the cache, its warnings the run
    _, key, done, todo, res = start_run(items, options, cache, cfg, progress=progress)
    total = len(items)
    by_index = {i: (item, st) for i, item, st in todo}
    try:
        if todo:
            actors = actors or os.cpu_count() or 2
            ray = _init_ray(address, actors)
            ds = ray.data.from_items([{"i": i, "path": item.path} for i, item, _ in todo],
                                     override_num_blocks=max(1, min(len(todo) // cfg.batch_size, 200)))
            ds = ds.map_batches(ScorerActor, fn_constructor_kwargs={"options": options, "cfg": cfg},
                                concurrency=actors, batch_size=cfg.batch_size, num_cpus=1,
                                batch_format="numpy")
            for batch in ds.iter_batches(batch_size=cfg.batch_size, batch_format="numpy"):
                commit_batch(_rows(batch, by_index), done, res, cache, key)
                if batch_done(done, total, res, progress, should_stop):
                    break
    except KeyboardInterrupt:
        res.interrupted = True
    res.records = [done[i] for i in sorted(done)]
    return res
