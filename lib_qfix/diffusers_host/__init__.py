"""QFix's second host: a diffusers pipeline instead of A1111 (``qfix fix`` and :func:`fix_image`).

The adapter package: with ``lib_qfix.a1111`` the only place allowed to import diffusers and
transformers (tests/test_boundary.py, ruff TID251). Its modules implement the fix loop's ports
(:mod:`.inpainter`), ControlNet (:mod:`.controlnet`), model loading (:mod:`.loading`), devices
(:mod:`.device`), the A1111 sampler names (:mod:`.schedulers`), the Python API (:mod:`.api`) and the
per-file work of ``qfix fix`` (:mod:`.job`).

diffusers and transformers are not QFix requirements inside A1111; outside it they are installed
with :data:`INSTALL` (:func:`missing` says so before anything is imported). Importing this package
imports nothing heavy; the submodules get diffusers through :mod:`.libs`.
"""

from __future__ import annotations

import importlib.util
from typing import Any

#: the pip command that installs what this host needs (the versions tested with QFix)
INSTALL = "pip install diffusers==0.31.0 transformers==4.46.1"
REQUIRED = ("diffusers", "transformers")


def missing() -> str | None:
    """One line saying what to install when diffusers or transformers is missing, else None."""
    absent = [m for m in REQUIRED if importlib.util.find_spec(m) is None]
    if not absent:
        return None
    return f"{' and '.join(absent)} not installed; qfix fix needs them: {INSTALL}"


def __getattr__(name: str) -> Any:
    """``fix_image`` and ``DiffusersFixer`` on first use (importing them loads diffusers)."""
    if name in ("fix_image", "DiffusersFixer"):
        from lib_qfix.diffusers_host import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
