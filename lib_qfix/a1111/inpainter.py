"""Inpainting and regeneration with the model A1111 has loaded: one fresh inner
``StableDiffusionProcessingImg2Img`` ("only masked") per region group.

Pitfalls handled (see docs/a1111.md): a fresh object, not ``copy(p)``; conditioning caches reset;
no recursion (``scripts = None``); the image's own seed/subseed; settings already applied by the
outer pass are not re-applied; ``job_count`` grows by one per inner pass; interrupt/skip discard the
pass; ``params.txt`` is restored; ``close()`` always runs; QFix's own infotext lists are not copied.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image

from lib_qfix.a1111.controlnet_guide import Guide
from lib_qfix.fix.sampling import crop_sample_size
from lib_qfix.fix.strategy import scaled_steps
from lib_qfix.imageio import to_rgb_array
from lib_qfix.masks import crop_box
from lib_qfix.protocols import InpaintParams, PassStopped


class PassInterrupted(PassStopped):
    """The user pressed Interrupt or Skip; the pass's output is discarded."""


def image_index(p: Any) -> int:
    """Index of the current image into ``p.all_seeds`` / ``all_prompts`` (see docs/a1111.md)."""
    return int(p.iteration) * int(p.batch_size) + int(p.batch_index)


def stop_reason() -> str | None:
    """"interrupted" / "skipped" when the user asked to stop, else None."""
    from modules import shared

    if shared.state.interrupted or getattr(shared.state, "stopping_generation", False):
        return "interrupted"
    if shared.state.skipped:
        return "skipped"
    return None


def sample_size(mask: np.ndarray, padding: int, resolution: int, guide_size: int = 0) -> tuple[int, int]:
    """(width, height) the model samples the crop at: the mask box plus padding, scaled by the guide
    size rule of :mod:`lib_qfix.fix.sampling` (``guide_size`` 0: long side ``resolution``), both
    snapped to multiples of 8 (minimum 64)."""
    x0, y0, x1, y1 = crop_box(mask, padding, (mask.shape[1], mask.shape[0]), multiple=1)
    return crop_sample_size(x1 - x0, y1 - y0, resolution, guide_size)


def _generation_params(p: Any) -> dict[str, Any]:
    """The outer pass's extra params without callables and without QFix's per-image lists."""
    return {k: v for k, v in (p.extra_generation_params or {}).items()
            if not callable(v) and not str(k).startswith("QFix")}


class _ParamsTxt:
    """Keeps ``params.txt`` (the last generation's infotext, used by the UI's "paste" button)."""

    def __init__(self) -> None:
        from modules import paths_internal

        self.path = os.path.join(paths_internal.data_path, "params.txt")
        self.text: str | None = None

    def __enter__(self) -> _ParamsTxt:
        try:
            with open(self.path, encoding="utf8") as f:
                self.text = f.read()
        except OSError:
            self.text = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.text is not None:
            with open(self.path, "w", encoding="utf8") as f:
                f.write(self.text)


def run_inner(inner: Any, attach: Any = None) -> np.ndarray:
    """Run one inner pass with every guard; returns its first image as RGB uint8. ``attach(inner)``,
    when given, gives the pass its ControlNet units (:mod:`lib_qfix.a1111.controlnet_guide`)."""
    from modules import processing, shared

    reason = stop_reason()
    if reason:
        raise PassInterrupted(reason)
    inner.cached_c = [None, None]
    inner.cached_uc = [None, None]
    inner.scripts = None  # no recursion into QFix (or any always-on script)
    inner.script_args = []
    if attach is not None:
        attach(inner)
    shared.state.job_count += 1
    try:
        with _ParamsTxt():
            processed = processing.process_images(inner)
    finally:
        inner.close()
    reason = stop_reason()
    if reason:
        raise PassInterrupted(reason)
    if not processed.images:
        raise RuntimeError("the inner pass returned no image")
    return to_rgb_array(processed.images[0])


def _common(p: Any, index: int) -> dict[str, Any]:
    return dict(
        outpath_samples=p.outpath_samples, outpath_grids=p.outpath_grids, styles=[],
        subseed=p.all_subseeds[index] if getattr(p, "all_subseeds", None) else p.subseed,
        subseed_strength=p.subseed_strength, seed_resize_from_h=p.seed_resize_from_h,
        seed_resize_from_w=p.seed_resize_from_w, batch_size=1, n_iter=1, restore_faces=False,
        tiling=p.tiling, extra_generation_params=_generation_params(p), do_not_save_samples=True,
        do_not_save_grid=True, override_settings={}, override_settings_restore_afterwards=False,
    )


class A1111Inpainter:
    """:class:`~lib_qfix.protocols.Inpainter` on the loaded model for image ``index`` of ``p``."""

    def __init__(self, p: Any, index: int):
        self.p, self.index = p, index
        self.controlnet = Guide(p)  # the passes' ControlNet units; ``finish`` after the loop

    def build(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
              params: InpaintParams) -> Any:
        from modules import processing

        p = self.p
        h, w = image.shape[:2]
        if mask.shape != (h, w):
            raise ValueError(f"mask: shape {mask.shape} does not match the image {(h, w)}")
        width, height = sample_size(mask, params.padding, params.resolution, params.guide_size)
        kw = _common(p, self.index)
        kw.update(
            prompt=prompt, negative_prompt=negative, seed=int(seed),
            sampler_name=params.sampler or p.sampler_name, steps=params.steps or p.steps,
            cfg_scale=params.cfg_scale or p.cfg_scale, width=width, height=height,
            init_images=[Image.fromarray(image)], mask=Image.fromarray(mask, mode="L"),
            # the mask is already feathered by masks.region_mask; a second blur would widen the seam
            mask_blur=0, inpainting_fill=1, inpaint_full_res=True,
            inpaint_full_res_padding=params.padding, inpainting_mask_invert=0,
            denoising_strength=params.denoise,
        )
        scheduler = params.scheduler or getattr(p, "scheduler", None)
        if scheduler is not None and "scheduler" in _fields(processing.StableDiffusionProcessingImg2Img):
            kw["scheduler"] = scheduler  # 1.9+
        return processing.StableDiffusionProcessingImg2Img(**kw)

    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
                params: InpaintParams) -> np.ndarray:
        attachment = self.controlnet.plan(params.units)
        out = run_inner(self.build(image, mask, prompt, negative, seed, params), attachment)
        self.controlnet.done(attachment)
        if out.shape != image.shape:
            raise RuntimeError(f"the inner pass returned {out.shape[1]}x{out.shape[0]}, "
                               f"expected {image.shape[1]}x{image.shape[0]}")
        return out


def _fields(cls: Any) -> set[str]:
    return set(getattr(cls, "__dataclass_fields__", {}))


#: txt2img fields copied for a regeneration (hires fix included), when the class has them
_TXT2IMG_COPY = ("sampler_name", "scheduler", "steps", "cfg_scale", "width", "height", "enable_hr",
                 "denoising_strength", "hr_scale", "hr_upscaler", "hr_second_pass_steps", "hr_resize_x",
                 "hr_resize_y", "hr_checkpoint_name", "hr_sampler_name", "hr_scheduler", "hr_cfg",
                 "firstphase_width", "firstphase_height")


#: img2img fields copied for a regeneration: the same denoise, resize and inpaint settings
_IMG2IMG_COPY = ("sampler_name", "scheduler", "steps", "cfg_scale", "width", "height", "denoising_strength",
                 "resize_mode", "image_cfg_scale", "mask_blur_x", "mask_blur_y", "mask_round", "inpainting_fill",
                 "inpaint_full_res", "inpaint_full_res_padding", "inpainting_mask_invert",
                 "initial_noise_multiplier", "latent_mask")


def _init_image(p: Any, index: int) -> Any:
    """The init image image ``index`` of an img2img ``p`` was made from (one per batch position,
    or the one image the whole batch shares)."""
    images = list(p.init_images or [])
    position = index % max(1, int(p.batch_size))
    return images[position] if len(images) > 1 and position < len(images) else images[0]


class A1111Regenerator:
    """Regenerates image ``index`` of ``p`` on its own seed with another negative: a fresh txt2img
    (hires fix included), or a fresh img2img from the same init image (and mask) with the same
    settings. Not for img2img "only masked" inpainting: its image at ``postprocess_image`` is the
    sampled crop, a regeneration would be the whole composited picture."""

    def __init__(self, p: Any, index: int):
        from modules import processing

        if isinstance(p, processing.StableDiffusionProcessingImg2Img):
            if getattr(p, "image_mask", None) is not None and p.inpaint_full_res:
                raise TypeError("regenerate: img2img inpainting of the masked area only cannot be regenerated")
            if not p.init_images:
                raise TypeError("regenerate: the img2img pass has no init image")
        elif not isinstance(p, processing.StableDiffusionProcessingTxt2Img):
            raise TypeError("regenerate: only txt2img and img2img images can be regenerated")
        self.p, self.index = p, index

    def __call__(self, negative: str, seed: int, prompt: str = "", steps_scale: float = 1.0) -> np.ndarray:
        """``prompt``: "" for the image's own; ``steps_scale`` multiplies its sampling steps (the
        "regenerate_steps" fix strategy, :func:`lib_qfix.fix.strategy.scaled_steps`)."""
        from modules import processing

        p = self.p
        img2img = isinstance(p, processing.StableDiffusionProcessingImg2Img)
        cls = processing.StableDiffusionProcessingImg2Img if img2img else processing.StableDiffusionProcessingTxt2Img
        names = _fields(cls)
        kw = _common(p, self.index)
        kw.update({k: getattr(p, k) for k in (_IMG2IMG_COPY if img2img else _TXT2IMG_COPY)
                   if k in names and hasattr(p, k)})
        kw.update(prompt=prompt or p.all_prompts[self.index], negative_prompt=negative, seed=int(seed))
        if steps_scale != 1.0 and isinstance(kw.get("steps"), int):
            kw["steps"] = scaled_steps(kw["steps"], steps_scale)
        if img2img:
            kw.update(init_images=[_init_image(p, self.index)], mask=getattr(p, "image_mask", None))
        elif getattr(p, "all_hr_prompts", None) and "hr_prompt" in names:
            kw["hr_prompt"] = p.all_hr_prompts[self.index]
            kw["hr_negative_prompt"] = negative
        return run_inner(cls(**kw))
