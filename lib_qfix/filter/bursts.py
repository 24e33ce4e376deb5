"""Near-duplicate bursts: the same scene shot several times in a row.

Images are ordered by folder, then modification time, then name (cameras number shots in
sequence). Neighbours in that order join one burst when their 64-bit difference hashes differ in at
most ``max_distance`` bits (0..64; 10 tolerates re-framing by a few percent, re-exposure and noise)
and, if ``max_gap_s`` is set, were taken at most that many seconds apart. A burst is a chain: each
image is compared with the previous member, so a slow pan stays one burst.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from lib_qfix.filter.records import ImageRecord

MAX_DISTANCE = 10


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def group_bursts(records: Sequence[ImageRecord], max_distance: int = MAX_DISTANCE,
                 max_gap_s: float | None = None) -> dict[str, int]:
    """``{path: burst id}`` for every image in a burst of two or more (ids 0, 1, … in order)."""
    if not 0 <= max_distance <= 64:
        raise ValueError(f"burst distance: {max_distance!r} is not allowed; allowed: 0 to 64 bits")
    usable = [r for r in records if r.error is None and r.dhash is not None]
    usable.sort(key=lambda r: (os.path.dirname(r.path), r.mtime, r.path))
    chains: list[list[ImageRecord]] = []
    for r in usable:
        prev = chains[-1][-1] if chains else None
        if (prev is not None and os.path.dirname(prev.path) == os.path.dirname(r.path)
                and prev.dhash is not None and r.dhash is not None and hamming(prev.dhash, r.dhash) <= max_distance
                and (max_gap_s is None or abs(r.mtime - prev.mtime) <= max_gap_s)):
            chains[-1].append(r)
        else:
            chains.append([r])
    out: dict[str, int] = {}
    bid = 0
    for chain in chains:
        if len(chain) > 1:
            for r in chain:
                out[r.path] = bid
            bid += 1
    return out
