"""Image side of CLIP-IQA: preprocessing and native-resolution encoding.

ResNet CLIP models (``RN50``, …) score images at their **native resolution**, as the CLIP-IQA paper
does: no resize, no crop, CLIP mean/std normalisation. The attention pool's positional embedding is
learned for a fixed grid (224 px -> 7x7); ``pos_embed="drop"`` (default, the paper's choice) leaves
it out, ``"interpolate"`` resizes it bicubically to the image's grid. Sizes are kept within
``min_side..max_side`` pixels (area-downscaled or bicubic-upscaled, aspect kept) so a huge image
cannot exhaust memory and a tiny one still gives a feature map.

Other models (ViT) run at their own input size: resize the short side (bicubic, area when
shrinking) and centre-crop, like open_clip's own transform.

Batching: images of equal (H, W) after this step go through one forward pass together; different
sizes form separate groups (padding would change the attention pool's mean token).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from lib_qfix.imageio import check_rgb

POS_EMBED_MODES = ("drop", "interpolate")


def check_images(images: Sequence[np.ndarray]) -> None:
    """Raise ValueError naming the first image that is not (H, W, 3) uint8."""
    for i, im in enumerate(images):
        check_rgb(im, f"images[{i}]")


def _resize(im: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    if (w, h) == (im.shape[1], im.shape[0]):
        return im
    shrink = w * h < im.shape[0] * im.shape[1]
    return cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def fit_native(im: np.ndarray, min_side: int = 64, max_side: int = 1024) -> np.ndarray:
    """``im`` scaled (aspect kept) so that its long side <= max_side and short side >= min_side."""
    h, w = im.shape[:2]
    scale = 1.0
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
    if min(h, w) * scale < min_side:
        scale = min_side / min(h, w)
    if scale == 1.0:
        return im
    return _resize(im, max(1, round(w * scale)), max(1, round(h * scale)))


def resize_crop(im: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Short side to fit ``size`` (H, W), then centre crop to exactly ``size``."""
    th, tw = size
    h, w = im.shape[:2]
    scale = max(th / h, tw / w)
    nh, nw = max(th, round(h * scale)), max(tw, round(w * scale))
    im = _resize(im, nw, nh)
    y0, x0 = (nh - th) // 2, (nw - tw) // 2
    return im[y0:y0 + th, x0:x0 + tw]


def to_tensor(batch: Sequence[np.ndarray], mean, std, device, dtype):
    """Stack equal-size uint8 images into a normalised (N, 3, H, W) tensor on ``device``."""
    import torch

    x = torch.from_numpy(np.stack(batch)).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=device).view(1, 3, 1, 1)
    return ((x - m) / s).to(dtype).contiguous()


def _pool_pos(pool, h: int, w: int, cache: dict) -> Any:
    """The attention pool's positional embedding resized to an (h, w) grid (cached per grid)."""
    import torch
    import torch.nn.functional as F

    pe = pool.positional_embedding
    g = int(round((pe.shape[0] - 1) ** 0.5))
    if (h, w) == (g, g):
        return pe
    key = (h, w, pe.dtype, pe.device)
    if key not in cache:
        if len(cache) > 32:  # bounded: many distinct sizes must not grow memory
            cache.clear()
        grid = pe[1:].float().reshape(1, g, g, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        grid = grid.permute(0, 2, 3, 1).reshape(h * w, -1).to(pe.dtype)
        cache[key] = torch.cat([pe[:1], grid], 0)
    return cache[key]


def resnet_native_features(visual, x, pos_embed: str = "drop", cache: dict | None = None, trunk=None):
    """Image features of an open_clip ``ModifiedResNet`` for any input size (N, 3, H, W); ``trunk``:
    a module replacing the stem + layer1-4 (the int8 one of ``clip_precision`` "int8"), or None."""
    import torch
    import torch.nn.functional as F

    if pos_embed not in POS_EMBED_MODES:
        raise ValueError(f"pos_embed: {pos_embed!r} is not allowed; one of {', '.join(POS_EMBED_MODES)}")
    if trunk is not None:
        x = trunk(x)
    else:
        x = visual.stem(x)
        x = visual.layer4(visual.layer3(visual.layer2(visual.layer1(x))))
    pool = visual.attnpool
    n, c, h, w = x.shape
    x = x.reshape(n, c, h * w).permute(2, 0, 1)  # (HW, N, C)
    x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
    if pos_embed == "interpolate":
        x = x + _pool_pos(pool, h, w, cache if cache is not None else {})[:, None, :].to(x.dtype)
    # Only the first (mean) token's output is used, so it is the only query.
    out, _ = F.multi_head_attention_forward(
        query=x[:1], key=x, value=x, embed_dim_to_check=c, num_heads=pool.num_heads,
        q_proj_weight=pool.q_proj.weight, k_proj_weight=pool.k_proj.weight, v_proj_weight=pool.v_proj.weight,
        in_proj_weight=None, in_proj_bias=torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]),
        bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
        out_proj_weight=pool.c_proj.weight, out_proj_bias=pool.c_proj.bias,
        use_separate_proj_weight=True, training=False, need_weights=False,
    )
    return out[0]


def prepare(images: Sequence[np.ndarray], clip, native: bool, min_side: int, max_side: int) -> list[np.ndarray]:
    """Each image at the size it will be encoded at (native-fitted, or the model's input size)."""
    check_images(images)
    if native:
        return [fit_native(im, min_side, max_side) for im in images]
    return [resize_crop(im, clip.image_size) for im in images]


class AutocastTrunk:
    """A ResNet's stem + layer1-4 run under ``torch.autocast("cpu", dtype)``, output as float32: the
    convolutions (nearly all the compute) in bfloat16, the attention pool then in fp32. Measured on
    RN50 at 512 px: the rate of autocasting everything, with scores ~0.0000 from fp32 instead of
    ~0.0012 (the pool's softmax is what bfloat16 hurts; bench/clip.py)."""

    def __init__(self, visual: Any, dtype: Any):
        self.visual, self.dtype = visual, dtype

    def __call__(self, x: Any) -> Any:
        import torch

        v = self.visual
        with torch.autocast("cpu", dtype=self.dtype):
            x = v.layer4(v.layer3(v.layer2(v.layer1(v.stem(x)))))
        return x.float()


#: on CPU, one forward covers at most this many pixels: measured with RN50 on 2 cores, 4 images of
#: 512 px ran at 2.9 img/s in one batch and 3.6 img/s one by one, while 224 px images still gain
#: from batches of 4-6
CPU_BATCH_PIXELS = 320_000


def encode_images(images: Sequence[np.ndarray], clip, *, native: bool, pos_embed: str = "drop",
                  batch_size: int = 16, min_side: int = 64, max_side: int = 1024,
                  cache: dict | None = None):
    """L2-normalised float32 features (N, D), in input order; one forward per size group chunk."""
    import torch

    prepared = prepare(images, clip, native, min_side, max_side)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, im in enumerate(prepared):
        groups.setdefault(im.shape[:2], []).append(i)
    out: list[Any] = [None] * len(prepared)
    trunk = clip.int8_trunk
    if trunk is None and clip.autocast is not None and clip.is_resnet:
        trunk = AutocastTrunk(clip.model.visual, clip.autocast)
    # a ViT under autocast as a whole; a ResNet's reduced precision stays in its trunk (above)
    whole = clip.autocast is not None and not clip.is_resnet
    low = torch.autocast("cpu", dtype=clip.autocast) if whole else contextlib.nullcontext()
    with torch.inference_mode(), low:
        for (h, w), idx in groups.items():
            step = batch_size
            if clip.device.type == "cpu":  # big CPU batches get slower per image (cache misses)
                step = max(1, min(batch_size, CPU_BATCH_PIXELS // (h * w)))
            for k in range(0, len(idx), step):
                part = idx[k:k + step]
                x = to_tensor([prepared[i] for i in part], clip.mean, clip.std, clip.device, clip.dtype)
                if clip.is_resnet:
                    x = x.contiguous(memory_format=torch.channels_last)
                if native and clip.is_resnet:
                    f = resnet_native_features(clip.model.visual, x, pos_embed, cache, trunk)
                elif trunk is not None:  # at the model's own grid "interpolate" is the plain pool
                    f = resnet_native_features(clip.model.visual, x, "interpolate", cache, trunk)
                else:
                    f = clip.model.encode_image(x)
                f = torch.nn.functional.normalize(f.float(), dim=-1)
                for j, i in enumerate(part):
                    out[i] = f[j]
    return torch.stack(out) if out else torch.zeros(0)
