"""Scorers and detectors, looked up by name, built lazily, cached per process.

A factory is registered under a name with the dotted path of a callable (so that nothing heavy is
imported until first use). ``create_scorer(name, **config)`` builds once per (name, config) and is
safe to call from several threads: the first caller builds, the others wait for the same object.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

_SCORERS: dict[str, str] = {
    "offline": "lib_qfix.scoring.offline:OfflineScorer",
    "clip-iqa": "lib_qfix.scoring.clip_iqa:create_clip_iqa",
    "clip-iqa+learned": "lib_qfix.scoring.clip_iqa:create_clip_iqa_learned",
}
_DETECTORS: dict[str, str] = {
    "face": "lib_qfix.detect.faces:FaceDetector",
    "hand": "lib_qfix.detect.hands:HandDetector",
    "text": "lib_qfix.detect.text:TextDetector",
}

_cache: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Any] = {}
_lock = threading.Lock()
_building: dict[tuple, threading.Lock] = {}


def register_scorer(name: str, target: str) -> None:
    """Register a scorer factory by dotted path ``"package.module:callable"``."""
    _SCORERS[name] = target


def register_detector(name: str, target: str) -> None:
    _DETECTORS[name] = target


def scorer_names() -> tuple[str, ...]:
    return tuple(_SCORERS)


def detector_names() -> tuple[str, ...]:
    return tuple(_DETECTORS)


def _resolve(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _get(table: dict[str, str], family: str, name: str, config: dict[str, Any]) -> Any:
    if name not in table:
        raise KeyError(f"unknown {family} {name!r}; known: {', '.join(sorted(table))}")
    key = (family, name, tuple(sorted((k, _hashable(v)) for k, v in config.items())))
    with _lock:
        if key in _cache:
            return _cache[key]
        build_lock = _building.setdefault(key, threading.Lock())
    with build_lock:  # one builder per key; others wait here, then find it cached
        with _lock:
            if key in _cache:
                return _cache[key]
        obj = _resolve(table[name])(**config)
        with _lock:
            _cache[key] = obj
            _building.pop(key, None)
        return obj


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


def create_scorer(name: str, **config: Any) -> Any:
    """The scorer registered as ``name``, built with ``config`` once per process."""
    return _get(_SCORERS, "scorer", name, config)


def create_detector(name: str, **config: Any) -> Any:
    """The detector registered as ``name``, built with ``config`` once per process."""
    return _get(_DETECTORS, "detector", name, config)


def clear_cache() -> None:
    """Drop every cached scorer and detector (tests, model folder changes)."""
    with _lock:
        _cache.clear()
