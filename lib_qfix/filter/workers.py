"""Process workers for the local engine: read, hash, decode and score whole batches in separate
processes, so a scorer written in Python/numpy uses every core despite the GIL.

Used for scorers that are cheap to build in each process (the offline scorer); heavy models
(CLIP) stay in one process, where torch already spreads work over the cores. Workers ignore
SIGINT: Ctrl-C is handled once, by the main process, which then cancels what is queued.
"""

from __future__ import annotations

import signal
from typing import Any

from lib_qfix.filter.job import RunConfig, score_decoded

_scorer: Any = None


def init_worker(options: Any) -> None:
    """Pool initializer: ignore Ctrl-C and build the scorer once per process."""
    global _scorer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from lib_qfix.scoring import scorer_for

    _scorer, _ = scorer_for(options)


def process_batch(paths: list[tuple[int, str]], options: Any, cfg: RunConfig) -> list[tuple]:
    """``[(index, hash, error or "", (width, height, dhash, thumb) or None, payload or None)]``."""
    from lib_qfix.filter.engine_local import _decode_job
    from lib_qfix.filter.scan import ScanItem

    out: list[tuple] = []
    ok = []
    for i, path in paths:
        h, dec = _decode_job(ScanItem(path, "", ""), cfg)
        if isinstance(dec, str):
            out.append((i, h, dec, None, None))
        else:
            ok.append((i, h, dec))
    if ok:
        payloads = score_decoded(_scorer, options, [d for _, _, d in ok])
        for (i, h, d), p in zip(ok, payloads, strict=True):
            meta = (d.width, d.height, d.dhash, d.thumb)
            out.append((i, h, p, meta, None) if isinstance(p, str) else (i, h, "", meta, p))
    return out
