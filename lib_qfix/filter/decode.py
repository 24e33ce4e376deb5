"""Read, hash and decode one image file for filtering (runs in worker threads: PIL releases the GIL).

The image is decoded at a fixed *working size* (long side at most ``work_side`` pixels, default
1024; 0 = full size): JPEGs use PIL's draft mode (DCT scaling, much faster) and every format is then
resized with the same filter, so the local and the Ray engine see identical pixels and make identical
decisions. ``width``/``height`` are always the original size (after EXIF orientation). A plain
baseline RGB JPEG already within the working size is decoded by OpenCV (the same libjpeg-turbo
pixels, checked once per process, ~0.3 ms less per 512x512 image; see :func:`_plain_jpeg`).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lib_qfix.imageio import (
    MAX_PIXELS,
    WORK_SIDE,
    ImageLoadError,
    check_size,
    decode_working,
    orientation,
    reading,
)

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
    import cv2  # cv2's area resize is several times faster than PIL's for these small outputs

    fast = _plain_jpeg(data, path, work_side, max_pixels)
    arr, w, h = fast if fast is not None else decode_working(io.BytesIO(data), path, work_side, max_pixels)

    h0, w0 = arr.shape[:2]
    k = min(1.0, thumb_side / max(h0, w0))
    small = arr
    # halvings first: OpenCV's 2x area reduction is ~10x faster per pixel than its general one;
    # the last step (less than 2x) is bilinear, which cannot alias yet at that ratio and costs
    # ~1/7 of a fractional area resize (512 -> 160 px: 0.84 ms all-area, 0.51 with halvings, ~0.2 now)
    while max(small.shape[:2]) >= 2 * thumb_side:
        small = cv2.resize(small, (max(1, small.shape[1] // 2), max(1, small.shape[0] // 2)),
                           interpolation=cv2.INTER_AREA)
    small = cv2.resize(small, (max(1, round(w0 * k)), max(1, round(h0 * k))), interpolation=cv2.INTER_LINEAR)
    gray = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, "JPEG", quality=75)
    return Decoded(arr, w, h, arr.shape[1] / w, dhash(gray.astype(np.int16)), buf.getvalue())


#: JPEG markers: start of image, end of image, start of scan
_SOI, _EOI, _SOS = b"\xff\xd8", b"\xff\xd9", b"\xff\xda"
#: a marker: 0xFF followed by anything but a stuffed zero, a restart marker or another 0xFF (fill)
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_same_decoder: bool | None = None


def _decoders_agree() -> bool:
    """Whether OpenCV's JPEG decoder gives PIL's pixels here (both link libjpeg-turbo with the same
    defaults in the pinned wheels; checked once per process on 4:2:0, 4:4:4 and progressive
    files, so that a build that differs only costs the fast path, never a score)."""
    global _same_decoder
    if _same_decoder is None:
        rng = np.random.default_rng(0)
        img = Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8))
        ok = True
        for kw in ({"subsampling": 2}, {"subsampling": 0}, {"progressive": True}):
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=80, **kw)
            with Image.open(io.BytesIO(buf.getvalue())) as ref:
                want = np.asarray(ref.convert("RGB"))
            try:
                got = _imdecode_rgb(buf.getvalue())
            except Exception:  # cv2.error or an OpenCV without these flags: the fast path stays off
                got = None
            ok = ok and got is not None and np.array_equal(got, want)
        _same_decoder = ok
    return _same_decoder


def _imdecode_rgb(data: bytes) -> np.ndarray | None:
    """OpenCV's decode of ``data`` as (H, W, 3) uint8 RGB, EXIF orientation not applied; None when
    OpenCV cannot decode it. OpenCV < 4.10 has no RGB output: BGR, then the channels swapped."""
    import cv2

    buf = np.frombuffer(data, np.uint8)
    rgb = getattr(cv2, "IMREAD_COLOR_RGB", None)
    if rgb is not None:
        return cv2.imdecode(buf, rgb | cv2.IMREAD_IGNORE_ORIENTATION)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _one_clean_scan(data: bytes) -> bool:
    """Whether ``data`` holds one scan that runs cleanly up to the end marker (no marker inside it).
    A marker inside the entropy-coded data means a damaged (or progressive) file: PIL refuses some of
    these where OpenCV decodes on, so they take the general path and keep its verdict."""
    sos = data.find(_SOS)
    if sos < 0 or sos + 4 > len(data):
        return False
    start = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")  # past the scan header
    m = _MARKER.search(data, start)
    return m is not None and m.start() == len(data) - 2


def _plain_jpeg(data: bytes, path: str, work_side: int, max_pixels: int) -> tuple[np.ndarray, int, int] | None:
    """(image, width, height) as :func:`decode_working` returns them, for the common case that needs
    none of its conversions: a complete 8-bit RGB JPEG within ``work_side``, upright (EXIF
    orientation 1), baseline (one scan). Decoded by OpenCV: the same libjpeg-turbo pixels without
    PIL's copies (512x512: ~1.1 -> ~0.8 ms). None for everything else (the general path decides, and
    raises for bad files): a file cut short (no end marker) or with a marker inside its scan always
    takes the general path, which reports it as before. (A damaged scan without a marker decodes
    to the same pixels either way; OpenCV's libjpeg then prints its warning on stderr.)"""
    if not (data.startswith(_SOI) and data.endswith(_EOI)) or not _one_clean_scan(data) or not _decoders_agree():
        return None
    with reading(path), Image.open(io.BytesIO(data)) as img:  # header only: size, mode, EXIF
        w, h = img.size
        check_size(path, (w, h), max_pixels)
        if img.format != "JPEG" or img.mode != "RGB" or (work_side and max(w, h) > work_side) \
                or orientation(img) != 1:
            return None
    arr = _imdecode_rgb(data)
    if arr is None or arr.shape != (h, w, 3):  # OpenCV refused it: the general path says why
        return None
    return arr, w, h
