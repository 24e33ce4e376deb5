"""ControlNet units in the inner passes of one image: resolve them against the host, attach them to
the inner processing object, record which units guided which pass, and leave the outer generation
as it was.

Never fails QFix: no ControlNet, no matching model or preprocessor, or an error while attaching
gives one note per cause (``ControlNet: no openpose model``) and the pass runs unguided.

The inner runner (docs/a1111.md "ControlNet inside an inner pass"): a shallow copy of the outer
``p.scripts`` whose always-on scripts are ControlNet plus :data:`INNER_SCRIPTS`, no selectable
scripts and a **new** ``callback_map`` (``ordered_callbacks`` caches its lists in that dict);
``script_args`` a deep copy of the outer's (the scripts' ``args_from/args_to`` index that layout).
A guided inner pass leaves the ControlNet script unhooked (one hook per script object): when the
outer generation has units of its own, the script's ``process`` runs again on a copy of the outer
``p`` afterwards, as ADetailer does, so its later batches are guided as the user asked.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lib_qfix.a1111 import controlnet
from lib_qfix.a1111.controlnet import ControlNetHost
from lib_qfix.errors import error_text
from lib_qfix.fix.guidance import ControlRecord, resolve_model, resolve_module
from lib_qfix.protocols import ControlUnit

log = logging.getLogger("qfix")

#: always-on scripts (file stems) a guided inner pass keeps besides ControlNet (never QFix): those
#: that change how the loaded model samples, as in ADetailer's defaults
INNER_SCRIPTS = ("soft_inpainting", "dynamic_thresholding", "lora_block_weight", "negpip", "hypertile_script")


def inner_runner(runner: Any, keep: Any) -> Any:
    """A shallow copy of ``runner`` running only ``keep`` (the ControlNet script) and :data:`INNER_SCRIPTS`."""
    out = copy.copy(runner)
    out.alwayson_scripts = [s for s in runner.alwayson_scripts
                            if s is keep or Path(str(getattr(s, "filename", None) or "")).stem in INNER_SCRIPTS]
    out.selectable_scripts = []
    out.callback_map = {}  # a shared dict would hand the outer runner's cached hook lists to this one
    return out


def copy_args(args: Any) -> list[Any]:
    """A deep copy of each script arg (one that cannot be copied is shared: scripts do not write them)."""
    out = []
    for a in args or ():
        try:
            out.append(copy.deepcopy(a))
        except Exception:
            out.append(a)
    return out


@dataclass(eq=False)
class Attachment:
    """Host units ready for one inner pass; called with the inner processing object."""

    guide: Guide
    host: ControlNetHost
    script: Any
    units: list[Any]
    kept: tuple[ControlUnit, ...]
    attached: bool = False

    def __call__(self, inner: Any) -> None:
        try:
            inner.scripts = inner_runner(self.guide.p.scripts, self.script)
            inner.script_args = copy_args(self.guide.p.script_args)
            self.host.attach(inner, self.script, self.units)
            self.attached = True
        except Exception as e:  # the pass still runs, unguided
            log.warning("QFix: ControlNet units not attached: %s", e)
            inner.scripts = None
            inner.script_args = []
            self.guide.note(f"ControlNet: {error_text(e)}")


class Guide(ControlRecord):
    """ControlNet for the inner passes of one image of the outer processing object ``p``."""

    def __init__(self, p: Any):
        super().__init__()
        self.p = p
        self.images: dict[str, np.ndarray] = {}  # "hand-openpose" -> the first control image used
        self.guided = False
        self._host: ControlNetHost | None = None
        self._looked = False

    def host(self) -> ControlNetHost | None:
        if not self._looked:
            self._looked = True
            self._host, why = controlnet.detect()
            if why:
                self.note(f"ControlNet: {why}")
        return self._host

    def plan(self, units: tuple[ControlUnit, ...]) -> Attachment | None:
        """The attachment for a pass asking for ``units``; None runs it unguided (and notes why)."""
        if not units:
            return None
        host = self.host()
        if host is None:
            return None
        try:
            return self._plan(host, units)
        except Exception as e:
            log.warning("QFix: ControlNet units not built: %s", e)
            self.note(f"ControlNet: {error_text(e)}")
            return None

    def _plan(self, host: ControlNetHost, units: tuple[ControlUnit, ...]) -> Attachment | None:
        script = host.script(self.p.scripts)
        if script is None:
            self.note("ControlNet: not among this generation's scripts")
            return None
        slots = int(script.args_to - script.args_from)
        names, modules, xl = host.models(), host.modules(), controlnet.sdxl()
        built: list[Any] = []
        kept: list[ControlUnit] = []
        for cu in units:
            model = resolve_model(cu, names, xl)
            module = resolve_module(cu.module, modules)
            if model is None:
                self.note(f"ControlNet: no {cu.label} model" if cu.model == "auto" else f"ControlNet: no model {cu.model!r}")
            elif module is None:
                self.note(f"ControlNet: no preprocessor {cu.module!r}")
            elif len(built) >= slots:
                self.note(f"ControlNet: only {slots} unit slots per pass")
            else:
                built.append(host.unit(cu, module, model))
                kept.append(cu)
        return Attachment(self, host, script, built, tuple(kept)) if built else None

    def done(self, attachment: Attachment | None) -> None:
        """Record a pass that ran with ``attachment``."""
        if attachment is None or not attachment.attached:
            return
        self.guided = True
        self.record(attachment.kept)
        for cu in attachment.kept:
            if cu.image is not None:
                self.images.setdefault(f"{cu.target or cu.kind}-{cu.label}", cu.image)

    def finish(self, index: int, save: bool) -> dict[str, str]:
        """After the image's passes: restore the outer's own units, save the control images when
        ``save``, and return the infotext pairs (``QFix controlnet``, ``QFix note``)."""
        if self.guided:
            self._rehook()
        if save and self.images:
            self._save(index)
        return self.pairs()

    def _rehook(self) -> None:
        host = self._host
        script = host.script(self.p.scripts) if host is not None else None
        if host is None or script is None:
            return
        args = list(self.p.script_args[script.args_from:script.args_to])
        if not any(host.enabled(a) for a in args):
            return
        try:
            script.process(copy.copy(self.p), *args)
        except Exception as e:
            log.warning("QFix: could not restore the generation's own ControlNet units: %s", e)
            self.note("ControlNet: the generation's own units could not be restored")

    def _save(self, index: int) -> None:
        """Each control image that guided a pass, beside the image (suffix ``-qfix-control-<pass>-<unit>``)."""
        from modules import images, shared
        from PIL import Image

        p = self.p
        for key, img in self.images.items():
            try:
                images.save_image(Image.fromarray(img), p.outpath_samples, "", p.all_seeds[index],
                                  p.all_prompts[index], shared.opts.samples_format, p=p,
                                  suffix=f"-qfix-control-{key}")
            except Exception as e:  # a convenience: the fix itself still counts
                log.warning("QFix: could not save the control image %s: %s", key, e)
