"""A faithful fake of the A1111 1.10.1 host: only what QFix touches, shaped as docs/a1111.md says.

``install(monkeypatch, tmp_path)`` puts ``modules``, ``modules.scripts``, ``modules.processing``,
``modules.shared``, ``modules.script_callbacks``, ``modules.face_restoration``,
``modules.paths_internal``, ``modules.images``, ``modules.infotext_utils`` and ``modules.upscaler``
(with ``shared.sd_upscalers``, see :mod:`testkit.fake_a1111.host_upscalers`) into ``sys.modules``
and returns the :class:`Host`, which records hook calls, inner passes and saved images.
Generation is simulated: txt2img returns ``host.base_image`` (resized); an inner img2img pass
paints the masked pixels with a colour derived from its seed (pixels outside the mask unchanged),
or calls ``host.inpaint_fn(p)`` when set.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

from testkit.fake_a1111 import host_infotext, host_processing, host_scripts, host_shared, host_upscalers


class Host:
    def __init__(self, tmp: Path):
        self.calls: list[tuple[str, Any]] = []  # (hook, detail), in order
        self.passes: list[Any] = []  # every process_images call's p
        self.inner: list[dict[str, Any]] = []  # inner (img2img with a mask) passes, as records
        self.saved: list[dict[str, Any]] = []
        self.errors: list[str] = []  # exceptions the runner logged and swallowed
        self.base_image: np.ndarray | None = None
        self.inpaint_fn = None
        self.on_inner = None  # called with p before an inner pass samples (tests press Interrupt here)
        self.restore_calls: list[str] = []
        self.upscale_calls: list[tuple[Any, float, tuple[int, int]]] = []  # (upscaler, scale, size in)
        self.upscaler_weights = True  # False: model upscalers fail to load (A1111 then resizes with Lanczos)
        self.data_path = tmp / "data"
        self.models_path = tmp / "models"
        self.data_path.mkdir(parents=True, exist_ok=True)
        self.models_path.mkdir(parents=True, exist_ok=True)
        self.modules: dict[str, types.ModuleType] = {}


def _module(name: str, **attrs: Any) -> types.ModuleType:
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    return m


def install(monkeypatch: Any, tmp_path: Path) -> Host:
    host = Host(tmp_path)
    shared = host_shared.build(host)
    upscaler, shared.sd_upscalers = host_upscalers.build(host, shared)
    paths_internal = _module("modules.paths_internal", data_path=str(host.data_path),
                             models_path=str(host.models_path), script_path=str(tmp_path))
    scripts = host_scripts.build(host)
    callbacks = host_scripts.build_callbacks(host)
    infotext_utils = host_infotext.build(host, callbacks)
    processing = host_processing.build(host, shared, scripts, infotext_utils, paths_internal)
    face_restoration = _module("modules.face_restoration",
                               restore_faces=lambda img: host_shared.restore_faces(host, shared, img))
    images = _module("modules.images", save_image=lambda *a, **k: host.saved.append({"args": a, **k}))
    pkg = _module("modules", __path__=[])
    mods = {"modules": pkg, "modules.shared": shared, "modules.paths_internal": paths_internal,
            "modules.scripts": scripts, "modules.script_callbacks": callbacks,
            "modules.infotext_utils": infotext_utils, "modules.processing": processing,
            "modules.face_restoration": face_restoration, "modules.images": images,
            "modules.upscaler": upscaler}
    for name, m in mods.items():
        monkeypatch.setitem(sys.modules, name, m)
        if name != "modules":
            setattr(pkg, name.split(".", 1)[1], m)
    # drop adapter modules imported against an earlier fake
    for name in [n for n in sys.modules if n.startswith("lib_qfix.a1111")]:
        monkeypatch.delitem(sys.modules, name)
    host.modules = mods
    return host
