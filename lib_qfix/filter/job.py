"""What every engine does with a file, wherever it runs (a decode thread, a worker process, a Ray
actor): read -> hash -> decode -> score into one :class:`ImageRecord`. Also the options a filter
run scores with and the settings that key the cache. Host-agnostic and picklable (process pools
and Ray ship it); the driver side of a run (cache, progress, stop) is :mod:`lib_qfix.filter.core`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lib_qfix.diagnose import run_detectors
from lib_qfix.errors import error_text
from lib_qfix.filter.decode import WORK_SIDE, Decoded, content_hash, decode_bytes, read_file
from lib_qfix.filter.records import ImageRecord, score_json
from lib_qfix.filter.scan import ScanItem
from lib_qfix.imageio import MAX_PIXELS, ImageLoadError
from lib_qfix.judge.pnginfo import stored_prompt
from lib_qfix.options import DETECT_FLAGS, DETECT_KEYS, Options
from lib_qfix.scoring import scorer_config
from lib_qfix.types import Region
from lib_qfix.working import scale_region

#: one file to score: the scanned file and its modification time (seconds since the epoch, from
#: the driver's stat, so that every engine records the same time)
Task = tuple[ScanItem, float]


@dataclass(frozen=True)
class RunConfig:
    """Engine settings. ``work_side``: long side (pixels) images are scored at, 0 = full size;
    ``max_pixels``: larger images are reported and skipped; ``batch_size``: images per scorer call;
    ``workers``: parallel workers (0 = one per CPU); ``pool``: "threads" (decode in threads, score
    in the main thread), "processes" (decode and score in worker processes) or "auto" (processes for
    the offline scorer on 64+ images, else threads); ``verify``: re-hash every file (ignore stat)."""

    work_side: int = WORK_SIDE
    max_pixels: int = MAX_PIXELS
    batch_size: int = 16
    workers: int = 0
    verify: bool = False
    pool: str = "auto"
    detect: tuple[str, ...] = field(default=())


def check_detect(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate detector names (faces, hands, text)."""
    out = []
    for n in names:
        n = n.strip().lower()
        if not n:
            continue
        if n not in DETECT_FLAGS:
            raise ValueError(f"--detect: {n!r} is not a detector; allowed: {', '.join(DETECT_FLAGS)}")
        out.append(n)
    return tuple(dict.fromkeys(out))


def filter_options(options: Options, detect: tuple[str, ...]) -> Options:
    """``options`` with exactly the detectors in ``detect`` switched on (filter default: none)."""
    return options.replace(**{flag: name in detect for name, flag in DETECT_FLAGS.items()})


def score_settings(options: Options, cfg: RunConfig) -> dict[str, Any]:
    """Everything besides the file content that changes a score (hashed into the cache key)."""
    s: dict[str, Any] = {"scorer": options.scorer, "config": scorer_config(options),
                         "work_side": cfg.work_side, "detect_global": options.detect_global,
                         "detect": list(cfg.detect)}
    for name in cfg.detect:
        s.update({k: getattr(options, k) for k in DETECT_KEYS[name]})
    return s


def _scale_region(r: Region, scale: float, w: int, h: int) -> Region:
    """A region found at working size (``scale`` = working/original) in original pixels (the box
    only: records keep no outlines)."""
    if r.box is None:
        return r
    return replace(scale_region(r, 1.0 / scale, 1.0 / scale, w, h), polygon=None, landmarks=None)


def decode_file(item: ScanItem, cfg: RunConfig, mtime: float = 0.0) -> tuple[ImageRecord, Decoded | None]:
    """Read, hash and decode one file: (record with content hash, size, dhash and thumbnail, the
    decoded image), or (record with ``error``, None). Never raises for a bad file."""
    t0 = time.perf_counter()

    def record(**kw: Any) -> ImageRecord:
        return ImageRecord(item.path, item.rel, item.root, mtime=mtime, seconds=time.perf_counter() - t0, **kw)

    try:
        data = read_file(item.path)
    except ImageLoadError as e:
        return record(error=str(e)), None
    h = content_hash(data)
    try:
        dec = decode_bytes(data, item.path, work_side=cfg.work_side, max_pixels=cfg.max_pixels)
    except ImageLoadError as e:
        return record(content=h, error=str(e)), None
    except Exception as e:  # anything else about one file is that file's error, never the run's
        return record(content=h, error=f"{item.path}: cannot read image ({error_text(e)})"), None
    return record(content=h, width=dec.width, height=dec.height, dhash=dec.dhash, thumb=dec.thumb), dec


def score_decoded(scorer: Any, options: Options, batch: Sequence[tuple[ImageRecord, Decoded]]) -> list[ImageRecord]:
    """Score decoded files in one scorer call (plus the detectors ``options`` switch on): the
    finished records, in order; an image the scorer could not handle gets ``error``. A failing
    batch is retried image by image so one bad image does not sink its batch."""
    images = [d.image for _, d in batch]
    t0 = time.perf_counter()
    # the LLM judge rates each image against the prompt A1111 stored in it
    prompts = [stored_prompt(rec.path) for rec, _ in batch] if getattr(scorer, "wants_prompts", False) else None
    try:
        results: list[Any] = list(scorer.score(images, prompts) if prompts is not None else scorer.score(images))
        if len(results) != len(images):
            raise ValueError(f"scorer returned {len(results)} results for {len(images)} images")
    except Exception:
        results = []
        for i, img in enumerate(images):
            try:
                results.append(scorer.score([img], [prompts[i]])[0] if prompts is not None else scorer.score([img])[0])
            except Exception as e:  # reported on this image, never silent
                results.append(f"scorer {getattr(scorer, 'name', '?')} failed: {error_text(e)}")
    share = (time.perf_counter() - t0) / max(1, len(images))
    detect = any(getattr(options, f) for f in DETECT_FLAGS.values())
    out: list[ImageRecord] = []
    for (rec, d), res in zip(batch, results, strict=True):
        t1 = time.perf_counter()
        if isinstance(res, str):
            out.append(replace(rec, error=res, seconds=rec.seconds + share))
            continue
        # scorer regions are global (box None) but the judge's may be boxed: scale them like detectors'
        regions = [_scale_region(r, d.scale, d.width, d.height) for r in res.regions
                   if options.detect_global or r.box is not None]
        warnings: list[str] = list(getattr(res, "warnings", ()))
        if detect:
            found, det_warnings = run_detectors(d.image, options)
            warnings += det_warnings
            regions += [_scale_region(r, d.scale, d.width, d.height) for r in found]
        payload = score_json(res.quality, res.scorer, res.signals, res.reasons, regions, warnings)
        out.append(rec.with_score(payload, seconds=rec.seconds + share + time.perf_counter() - t1))
    return out


def score_files(scorer: Any, options: Options, cfg: RunConfig, tasks: Sequence[Task]) -> list[ImageRecord]:
    """Decode and score ``tasks`` as one batch (what a worker process or a Ray actor does): one
    finished record per task, in order."""
    decoded = [decode_file(item, cfg, mtime) for item, mtime in tasks]
    ok = [(r, d) for r, d in decoded if d is not None]
    scored = iter(score_decoded(scorer, options, ok) if ok else ())
    return [next(scored) if d is not None else r for r, d in decoded]
