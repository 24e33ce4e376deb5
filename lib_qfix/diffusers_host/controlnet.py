"""ControlNet for the diffusers host: the models the user gave (``--controlnet KIND=PATH``), the
control images of one inpaint pass, and the record of which units guided which pass.

The loop hands each pass QFix's own :class:`~lib_qfix.protocols.ControlUnit` list
(:mod:`lib_qfix.fix.guidance`). Here a unit's model is resolved against the user's model names with
the same rule A1111's adapter uses (:func:`lib_qfix.fix.guidance.resolve_model`: ``auto`` takes the
first name holding the unit's keyword, "openpose", "inpaint", "tile", "depth"), and its control
image is cut to the pass's crop and sampled size:

- a unit carrying QFix's own guide image (OpenPose hands/faces): the same crop of it;
- ``inpaint*`` preprocessors: the crop with the masked pixels set to -1 (the condition diffusers'
  inpaint ControlNet was trained with);
- ``tile*`` preprocessors: the crop itself;
- anything else (``depth_midas``, ...): A1111's preprocessors are not here; the unit is left out
  with a note.

Fields map onto the diffusers call: weight -> ``controlnet_conditioning_scale``, guidance start/end
-> ``control_guidance_start``/``control_guidance_end``; control mode "controlnet" (all units) ->
``guess_mode``; "prompt" has no counterpart (balanced is used, with a note). Never fails a pass: a
unit that cannot be used is noted and the pass runs with the rest, or unguided.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from lib_qfix.diffusers_host.loading import load_controlnet
from lib_qfix.errors import error_text
from lib_qfix.fix import guidance
from lib_qfix.fix.guidance import resolve_model
from lib_qfix.protocols import ControlUnit
from lib_qfix.types import Box

log = logging.getLogger("qfix")


class ControlNets:
    """The user's ControlNet models by name (``{"openpose": "/models/cn-openpose"}``; a value may
    also be a loaded ``ControlNetModel``), loaded on first use onto ``device`` in ``dtype``."""

    def __init__(self, specs: Mapping[str, Any] | None = None, device: Any = None, dtype: Any = None):
        self.specs = dict(specs or {})
        self.device, self.dtype = device, dtype
        self._loaded: dict[str, Any] = {}

    def names(self) -> list[str]:
        return list(self.specs)

    def model(self, name: str) -> Any:
        if name not in self._loaded:
            spec = self.specs[name]
            model = load_controlnet(spec, self.dtype, f"--controlnet {name}=") if isinstance(spec, str) else spec
            if self.device is not None:
                model = model.to(self.device, self.dtype)
            self._loaded[name] = model
        return self._loaded[name]


def _resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    return img if img.size == size else img.resize(size, Image.Resampling.LANCZOS)


def control_image(unit: ControlUnit, box: Box, size: tuple[int, int], crop: np.ndarray,
                  crop_mask: np.ndarray) -> Any | None:
    """The control image of ``unit`` for a pass sampling the ``box`` crop (``crop``, ``crop_mask``)
    at ``size`` (width, height); None when this host cannot make it (see the module doc)."""
    x0, y0, x1, y1 = box
    if unit.image is not None:
        return _resize(Image.fromarray(np.ascontiguousarray(unit.image[y0:y1, x0:x1])), size)
    module = unit.module.lower()
    if module.startswith("tile"):
        return _resize(Image.fromarray(crop), size)
    if module.startswith("inpaint"):
        img = np.asarray(_resize(Image.fromarray(crop), size), dtype=np.float32) / 255.0
        masked = np.asarray(_resize(Image.fromarray(crop_mask, mode="L"), size)) >= 128
        img[masked] = -1.0
        return torch.from_numpy(img.transpose(2, 0, 1).copy())[None]
    return None


@dataclass(eq=False)
class PassControl:
    """The ControlNet part of one pipeline call: the models, the call's keyword arguments and the
    units they came from."""

    models: list[Any]
    kwargs: dict[str, Any]
    kept: tuple[ControlUnit, ...]


class ControlRecord(guidance.ControlRecord):
    """Which units guided which pass of one image, and the notes; :meth:`pairs` for the infotext."""

    def done(self, control: PassControl) -> None:
        self.record(control.kept)


def plan_pass(nets: ControlNets | None, units: tuple[ControlUnit, ...], box: Box, size: tuple[int, int],
              crop: np.ndarray, crop_mask: np.ndarray, record: ControlRecord) -> PassControl | None:
    """The ControlNet models and call arguments for one pass, or None (unguided; notes say why)."""
    if not units:
        return None
    if nets is None or not nets.names():
        record.note("ControlNet: no models given (qfix fix --controlnet KIND=PATH)")
        return None
    models: list[Any] = []
    images: list[Any] = []
    kept: list[ControlUnit] = []
    for cu in units:
        name = resolve_model(cu, nets.names())
        if name is None:
            record.note(f"ControlNet: no {cu.label} model" if cu.model == "auto" else f"ControlNet: no model {cu.model!r}")
            continue
        image = control_image(cu, box, size, crop, crop_mask)
        if image is None:
            record.note(f"ControlNet: preprocessor {cu.module!r} is not available outside A1111")
            continue
        try:
            models.append(nets.model(name))
        except Exception as e:  # a model that does not load leaves this unit out, never the pass
            log.warning("QFix: ControlNet %s not loaded: %s", name, e)
            record.note(f"ControlNet: {error_text(e)}")
            continue
        images.append(image)
        kept.append(cu)
    if not kept:
        return None
    if any(cu.control_mode == "prompt" for cu in kept):
        record.note("ControlNet: control mode 'prompt' has no diffusers counterpart; balanced was used")
    one = len(kept) == 1
    kwargs = {
        "control_image": images[0] if one else images,
        "controlnet_conditioning_scale": kept[0].weight if one else [cu.weight for cu in kept],
        "control_guidance_start": kept[0].guidance_start if one else [cu.guidance_start for cu in kept],
        "control_guidance_end": kept[0].guidance_end if one else [cu.guidance_end for cu in kept],
        "guess_mode": all(cu.control_mode == "controlnet" for cu in kept),
    }
    return PassControl(models, kwargs, tuple(kept))
