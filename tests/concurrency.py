"""Test helper: run a detector on several images from several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np


def detect_in_threads(det: Any, options: Any, images: Sequence[np.ndarray],
                      repeats: int) -> tuple[list[tuple[int, list]], list[BaseException]]:
    """One thread per image, each calling ``det.detect(image, options)`` ``repeats`` times, all
    started together. Returns ([(index of the image, regions)], [exceptions raised])."""
    results: list[tuple[int, list]] = []
    errors: list[BaseException] = []

    def work(index: int, img: np.ndarray) -> None:
        try:
            for _ in range(repeats):
                results.append((index, det.detect(img, options)))
        except Exception as e:  # surfaced by the caller's assert
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i, img)) for i, img in enumerate(images)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
