"""Reading images for the core: always (H, W, 3) uint8 RGB, with clear errors.

Limits: files over :data:`MAX_PIXELS` pixels are refused (decompression bombs), EXIF
orientation is applied, alpha is composited on white, palette images are converted, and integer
images deeper than 8 bits are scaled by the *format's* full range, never by their own maximum (a
dark 16-bit photo stays dark, exactly like its 8-bit twin):

* ``I;16*`` (16-bit grey PNG/TIFF): 0..65535 -> 0..255 (divide by 257);
* ``I`` from a TIFF: the range its BitsPerSample/SampleFormat tags declare (unsigned n bits:
  0..2^n-1; signed: 0..2^(n-1)-1, negative samples clip to black);
* ``I`` from anything else (a 16-bit grey PNG under Pillow < 10, PGM, …): 16-bit data, 0..65535.

Any exception while decoding one file becomes :class:`ImageLoadError` naming the file: a
malformed tag (EXIF 0x0116 holding text made Pillow's ``exif_transpose`` raise ``struct.error``)
never ends a batch. A broken EXIF block costs only the orientation, not the image.

Finding images in folders: :func:`find_images` and :func:`walk_images`, the one walker of every
command (symlinks inside folders are never followed; see :func:`walk_images`).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from lib_qfix.errors import error_text

MAX_PIXELS = 80_000_000
#: long side in pixels that ``qfix diagnose`` and ``qfix filter`` work at (0 = full size): every
#: scorer and detector of QFix is tuned for 512-1024 px images, MediaPipe sees 192-256 px anyway
WORK_SIDE = 1024
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
INT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
#: EXIF orientation -> PIL transpose (as in PIL.ImageOps.exif_transpose)
ORIENT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
          6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
_TIFF_BITS, _TIFF_SAMPLE_FORMAT = 258, 339


class ImageLoadError(ValueError):
    """An image could not be read; the message names the file and why."""


def _first(value: object, default: int) -> int:
    """The first entry of a TIFF tag value (tags may hold one value per sample)."""
    if isinstance(value, (tuple, list)):
        value = value[0] if value else default
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def white_level(img: Image.Image) -> float:
    """The sample value that means full white for ``img`` as its file stores it (255 for 8-bit
    modes); see the module doc for the integer modes. Call it on the image as opened (before any
    resize or transpose, which drop the format and its tags)."""
    if img.mode.startswith("I;16"):
        return 65535.0
    if img.mode != "I":
        return 255.0
    if img.format == "TIFF":
        tags = getattr(img, "tag_v2", {})
        bits = _first(tags.get(_TIFF_BITS, 16), 16)
        signed = _first(tags.get(_TIFF_SAMPLE_FORMAT, 1), 1) == 2
        if 1 <= bits <= 32:
            return float(2 ** (bits - 1) - 1 if signed else 2 ** bits - 1)
    return 65535.0


def to_8bit(img: Image.Image, white: float | None = None) -> Image.Image:
    """``img`` as mode "L" when it is an integer mode deeper than 8 bits (scaled so ``white``,
    default :func:`white_level`, maps to 255; negatives clip to 0); other modes unchanged."""
    if img.mode not in INT_MODES:
        return img
    level = white if white is not None else white_level(img)
    arr = np.asarray(img, dtype=np.float64)
    return Image.fromarray(np.rint(arr * (255.0 / level)).clip(0, 255).astype(np.uint8), "L")


def to_rgb_array(img: Image.Image, white: float | None = None) -> np.ndarray:
    """A PIL image as an (H, W, 3) uint8 RGB array (alpha composited on white; integer modes
    scaled by ``white``, default the format's full range from :func:`white_level`)."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    img = to_8bit(img, white)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def orientation(img: Image.Image) -> int:
    """The EXIF orientation (1..8) of an opened image; 1 when there is none or the EXIF block
    cannot be parsed (a broken EXIF never makes the pixels unreadable)."""
    try:
        value = img.getexif().get(0x0112, 1)
        return value if isinstance(value, int) and value in ORIENT else 1
    except Exception:  # any malformed EXIF: keep the pixels as stored
        return 1


def apply_orientation(img: Image.Image, orient: int) -> Image.Image:
    """``img`` turned upright for EXIF orientation ``orient``; only the pixels are touched (the
    EXIF block is never re-serialised, which is what failed on malformed tags)."""
    return img.transpose(ORIENT[orient]) if orient in ORIENT else img


def check_rgb(image: object, name: str = "image", min_side: int = 1, also: str = "") -> np.ndarray:
    """``image`` as a contiguous (H, W, 3) uint8 RGB array of at least ``min_side`` pixels a side,
    or ValueError naming ``name``, what it is and what is expected (``also``: other accepted forms,
    appended to the message). The one in-memory image check of QFix (scorers, detectors)."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name}: {type(image).__name__} is not allowed; expected a numpy (H, W, 3) uint8 "
                         f"RGB array{also}")
    if image.dtype != np.uint8:
        raise ValueError(f"{name}: dtype {image.dtype} is not allowed; expected uint8 0..255{also}")
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < min_side:
        raise ValueError(f"{name}: shape {image.shape} is not allowed; expected (H, W, 3) RGB of at least "
                         f"{min_side}x{min_side} pixels{also}")
    return np.ascontiguousarray(image)


@contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn whatever goes wrong while decoding ``path`` into :class:`ImageLoadError` naming the file
    (only KeyboardInterrupt and other non-``Exception`` signals pass through)."""
    try:
        yield
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(f"{path}: not an image file") from None
    except Image.DecompressionBombError as e:
        raise ImageLoadError(f"{path}: cannot read image ({e})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageLoadError(f"{path}: cannot read image ({e})") from None
    except Exception as e:  # struct.error, IndexError, … from a malformed file
        raise ImageLoadError(f"{path}: cannot read image ({error_text(e)})") from None


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
        orient, white = orientation(img), white_level(img)
        img.load()
        return to_rgb_array(apply_orientation(to_8bit(img, white), orient))


def decode_working(source: Path | io.BytesIO, name: str | os.PathLike[str], work_side: int = WORK_SIDE,
                   max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, int, int]:
    """(image, width, height): the image with its long side at most ``work_side`` px (0 = full
    size), and the original size after EXIF orientation. JPEGs are decoded in draft mode (the DCT
    scaled by 1/2, 1/4 or 1/8 to at least the working size: a 12-MP photo decodes ~3-6x faster and
    never exists at full size in memory); then every format is resized with the same filter.
    Otherwise as :func:`load_image` (same conversions and errors)."""
    with reading(name), Image.open(source) as img:
        w, h = img.size
        check_size(name, (w, h), max_pixels)
        orient, white = orientation(img), white_level(img)  # before resizing drops the tags
        if work_side and max(w, h) > work_side:
            scale = work_side / max(w, h)
            tw, th = max(1, round(w * scale)), max(1, round(h * scale))
            if img.format == "JPEG":
                img.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))
            # 16/32-bit grey cannot be resized by PIL: scale to 8 bits by the format's range first
            img = to_8bit(img, white).resize((tw, th), Image.Resampling.BILINEAR, reducing_gap=None)
        else:
            img.load()
        img = apply_orientation(img, orient)
        if orient in (5, 6, 7, 8):
            w, h = h, w
        return to_rgb_array(img, white), w, h


def load_working(path: str | os.PathLike[str], work_side: int = WORK_SIDE,
                 max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, int, int]:
    """:func:`decode_working` of the file ``path`` (errors as :func:`load_image`)."""
    p = Path(path)
    if not p.is_file():
        raise ImageLoadError(f"{p}: not a file")
    return decode_working(p, p, work_side, max_pixels)


#: why :func:`walk_images` left a path out
SKIP_FOLDER_LINK = "symlink to a folder, not followed"
SKIP_FILE_LINK = "symlink, not followed"
SKIP_NOT_REGULAR = "not a regular file"
SKIP_EXCLUDED = "output folder, not scanned"


@dataclass
class Found:
    """What the walker found. ``entries``: (path, name) in walk order, ``name`` the path relative to
    the folder it was found in (POSIX separators), or the file name for a file given directly;
    ``skipped``: (path, why) for everything left out on purpose (never dropped silently)."""

    entries: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def walk_images(root: Path, exclude: Sequence[Path] = (), found: Found | None = None) -> Found:
    """Image files (by suffix, :data:`IMAGE_SUFFIXES`) under the folder ``root``: each folder's files
    by name, then its sub-folders by name, depth first. Adds to ``found`` when given.

    The one rule of ``qfix score``/``diagnose`` and ``qfix filter``: inside a folder, symlinks are
    never followed. A symlinked folder is not entered and a symlinked file is skipped (even one
    pointing inside ``root``), so a loop or a link pointing elsewhere cannot pull in other files.
    Both are reported in ``skipped``, as are files with an image suffix that are not regular files
    (a FIFO would block a read), sub-folders in ``exclude`` (given in the same form as ``root``,
    e.g. both resolved) and folders that cannot be listed. ``root`` itself is walked as given: a
    symlink named explicitly is followed."""
    out = found if found is not None else Found()
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda ent: ent.name)
        except OSError as err:
            out.skipped.append((str(folder), f"cannot list folder ({err.strerror or err})"))
            continue
        subs: list[tuple[Path, str]] = []
        for ent in entries:
            try:
                is_dir = ent.is_dir()  # follows a symlink, as os.walk does: a link to a folder is a folder
            except OSError:
                is_dir = False
            if is_dir:
                sub = Path(ent.path)
                if ent.is_symlink():
                    out.skipped.append((ent.path, SKIP_FOLDER_LINK))
                elif any(sub == x or sub.is_relative_to(x) for x in exclude):
                    out.skipped.append((ent.path, SKIP_EXCLUDED))
                else:
                    subs.append((sub, f"{prefix}{ent.name}/"))
            elif ent.name.lower().endswith(IMAGE_SUFFIXES):
                if ent.is_symlink():
                    out.skipped.append((ent.path, SKIP_FILE_LINK))
                elif not ent.is_file(follow_symlinks=False):
                    out.skipped.append((ent.path, SKIP_NOT_REGULAR))
                else:
                    out.entries.append((Path(ent.path), prefix + ent.name))
        stack.extend(reversed(subs))
    return out


def find_images(paths: Sequence[str | os.PathLike[str]], exclude: Sequence[Path] = ()) -> Found:
    """Files given directly (used as given, whatever their suffix, a symlink followed: it was named
    explicitly), plus the image files :func:`walk_images` finds under given folders (sub-folders in
    ``exclude``, given in the same form as the paths, left out). Raises :class:`FileNotFoundError`
    naming a path that does not exist."""
    out = Found()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            walk_images(p, exclude, out)
        elif p.exists():
            out.entries.append((p, p.name))
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return out
