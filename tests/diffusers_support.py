"""Shared by the tests/test_diffusers_*.py files: one tiny random-weight pipeline per test session
(testkit/tiny_diffusers.py: no download), saved once as a diffusers folder for ``qfix fix --model``,
A1111-style PNGs, and QFix options that keep a pass to one denoising step at 64 px."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from lib_qfix.masks import box_mask, feather
from lib_qfix.options import validate
from lib_qfix.samples import skimage_photo

# two cores shared by many processes: one torch thread is several times faster than two here
torch.set_num_threads(1)

#: an A1111 infotext as A1111 1.10 writes it
INFOTEXT = ("an astronaut, portrait, detailed\nNegative prompt: blurry, (bad hands:1.2)\n"
            "Steps: 4, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234, Size: 192x192, "
            "Model hash: 6ce0161689, Model: tiny, Version: v1.10.1")
#: every face and hand repainted (the astronaut's face is found), one round, the smallest sampling
FAST = {"mode": "fix_all", "inpaint_resolution": 64, "steps": 4, "rounds": 1, "use_controlnet": False}


@lru_cache(maxsize=1)
def pipe():
    from testkit.tiny_diffusers import tiny_pipeline

    return tiny_pipeline()


@lru_cache(maxsize=1)
def model_dir() -> str:
    """The tiny pipeline saved as a diffusers folder (once per session)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="qfix-tiny-sd-")) / "tiny-sd"
    pipe().save_pretrained(str(folder), safe_serialization=True)
    return str(folder)


def options(**extra):
    return validate({"enable": True, **FAST, **extra})


@lru_cache(maxsize=4)
def photo(name: str = "astronaut", size: tuple[int, int] = (192, 192)) -> np.ndarray:
    return np.asarray(Image.fromarray(skimage_photo(name)).resize(size, Image.Resampling.LANCZOS))


def write_png(path: Path, image: np.ndarray, infotext: str | None = INFOTEXT) -> Path:
    """``image`` as a PNG with ``infotext`` in its ``parameters`` chunk, as A1111 saves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = PngInfo()
    if infotext is not None:
        info.add_text("parameters", infotext)
    Image.fromarray(image).save(path, pnginfo=info)
    return path


def feathered_box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], px: int = 4) -> np.ndarray:
    return feather(box_mask(shape, box), px)
