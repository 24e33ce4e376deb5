"""Find the images to filter, safely, with the walker every command uses
(:func:`lib_qfix.imageio.walk_images`).

Only regular files that lie inside the given folders are returned: symlinks (to files or folders)
inside them are never followed, so a symlink loop or a link pointing outside cannot pull in other
files. Folders listed in ``exclude`` (e.g. the ``--move-rejects-to`` target inside a source folder)
are skipped. Everything skipped is reported with the reason, never dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lib_qfix.imageio import IMAGE_SUFFIXES, Found, walk_images


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


def scan(folders: Sequence[str | os.PathLike[str]], exclude: Sequence[str | os.PathLike[str]] = ()) -> ScanResult:
    """Image files under ``folders`` (resolved; in walk order per folder, a file under nested
    folders listed once). Raises :class:`ScanError` for a missing path or when no image is found."""
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
        found = walk_images(root, excluded, Found(skipped=result.skipped))
        for path, rel in found.entries:
            key = str(path)
            if key in seen:  # nested roots: a file is listed once
                continue
            seen.add(key)
            result.items.append(ScanItem(key, str(root), rel))
    if not result.items:
        where = ", ".join(str(r) for r in roots)
        raise ScanError(f"no images found in {where} (looked for {', '.join(IMAGE_SUFFIXES)})")
    return result
