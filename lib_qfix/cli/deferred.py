"""Start-up of the ``qfix`` command: modules that third-party packages import but QFix never uses,
loaded on first use instead.

``import mediapipe`` imports all of MediaPipe: its drawing helpers, which import
``matplotlib.pyplot`` (~0.5-0.8 s, a third of ``qfix diagnose``'s start-up), and its audio tasks
(``sounddevice``). :func:`install` adds an import hook for the modules of :data:`DEFERRED` only:
importing one creates the module object (its parent package gets the attribute, as usual) without
running its code; the code runs on the first access to a name it defines. Code that uses them
sees no difference. Installed by the ``qfix`` command in its own process, never inside A1111 or
Forge, where other extensions share these modules.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any

#: submodules imported by their packages' ``__init__`` and used by nothing QFix runs
DEFERRED = frozenset({
    "mediapipe.python.solutions.drawing_utils",
    "mediapipe.python.solutions.drawing_styles",
    "mediapipe.tasks.python.audio",
})
_LOCK = threading.RLock()


class DeferredModule(types.ModuleType):
    """A module whose code has not run yet: the first missing attribute runs it."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__") and attr != "__all__":
            # what the import system probes (__path__, __file__, ...) must not run the code
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        with _LOCK:
            real = self.__dict__.pop("_deferred_spec", None)
            if real is not None:
                self.__spec__, self.__loader__ = real, real.loader
                if real.has_location:
                    self.__file__ = real.origin
                real.loader.exec_module(self)
        if attr in self.__dict__:
            return self.__dict__[attr]
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")


class _Loader(importlib.abc.Loader):
    def __init__(self, real: importlib.machinery.ModuleSpec) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = DeferredModule(spec.name)
        module.__dict__["_deferred_spec"] = self.real
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing yet: the code runs on first use (:class:`DeferredModule`)."""


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in DEFERRED:
            return None
        real = importlib.machinery.PathFinder.find_spec(name, path)
        if real is None or real.loader is None or not hasattr(real.loader, "exec_module"):
            return None
        spec = importlib.util.spec_from_loader(name, _Loader(real), is_package=real.submodule_search_locations is not None)
        if spec is not None and real.submodule_search_locations is not None:
            spec.submodule_search_locations = list(real.submodule_search_locations)  # its submodules import normally
        return spec


_FINDER = _Finder()


def install() -> bool:
    """Add the hook (once); False when a deferred module's package is already imported."""
    if any(name.split(".")[0] in sys.modules for name in DEFERRED):
        return False
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return True
