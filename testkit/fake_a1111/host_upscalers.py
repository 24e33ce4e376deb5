"""Fake ``modules.upscaler`` and ``shared.sd_upscalers``, shaped as A1111 1.10.1's
``modules/upscaler.py`` and ``modules/modelloader.py:load_upscalers``:

- ``UpscalerData(name, path, upscaler, scale=4)``: what ``shared.sd_upscalers`` holds; callers use
  ``data.scaler.upscale(img, scale, data.data_path)``.
- ``Upscaler.upscale(img, scale, selected_model)``: the target is ``int(w * scale) // 8 * 8`` by
  ``int(h * scale) // 8 * 8``; ``do_upscale`` runs up to three times until the image reaches it
  (once more with scale 1), stopping early on ``shared.state.interrupted`` or when a pass did not
  change the size; then a Lanczos resize to the target. So a model that fails to load (A1111 reports
  the error and returns the image unchanged) silently gives a Lanczos resize.
- The list: "None", "Lanczos", "Nearest" first (in that order), then model upscalers sorted by
  lower-cased name. The RealESRGAN ones stand in for the network with a Lanczos 4x plus an unsharp
  mask (so their result differs from Lanczos); with ``host.upscaler_weights = False`` their model
  "fails to load" as it does offline without weights. Every call is recorded in
  ``host.upscale_calls`` as (name, scale, (w, h) in).
"""

from __future__ import annotations

import types
from typing import Any

from PIL import Image, ImageFilter

LANCZOS = Image.Resampling.LANCZOS
NEAREST = Image.Resampling.NEAREST


class Upscaler:
    name: Any = None
    scalers: list

    def __init__(self, host: Any, shared: Any):
        self.host, self.shared = host, shared
        self.scale = 1

    def do_upscale(self, img: Image.Image, selected_model: Any) -> Image.Image:
        return img

    def upscale(self, img: Image.Image, scale: float, selected_model: Any = None) -> Image.Image:
        self.host.upscale_calls.append((self.name, scale, img.size))
        self.scale = scale
        dest_w = int((img.width * scale) // 8 * 8)
        dest_h = int((img.height * scale) // 8 * 8)
        for i in range(3):
            if img.width >= dest_w and img.height >= dest_h and (i > 0 or scale != 1):
                break
            if self.shared.state.interrupted:
                break
            shape = (img.width, img.height)
            img = self.do_upscale(img, selected_model)
            if shape == (img.width, img.height):
                break
        if img.width != dest_w or img.height != dest_h:
            img = img.resize((int(dest_w), int(dest_h)), resample=LANCZOS)
        return img


class UpscalerData:
    def __init__(self, name: str, path: Any, upscaler: Any = None, scale: int = 4, model: Any = None):
        self.name = name
        self.data_path = path
        self.local_data_path = path
        self.scaler = upscaler
        self.scale = scale
        self.model = model

    def __repr__(self) -> str:
        return f"<UpscalerData name={self.name} path={self.data_path} scale={self.scale}>"


class UpscalerNone(Upscaler):
    def __init__(self, host: Any, shared: Any):
        super().__init__(host, shared)
        self.name = "None"
        self.scalers = [UpscalerData("None", None, self)]


class UpscalerLanczos(Upscaler):
    def __init__(self, host: Any, shared: Any):
        super().__init__(host, shared)
        self.name = "Lanczos"
        self.scalers = [UpscalerData("Lanczos", None, self)]

    def do_upscale(self, img: Image.Image, selected_model: Any = None) -> Image.Image:
        return img.resize((int(img.width * self.scale), int(img.height * self.scale)), resample=LANCZOS)


class UpscalerNearest(Upscaler):
    def __init__(self, host: Any, shared: Any):
        super().__init__(host, shared)
        self.name = "Nearest"
        self.scalers = [UpscalerData("Nearest", None, self)]

    def do_upscale(self, img: Image.Image, selected_model: Any = None) -> Image.Image:
        return img.resize((int(img.width * self.scale), int(img.height * self.scale)), resample=NEAREST)


class UpscalerRealESRGAN(Upscaler):
    """Two of A1111's default-enabled RealESRGAN models; weights are URLs until downloaded."""

    URL = "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/"

    def __init__(self, host: Any, shared: Any):
        super().__init__(host, shared)
        self.name = "RealESRGAN"
        self.scalers = [UpscalerData("R-ESRGAN 4x+", self.URL + "RealESRGAN_x4plus.pth", self, 4),
                        UpscalerData("R-ESRGAN 4x+ Anime6B", self.URL + "RealESRGAN_x4plus_anime_6B.pth", self, 4)]

    def do_upscale(self, img: Image.Image, path: Any) -> Image.Image:
        if not self.host.upscaler_weights:  # load_model failed: A1111 reports and returns the input
            self.host.errors.append(f"Unable to load RealESRGAN model {path}")
            return img
        big = img.resize((img.width * 4, img.height * 4), resample=LANCZOS)
        return big.filter(ImageFilter.UnsharpMask(radius=2, percent=80, threshold=2))


def build(host: Any, shared: Any) -> tuple[types.ModuleType, list[UpscalerData]]:
    """The ``modules.upscaler`` module and the ``shared.sd_upscalers`` list."""
    m = types.ModuleType("modules.upscaler")
    m.Upscaler, m.UpscalerData, m.LANCZOS, m.NEAREST = Upscaler, UpscalerData, LANCZOS, NEAREST
    m.UpscalerNone, m.UpscalerLanczos, m.UpscalerNearest = UpscalerNone, UpscalerLanczos, UpscalerNearest
    builtin = [c(host, shared) for c in (UpscalerNone, UpscalerLanczos, UpscalerNearest)]
    models = [UpscalerRealESRGAN(host, shared)]
    data = [d for s in builtin for d in s.scalers]
    data += sorted((d for s in models for d in s.scalers), key=lambda d: d.name.lower())
    return m, data
