"""On-disk cache of judge verdicts: a rerun over the same images costs no calls.

Key: blake2b of (image pixels digest, generation prompt, model name, judge prompt digest — which
covers :data:`~lib_qfix.judge.prompt.PROMPT_VERSION` and any override —, long side sent). The key
is a digest, so neither the model name nor the prompt can be read from the file names; files hold
only the parsed verdict and the token usage (never the URL or the key).

Layout: ``DIR/ab/abcdef....json``, written atomically (:mod:`lib_qfix.fileio`); an unreadable or
corrupt entry is a miss. The cache is bounded: every :data:`PRUNE_EVERY` writes, the oldest
entries beyond ``max_entries`` are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from lib_qfix.fileio import atomic_write_text
from lib_qfix.judge.parse import Verdict

CACHE_VERSION = 1
MAX_ENTRIES = 20_000
PRUNE_EVERY = 200


def cache_key(image_digest: str, prompt: str, model: str, prompt_digest: str, max_side: int) -> str:
    """32 hex digits (see the module doc)."""
    blob = json.dumps([CACHE_VERSION, image_digest, prompt, model.strip(), prompt_digest, int(max_side)])
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


class JudgeCache:
    """Verdicts under ``folder`` (created on first write); thread-safe."""

    def __init__(self, folder: str | os.PathLike[str], max_entries: int = MAX_ENTRIES):
        self.folder = Path(folder)
        self.max_entries = max(1, int(max_entries))
        self._writes = 0
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Verdict | None:
        """The verdict stored under ``key``, or None (missing, unreadable or corrupt)."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            return Verdict.from_json(data["verdict"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None

    def put(self, key: str, verdict: Verdict) -> None:
        """Store ``verdict``; a cache that cannot be written is skipped (it is only a cache)."""
        try:
            atomic_write_text(self._path(key), json.dumps({"version": CACHE_VERSION, "verdict": verdict.to_json()}))
        except OSError:
            return
        with self._lock:
            self._writes += 1
            due = self._writes % PRUNE_EVERY == 0
        if due:
            self.prune()

    def entries(self) -> list[Path]:
        try:
            return [p for sub in self.folder.iterdir() if sub.is_dir() for p in sub.glob("*.json")]
        except OSError:
            return []

    def prune(self) -> int:
        """Remove the oldest entries beyond ``max_entries``; returns how many were removed."""
        files = self.entries()
        if len(files) <= self.max_entries:
            return 0
        aged = []
        for p in files:
            try:
                aged.append((p.stat().st_mtime, p))
            except OSError:
                continue
        aged.sort()
        removed = 0
        for _, p in aged[: len(aged) - self.max_entries]:
            try:
                p.unlink()
                removed += 1
            except OSError:
                continue
        return removed
