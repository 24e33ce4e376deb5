"""The host's ControlNet, found lazily: sd-webui-controlnet on A1111, the built-in ControlNet on Forge.

Facts (docs/a1111.md "ControlNet inside an inner pass", "Forge (measured)"; the extensions'
``external_code`` sources):

- A1111: the extension's API is imported by module path, ``extensions.<folder>.scripts.external_code``
  (the folder is the user's: the active extension holding ``scripts/external_code.py``). Its
  ``ControlNetUnit`` is a pydantic model whose ``enabled`` defaults to False, whose ``module`` must
  be a known preprocessor, whose ``control_mode`` is the ``ControlMode`` enum; models are listed by
  ``get_models()`` as ``"name [hash]"``. ``update_cn_script_in_processing(p, units)`` writes the
  units into the ControlNet script's args slice, padded to ``control_net_unit_count``; with a count
  that differs from the slice it would move the (shared) script's ``args_to``, so then QFix writes
  the slice itself.
- Forge: ``lib_controlnet.external_code`` (API version 2) has no ``find_cn_script``,
  ``update_cn_script_in_processing`` nor ``get_models``: models and preprocessors come from
  ``lib_controlnet.global_state``; its ``ControlNetUnit`` is a dataclass (``enabled`` defaults to
  True, the no-op preprocessor is spelled "None"), and its script compares ``control_mode`` with the
  enum's *string value*, so that is what is written. Units go into ``p.script_args[args_from + i]``.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

from lib_qfix.protocols import CONTROL_MODES, ControlUnit

log = logging.getLogger("qfix")

TITLE = "controlnet"  # both scripts' title(), lower-cased


class ControlNetHost:
    """What QFix needs of a host's ControlNet; :class:`A1111ControlNet` and :class:`ForgeControlNet`."""

    name = ""
    #: a unit given as a dict (API) without "enabled": off on A1111 (the pydantic default), on on Forge
    dict_enabled = False

    def __init__(self, api: Any):
        self.api = api

    def models(self) -> list[str]:
        raise NotImplementedError

    def modules(self) -> list[str]:
        raise NotImplementedError

    def script(self, runner: Any) -> Any | None:
        """The ControlNet always-on script of ``runner``, or None."""
        for s in getattr(runner, "alwayson_scripts", None) or ():
            if s.title().lower() == TITLE:
                return s
        return None

    def control_mode(self, mode: str) -> Any:
        """The host's ``ControlMode`` member for a QFix mode (same order in both enums)."""
        return list(self.api.ControlMode)[CONTROL_MODES.index(mode)]

    def unit(self, cu: ControlUnit, module: str, model: str) -> Any:
        """The host's enabled unit for ``cu`` with the host's spelling of ``module`` and ``model``."""
        return self.api.ControlNetUnit(enabled=True, module=module, model=model, weight=cu.weight, image=cu.image,
                                       guidance_start=cu.guidance_start, guidance_end=cu.guidance_end,
                                       control_mode=self.control_mode(cu.control_mode))

    def off(self) -> Any:
        """A disabled unit (fills the slots QFix does not use)."""
        raise NotImplementedError

    def enabled(self, arg: Any) -> bool:
        """Whether one script arg of the ControlNet slice is an enabled unit (dict or object)."""
        if isinstance(arg, dict):
            return bool(arg.get("enabled", self.dict_enabled))
        return bool(getattr(arg, "enabled", False))

    def write(self, p: Any, script: Any, units: list[Any]) -> None:
        """Put ``units`` (at most the slice's length) into ``p``'s ControlNet args, the rest off."""
        slots = script.args_to - script.args_from
        args = list(p.script_args)
        args[script.args_from:script.args_to] = list(units) + [self.off() for _ in range(slots - len(units))]
        p.script_args = args

    def attach(self, p: Any, script: Any, units: list[Any]) -> None:
        self.write(p, script, units)


class A1111ControlNet(ControlNetHost):
    name = "sd-webui-controlnet"

    def models(self) -> list[str]:
        return [str(m) for m in self.api.get_models()]

    def modules(self) -> list[str]:
        return [str(m) for m in self.api.get_modules()]

    def script(self, runner: Any) -> Any | None:
        return self.api.find_cn_script(runner) if runner is not None else None

    def off(self) -> Any:
        return self.api.ControlNetUnit(enabled=False)

    def attach(self, p: Any, script: Any, units: list[Any]) -> None:
        if script.args_to - script.args_from == int(self.api.get_max_models_num()):
            self.api.update_cn_script_in_processing(p, list(units))
        else:  # the official call would move the shared script's args_to: write the slice instead
            self.write(p, script, units)


class ForgeControlNet(ControlNetHost):
    name = "forge"
    dict_enabled = True

    def __init__(self, api: Any, global_state: Any):
        super().__init__(api)
        self.global_state = global_state

    def models(self) -> list[str]:
        return [str(m) for m in self.global_state.get_all_controlnet_names() if m != "None"]

    def modules(self) -> list[str]:
        return [str(m) for m in self.global_state.get_all_preprocessor_names()]

    def control_mode(self, mode: str) -> Any:
        """The enum's string value: what Forge's script compares ``control_mode`` with."""
        return super().control_mode(mode).value

    def off(self) -> Any:
        return self.api.ControlNetUnit(enabled=False, module="None", model="None")


def _a1111() -> ControlNetHost | None:
    from modules import extensions

    for ext in extensions.active():
        path = Path(ext.path)
        if not getattr(ext, "enabled", True) or not (path / "scripts" / "external_code.py").is_file():
            continue
        root = str(path.parent.parent)  # "extensions.<folder>" resolves from the WebUI's root, as ADetailer does
        if root not in sys.path:
            sys.path.append(root)
        return A1111ControlNet(importlib.import_module(f"{path.parent.name}.{path.name}.scripts.external_code"))
    return None


def _forge() -> ControlNetHost | None:
    try:
        api = importlib.import_module("lib_controlnet.external_code")
        state = importlib.import_module("lib_controlnet.global_state")
    except ImportError:
        return None
    return ForgeControlNet(api, state)


def detect() -> tuple[ControlNetHost | None, str]:
    """The host's ControlNet and "" , or None and why not (one short phrase for the infotext note)."""
    for find in (_a1111, _forge):
        try:
            host = find()
        except ImportError:
            continue
        except Exception as e:  # a broken extension must not break QFix: its passes run unguided
            log.warning("QFix: cannot load ControlNet's API: %s", e)
            return None, f"cannot load its API ({type(e).__name__})"
        if host is not None:
            return host, ""
    return None, "not installed"


def model_names() -> list[str]:
    """The host's ControlNet models (empty without ControlNet); for the panel's model dropdowns."""
    try:
        host, _ = detect()
        return host.models() if host is not None else []
    except Exception:
        return []


def module_names() -> list[str]:
    """The host's ControlNet preprocessors (empty without ControlNet); for the panel."""
    try:
        host, _ = detect()
        return host.modules() if host is not None else []
    except Exception:
        return []


def sdxl() -> bool | None:
    """Whether the loaded checkpoint is SDXL (None when the host does not say)."""
    try:
        from modules import shared

        flag = getattr(shared.sd_model, "is_sdxl", None)
    except Exception:
        return None
    return None if flag is None else bool(flag)
