"""Temporary folders of interactive filter sessions (staged uploads, thumbnails, CSV exports), and
their cleanup.

Every folder lives under one *process root*, ``<tmp>/qfix-a1111-<pid>-XXXX``, which the process
holds an OS lock on (``flock`` / ``msvcrt.locking``) for as long as it runs; the lock goes away with
the process, even after a crash or a kill. So:

* a session removes its own folders when it ends (:meth:`FilterSession.close`);
* the process root is removed at interpreter exit (``atexit``);
* at start, :func:`remove_stale` removes every process root whose lock can be taken (its process
  is gone), plus folders of the older naming (``qfix-upload-*``, ``qfix-thumbs-*``, ``qfix-csv-*``,
  made before this module existed) not touched for :data:`LEGACY_AGE_S` seconds.

Liveness is never checked with ``os.kill(pid, 0)``: on Windows that call terminates the process.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "qfix-a1111-"
LEGACY_PREFIXES = ("qfix-upload-", "qfix-thumbs-", "qfix-csv-")
LEGACY_AGE_S = 3600.0
LOCK_NAME = ".lock"

_lock = threading.Lock()
_root: Path | None = None
_root_fd: int | None = None


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on the open file ``fd``; False if someone holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def process_root(base: str | os.PathLike[str] | None = None) -> Path:
    """This process's root folder (created and locked on first use; ``base`` default: the system
    temp folder). Removed at interpreter exit."""
    global _root, _root_fd
    with _lock:
        if _root is None or not _root.is_dir():
            root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
            fd = os.open(root / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
            _try_lock(fd)
            if _root is None:
                atexit.register(_remove_own_root)
            _root, _root_fd = root, fd
        return _root


def _remove_own_root() -> None:
    global _root, _root_fd
    with _lock:
        if _root_fd is not None:
            os.close(_root_fd)  # Windows cannot delete an open file
        if _root is not None:
            shutil.rmtree(_root, ignore_errors=True)
        _root, _root_fd = None, None


def new_dir(kind: str, base: str | os.PathLike[str] | None = None) -> str:
    """A fresh folder ``<process root>/<kind>-XXXX`` for one session's files."""
    return tempfile.mkdtemp(prefix=f"{kind}-", dir=process_root(base))


def remove_dir(path: str | os.PathLike[str] | None) -> None:
    """Remove a folder made by :func:`new_dir` (or a legacy QFix temp folder); anything else is
    left alone, so a wrong path can never delete a user's files."""
    if not path:
        return
    p = Path(path)
    ours = p.parent.name.startswith(PREFIX) or p.name.startswith(LEGACY_PREFIXES)
    if ours and p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)


def _stale_root(root: Path) -> bool:
    """True when no living process holds ``root``'s lock (taking the lock proves it)."""
    lock = root / LOCK_NAME
    if not lock.is_file():
        # a root is created and locked in one step: no lock file means it is older than this scheme
        # or half removed; remove it only when nothing has touched it for a while
        return time.time() - root.stat().st_mtime > LEGACY_AGE_S
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        return _try_lock(fd)
    finally:
        os.close(fd)


def remove_stale(base: str | os.PathLike[str] | None = None, now: float | None = None) -> list[str]:
    """Remove QFix temp folders left by processes that are gone (see the module doc); returns the
    paths removed. Never raises: cleanup must not stop a start."""
    folder = Path(base) if base is not None else Path(tempfile.gettempdir())
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        try:
            if not e.is_dir(follow_symlinks=False):
                continue
            p = Path(e.path)
            if (e.name.startswith(PREFIX) and p != _root and _stale_root(p)) or (
                    e.name.startswith(LEGACY_PREFIXES) and now - e.stat().st_mtime > LEGACY_AGE_S):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(str(p))
        except OSError:
            continue
    return removed
