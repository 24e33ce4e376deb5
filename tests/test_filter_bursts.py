"""Near-duplicate bursts from perceptual hashes of real photos."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from lib_qfix.filter.bursts import group_bursts, hamming
from lib_qfix.filter.decode import decode_bytes
from lib_qfix.filter.records import ImageRecord


def jpeg(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def record(name: str, img: np.ndarray, mtime: float = 0.0, folder: str = "/p") -> ImageRecord:
    d = decode_bytes(jpeg(img), name)
    return ImageRecord(path=f"{folder}/{name}", rel=name, quality=0.5, dhash=d.dhash, mtime=mtime)


def shot(photo: np.ndarray, dx: int, noise: float, seed: int) -> np.ndarray:
    """The same scene re-shot: shifted a few pixels, re-exposed, with sensor noise."""
    rng = np.random.default_rng(seed)
    m = np.float32([[1, 0, dx], [0, 1, dx // 2]])
    img = cv2.warpAffine(photo, m, (photo.shape[1], photo.shape[0]), borderMode=cv2.BORDER_REFLECT)
    return np.clip(img * 1.05 + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)


def test_reshots_group_and_different_scenes_do_not(photos):
    a, c, r = photos["astronaut"], photos["coffee"], photos["rocket"]
    recs = [record("01.jpg", shot(a, 0, 2, 0)), record("02.jpg", shot(a, 4, 5, 1)),
            record("03.jpg", shot(a, 8, 3, 2)), record("04.jpg", shot(c, 0, 2, 3)),
            record("05.jpg", shot(c, 3, 4, 4)), record("06.jpg", r)]
    b = group_bursts(recs)
    assert b["/p/01.jpg"] == b["/p/02.jpg"] == b["/p/03.jpg"] == 0
    assert b["/p/04.jpg"] == b["/p/05.jpg"] == 1
    assert "/p/06.jpg" not in b  # a single shot is no burst


def test_distinct_photos_are_far_apart(photos):
    hashes = [record(n, img).dhash for n, img in photos.items()]
    dists = [hamming(x, y) for i, x in enumerate(hashes) for y in hashes[i + 1:]]
    assert min(dists) > 10


def test_time_gap_and_folder_split_bursts(astronaut):
    recs = [record("1.jpg", astronaut, 0), record("2.jpg", shot(astronaut, 2, 2, 0), 5),
            record("3.jpg", shot(astronaut, 2, 2, 1), 500)]
    b = group_bursts(recs, max_gap_s=60)
    assert b == {"/p/1.jpg": 0, "/p/2.jpg": 0}
    other = [record("1.jpg", astronaut, folder="/p"), record("1.jpg", astronaut, folder="/q")]
    assert group_bursts(other) == {}


def test_bad_distance():
    with pytest.raises(ValueError, match="burst distance.*0 to 64"):
        group_bursts([], max_distance=65)
