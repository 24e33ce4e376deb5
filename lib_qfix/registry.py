"""Scorers and detectors, looked up by name, built lazily, kept in bounded caches.

A factory is registered under a name with the dotted path of a callable (so that nothing heavy is
imported until first use). ``create_scorer(name, **config)`` builds once per (name, config) and is
safe to call from several threads: the first caller builds, the others wait for the same object.

:data:`DETECTORS` is the one table of QFix's detectors: name, the bool option that switches it on,
factory, whether it runs in the background. The options each one reads and the names the CLI and
the filter tab use are derived from it and the options schema (:mod:`lib_qfix.options.derived`).

Every cache is an LRU with a count budget per family (:data:`BUDGETS`): a long-running server that
is asked for many configurations keeps only the most recent ones. Families: ``scorer``,
``detector``, and shared resources built through :func:`shared` (``clip``: loaded CLIP models,
keyed only by architecture, weights and device). When an entry is evicted, cached objects of other
families that hold it as an attribute (a scorer holding its CLIP model) are dropped too, so the
evicted object is really released once no request uses it any more.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from lib_qfix.lru import LRU

T = TypeVar("T")

_SCORERS: dict[str, str] = {
    "offline": "lib_qfix.scoring.offline:OfflineScorer",
    "clip-iqa": "lib_qfix.scoring.clip_iqa:create_clip_iqa",
    "clip-iqa+learned": "lib_qfix.scoring.clip_iqa:create_clip_iqa_learned",
    "llm-judge": "lib_qfix.judge.scorer:create_llm_judge",
}


@dataclass(frozen=True)
class DetectorEntry:
    """One of QFix's detectors. ``name``: registry name and ``Region.source``; ``switch``: the bool
    option that turns it on (``detect_<choice>``: without the prefix it is the name the CLI's
    ``--detect`` and the filter tab use); ``factory``: dotted path of the class; ``background``: runs in
    a worker thread, overlapping the scorer and MediaPipe (the OCR text model is the slowest stage and
    onnxruntime releases the GIL while it runs)."""

    name: str
    switch: str
    factory: str
    background: bool = False

    @property
    def choice(self) -> str:
        """How the CLI (``--detect faces,text``) and the filter tab name this detector."""
        return self.switch.removeprefix("detect_")


DETECTORS: tuple[DetectorEntry, ...] = (
    DetectorEntry("face", "detect_faces", "lib_qfix.detect.faces:FaceDetector"),
    DetectorEntry("hand", "detect_hands", "lib_qfix.detect.hands:HandDetector"),
    DetectorEntry("text", "detect_text", "lib_qfix.detect.text:TextDetector", background=True),
    # scene detectors (off by default; see the "Scene" options)
    DetectorEntry("logo", "detect_logos", "lib_qfix.detect.logo:LogoDetector"),
    DetectorEntry("composition", "detect_composition", "lib_qfix.detect.composition:CompositionDetector"),
    DetectorEntry("lighting", "detect_lighting", "lib_qfix.detect.lighting:LightingDetector"),
    # body anatomy from pose (off by default; see the "Anatomy" options)
    DetectorEntry("anatomy", "detect_anatomy", "lib_qfix.detect.anatomy:AnatomyDetector"),
)
_DETECTORS: dict[str, str] = {d.name: d.factory for d in DETECTORS}

#: entries kept per family (a CLIP model is 100 MB - 1.7 GB; a scorer is light apart from its model)
BUDGETS: dict[str, int] = {"scorer": 4, "detector": 8, "clip": 2}
DEFAULT_BUDGET = 4

_caches: dict[str, LRU] = {}
_lock = threading.Lock()
_building: dict[tuple[str, Hashable], threading.Lock] = {}
_MISSING = object()


def register_scorer(name: str, target: str) -> None:
    """Register a scorer factory by dotted path ``"package.module:callable"``."""
    _SCORERS[name] = target


def register_detector(name: str, target: str) -> None:
    """Register a detector factory by dotted path ``"package.module:callable"``."""
    _DETECTORS[name] = target


def scorer_names() -> tuple[str, ...]:
    return tuple(_SCORERS)


def detector_names() -> tuple[str, ...]:
    return tuple(_DETECTORS)


def _resolve(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _cache(family: str) -> LRU:
    """The family's LRU (created on first use); call with ``_lock`` held."""
    if family not in _caches:
        _caches[family] = LRU(BUDGETS.get(family, DEFAULT_BUDGET))
    return _caches[family]


def _holds(obj: Any, dep: Any) -> bool:
    return any(v is dep for v in getattr(obj, "__dict__", {}).values())


def _release(evicted: list[Any]) -> None:
    """Drop cached objects of any family that hold an evicted one; call with ``_lock`` held."""
    while evicted:
        dep = evicted.pop()
        for cache in _caches.values():
            evicted.extend(cache.remove_where(lambda o, d=dep: _holds(o, d)))


def shared(family: str, key: Hashable, build: Callable[[], T]) -> T:
    """The object cached under (``family``, ``key``), built by ``build()`` once (thread-safe;
    concurrent callers for the same key wait for the first build; a failed build caches nothing)."""
    with _lock:
        found = _cache(family).get(key, _MISSING)
        if found is not _MISSING:
            return found
        build_lock = _building.setdefault((family, key), threading.Lock())
    try:
        with build_lock:  # one builder per key; others wait here, then find it cached
            with _lock:
                found = _cache(family).get(key, _MISSING)
                if found is not _MISSING:
                    return found
            obj = build()
            with _lock:
                _release(_cache(family).put(key, obj))
            return obj
    finally:
        with _lock:
            if _building.get((family, key)) is build_lock:
                del _building[(family, key)]


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


def _get(table: dict[str, str], family: str, name: str, config: dict[str, Any]) -> Any:
    if name not in table:
        raise KeyError(f"unknown {family} {name!r}; known: {', '.join(sorted(table))}")
    key = (name, tuple(sorted((k, _hashable(v)) for k, v in config.items())))
    return shared(family, key, lambda: _resolve(table[name])(**config))


def create_scorer(name: str, **config: Any) -> Any:
    """The scorer registered as ``name``, built with ``config`` (cached, see :data:`BUDGETS`)."""
    return _get(_SCORERS, "scorer", name, config)


def create_detector(name: str, **config: Any) -> Any:
    """The detector registered as ``name``, built with ``config`` (cached, see :data:`BUDGETS`)."""
    return _get(_DETECTORS, "detector", name, config)


def set_budget(family: str, budget: int) -> None:
    """Keep at most ``budget`` (>= 1) cached objects of ``family`` (evicting the oldest now)."""
    with _lock:
        evicted = _cache(family).set_budget(budget)
        BUDGETS[family] = int(budget)
        _release(evicted)


def cache_sizes() -> dict[str, int]:
    """Cached objects per family, e.g. ``{"scorer": 2, "clip": 1}``."""
    with _lock:
        return {family: len(cache) for family, cache in _caches.items()}


def cached(family: str) -> list[Any]:
    """The objects cached for ``family`` (oldest first)."""
    with _lock:
        return _cache(family).values()


def clear_cache() -> None:
    """Drop every cached scorer, detector and shared resource (tests, model folder changes)."""
    with _lock:
        for cache in _caches.values():
            cache.clear()
