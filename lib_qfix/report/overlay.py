"""Drawing found regions onto an image: boxes/outlines coloured by verdict, labelled by kind.

Defects are drawn red, ok regions green; global defects (no box) are listed in a banner at the
top. Line widths scale with the image (about 0.4% of the long side, at least 2 px).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lib_qfix.types import Region

DEFECT_RGB = (235, 64, 52)
OK_RGB = (46, 204, 113)
BANNER_RGB = (20, 20, 20)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def region_label(region: Region) -> str:
    what = ", ".join(region.defects) if region.defects else region.kind
    return f"{region.kind} {region.confidence:.2f}" + (f": {what}" if region.is_defect else "")


def draw_regions(image: np.ndarray, regions: Sequence[Region]) -> np.ndarray:
    """A copy of ``image`` (RGB uint8) with ``regions`` drawn on it."""
    img = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(img, "RGBA")
    long_side = max(img.size)
    width = max(2, round(long_side * 0.004))
    font = _font(max(12, round(long_side * 0.022)))
    for r in regions:
        if r.box is None:
            continue
        colour = DEFECT_RGB if r.is_defect else OK_RGB
        if r.polygon and len(r.polygon) >= 3:
            draw.polygon([tuple(p) for p in r.polygon], outline=colour + (255,), fill=colour + (40,))
        draw.rectangle(r.box, outline=colour + (255,), width=width)
        label = region_label(r)
        x0, y0 = r.box[0], r.box[1]
        tb = draw.textbbox((0, 0), label, font=font)
        th = tb[3] - tb[1] + 4
        ty = y0 - th if y0 - th >= 0 else r.box[3]
        draw.rectangle((x0, ty, x0 + tb[2] - tb[0] + 6, ty + th), fill=colour + (220,))
        draw.text((x0 + 3, ty + 1), label, fill=(255, 255, 255, 255), font=font)
    banner = [region_label(r) for r in regions if r.box is None and r.is_defect]
    if banner:
        text = " | ".join(banner)
        tb = draw.textbbox((0, 0), text, font=font)
        draw.rectangle((0, 0, img.size[0], tb[3] - tb[1] + 8), fill=BANNER_RGB + (190,))
        draw.text((4, 2), text, fill=DEFECT_RGB + (255,), font=font)
    return np.asarray(img)
