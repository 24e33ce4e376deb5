"""The score cache: SQLite (WAL), keyed by file content and scorer identity.

Three tables: ``files`` maps a path's stat (size, mtime_ns, inode, ctime_ns) to the blake2b hash of
its bytes (the fast path: an unchanged stat means the hash still holds; any change forces a re-read
and re-hash, and ``verify=True`` always re-hashes); ``content`` holds per-content facts (size,
dhash, thumbnail); ``scores`` holds one JSON payload per (content hash, score key). The score key
joins the scorer's name and version with a digest of every option that changes the score, so a new
scorer version or option never reads a stale score. Each batch is one transaction: an interrupted
run (Ctrl-C) leaves every committed batch intact and nothing half-written.

Failures: a file that cannot be opened as a cache (corrupt, a folder, an unwritable place) raises
:class:`CacheError` before any work. A failure later in a run (disk or database full, the file
corrupted or locked by another program) never ends the run nor loses its scores: the cache turns
itself off, ``error`` says why, lookups miss and writes are skipped from then on.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,
    ino INTEGER, ctime_ns INTEGER, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS content (hash TEXT PRIMARY KEY, width INTEGER, height INTEGER,
    dhash TEXT, thumb BLOB);
CREATE TABLE IF NOT EXISTS scores (hash TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (hash, key));
"""


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qfix" / "filter-cache.sqlite"


def score_key(scorer_name: str, scorer_version: str, settings: dict[str, Any]) -> str:
    """``name@version#digest`` where digest covers the score-affecting ``settings``."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return f"{scorer_name}@{scorer_version}#{hashlib.blake2b(blob, digest_size=8).hexdigest()}"


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


class CacheError(ValueError):
    """The cache file cannot be opened or used; the message names it, why, and what to do."""


class ScoreCache:
    """Open (creating if needed) the cache at ``path``; ``":memory:"`` for a throw-away one.
    Raises :class:`CacheError` when the file cannot be used as a cache."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        self.error: str | None = None  # set when the cache turned itself off during a run
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as e:
            raise CacheError(f"{self.path}: cannot open the cache ({getattr(e, 'strerror', None) or e}); "
                             "pass another --cache or --no-cache") from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as e:
            self.db.close()
            raise CacheError(f"{self.path}: not a usable QFix cache ({e}); pass another --cache or "
                             "--no-cache") from None

    def _guard(self, what: str, fn: Callable[[], T], fallback: T) -> T:
        """``fn()``, or ``fallback`` once the cache has failed (the first failure turns it off)."""
        if self.error is not None:
            return fallback
        try:
            return fn()
        except sqlite3.Error as e:
            self.error = f"{self.path}: cannot {what} the score cache ({e}); the rest of the run is not cached"
            return fallback

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- lookups (cheap, one indexed row each)
    def hash_for(self, path: str, st: os.stat_result) -> str | None:
        """The content hash recorded for ``path`` if its stat is unchanged, else None."""
        row = self._guard("read", lambda: self.db.execute(
            "SELECT size, mtime_ns, ino, ctime_ns, hash FROM files WHERE path=?", (path,)).fetchone(), None)
        if row and tuple(row[:4]) == stat_key(st):
            return row[4]
        return None

    def content(self, h: str) -> tuple[int, int, int | None, bytes | None] | None:
        row = self._guard("read", lambda: self.db.execute(
            "SELECT width, height, dhash, thumb FROM content WHERE hash=?", (h,)).fetchone(), None)
        try:
            return (row[0], row[1], (int(row[2], 16) if row[2] else None), row[3]) if row else None
        except (TypeError, ValueError):  # a damaged row is a miss
            return None

    def score(self, h: str, key: str) -> dict[str, Any] | None:
        row = self._guard("read", lambda: self.db.execute(
            "SELECT payload FROM scores WHERE hash=? AND key=?", (h, key)).fetchone(), None)
        try:
            return json.loads(row[0]) if row else None
        except (TypeError, ValueError):  # a damaged payload is a miss: the image is scored again
            return None

    # --- writes: one transaction per call
    def put_many(self, files: list[tuple[str, os.stat_result, str]],
                 contents: list[tuple[str, int, int, int | None, bytes | None]],
                 scores: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Store one batch in one transaction; on failure nothing of it is stored and the cache
        turns off (:attr:`error`)."""
        self._guard("write", lambda: self._put(files, contents, scores), None)

    def _put(self, files, contents, scores) -> None:
        with self.db:  # commits, or rolls back on any exception (KeyboardInterrupt included)
            self.db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?)",
                                [(p, *stat_key(st), h) for p, st, h in files])
            self.db.executemany("INSERT OR REPLACE INTO content VALUES (?,?,?,?,?)",
                                [(h, w, hh, None if d is None else f"{d:016x}", t)
                                 for h, w, hh, d, t in contents])
            self.db.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?)",
                                [(h, k, json.dumps(p)) for h, k, p in scores])

    def counts(self) -> dict[str, int]:
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("files", "content", "scores")}
