"""Image decoding: malformed EXIF, bit depth by the format's full range, and a fuzzed decoder
(both the core reader ``lib_qfix.imageio`` and the filter's ``lib_qfix.filter.decode``)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from lib_qfix.filter import decode as fdecode
from lib_qfix.imageio import ImageLoadError, decode_bytes, load_image, load_working, to_rgb_array


def exif_block(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A little-endian EXIF APP1 payload with one IFD of (tag, type, count, value<=4 bytes)."""
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0")
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


#: orientation 6 (rotate 90) plus tag 0x0116 (RowsPerStrip) holding ASCII text, as some cameras write
BAD_EXIF = exif_block([(0x0112, 3, 1, struct.pack("<H", 6)), (0x0116, 2, 4, b"abc\0")])


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_text_in_exif_tag_0x0116_reads_and_is_still_rotated(coffee, tmp_path):
    p = tmp_path / "exif.jpg"
    p.write_bytes(encode(Image.fromarray(coffee), "JPEG", quality=95, exif=BAD_EXIF))
    arr = load_image(p)
    assert arr.shape == (coffee.shape[1], coffee.shape[0], 3)  # orientation 6 applied: 600x400 -> 400x600
    assert np.abs(arr.astype(int) - np.rot90(coffee, -1).astype(int)).mean() < 4
    dec = fdecode.decode_bytes(p.read_bytes(), str(p), work_side=0)
    assert (dec.width, dec.height) == (coffee.shape[0], coffee.shape[1])
    assert np.array_equal(dec.image, arr)


def _dark(coffee: np.ndarray) -> np.ndarray:
    return (coffee.mean(axis=2) * 0.15).astype(np.uint8)  # values 0..38: clearly underexposed


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_reads_like_its_8_bit_twin(coffee, fmt):
    dark8 = _dark(coffee)
    twin16 = encode(Image.fromarray(dark8.astype(np.uint16) * 257), fmt)
    assert Image.open(io.BytesIO(twin16)).mode == "I;16"
    a16, a8 = decode_bytes(twin16), decode_bytes(encode(Image.fromarray(dark8), fmt))
    assert np.array_equal(a16, a8)
    assert a16.max() == dark8.max() < 60  # not stretched to its own maximum
    # the filter's decoder too, also above the working size (PIL cannot resize 16-bit grey)
    d16 = fdecode.decode_bytes(twin16, "t", work_side=256)
    d8 = fdecode.decode_bytes(encode(Image.fromarray(dark8), fmt), "t", work_side=256)
    assert d16.image.shape == d8.image.shape and np.abs(d16.image.astype(int) - d8.image).max() <= 1


def test_mode_i_png_and_tiff_use_the_declared_range(coffee, monkeypatch):
    dark8 = _dark(coffee)
    # a 16-bit grey PNG opens as mode "I" under Pillow < 10 (A1111 ships 9.5): still /257
    img = Image.fromarray(dark8.astype(np.int32) * 257)
    assert img.mode == "I"
    assert np.array_equal(to_rgb_array(img)[..., 0], dark8)
    # a signed 32-bit TIFF declares 0..2^31-1: a small-valued one is black, not stretched
    tif = encode(Image.fromarray(dark8.astype(np.int32) * 257), "TIFF")
    opened = Image.open(io.BytesIO(tif))
    assert opened.mode == "I" and decode_bytes(tif).max() == 0
    # a signed 16-bit TIFF (SampleFormat 2, 16 bits): 0..32767, negatives clip to black
    from lib_qfix.imageio import white_level

    opened.tag_v2[258], opened.tag_v2[339] = (16,), (2,)
    assert white_level(opened) == 32767


def test_score_of_dark_16_bit_png_matches_its_8_bit_twin(coffee, tmp_path):
    from lib_qfix.cli import main

    dark8 = _dark(coffee)
    Image.fromarray(dark8.astype(np.uint16) * 257).save(tmp_path / "dark16.png")
    Image.fromarray(dark8).save(tmp_path / "dark8.png")
    out = tmp_path / "s.json"
    main(["score", str(tmp_path), "--json", str(out), "--no-progress"])
    import json

    by = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(out.read_text())}
    assert by["dark16.png"]["quality"] == pytest.approx(by["dark8.png"]["quality"], abs=1e-6)
    assert by["dark16.png"]["quality"] < 0.2
    assert any("underexposed" in r.get("defects", []) for r in by["dark16.png"]["regions"])


def _seeds(coffee: np.ndarray) -> dict[str, bytes]:
    small = Image.fromarray(coffee[::8, ::8].copy())
    grey16 = Image.fromarray(coffee[::8, ::8, 0].astype(np.uint16) * 257)
    return {
        "png": encode(small, "PNG"),
        "png16": encode(grey16, "PNG"),
        "jpeg": encode(small, "JPEG", quality=80, exif=BAD_EXIF),
        "gif": encode(small.convert("P"), "GIF"),
        "tiff": encode(small, "TIFF", exif=exif_block([(0x0112, 3, 1, struct.pack("<H", 8))])),
        "tiff16": encode(grey16, "TIFF"),
        "webp": encode(small, "WEBP", quality=80),
    }


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    kind = rng.integers(0, 4)
    if kind == 0:  # flip a few bytes
        for _ in range(int(rng.integers(1, 9))):
            buf[int(rng.integers(0, len(buf)))] = int(rng.integers(0, 256))
    elif kind == 1:  # truncate
        del buf[int(rng.integers(1, len(buf))):]
    elif kind == 2:  # insert junk
        at = int(rng.integers(0, len(buf)))
        buf[at:at] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    else:  # overwrite a header-sized run with random bytes (tags, chunk lengths, IFD offsets)
        at = int(rng.integers(0, min(len(buf), 512)))
        n = int(rng.integers(1, 16))
        buf[at:at + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    return bytes(buf)


def test_fuzzed_files_decode_or_raise_image_load_error(coffee):
    """600 mutated PNG/JPEG/GIF/TIFF/WebP files (seeded): each either decodes to (H, W, 3) uint8 or
    raises ImageLoadError naming the file; no other exception escapes either decoder."""
    rng = np.random.default_rng(20240611)
    outcomes = {"ok": 0, "error": 0}
    for name, seed in _seeds(coffee).items():
        for i in range(85):
            data = _mutate(seed, rng)
            label = f"{name}-{i}"
            for decoder in (lambda d, n: decode_bytes(d, n, max_pixels=4_000_000),
                            lambda d, n: fdecode.decode_bytes(d, n, work_side=64, max_pixels=4_000_000).image):
                try:
                    arr = decoder(data, label)
                except ImageLoadError as e:
                    assert str(e).startswith(label + ":")
                    outcomes["error"] += 1
                    continue
                assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3
                outcomes["ok"] += 1
    assert outcomes["ok"] > 50 and outcomes["error"] > 50  # both paths were exercised


@pytest.mark.parametrize("bad, match", [
    ([[1, 2, 3]], r"img: list is not allowed; expected a numpy"),
    (np.zeros((8, 8, 3), np.float32), r"img: dtype float32 is not allowed; expected uint8"),
    (np.zeros((8, 8), np.uint8), r"img: shape \(8, 8\) is not allowed; expected \(H, W, 3\)"),
    (np.zeros((4, 9, 3), np.uint8), r"at least 8x8 pixels"),
])
def test_check_rgb_names_the_image_what_it_is_and_what_is_expected(bad, match):
    from lib_qfix.imageio import check_rgb

    with pytest.raises(ValueError, match=match):
        check_rgb(bad, "img", min_side=8)
    ok = np.zeros((8, 8, 3), np.uint8)[:, ::-1]
    assert check_rgb(ok, "img", min_side=8).flags["C_CONTIGUOUS"]


def test_load_working_decodes_large_jpegs_small_with_the_original_size(tmp_path, coffee):
    big = np.asarray(Image.fromarray(coffee).resize((2400, 1600), Image.Resampling.BICUBIC))
    p = tmp_path / "big.jpg"
    Image.fromarray(big).save(p, quality=90)
    img, w, h = load_working(p, work_side=512)
    assert (w, h) == (2400, 1600) and img.shape == (341, 512, 3)
    # JPEG draft decoding (DCT-scaled) stays close to resizing the full decode
    ref = np.asarray(Image.fromarray(load_image(p)).resize((512, 341), Image.Resampling.BOX))
    assert np.abs(img.astype(int) - ref.astype(int)).mean() < 3
    # EXIF orientation 6 (rotate 90): the size is the upright one
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(big).save(p, quality=90, exif=exif.tobytes())
    img, w, h = load_working(p, work_side=512)
    assert (w, h) == (1600, 2400) and img.shape == (512, 341, 3)
    # small images and work_side 0 are read as they are
    full, w, h = load_working(p, work_side=0)
    assert full.shape == (2400, 1600, 3) and np.array_equal(full, load_image(p))
    with pytest.raises(ImageLoadError, match="not a file"):
        load_working(tmp_path / "missing.jpg")
