"""The steps of a filter run, shared by ``qfix filter`` and the A1111 tab:
scan -> score with an engine (cached) -> bursts -> decide -> write outputs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lib_qfix.filter.bursts import MAX_DISTANCE, group_bursts
from lib_qfix.filter.cache import ScoreCache
from lib_qfix.filter.core import Progress, RunResult
from lib_qfix.filter.decide import decide
from lib_qfix.filter.engine_local import run_local
from lib_qfix.filter.engine_ray import run_ray
from lib_qfix.filter.job import RunConfig, filter_options
from lib_qfix.filter.records import Decision
from lib_qfix.filter.report import write_csv, write_html, write_json
from lib_qfix.filter.scan import ScanResult, scan
from lib_qfix.options import Options

ENGINES = ("local", "ray")


def score_folders(folders: Sequence[str | os.PathLike[str]], options: Options, cfg: RunConfig = RunConfig(), *,
                  cache_path: str | os.PathLike[str] | None = None, engine: str = "local",
                  exclude: Sequence[str | os.PathLike[str]] = (), scorer: Any = None,
                  progress: Progress | None = None,
                  should_stop: Callable[[], bool] | None = None,
                  ray_kwargs: dict[str, Any] | None = None) -> tuple[ScanResult, RunResult]:
    """Scan ``folders`` and score every image. ``options`` are QFix options; detectors run only
    for the names in ``cfg.detect``. Raises ScanError for a missing folder or no images and
    CacheError for a cache file that cannot be opened; a cache that fails later only turns off
    (``result.cache_error``), every score is kept."""
    if engine not in ENGINES:
        raise ValueError(f"engine: {engine!r} is not allowed; allowed: {', '.join(ENGINES)}")
    found = scan(list(folders), exclude=list(exclude))
    opts = filter_options(options, cfg.detect)
    cache = ScoreCache(cache_path) if cache_path is not None else None
    try:
        if engine == "ray":
            result = run_ray(found.items, opts, cache, cfg, progress=progress, should_stop=should_stop,
                             **(ray_kwargs or {}))
        else:
            result = run_local(found.items, opts, cache, cfg, scorer=scorer, progress=progress,
                               should_stop=should_stop)
    finally:
        if cache is not None:
            cache.close()
    if cache is not None and cache.error:
        result.cache_error = cache.error
        result.warnings.append(cache.error)
    return found, result


def make_decisions(result: RunResult, threshold: float, keep_top: str | int | None = None,
                   best_of_burst: bool = False, burst_distance: int = MAX_DISTANCE,
                   burst_gap_s: float | None = None) -> list[Decision]:
    """Group bursts (``burst_distance``: bits of the 64-bit dhash, ``burst_gap_s``: seconds) and
    decide keep/reject for every record of ``result`` (``threshold``: quality 0..1)."""
    bursts = group_bursts(result.records, burst_distance, burst_gap_s)
    return decide(result.records, threshold, keep_top, bursts, best_of_burst)


def write_outputs(decisions: Sequence[Decision], out_dir: str | os.PathLike[str], threshold: float | None,
                  **meta: Any) -> dict[str, str]:
    """``decisions.csv``, ``decisions.json`` and ``report.html`` in ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "decisions.csv", "json": out / "decisions.json", "html": out / "report.html"}
    meta = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), **meta}
    write_csv(decisions, paths["csv"])
    write_json(decisions, paths["json"], **meta)
    write_html(decisions, paths["html"], threshold, **meta)
    return {k: str(v) for k, v in paths.items()}
