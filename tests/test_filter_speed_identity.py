"""The speed-ups of the filter's first run (issue 13) change no result: the OpenCV JPEG fast path
decodes the pixels PIL decodes (and leaves every other file to the general path), and the
offline score's faster helpers return exactly the floats of the code they replace."""

from __future__ import annotations

import contextlib
import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from lib_qfix.filter import decode as fdecode
from lib_qfix.imageio import ImageLoadError, decode_working
from lib_qfix.scoring import offline
from lib_qfix.scoring import signals as sig


def _jpeg(img: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **kw)
    return buf.getvalue()


def _rotated_exif() -> bytes:
    ifd = struct.pack("<H", 1) + struct.pack("<HHI", 0x0112, 3, 1) + struct.pack("<H", 6).ljust(4, b"\0")
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


@pytest.mark.parametrize("kw", [{"quality": 90}, {"quality": 35, "subsampling": 0},
                                {"quality": 80, "subsampling": 1}, {"quality": 97, "optimize": True}])
def test_plain_jpeg_fast_path_gives_pils_pixels(coffee, kw):
    data = _jpeg(coffee, **kw)
    fast = fdecode._plain_jpeg(data, "c.jpg", 1024, 80_000_000)
    assert fast is not None  # this file takes the fast path
    ref, w, h = decode_working(io.BytesIO(data), "c.jpg", 1024, 80_000_000)
    assert (fast[1], fast[2]) == (w, h) and fast[0].dtype == np.uint8 and fast[0].flags.c_contiguous
    assert np.array_equal(fast[0], ref)
    assert np.array_equal(fdecode.decode_bytes(data, "c.jpg").image, ref)


def test_other_files_take_the_general_path(coffee):
    grey = _jpeg(cv2.cvtColor(coffee, cv2.COLOR_RGB2GRAY))
    rotated = _jpeg(coffee, exif=_rotated_exif())
    big = _jpeg(coffee)  # 600 px wide: larger than a 256 px working size
    png = io.BytesIO()
    Image.fromarray(coffee).save(png, "PNG")
    progressive = _jpeg(coffee, progressive=True)
    sos = big.index(b"\xff\xda")
    marker_inside = big[: sos + 200] + b"\xff\xd8" + big[sos + 202:]
    for data, side in ((grey, 1024), (rotated, 1024), (big, 256), (png.getvalue(), 1024), (big[:-2], 1024),
                       (big + b"trailer", 1024), (progressive, 1024), (marker_inside, 1024)):
        assert fdecode._plain_jpeg(data, "x.jpg", side, 80_000_000) is None
    d = fdecode.decode_bytes(rotated, "r.jpg")
    assert (d.width, d.height) == (coffee.shape[0], coffee.shape[1])  # the general path turned it upright


def test_a_cut_short_jpeg_is_still_an_error(coffee):
    data = _jpeg(coffee)
    with pytest.raises(ImageLoadError, match="^cut.jpg: "):
        fdecode.decode_bytes(data[: len(data) // 2], "cut.jpg")


def test_damaged_jpegs_decode_or_fail_as_on_the_general_path(coffee):
    """300 JPEGs with 1-3 random bytes changed (seeded): the filter's decoder reaches the verdict of
    the general path (PIL) on each, and the same pixels where both decode."""
    rng = np.random.default_rng(11)
    seeds = [_jpeg(coffee[:200, :240], quality=90), _jpeg(coffee[:160, :200], quality=70, subsampling=0)]
    outcomes = {"same pixels": 0, "both refuse": 0}
    for n in range(300):
        data = bytearray(seeds[n % 2])
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(2, len(data) - 2))] = int(rng.integers(0, 256))
        want = got = None
        with contextlib.suppress(ImageLoadError):
            want = decode_working(io.BytesIO(bytes(data)), "d.jpg", 1024, 80_000_000)[0]
        with contextlib.suppress(ImageLoadError):
            got = fdecode.decode_bytes(bytes(data), "d.jpg").image
        assert (want is None) == (got is None), n
        if want is None:
            outcomes["both refuse"] += 1
        else:
            assert np.array_equal(want, got), n
            outcomes["same pixels"] += 1
    assert min(outcomes.values()) > 5


def test_pixel_limit_applies_on_the_fast_path(coffee):
    with pytest.raises(ImageLoadError, match="too large"):
        fdecode._plain_jpeg(_jpeg(coffee), "big.jpg", 1024, 1000)


def test_percentile_of_is_numpys_percentile_bit_for_bit():
    rng = np.random.default_rng(7)
    for k in range(600):
        a = (rng.random(int(rng.integers(1, 2000))) * rng.choice([1.0, 17.0, 255.0]))
        a = np.round(a).astype(np.float32) if k % 3 == 0 else a.astype(np.float32 if k % 2 else np.float64)
        for q in (0.0, 10.0, 10, 37.5, 50.0, 99.9, 100.0):
            want = float(np.percentile(a, q))
            got = sig.percentile_of(a, q)
            assert got == want or (np.isnan(got) and np.isnan(want)), (a.size, q)
            assert a.size == 0 or type(got) is float


def test_shared_half_size_changes_nothing(astronaut):
    y = sig.luminance(astronaut)
    half = sig.half_size(y)
    assert sig.blur_index(y, half=half) == sig.blur_index(y)
    assert sig.detail_ratio(y, half=half) == sig.detail_ratio(y)
    for shape in ((5, 9), (8, 8), (31, 17)):
        small = np.ascontiguousarray(y[: shape[0], : shape[1]])
        assert sig.blur_index(small, half=sig.half_size(small)) == sig.blur_index(small)
        assert sig.detail_ratio(small, half=sig.half_size(small)) == sig.detail_ratio(small)


def test_blur_index_takes_float64_planes_too(coffee):
    y32 = sig.luminance(coffee)
    assert 0.0 <= sig.blur_index(y32.astype(np.float64)) <= 1.0
    assert sig.blur_index(y32.astype(np.float64)) == pytest.approx(sig.blur_index(y32), abs=1e-4)


def test_blockiness_integer_sums_match_wide_ones(coffee):
    g = sig.luma8(coffee)
    d = cv2.absdiff(g[:, 1:], g[:, :-1])
    for axis in (0, 1):
        assert np.array_equal(d.sum(axis=axis, dtype=np.uint32), d.sum(axis=axis, dtype=np.int64))
    assert sig.blockiness(g) == sig.blockiness(g.astype(np.float32))


def test_measure_is_deterministic_on_a_512_image(astronaut):
    assert offline.measure(astronaut) == offline.measure(astronaut.copy())


def test_older_opencv_without_rgb_output_gives_the_same_pixels(coffee, monkeypatch):
    data = _jpeg(coffee, quality=85)
    want = fdecode._imdecode_rgb(data)
    monkeypatch.delattr(cv2, "IMREAD_COLOR_RGB", raising=False)
    assert np.array_equal(fdecode._imdecode_rgb(data), want)


def test_a_decoder_that_differs_turns_the_fast_path_off(coffee, monkeypatch):
    """The once-per-process check: an OpenCV whose pixels differ from PIL's is never used."""
    monkeypatch.setattr(fdecode, "_same_decoder", None)
    monkeypatch.setattr(fdecode, "_imdecode_rgb", lambda data: None)
    assert fdecode._plain_jpeg(_jpeg(coffee), "c.jpg", 1024, 80_000_000) is None
    assert fdecode._same_decoder is False
    ref = decode_working(io.BytesIO(_jpeg(coffee)), "c.jpg", 1024, 80_000_000)[0]
    assert np.array_equal(fdecode.decode_bytes(_jpeg(coffee), "c.jpg").image, ref)
