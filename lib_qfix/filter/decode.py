"""Read, hash and decode one image file for filtering (runs in worker threads: PIL releases the GIL).

The image is decoded at a fixed *working size* (long side at most ``work_side`` pixels, default
1024; 0 = full size): JPEGs use PIL's draft mode (DCT scaling, much faster) and every format is then
resized with the same filter, so the local and the Ray engine see identical pixels and make identical
decisions. ``width``/``height`` are always the original size (after EXIF orientation).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lib_qfix.imageio import MAX_PIXELS, WORK_SIDE, ImageLoadError, decode_working

MAX_FILE_BYTES = 512 * 1024 * 1024
THUMB_SIDE = 160


@dataclass(frozen=True)
class Decoded:
    """``image``: (h, w, 3) uint8 RGB at working size; ``width``/``height``: original pixels;
    ``scale``: working/original (<= 1); ``dhash``: 64-bit difference hash; ``thumb``: JPEG bytes."""

    image: np.ndarray
    width: int
    height: int
    scale: float
    dhash: int
    thumb: bytes


def content_hash(data: bytes) -> str:
    """blake2b-128 of the file bytes, hex (the cache key for a file's content)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_file(path: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise ImageLoadError(f"{path}: cannot read file ({e.strerror or e})") from None
    if len(data) > max_bytes:
        raise ImageLoadError(f"{path}: file is larger than {max_bytes // 2**20} MiB")
    return data


def dhash(gray9x8: np.ndarray) -> int:
    """64-bit difference hash from a (8, 9) grayscale array: bit = left pixel brighter than right."""
    bits = (gray9x8[:, 1:] > gray9x8[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def decode_bytes(data: bytes, path: str, *, work_side: int = WORK_SIDE, max_pixels: int = MAX_PIXELS,
                 thumb_side: int = THUMB_SIDE) -> Decoded:
    """Decode ``data`` (the bytes of ``path``); raises :class:`ImageLoadError` for corrupt,
    non-image or oversized files."""
    arr, w, h = decode_working(io.BytesIO(data), path, work_side, max_pixels)
    import cv2  # cv2's area resize is several times faster than PIL's for these small outputs

    h0, w0 = arr.shape[:2]
    k = min(1.0, thumb_side / max(h0, w0))
    small = arr
    # halvings first: OpenCV's 2x area reduction is ~10x faster per pixel than its general one
    # (512 -> 160 px: 0.84 -> 0.39 ms), and the result differs by < 1 level on average
    while max(small.shape[:2]) >= 2 * thumb_side:
        small = cv2.resize(small, (max(1, small.shape[1] // 2), max(1, small.shape[0] // 2)),
                           interpolation=cv2.INTER_AREA)
    small = cv2.resize(small, (max(1, round(w0 * k)), max(1, round(h0 * k))), interpolation=cv2.INTER_AREA)
    gray = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, "JPEG", quality=75)
    return Decoded(arr, w, h, arr.shape[1] / w, dhash(gray.astype(np.int16)), buf.getvalue())
