"""Fake ``modules.shared``: opts (with add_option/OptionInfo), state, cmd_opts, face_restorers."""

from __future__ import annotations

import types
from typing import Any

import numpy as np


class OptionInfo:
    def __init__(self, default=None, label="", component=None, component_args=None, onchange=None,
                 section=None, refresh=None, comment_before="", comment_after="", infotext=None,
                 restrict_api=False, category_id=None):
        self.default, self.label, self.component = default, label, component
        self.component_args, self.section = component_args, section
        self.restrict_api = restrict_api  # A1111: not settable through /sdapi/v1/options


class Options:
    """Attribute access to settings; unknown keys raise AttributeError like the real one."""

    def __init__(self, data: dict[str, Any]):
        object.__setattr__(self, "data", dict(data))
        object.__setattr__(self, "data_labels", {})

    def add_option(self, key: str, info: OptionInfo) -> None:
        self.data_labels[key] = info
        self.data.setdefault(key, info.default)

    def __getattr__(self, key: str) -> Any:
        data = object.__getattribute__(self, "data")
        if key in data:
            return data[key]
        raise AttributeError(key)

    def __setattr__(self, key: str, value: Any) -> None:
        self.data[key] = value


class State:
    def __init__(self) -> None:
        self.interrupted = False
        self.skipped = False
        self.stopping_generation = False
        self.job_count = -1
        self.job_no = 0
        self.job = ""

    def nextjob(self) -> None:
        self.job_no += 1

    def interrupt(self) -> None:
        self.interrupted = True

    def skip(self) -> None:
        self.skipped = True


class FaceRestorer:
    """Stands in for A1111's GFPGAN/CodeFormer: records the call, brightens the whole image."""

    def __init__(self, host: Any, name: str):
        self.host, self._name = host, name

    def name(self) -> str:
        return self._name

    def restore(self, np_image: np.ndarray, w: float | None = None) -> np.ndarray:
        self.host.restore_calls.append(f"{self._name}:{w}")
        return np.clip(np_image.astype(np.int16) + 40, 0, 255).astype(np.uint8)


def restore_faces(host: Any, shared: Any, np_image: np.ndarray) -> np.ndarray:
    name = shared.opts.face_restoration_model
    for r in shared.face_restorers:
        if r.name() == name:
            return r.restore(np_image)
    return np_image


def build(host: Any) -> types.ModuleType:
    m = types.ModuleType("modules.shared")
    m.OptionInfo = OptionInfo
    m.opts = Options({"samples_format": "png", "face_restoration_model": "CodeFormer",
                      "code_former_weight": 0.5, "outdir_samples": ""})
    m.state = State()
    m.cmd_opts = types.SimpleNamespace(data_dir=str(host.data_path), skip_install=False, nowebui=False)
    m.sd_model = types.SimpleNamespace(sd_checkpoint_info=None)
    m.device = "cpu"
    m.face_restorers = [FaceRestorer(host, "CodeFormer"), FaceRestorer(host, "GFPGAN")]
    return m
