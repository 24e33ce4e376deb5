"""What both engines share: the options a filter run scores with, the cache key, and scoring one
batch of decoded images into cacheable payloads. Host-agnostic and picklable (Ray ships it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib_qfix.filter.decode import WORK_SIDE, Decoded
from lib_qfix.filter.records import score_payload
from lib_qfix.imageio import MAX_PIXELS
from lib_qfix.types import Region

DETECT_FLAGS = {"faces": "detect_faces", "hands": "detect_hands", "text": "detect_text"}
# detector options that change what a detector returns (part of the cache key when it runs)
_DETECT_KEYS = {
    "faces": ("face_confidence", "face_min_area", "face_max_area", "face_mask", "detect_cropping"),
    "hands": ("hand_confidence", "hand_min_area", "hand_max_area", "hand_crops", "detect_cropping"),
    "text": ("text_confidence", "ignore_text_in_prompt"),
}


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


def filter_options(options: Any, detect: tuple[str, ...]) -> Any:
    """``options`` with exactly the detectors in ``detect`` switched on (filter default: none)."""
    return options.replace(**{flag: name in detect for name, flag in DETECT_FLAGS.items()})


def score_settings(options: Any, cfg: RunConfig) -> dict[str, Any]:
    """Everything besides the file content that changes a payload (hashed into the cache key)."""
    from lib_qfix.scoring import scorer_config

    s: dict[str, Any] = {"scorer": options.scorer, "config": scorer_config(options),
                         "work_side": cfg.work_side, "detect_global": options.detect_global,
                         "detect": list(cfg.detect)}
    for name in cfg.detect:
        s.update({k: getattr(options, k) for k in _DETECT_KEYS[name]})
    return s


def _scale_region(r: Region, scale: float, w: int, h: int) -> Region:
    if r.box is None or scale == 1.0:
        return r
    x0, y0, x1, y1 = r.box
    box = (max(0, int(x0 / scale)), max(0, int(y0 / scale)), min(w, round(x1 / scale)), min(h, round(y1 / scale)))
    from dataclasses import replace

    return replace(r, box=box, polygon=None, landmarks=None)


def score_decoded(scorer: Any, options: Any, decoded: list[Decoded]) -> list[dict[str, Any] | str]:
    """One payload per image (or an error string for an image the scorer could not handle).
    A failing batch is retried image by image so one bad image does not sink its batch."""
    from lib_qfix.diagnose import run_detectors

    images = [d.image for d in decoded]
    try:
        results: list[Any] = list(scorer.score(images))
        if len(results) != len(images):
            raise ValueError(f"scorer returned {len(results)} results for {len(images)} images")
    except Exception:
        results = []
        for img in images:
            try:
                results.append(scorer.score([img])[0])
            except Exception as e:  # reported on this image, never silent
                results.append(f"scorer {getattr(scorer, 'name', '?')} failed: {type(e).__name__}: {e}")
    out: list[dict[str, Any] | str] = []
    for d, res in zip(decoded, results, strict=True):
        if isinstance(res, str):
            out.append(res)
            continue
        regions = list(res.regions) if options.detect_global else []
        warnings: list[str] = []
        if any(getattr(options, f) for f in DETECT_FLAGS.values()):
            found, warnings = run_detectors(d.image, options)
            regions += [_scale_region(r, d.scale, d.width, d.height) for r in found]
        out.append(score_payload(res.quality, res.scorer, res.signals, res.reasons, regions, warnings))
    return out
