"""A small thread-safe LRU map with a count budget (the registry's caches, CLIP text features).

``put`` returns what it evicted, so that a caller can release things that depended on it. The
budget counts entries, not bytes: every user keeps entries of one kind (a model, a feature vector),
so a count bounds memory as well as a byte total would and needs no size estimates.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()


class LRU:
    """At most ``budget`` (>= 1) entries; the least recently used entry leaves first."""

    def __init__(self, budget: int):
        if int(budget) < 1:
            raise ValueError(f"budget: {budget!r} is not allowed; an integer >= 1")
        self.budget = int(budget)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.RLock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value for ``key`` (now the most recent), else ``default``."""
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._data.move_to_end(key)
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def put(self, key: Hashable, value: Any) -> list[Any]:
        """Store ``value`` as the most recent entry; returns the values evicted to stay in budget."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            return self._trim()

    def set_budget(self, budget: int) -> list[Any]:
        """Change the budget; returns the values evicted by a smaller one."""
        if int(budget) < 1:
            raise ValueError(f"budget: {budget!r} is not allowed; an integer >= 1")
        with self._lock:
            self.budget = int(budget)
            return self._trim()

    def _trim(self) -> list[Any]:
        evicted = []
        while len(self._data) > self.budget:
            evicted.append(self._data.popitem(last=False)[1])
        return evicted

    def remove_where(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """Drop every entry whose value matches ``predicate``; returns the dropped values."""
        with self._lock:
            keys = [k for k, v in self._data.items() if predicate(v)]
            return [self._data.pop(k) for k in keys]

    def values(self) -> list[Any]:
        with self._lock:
            return list(self._data.values())

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
