"""Reading images for the core: always (H, W, 3) uint8 RGB, with clear errors.

Limits: files over :data:`MAX_PIXELS` pixels are refused (decompression bombs), EXIF
orientation is applied, alpha is composited on white, 16-bit and palette images are converted.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 80_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


class ImageLoadError(ValueError):
    """An image could not be read; the message names the file and why."""


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """A PIL image as an (H, W, 3) uint8 RGB array (alpha composited on white)."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = arr.max() if arr.size and arr.max() > 255 else 255.0
        img = Image.fromarray((arr / peak * 255).clip(0, 255).astype(np.uint8))
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


@contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn whatever PIL raises while reading ``path`` into :class:`ImageLoadError` naming the file."""
    try:
        yield
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(f"{path}: not an image file") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ImageLoadError(f"{path}: cannot read image ({e})") from None


def check_size(path: str | os.PathLike[str], size: tuple[int, int], max_pixels: int = MAX_PIXELS) -> None:
    """Raise :class:`ImageLoadError` when ``size`` (width, height) is over ``max_pixels``."""
    w, h = size
    if w * h > max_pixels:
        raise ImageLoadError(f"{path}: {w}x{h} is too large (limit {max_pixels} pixels)")


def load_image(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read ``path`` fully; raises :class:`ImageLoadError` for missing, corrupt, truncated,
    non-image or oversized files."""
    p = Path(path)
    if not p.is_file():
        raise ImageLoadError(f"{p}: not a file")
    return _decode(p, p, max_pixels)


def decode_bytes(data: bytes, name: str = "image", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an encoded image held in memory exactly as :func:`load_image` reads a file (EXIF
    orientation applied, same conversions); errors name ``name``."""
    return _decode(io.BytesIO(data), name, max_pixels)


def _decode(source: Path | io.BytesIO, name: str | os.PathLike[str], max_pixels: int) -> np.ndarray:
    with reading(name), Image.open(source) as img:
        check_size(name, img.size, max_pixels)
        img.load()
        return to_rgb_array(ImageOps.exif_transpose(img))


def iter_image_paths(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files given directly, plus image files found under given folders (sorted, symlinks to
    folders not followed). Raises :class:`FileNotFoundError` naming a path that does not exist."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(IMAGE_SUFFIXES):
                        out.append(Path(root) / name)
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return out
