"""Fake ``modules.processing``: the two processing dataclasses with the fields docs/a1111.md lists,
``process_images`` running the always-on hooks in the documented order, ``Processed`` and
``create_infotext`` (per-image lists, callables, None omitted, quoting)."""

from __future__ import annotations

import json
import os
import random
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image


@dataclass(repr=False)
class StableDiffusionProcessing:
    sd_model: Any = None
    outpath_samples: str = ""
    outpath_grids: str = ""
    prompt: str = ""
    styles: list = field(default_factory=list)
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0
    seed_resize_from_h: int = -1
    seed_resize_from_w: int = -1
    sampler_name: str = "Euler a"
    scheduler: str | None = None
    batch_size: int = 1
    n_iter: int = 1
    steps: int = 20
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    restore_faces: bool | None = None
    tiling: bool | None = None
    do_not_save_samples: bool = False
    do_not_save_grid: bool = False
    extra_generation_params: dict = field(default_factory=dict)
    override_settings: dict = field(default_factory=dict)
    override_settings_restore_afterwards: bool = True
    denoising_strength: float | None = None
    negative_prompt: str = ""

    def __post_init__(self) -> None:
        self.scripts = None
        self.script_args = []
        self.cached_c = [None, None]
        self.cached_uc = [None, None]
        self.is_api = False
        self.iteration = 0
        self.batch_index = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True

    # as the host's: properties over scripts_value / script_args_value (ControlNet's
    # update_cn_script_in_processing reads p.script_args_value)
    @property
    def scripts(self) -> Any:
        return self.scripts_value

    @scripts.setter
    def scripts(self, value: Any) -> None:
        self.scripts_value = value

    @property
    def script_args(self) -> Any:
        return self.script_args_value

    @script_args.setter
    def script_args(self, value: Any) -> None:
        self.script_args_value = value


@dataclass(repr=False)
class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):
    enable_hr: bool = False
    hr_scale: float = 2.0
    hr_upscaler: str | None = None
    hr_second_pass_steps: int = 0
    hr_resize_x: int = 0
    hr_resize_y: int = 0


@dataclass(repr=False)
class StableDiffusionProcessingImg2Img(StableDiffusionProcessing):
    init_images: list = None
    resize_mode: int = 0
    denoising_strength: float = 0.75
    image_cfg_scale: float | None = None
    mask: Any = None
    mask_blur_x: int = 4
    mask_blur_y: int = 4
    mask_blur: int = None
    inpainting_fill: int = 0
    inpaint_full_res: bool = True
    inpaint_full_res_padding: int = 0
    inpainting_mask_invert: int = 0
    initial_noise_multiplier: float = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.image_mask = self.mask  # moved, as the host does
        self.mask = None
        if self.mask_blur is not None:
            self.mask_blur_x = self.mask_blur_y = self.mask_blur


class Processed:
    def __init__(self, p: Any, images: list, infotexts: list[str]):
        self.images, self.infotexts = images, infotexts
        self.all_seeds, self.all_prompts = list(p.all_seeds), list(p.all_prompts)
        self.extra_generation_params = p.extra_generation_params
        self.info = infotexts[0] if infotexts else ""

    def js(self) -> str:
        return json.dumps({"infotexts": self.infotexts, "all_seeds": self.all_seeds,
                           "extra_generation_params": self.extra_generation_params}, default=lambda o: None)


def build(host: Any, shared: Any, scripts: Any, infotext_utils: Any, paths_internal: Any) -> types.ModuleType:
    m = types.ModuleType("modules.processing")
    m.StableDiffusionProcessing = StableDiffusionProcessing
    m.StableDiffusionProcessingTxt2Img = StableDiffusionProcessingTxt2Img
    m.StableDiffusionProcessingImg2Img = StableDiffusionProcessingImg2Img
    m.Processed = Processed

    def create_infotext(p, all_prompts, all_seeds, all_subseeds, comments=None, iteration=0,
                        position_in_batch=0, use_main_prompt=False, index=None, all_negative_prompts=None):
        if index is None:
            index = position_in_batch + iteration * p.batch_size
        params = {"Steps": p.steps, "Sampler": p.sampler_name, "CFG scale": p.cfg_scale,
                  "Seed": all_seeds[index], "Size": f"{p.width}x{p.height}", **p.extra_generation_params,
                  "Version": "v1.10.1"}
        for key, value in list(params.items()):
            try:
                if isinstance(value, list):
                    params[key] = value[index]
                elif callable(value):
                    params[key] = value(**locals())
            except Exception:
                params[key] = None
        text = ", ".join(k if k == v else f"{k}: {infotext_utils.quote(v)}" for k, v in params.items()
                         if v is not None)
        neg = (all_negative_prompts or p.all_negative_prompts)[index]
        neg_text = f"\nNegative prompt: {neg}" if neg else ""
        return f"{all_prompts[index]}{neg_text}\n{text}".strip()

    def _sample(p: Any, index: int) -> Image.Image:
        if isinstance(p, StableDiffusionProcessingImg2Img):
            if host.on_inner is not None:
                host.on_inner(p)
            if host.inpaint_fn is not None:
                return host.inpaint_fn(p)
            img = np.asarray(p.init_images[0].convert("RGB")).copy()
            if p.image_mask is not None:
                mask = np.asarray(p.image_mask.convert("L")) > 127
                rng = np.random.default_rng(p.all_seeds[index])
                img[mask] = rng.integers(0, 256, 3, dtype=np.uint8)
            return Image.fromarray(img)
        base = host.base_image if host.base_image is not None else np.full((64, 64, 3), 128, np.uint8)
        return Image.fromarray(base).resize((p.width, p.height))

    def process_images(p: Any) -> Processed:
        host.passes.append(p)
        inner = isinstance(p, StableDiffusionProcessingImg2Img) and p.image_mask is not None
        saved_opts = {k: getattr(shared.opts, k, None) for k in p.override_settings}
        for k, v in p.override_settings.items():
            setattr(shared.opts, k, v)
        try:
            n = p.batch_size * p.n_iter
            seed = p.seed if p.seed != -1 else random.randrange(2**31)
            p.all_seeds = [seed + i for i in range(n)] if not p.subseed_strength else [seed] * n
            p.all_subseeds = [(p.subseed if p.subseed != -1 else 0) + i for i in range(n)]
            p.all_prompts = [p.prompt] * n
            p.all_negative_prompts = [p.negative_prompt] * n
            if inner:
                host.inner.append({"prompt": p.prompt, "negative": p.negative_prompt, "seed": p.seed,
                                   "mask": np.asarray(p.image_mask.convert("L")).copy(), "width": p.width,
                                   "height": p.height, "scripts": p.scripts, "cached_c": list(p.cached_c),
                                   "denoise": p.denoising_strength, "fill": p.inpainting_fill,
                                   "full_res": p.inpaint_full_res, "padding": p.inpaint_full_res_padding,
                                   "steps": p.steps, "sampler": p.sampler_name, "save": not p.do_not_save_samples,
                                   "job_count": shared.state.job_count})
            if shared.state.job_count == -1:
                shared.state.job_count = p.n_iter
            runner = p.scripts
            for hook in ("setup", "before_process", "process"):
                if runner is not None:
                    runner.call(hook, p)
            images, infotexts = [], []
            for it in range(p.n_iter):
                p.iteration = it
                if shared.state.skipped:
                    shared.state.skipped = False
                if shared.state.interrupted:
                    break
                if it == 0:
                    with open(os.path.join(paths_internal.data_path, "params.txt"), "w", encoding="utf8") as f:
                        f.write(create_infotext(p, p.all_prompts, p.all_seeds, p.all_subseeds))
                for hook in ("before_process_batch", "process_batch", "post_sample",
                             "postprocess_batch", "postprocess_batch_list"):
                    if runner is not None:
                        runner.call(hook, p)
                batch = [_sample(p, it * p.batch_size + i) for i in range(p.batch_size)]
                for i, image in enumerate(batch):
                    p.batch_index = i
                    if p.restore_faces:
                        host.calls.append(("a1111_restore_faces", i))
                    if runner is not None:
                        pp = scripts.PostprocessImageArgs(image)
                        runner.call("postprocess_image", p, pp)
                        image = pp.image
                        runner.call("postprocess_image_after_composite", p, scripts.PostprocessImageArgs(image))
                    if not p.do_not_save_samples:
                        host.saved.append({"image": image, "seed": p.all_seeds[it * p.batch_size + i]})
                    infotexts.append(create_infotext(p, p.all_prompts, p.all_seeds, p.all_subseeds, None, it, i))
                    images.append(image)
                shared.state.nextjob()
            processed = Processed(p, images, infotexts)
            if runner is not None:
                runner.call("postprocess", p, processed)
            return processed
        finally:
            for k, v in saved_opts.items():
                setattr(shared.opts, k, v)

    m.create_infotext = create_infotext
    m.process_images = process_images
    return m
