"""The per-file work of ``qfix fix``: read an image and its A1111 parameters, fix it, write the result
with those parameters plus QFix's keys.

:class:`FixJob` is everything a worker needs, picklable (Ray ships it to each actor);
``FixJob.build()`` loads the pipeline once and returns a :class:`FileFixer`, which turns one
:class:`~lib_qfix.fixrun.records.FixTask` into a :class:`~lib_qfix.fixrun.records.FixRecord` and never
raises for one image. The prompt, negative, seed, steps, CFG scale and sampler of an image come from
its ``parameters`` text (PNG) or EXIF comment (JPEG/WebP), each overridden by the flag that sets it;
missing ones default to an empty prompt, seed 0, 20 steps, CFG 7 and the model's scheduler. The
result is a PNG whose ``parameters`` chunk is the image's own infotext with QFix's keys added (or,
for an image without one, an infotext made from the values used), so A1111's PNG Info and paste-back
read it. The original is never written: the result goes to ``task.dst``, atomically.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from lib_qfix.a1111_params import GenParams, format_infotext, parse_infotext
from lib_qfix.diffusers_host import device as devices
from lib_qfix.diffusers_host.api import DiffusersFixer
from lib_qfix.diffusers_host.controlnet import ControlNets
from lib_qfix.diffusers_host.inpainter import DEFAULT_CFG, DEFAULT_STEPS, Sampling
from lib_qfix.diffusers_host.loading import load_pipeline
from lib_qfix.errors import error_text
from lib_qfix.fileio import atomic_write_bytes
from lib_qfix.fix.infotext import NOTE, WARNINGS
from lib_qfix.fix.loop import found_names
from lib_qfix.fixrun.records import FIXED, UNCHANGED, FixRecord, FixTask, error_record
from lib_qfix.imageio import load_image
from lib_qfix.judge.pnginfo import read_infotext
from lib_qfix.options import Options


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line, used instead of the image's own (None: the image's)."""

    prompt: str | None = None
    negative: str | None = None
    seed: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    sampler: str | None = None
    schedule: str | None = None


@dataclass(frozen=True)
class Generation:
    """How one image was generated, as far as the fix needs it."""

    prompt: str
    negative: str
    seed: int
    sampling: Sampling


def _pick(flag: Any, own: Any, default: Any) -> Any:
    return flag if flag is not None else own if own not in (None, "") else default


def generation(params: GenParams, over: Overrides = Overrides()) -> Generation:
    """The values an image is fixed with: flags first, then its parameters, then the defaults."""
    steps = _pick(over.steps, params.steps, DEFAULT_STEPS)
    cfg = _pick(over.cfg_scale, params.cfg_scale, DEFAULT_CFG)
    sampling = Sampling(max(1, int(steps)), float(cfg), _pick(over.sampler, params.sampler, ""),
                        _pick(over.schedule, params.scheduler, ""))
    return Generation(_pick(over.prompt, params.prompt, ""), _pick(over.negative, params.negative, ""),
                      int(_pick(over.seed, params.seed, 0)), sampling)


def made_params(gen: Generation, size: tuple[int, int], model: str) -> GenParams:
    """An infotext for an image that had none: the values it was fixed with, in A1111's keys."""
    s = gen.sampling
    pairs = {"Steps": str(s.steps), "Sampler": s.sampler or None, "Schedule type": s.schedule or None,
             "CFG scale": f"{s.cfg_scale:g}", "Seed": str(gen.seed), "Size": f"{size[0]}x{size[1]}",
             "Model": model or None}
    return GenParams(gen.prompt, gen.negative, {k: v for k, v in pairs.items() if v is not None})


def png_bytes(image: Any, infotext: str) -> bytes:
    """``image`` (RGB array) as PNG bytes with ``infotext`` in its ``parameters`` chunk (as A1111 saves)."""
    info = PngInfo()
    info.add_text("parameters", infotext)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def model_name(model: str) -> str:
    """The name A1111 would show for ``model``: a folder's name, a file's stem, a hub id's last part."""
    p = Path(model.rstrip("/\\"))
    return p.stem if p.suffix.lower() in (".safetensors", ".ckpt", ".pt", ".bin") else p.name


@dataclass(frozen=True)
class FixJob:
    """What every worker of a batch needs. ``model``/``model_config``: see
    :func:`~lib_qfix.diffusers_host.loading.load_pipeline`; ``controlnets``: (name, model) pairs of
    ``--controlnet``; ``options``: the QFix options (``baseline``: the preset they differ from, for the
    infotext); ``only_changed``: write only the images that were fixed; ``models_dir``: scorer weights."""

    model: str
    options: Options
    baseline: Options | None = None
    device: devices.DeviceConfig = devices.DeviceConfig()
    model_config: str | None = None
    controlnets: tuple[tuple[str, str], ...] = ()
    overrides: Overrides = Overrides()
    only_changed: bool = False
    models_dir: str | None = None

    def settings(self) -> dict[str, Any]:
        """What decides a result (the resume log's fingerprint): not the device or the engine."""
        return {"model": self.model, "config": self.model_config, "controlnets": list(self.controlnets),
                "options": repr(self.options), "overrides": repr(self.overrides), "only_changed": self.only_changed}

    def build(self, pipe: Any = None) -> FileFixer:
        """Load the pipeline (or use ``pipe``) onto the job's device: the worker of one process or actor."""
        if pipe is None:
            _, dtype = devices.resolve(self.device)
            pipe = devices.place(load_pipeline(self.model, dtype, self.model_config), self.device)
        return FileFixer(self, pipe)


class FileFixer:
    """Fixes files with one pipeline (see the module doc)."""

    def __init__(self, job: FixJob, pipe: Any):
        self.job = job
        nets = ControlNets(dict(job.controlnets), getattr(pipe, "device", None), getattr(pipe, "dtype", None))
        self.fixer = DiffusersFixer(pipe, nets, job.models_dir)

    def __call__(self, task: FixTask) -> FixRecord:
        t0 = time.perf_counter()
        try:
            return self._fix(task, t0)
        except Exception as e:  # one image never ends the batch
            return error_record(task, f"{task.path}: {error_text(e)}", time.perf_counter() - t0)

    def _fix(self, task: FixTask, t0: float) -> FixRecord:
        job = self.job
        if os.path.abspath(task.dst) == os.path.abspath(task.path):
            raise ValueError("the result would replace the original; choose another --out")
        image = load_image(task.path)
        params = parse_infotext(read_infotext(task.path))
        gen = generation(params, job.overrides)
        run = self.fixer.run(image, job.options, prompt=gen.prompt, negative=gen.negative, seed=gen.seed,
                             sampling=gen.sampling, baseline=job.baseline)
        out = run.outcome
        status = FIXED if out.changed else UNCHANGED
        dst = ""
        if status == FIXED or not job.only_changed:
            own = params if (params.pairs or params.prompt) else made_params(
                gen, (image.shape[1], image.shape[0]), model_name(job.model))
            text = format_infotext(own.with_pairs(run.pairs))
            atomic_write_bytes(task.dst, png_bytes(out.image, text))
            dst = task.dst
        notes = tuple(n for k in (NOTE, WARNINGS) for n in run.pairs.get(k, "").split("; ") if n)
        failed = [f"{a.kind}: {a.reason}" for r in out.rounds for a in r.actions if a.status == "failed"]
        return FixRecord(
            task.path, task.rel, task.key, status, dst=dst, result=out.result(), fixed=out.fixed_summary(), found=found_names(out.report_before),
            quality_before=out.quality_before, quality_after=out.quality_after if out.changed else None,
            rejected=tuple(out.rejections()), notes=notes, error="; ".join(failed),
            pairs={k: str(v) for k, v in run.pairs.items()},
            regions_before=tuple(r.to_json() for r in out.report_before.regions),
            regions_after=tuple(r.to_json() for r in out.report_after.regions) if out.changed else (),
            rounds=out.rounds_used, seconds=time.perf_counter() - t0)
