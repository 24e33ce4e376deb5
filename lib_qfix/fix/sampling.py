"""At what size the model samples a crop: the "guide size" rule, one place for every adapter.

An inpaint pass crops the mask box plus padding ("only masked"), samples the crop at another size
and pastes it back. ``L`` is the crop's long side in pixels, ``resolution`` the option
``inpaint_resolution`` and ``guide_size`` the option ``guide_size`` (pixels, 0 = off):

- ``guide_size == 0``: the crop is always sampled with its long side at ``resolution``, up or down
  (the rule before the option existed);
- ``guide_size > 0``: the long side is ``max(guide_size, min(L, resolution))``: a small face or hand
  is scaled **up** to the guide size (a 40-px face with 32 px padding, L = 104, is sampled at 512
  with ``guide_size`` 512: five times the pixels the model can draw with, then scaled back down), a
  crop between the guide size and ``resolution`` is sampled at its own size (no resampling loss),
  a larger one is scaled **down** to ``resolution`` (the memory cap). The guide size wins over
  ``resolution`` when it is the larger.

Both sides keep the crop's aspect ratio and are snapped to multiples of 8 (at least 64), as the
latent space needs.
"""

from __future__ import annotations

#: smallest sampled side (pixels): an 8x8 latent
MIN_SIDE = 64


def snap8(x: float) -> int:
    """``x`` rounded to the nearest multiple of 8, at least :data:`MIN_SIDE`."""
    return max(MIN_SIDE, int(round(x / 8.0)) * 8)


def sampled_long_side(crop_long: int, resolution: int, guide_size: int = 0) -> int:
    """The long side (pixels, before snapping) a crop whose long side is ``crop_long`` is sampled at
    (see the module doc)."""
    if crop_long < 1:
        raise ValueError(f"crop: long side {crop_long}; allowed: at least 1 pixel")
    if guide_size <= 0:
        return int(resolution)
    return max(int(guide_size), min(int(crop_long), int(resolution)))


def crop_sample_size(crop_w: int, crop_h: int, resolution: int, guide_size: int = 0) -> tuple[int, int]:
    """(width, height) a ``crop_w`` x ``crop_h`` crop is sampled at, snapped to 8."""
    long = max(crop_w, crop_h)
    scale = sampled_long_side(long, resolution, guide_size) / long
    return snap8(crop_w * scale), snap8(crop_h * scale)
