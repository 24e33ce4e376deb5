"""The fix loop's ports on a diffusers pipeline: inpaint one masked region ("only masked"), and
regenerate the whole image.

Inpainting works as A1111's "only masked" inpaint does (lib_qfix/a1111/inpainter.py): the mask box
plus ``padding`` is cropped, sampled at the guide-size rule's size
(:func:`lib_qfix.fix.sampling.crop_sample_size`), resized back and pasted with the (already
feathered) mask as alpha, ``out = image * (1 - a) + result * a``: a pixel outside the mask is the
input's own, bit for bit. The pipeline is diffusers' inpaint pipeline made from the caller's own
(``AutoPipelineForInpainting.from_pipe``, sharing its weights): with an ordinary 4-channel UNet it
blends the original latents outside the mask at every step, an inpainting (9-channel) model is used
as such; with ControlNet units the ControlNet inpaint pipeline. Like A1111 it binarises the mask at
one half for sampling; the feathered ramp is applied at the paste. The noise comes from a CPU
generator seeded with the pass's seed, so a seed gives the same result on every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from lib_qfix import masks
from lib_qfix.diffusers_host.controlnet import ControlNets, ControlRecord, plan_pass
from lib_qfix.diffusers_host.device import generator
from lib_qfix.diffusers_host.libs import diffusers
from lib_qfix.diffusers_host.schedulers import scheduler_for
from lib_qfix.fix.sampling import crop_sample_size, snap8
from lib_qfix.fix.strategy import scaled_steps
from lib_qfix.protocols import InpaintParams
from lib_qfix.types import Box

#: sampling settings used when neither the options nor the image say (A1111's txt2img defaults)
DEFAULT_STEPS, DEFAULT_CFG = 20, 7.0


@dataclass(frozen=True)
class Sampling:
    """The image's own sampling settings, the default of every pass: ``steps`` (1..150), ``cfg_scale``,
    A1111 ``sampler`` name and ``schedule`` type ("" = the pipeline's own scheduler)."""

    steps: int = DEFAULT_STEPS
    cfg_scale: float = DEFAULT_CFG
    sampler: str = ""
    schedule: str = ""


def crop_box(mask: np.ndarray, padding: int) -> Box:
    """The mask's bounding box grown by ``padding`` pixels on each side, clamped to the image
    (:func:`lib_qfix.masks.crop_box` without snapping: the sampled size is snapped instead)."""
    return masks.crop_box(mask, padding, (mask.shape[1], mask.shape[0]), multiple=1)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """A pipeline's ``output_type="np"`` image (floats 0..1) as uint8 RGB."""
    return np.clip(np.round(np.asarray(x, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def paste(image: np.ndarray, box: Box, result: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` with ``result`` (the box's size) blended in through ``mask``'s crop as alpha."""
    x0, y0, x1, y1 = box
    a = mask[y0:y1, x0:x1].astype(np.float32)[..., None] / 255.0
    crop = image[y0:y1, x0:x1].astype(np.float32)
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(np.round(crop * (1.0 - a) + result.astype(np.float32) * a), 0, 255).astype(np.uint8)
    return out


def effective_steps(steps: int, denoise: float) -> int:
    """Steps for an img2img pass: diffusers runs ``int(steps * denoise)`` of them, so at least
    enough that this is one."""
    if denoise <= 0:
        return steps
    return max(steps, math.ceil(1.0 / denoise))


class PipelineViews:
    """The pipelines derived from one text-to-image pipeline (shared weights), built once each."""

    def __init__(self, pipe: Any):
        self.base = pipe
        self._views: dict[tuple[Any, ...], Any] = {}

    def _view(self, key: tuple[Any, ...], make: Any) -> Any:
        if key not in self._views:
            view = make()
            view.set_progress_bar_config(disable=True)
            self._views[key] = view
        return self._views[key]

    def inpaint(self, controlnets: list[Any] | None = None) -> Any:
        if not controlnets:
            return self._view(("inpaint",), lambda: diffusers.AutoPipelineForInpainting.from_pipe(self.base))
        cn = controlnets[0] if len(controlnets) == 1 else list(controlnets)
        return self._view(("inpaint",) + tuple(id(m) for m in controlnets),
                          lambda: diffusers.AutoPipelineForInpainting.from_pipe(self.base, controlnet=cn))

    def text2image(self) -> Any:
        return self._view(("text2image",), lambda: diffusers.AutoPipelineForText2Image.from_pipe(self.base))

    def with_scheduler(self, view: Any, sampler: str, schedule: str, record: ControlRecord) -> Any:
        scheduler, note = scheduler_for(self.base.scheduler, sampler, schedule)
        if note:
            record.note(note)
        view.scheduler = scheduler
        return view


class DiffusersInpainter:
    """:class:`~lib_qfix.protocols.Inpainter` on a diffusers pipeline (see the module doc).
    ``record`` collects the ControlNet units used and the notes of this image's passes."""

    def __init__(self, views: PipelineViews, sampling: Sampling = Sampling(), controlnets: ControlNets | None = None,
                 record: ControlRecord | None = None):
        self.views, self.sampling, self.controlnets = views, sampling, controlnets
        self.record = record if record is not None else ControlRecord()

    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
                params: InpaintParams) -> np.ndarray:
        h, w = image.shape[:2]
        if mask.shape != (h, w):
            raise ValueError(f"mask: shape {mask.shape} does not match the image {(h, w)}")
        box = crop_box(mask, params.padding)
        if params.denoise <= 0:  # denoising strength 0 repaints nothing
            return image.copy()
        x0, y0, x1, y1 = box
        size = crop_sample_size(x1 - x0, y1 - y0, params.resolution, params.guide_size)
        crop, crop_mask = np.ascontiguousarray(image[y0:y1, x0:x1]), np.ascontiguousarray(mask[y0:y1, x0:x1])
        control = plan_pass(self.controlnets, params.units, box, size, crop, crop_mask, self.record)
        pipe = self.views.inpaint(control.models if control else None)
        s = self.sampling
        self.views.with_scheduler(pipe, params.sampler or s.sampler, params.scheduler or s.schedule, self.record)
        steps = effective_steps(params.steps or s.steps, params.denoise)
        out = pipe(prompt=prompt, negative_prompt=negative, image=Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS),
                   mask_image=Image.fromarray(crop_mask, mode="L").resize(size, Image.Resampling.BILINEAR),
                   width=size[0], height=size[1], strength=float(params.denoise), num_inference_steps=steps,
                   guidance_scale=float(params.cfg_scale or s.cfg_scale), generator=generator(seed), output_type="np",
                   **(control.kwargs if control else {})).images[0]
        if control is not None:
            self.record.done(control)
        result = Image.fromarray(to_uint8(out)).resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
        return paste(image, box, np.asarray(result), mask)


class DiffusersRegenerator:
    """Regenerates a whole ``width`` x ``height`` image from its prompt on a seed with another
    negative (the loop's ``regenerate``). Text-to-image with the image's own settings; diffusers'
    noise is not A1111's, so on the same seed this is a new picture of the same prompt."""

    def __init__(self, views: PipelineViews, prompt: str, size: tuple[int, int], sampling: Sampling = Sampling(),
                 record: ControlRecord | None = None):
        self.views, self.prompt, self.size, self.sampling = views, prompt, size, sampling
        self.record = record if record is not None else ControlRecord()

    def __call__(self, negative: str, seed: int, prompt: str = "", steps_scale: float = 1.0) -> np.ndarray:
        """``prompt`` "" is the image's own; ``steps_scale`` multiplies its steps (regenerate_steps)."""
        s = self.sampling
        pipe = self.views.with_scheduler(self.views.text2image(), s.sampler, s.schedule, self.record)
        w, h = self.size
        out = pipe(prompt=prompt or self.prompt, negative_prompt=negative, width=snap8(w), height=snap8(h),
                   num_inference_steps=scaled_steps(s.steps, steps_scale), guidance_scale=float(s.cfg_scale),
                   generator=generator(seed), output_type="np").images[0]
        img = Image.fromarray(to_uint8(out))
        return np.asarray(img if img.size == (w, h) else img.resize((w, h), Image.Resampling.LANCZOS))
