"""Find the images to filter, safely.

Only regular files that lie inside the given folders are returned: symlinks (to files or folders)
are never followed, so a symlink loop or a link pointing outside cannot pull in other files.
Folders listed in ``exclude`` (e.g. the ``--move-rejects-to`` target inside a source folder) are
skipped. Everything skipped is reported with the reason, never dropped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lib_qfix.imageio import IMAGE_SUFFIXES


class ScanError(ValueError):
    """A folder is missing, is not a folder, or holds no images; the message says which."""


@dataclass(frozen=True)
class ScanItem:
    """One image file: ``path`` absolute, ``root`` the given folder it was found under,
    ``rel`` its path relative to ``root`` (POSIX separators)."""

    path: str
    root: str
    rel: str


@dataclass
class ScanResult:
    items: list[ScanItem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def scan(folders: list[str | os.PathLike[str]], exclude: list[str | os.PathLike[str]] = ()) -> ScanResult:
    """Image files under ``folders`` (sorted per folder). Raises :class:`ScanError` for a missing
    path or when no image is found at all."""
    if not folders:
        raise ScanError("no folder given; pass at least one folder of images")
    roots: list[Path] = []
    for raw in folders:
        p = Path(raw)
        if not p.exists():
            raise ScanError(f"{p}: no such folder")
        if not p.is_dir():
            raise ScanError(f"{p}: not a folder (give folders of images)")
        roots.append(p.resolve())
    excluded = [Path(e).resolve() for e in exclude]
    result = ScanResult()
    seen: set[str] = set()
    for root in roots:
        for dirpath, dirs, files in os.walk(root, followlinks=False):
            here = Path(dirpath)
            keep_dirs = []
            for d in sorted(dirs):
                sub = here / d
                if sub.is_symlink():
                    result.skipped.append((str(sub), "symlink to a folder, not followed"))
                elif any(sub == e or sub.is_relative_to(e) for e in excluded):
                    result.skipped.append((str(sub), "output folder, not scanned"))
                else:
                    keep_dirs.append(d)
            dirs[:] = keep_dirs
            for name in sorted(files):
                if not name.lower().endswith(IMAGE_SUFFIXES):
                    continue
                f = here / name
                if f.is_symlink():
                    result.skipped.append((str(f), "symlink, not followed"))
                    continue
                if not f.is_file():
                    result.skipped.append((str(f), "not a regular file"))
                    continue
                key = str(f)
                if key in seen:  # nested roots: a file is listed once
                    continue
                seen.add(key)
                result.items.append(ScanItem(key, str(root), f.relative_to(root).as_posix()))
    if not result.items:
        where = ", ".join(str(r) for r in roots)
        raise ScanError(f"no images found in {where} (looked for {', '.join(IMAGE_SUFFIXES)})")
    return result
