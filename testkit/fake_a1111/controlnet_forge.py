"""A faithful fake of Forge's built-in ControlNet (lllyasviel/stable-diffusion-webui-forge dfdcbab6,
``extensions-builtin/sd_forge_controlnet``), built from its sources:

- ``lib_controlnet/external_code.py``: ``get_api_version() == 2``; ``ControlNetUnit`` is a dataclass
  with ``enabled=True``, ``module="None"``, ``model="None"``, ``weight=1.0``, ``image=None``,
  ``guidance_start=0.0``, ``guidance_end=1.0``, ``control_mode=ControlMode.BALANCED`` (typed
  ``Union[ControlMode, int, str]``), ``from_dict`` keeps only known keys; ``ControlMode``,
  ``ResizeMode``, ``get_max_models_num``, ``pixel_perfect_resolution`` exist, **no**
  ``find_cn_script``, ``update_cn_script_in_processing``, ``get_models`` or ``get_modules``.
- ``lib_controlnet/global_state.py``: ``get_all_controlnet_names()`` ("None" then ``"name [hash]"``),
  ``get_all_preprocessor_names()`` ("None" first), ``get_preprocessor(name)`` (None when unknown).
- ``scripts/controlnet.py`` ``ControlNetForForgeOfficial``: title "ControlNet", ``sorting_priority``
  10; ``process(p, *args)`` turns dict args into units (``from_dict``), keeps the enabled ones, looks
  up each preprocessor (an unknown one fails: ``None.slider_resolution``) and stores per-unit
  parameters on the script object (``current_params``); ``postprocess_batch_list`` uses them (a
  ``KeyError`` when ``process`` did not run for these args) and ``postprocess`` clears them. Its
  weighting compares ``unit.control_mode`` with ``ControlMode.CONTROL.value``: only the *string*
  value selects a mode.

``install(monkeypatch, host, models=...)`` registers ``lib_controlnet`` and ``modules.extensions``
(Forge's built-in folder, which has no ``scripts/external_code.py``) and returns the
:class:`ForgeControlNetFake`.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

# Forge's enums have the same members and values as sd-webui-controlnet's
from testkit.fake_a1111.controlnet_a1111 import (
    ControlMode,
    Extension,
    HiResFixOption,
    ResizeMode,
    extensions_module,
    install_models,
)

PREPROCESSORS = ("None", "canny", "depth_midas", "depth_hand_refiner", "inpaint_only", "openpose", "openpose_full",
                 "openpose_hand", "tile_resample")


@dataclass
class ControlNetUnit:
    input_mode: str = "simple"
    use_preview_as_input: bool = False
    batch_image_dir: str = ""
    batch_mask_dir: str = ""
    generated_image: Any = None
    mask_image: Any = None
    mask_image_fg: Any = None
    hr_option: Any = HiResFixOption.BOTH
    enabled: bool = True
    module: str = "None"
    model: str = "None"
    weight: float = 1.0
    image: Any = None
    image_fg: Any = None
    resize_mode: Any = ResizeMode.INNER_FIT
    processor_res: int = -1
    threshold_a: float = -1
    threshold_b: float = -1
    guidance_start: float = 0.0
    guidance_end: float = 1.0
    pixel_perfect: bool = False
    control_mode: Any = ControlMode.BALANCED
    save_detected_map: bool = True

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ControlNetUnit:
        names = {f.name for f in fields(ControlNetUnit)}
        return ControlNetUnit(**{k: v for k, v in d.items() if k in names})


class ForgeControlNetScript:
    sorting_priority = 10

    def __init__(self, fake: ForgeControlNetFake):
        self.fake = fake
        self.current_params: dict[int, dict[str, Any]] = {}

    def title(self) -> str:
        return "ControlNet"

    def show(self, is_img2img: bool) -> Any:
        return self.fake.scripts.AlwaysVisible

    def get_enabled_units(self, units: Any) -> list[ControlNetUnit]:
        units = [ControlNetUnit.from_dict(u) if isinstance(u, dict) else u for u in units]
        assert all(isinstance(u, ControlNetUnit) for u in units)
        return [u for u in units if u.enabled]

    def process(self, p: Any, *args: Any) -> None:
        self.current_params = {}
        enabled = self.get_enabled_units(args)
        for i, unit in enumerate(enabled):
            pre = self.fake.global_state.get_preprocessor(unit.module)
            _ = pre.slider_resolution  # an unknown preprocessor fails here, as in bound_check_params
            if unit.model not in self.fake.models:
                raise RuntimeError(f"Recognizing Control Model failed: {unit.model}")
            # the weighting tests the string value: an enum member here is silently "Balanced"
            effective = next((m for m in ControlMode if unit.control_mode == m.value), ControlMode.BALANCED)
            self.current_params[i] = {"unit": unit, "mode": effective}
        self.fake.processes.append({"p": p, "units": enabled,
                                    "modes": [v["mode"] for v in self.current_params.values()]})

    def postprocess_batch_list(self, p: Any, *args: Any) -> None:
        # the real hook also takes the batch (pp) first; the fake host passes only the script args
        units = self.get_enabled_units(args)
        self.fake.batches.append((p, [self.current_params[i]["unit"] for i in range(len(units))]))

    def postprocess(self, p: Any, processed: Any, *args: Any) -> None:
        self.current_params = {}


class ForgeControlNetFake:
    def __init__(self, host: Any, models: dict[str, Path], unit_count: int):
        self.host, self.models, self.unit_count = host, models, unit_count
        self.scripts = host.modules["modules.scripts"]
        self.processes: list[dict[str, Any]] = []
        self.batches: list[tuple[Any, list[Any]]] = []
        self.api, self.global_state = _api(self), _global_state(self)
        cls = type("ControlNetForForgeOfficial", (ForgeControlNetScript, self.scripts.Script), {})
        self.script = cls(self)
        self.script.filename = "extensions-builtin/sd_forge_controlnet/scripts/controlnet.py"

    def default_args(self) -> list[Any]:
        return [ControlNetUnit(enabled=False, module="None", model="None") for _ in range(self.unit_count)]


def _api(fake: ForgeControlNetFake) -> types.ModuleType:
    m = types.ModuleType("lib_controlnet.external_code")
    shared = fake.host.modules["modules.shared"]
    m.ControlNetUnit, m.ControlMode, m.ResizeMode, m.HiResFixOption = ControlNetUnit, ControlMode, ResizeMode, \
        HiResFixOption
    m.UiControlNetUnit = ControlNetUnit
    m.get_api_version = lambda: 2
    m.get_max_models_num = lambda: shared.opts.data.get("control_net_unit_count", 3)
    m.pixel_perfect_resolution = lambda image, target_H, target_W, resize_mode: int(min(target_H, target_W))
    return m


def _global_state(fake: ForgeControlNetFake) -> types.ModuleType:
    m = types.ModuleType("lib_controlnet.global_state")
    pre = {name: types.SimpleNamespace(name=name, slider_resolution=512) for name in PREPROCESSORS}
    m.get_all_controlnet_names = lambda: ["None", *fake.models]
    m.get_all_preprocessor_names = lambda: list(pre)
    m.get_preprocessor = lambda name: pre.get(name, None)
    return m


def install(monkeypatch: Any, host: Any, models: tuple[str, ...] = ("control_v11p_sd15_openpose.safetensors",),
            unit_count: int = 3) -> ForgeControlNetFake:
    fake = ForgeControlNetFake(host, install_models(host, models, unit_count), unit_count)
    pkg = types.ModuleType("lib_controlnet")
    pkg.__path__ = []  # type: ignore[attr-defined]
    pkg.external_code, pkg.global_state = fake.api, fake.global_state  # type: ignore[attr-defined]
    for name, mod in (("lib_controlnet", pkg), ("lib_controlnet.external_code", fake.api),
                      ("lib_controlnet.global_state", fake.global_state)):
        monkeypatch.setitem(sys.modules, name, mod)
    builtin = host.data_path.parent / "forge" / "extensions-builtin" / "sd_forge_controlnet"
    (builtin / "scripts").mkdir(parents=True, exist_ok=True)
    extensions_module(monkeypatch, host, [Extension("sd_forge_controlnet", builtin, is_builtin=True)])
    return fake
