"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The temp file is ``.NAME.XXXXXXXX.tmp`` in the target's folder (8 characters of ``[a-z0-9_]``).
A write killed between creating and renaming it leaves one behind: :func:`sweep_stale_temps`
removes those older than :data:`STALE_TEMP_S` seconds (only names of that exact pattern); every
folder is swept the first time this process writes into it, and presets sweep their folder on
each save and listing.

Final files get the mode a plain ``open(path, "w")`` would give (``0o666`` less the umask), or the
mode of the file they replace.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import threading
import time
from pathlib import Path

#: a temp file older than this (seconds) belongs to a write that was killed
STALE_TEMP_S = 600.0
_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp", re.DOTALL)
_swept: set[str] = set()
_swept_lock = threading.Lock()


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` via a temp file in the same folder, fsync, then ``os.replace``.
    On any failure the temp file is removed and an existing ``path`` is left untouched."""
    return atomic_write_bytes(path, text.encode(encoding))


def unwritable_reason(folder: str | os.PathLike[str]) -> str | None:
    """Why files cannot be written into ``folder`` (existing, or to be created under its nearest
    existing parent), e.g. ``"/data is not writable"``; None when they can."""
    probe = Path(folder).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def sweep_stale_temps(folder: str | os.PathLike[str], max_age_s: float = STALE_TEMP_S) -> int:
    """Delete our own leftover temp files (``.NAME.XXXXXXXX.tmp``, regular files) in ``folder``
    whose last change is more than ``max_age_s`` seconds ago; returns how many were deleted.
    Errors (folder missing, a file gone meanwhile, no permission) are ignored."""
    removed = 0
    cutoff = time.time() - max_age_s
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not _TEMP.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _sweep_once(folder: Path) -> None:
    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    sweep_stale_temps(folder)


def _create_temp(target: Path) -> tuple[int, str]:
    """Create the temp file exclusively with mode 0o666 (the kernel applies the umask, as open()
    does) or the replaced file's mode; returns (fd, path)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.chmod(tmp, mode)
            except BaseException:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp
    raise FileExistsError(f"{target.parent}: no free temp file name for {target.name}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write_text`); returns ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_once(target.parent)
    fd, tmp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target
