"""A faithful fake of sd-webui-controlnet (Mikubill/sd-webui-controlnet 56cec5b, 2024-07-25) as an
extension sees it, built from its sources:

- ``internal_controlnet/args.py`` ``ControlNetUnit`` (a pydantic model there, a plain class here with
  the same fields, defaults and the checks an extension can trip on): ``enabled=False``,
  ``module="none"`` checked against the known preprocessors (``ValueError "module(x) not found in
  supported modules."``), ``model="None"``, ``weight`` 0..2, ``guidance_start``/``guidance_end`` 0..1
  with start <= end, ``control_mode=ControlMode.BALANCED``, ``resize_mode=ResizeMode.INNER_FIT``,
  ``inpaint_crop_input_image=True``; unknown keys are ignored (``extra = "ignore"``).
- ``internal_controlnet/external_code.py`` (re-exported by ``scripts/external_code.py``, imported by
  module path ``extensions.<folder>.scripts.external_code``): ``get_api_version() == 3``,
  ``get_models()`` (``"name [hash]"`` of each file in ``models/ControlNet``, sorted by name, no
  "None"; the hash is A1111's short ``sd_models.model_hash``), ``get_modules()``,
  ``get_max_models_num()`` (``control_net_unit_count``, 3), ``find_cn_script``/``is_cn_script``
  (title "controlnet"), ``to_processing_unit``, ``update_cn_script``/``update_cn_script_in_processing``
  (reads ``p.script_args_value``; pads with disabled units to the unit count; moves ``args_to`` of the
  ControlNet script and ``args_from``/``args_to`` of the scripts after it when the count differs).
- ``scripts/controlnet.py`` ``Script``: title "ControlNet", always visible, one arg per unit; ``process``
  hooks the enabled units into the model (one hook per script object: a new ``process`` replaces the
  previous hook), ``postprocess`` unhooks and appends one detected map per unit to ``processed.images``;
  an unknown model raises (the runner logs it and the pass runs without ControlNet).

``install(monkeypatch, host, models=...)`` adds the extension folder, ``modules.extensions`` and the API
module, and returns the :class:`ControlNetFake` (its ``script`` goes into a runner; ``processes`` and
``batches`` record what each ``process`` call and each batch carried).
"""

from __future__ import annotations

import hashlib
import sys
import types
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

PREPROCESSORS = ("none", "canny", "depth_midas", "depth_hand_refiner", "inpaint", "inpaint_only",
                 "inpaint_only+lama", "invert", "openpose", "openpose_face", "openpose_full", "openpose_hand",
                 "tile_colorfix", "tile_resample")


class ControlMode(Enum):
    BALANCED = "Balanced"
    PROMPT = "My prompt is more important"
    CONTROL = "ControlNet is more important"


class ResizeMode(Enum):
    RESIZE = "Just Resize"
    INNER_FIT = "Crop and Resize"
    OUTER_FIT = "Resize and Fill"


class HiResFixOption(Enum):
    BOTH = "Both"
    LOW_RES_ONLY = "Low res only"
    HIGH_RES_ONLY = "High res only"


_DEFAULTS: dict[str, Any] = dict(
    is_ui=False, batch_images=None, output_dir="", loopback=False, enabled=False, module="none", model="None",
    weight=1.0, image=None, resize_mode=ResizeMode.INNER_FIT, low_vram=False, processor_res=-1, threshold_a=-1,
    threshold_b=-1, guidance_start=0.0, guidance_end=1.0, pixel_perfect=False, control_mode=ControlMode.BALANCED,
    inpaint_crop_input_image=True, hr_option=HiResFixOption.BOTH, save_detected_map=True, advanced_weighting=None,
    effective_region_mask=None, ipadapter_input=None, mask=None,
)


class ControlNetUnit:
    """The fields and defaults of the real pydantic model, and its validation."""

    def __init__(self, **kw: Any):
        values = {**_DEFAULTS, **{k: v for k, v in kw.items() if k in _DEFAULTS}}
        if values["module"] not in PREPROCESSORS:
            raise ValueError(f"module({values['module']}) not found in supported modules.")
        for key, hi in (("weight", 2.0), ("guidance_start", 1.0), ("guidance_end", 1.0)):
            if not 0.0 <= float(values[key]) <= hi:
                raise ValueError(f"{key}: ensure this value is between 0 and {hi}")
        if values["guidance_start"] > values["guidance_end"]:
            raise ValueError(f"guidance_start({values['guidance_start']}) > guidance_end({values['guidance_end']})")
        if isinstance(values["control_mode"], str):
            values["control_mode"] = ControlMode(values["control_mode"])
        self.__dict__.update(values)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ControlNetUnit:
        return cls(**d)


def model_hash(filename: Path) -> str:
    """A1111's short model hash (``sd_models.model_hash``): sha256 of 64 KiB at 1 MiB, 8 hex digits."""
    with open(filename, "rb") as f:
        f.seek(0x100000)
        return hashlib.sha256(f.read(0x10000)).hexdigest()[:8]


def install_models(host: Any, models: tuple[str, ...], unit_count: int) -> dict[str, Path]:
    """``models`` (file names) written into the host's ``models/ControlNet``, as ``{"name [hash]": path}``
    sorted by name (both extensions list them so); ``control_net_unit_count`` set to ``unit_count``."""
    model_dir = host.models_path / "ControlNet"
    model_dir.mkdir(parents=True, exist_ok=True)
    found = {}
    for name in sorted(models):
        path = model_dir / name
        path.write_bytes(name.encode())
        found[f"{path.stem} [{model_hash(path)}]"] = path
    host.modules["modules.shared"].opts.data["control_net_unit_count"] = unit_count
    return found


class ControlNetScript:
    """Stands in for ``scripts/controlnet.py`` ``Script`` (subclasses the fake host's ``Script``)."""

    def __init__(self, fake: ControlNetFake):
        self.fake = fake
        self.hooked: list[Any] | None = None  # the units hooked into the model (latest_network)

    def title(self) -> str:
        return "ControlNet"

    def show(self, is_img2img: bool) -> Any:
        return self.fake.scripts.AlwaysVisible

    def process(self, p: Any, *args: Any) -> None:
        units = [self.fake.api.to_processing_unit(a) for a in args if isinstance(a, (dict, ControlNetUnit))]
        enabled = [u for u in units if u.enabled]
        self.hooked = None  # the previous hook is restored first
        for u in enabled:
            if u.model not in self.fake.models:
                raise RuntimeError(f"ControlNet model {u.model} not found")  # logged by the runner
        self.fake.processes.append({"p": p, "units": enabled})
        self.hooked = enabled or None

    def before_process_batch(self, p: Any, *args: Any) -> None:
        self.fake.batches.append((p, list(self.hooked or [])))

    def postprocess(self, p: Any, processed: Any, *args: Any) -> None:
        if self.hooked is None:
            return
        for u in self.hooked:  # the detected maps come after the generated images
            m = u.image if u.image is not None else np.asarray(p.init_images[0].convert("RGB"))
            processed.images.append(Image.fromarray(np.asarray(m, dtype=np.uint8)))
        self.hooked = None


class ControlNetFake:
    def __init__(self, host: Any, folder: Path, models: dict[str, Path], unit_count: int):
        self.host, self.folder, self.models, self.unit_count = host, folder, models, unit_count
        self.scripts = host.modules["modules.scripts"]
        self.processes: list[dict[str, Any]] = []
        self.batches: list[tuple[Any, list[Any]]] = []
        self.api = _api(self)
        cls = type("Script", (ControlNetScript, self.scripts.Script), {})
        self.script = cls(self)
        self.script.filename = str(folder / "scripts" / "controlnet.py")

    def default_args(self) -> list[Any]:
        """The script's args from its UI: one disabled unit per slot."""
        return [ControlNetUnit() for _ in range(self.unit_count)]


def _api(fake: ControlNetFake) -> types.ModuleType:
    m = types.ModuleType("external_code")
    shared = fake.host.modules["modules.shared"]
    m.ControlNetUnit, m.ControlMode, m.ResizeMode, m.HiResFixOption = ControlNetUnit, ControlMode, ResizeMode, \
        HiResFixOption
    m.get_api_version = lambda: 3
    m.get_models = lambda update=False: list(fake.models)
    m.get_modules = lambda alias_names=False: list(PREPROCESSORS)
    m.get_max_models_num = lambda: shared.opts.data.get("control_net_unit_count", 3)
    m.is_cn_script = lambda script: script.title().lower() == "controlnet"

    def find_cn_script(runner: Any) -> Any:
        if runner is None:
            return None
        return next((s for s in runner.alwayson_scripts if m.is_cn_script(s)), None)

    def to_processing_unit(unit: Any) -> ControlNetUnit:
        if isinstance(unit, dict):
            return ControlNetUnit.from_dict(unit)
        assert isinstance(unit, ControlNetUnit)
        return unit

    def update_cn_script(runner: Any, script_args: Any, cn_units: list[Any]) -> Any:
        kind = type(script_args)
        assert kind in (tuple, list), kind
        updated = list(script_args)
        cn = find_cn_script(runner)
        if cn is None or len(script_args) < cn.args_from:
            return script_args
        max_models = shared.opts.data.get("control_net_unit_count", 3)
        cn_units = cn_units + [ControlNetUnit(enabled=False)] * max(max_models - len(cn_units), 0)
        diff = 0
        for s in runner.alwayson_scripts:
            if s is cn:
                diff = len(cn_units) - (cn.args_to - cn.args_from)
                updated[s.args_from:s.args_to] = cn_units
                s.args_to = s.args_from + len(cn_units)
            else:
                s.args_from += diff
                s.args_to += diff
        return kind(updated)

    def update_cn_script_in_processing(p: Any, cn_units: list[Any], **_kwargs: Any) -> None:
        p.script_args = update_cn_script(p.scripts, p.script_args_value, cn_units)

    m.find_cn_script, m.to_processing_unit = find_cn_script, to_processing_unit
    m.update_cn_script, m.update_cn_script_in_processing = update_cn_script, update_cn_script_in_processing
    m.get_all_units_from = lambda args: [to_processing_unit(a) for a in args if isinstance(a, (dict, ControlNetUnit))]
    return m


class Extension:
    """``modules.extensions.Extension``: what ``active()`` lists."""

    def __init__(self, name: str, path: Path, is_builtin: bool = False):
        self.name, self.path, self.enabled, self.is_builtin = name, str(path), True, is_builtin


def extensions_module(monkeypatch: Any, host: Any, exts: list[Extension]) -> types.ModuleType:
    m = types.ModuleType("modules.extensions")
    m.extensions = exts
    m.active = lambda: [x for x in m.extensions if x.enabled]
    monkeypatch.setitem(sys.modules, "modules.extensions", m)
    monkeypatch.setattr(host.modules["modules"], "extensions", m, raising=False)
    return m


def install(monkeypatch: Any, host: Any, models: tuple[str, ...] = ("control_v11p_sd15_openpose.pth",),
            folder_name: str = "sd-webui-controlnet", unit_count: int = 3) -> ControlNetFake:
    """The extension in ``<tmp>/webui/extensions/<folder_name>`` with ``models`` (file names) in the host's
    ``models/ControlNet``; ``control_net_unit_count`` set to ``unit_count``."""
    webui = host.data_path.parent / "webui"
    folder = webui / "extensions" / folder_name
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "external_code.py").write_text("from internal_controlnet.external_code import *\n")
    fake = ControlNetFake(host, folder, install_models(host, models, unit_count), unit_count)
    extensions_module(monkeypatch, host, [Extension(folder_name, folder)])
    monkeypatch.setitem(sys.modules, f"extensions.{folder_name}.scripts.external_code", fake.api)
    monkeypatch.syspath_prepend(str(webui))
    return fake
