"""The manifest of ``qfix filter`` moves/copies: a JSON-lines file, written as the work happens.

Line 1 is a header (``{"tag": "qfix-filter-manifest", "version": 2, …}``); then one line per
finished operation (``{"n": 0, "op": "move", "src": …, "dst": …, "hash": …, "status": …}``); an
undo adds one line per reversed operation (``{"undo_of": n, "at": …}``), so what is left after a
partial undo is known and a retry does only that. Version 1 manifests (one ``{"undone": …}`` line
for a whole undo) are still read. Each line is one ``os.write`` followed by fsync; a line that fails
is cut off again, and a torn last line (a crash while writing) is ignored when reading.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from lib_qfix.errors import reason

MANIFEST_TAG = "qfix-filter-manifest"


class ActionError(ValueError):
    """A destination or manifest that cannot be used; the message names it and why."""


def _discard(path: Path) -> None:
    """Remove a file QFix created (a placeholder or a partial copy), if it is there."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class Manifest:
    """Append-only JSON-lines log (first line: a header with ``tag``). Each line is written with one
    ``os.write`` and fsynced; a line that fails is cut off again, so the file stays readable.
    (``qfix fix`` keeps its resume log in the same form under its own tag.)"""

    def __init__(self, path: Path, create: bool = True, tag: str = MANIFEST_TAG):
        self.path = path
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT | os.O_EXCL if create else 0)
            self.fd = os.open(path, flags, 0o644)
        except FileExistsError:
            raise ActionError(f"{path}: manifest already exists; choose another path") from None
        except OSError as e:
            raise ActionError(f"{path}: cannot write the manifest ({reason(e)})") from None
        if create:
            try:
                self.write({"tag": tag, "version": 2, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
            except OSError as e:
                self.close()
                _discard(path)
                raise ActionError(f"{path}: cannot write the manifest ({reason(e)})") from None

    def write(self, obj: dict) -> None:
        data = (json.dumps(obj) + "\n").encode()
        size = os.fstat(self.fd).st_size
        try:
            if os.write(self.fd, data) != len(data):
                raise OSError(28, "short write (disk full?)")
            os.fsync(self.fd)
        except OSError:
            try:
                os.ftruncate(self.fd, size)
            except OSError:
                pass
            raise

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class ManifestState:
    """Every operation of a manifest (each with its number ``n``) and the numbers undone so far."""

    ops: list[dict]
    undone: set[int]

    @property
    def pending(self) -> list[dict]:
        return [e for e in self.ops if e["n"] not in self.undone]


def read_rows(path: str | os.PathLike[str], tag: str = MANIFEST_TAG,
              what: str = "QFix filter manifest") -> list[dict]:
    """Every line of a :class:`Manifest` with header ``tag`` as a dict, the header first; raises
    :class:`ActionError` (naming ``what`` the file should be) for a bad file. A torn last line (a
    crash while writing it) is ignored."""
    p = Path(path)
    try:
        lines = [x for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise ActionError(f"{p}: cannot read manifest ({reason(e)})") from None
    rows = []
    for i, line in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except ValueError:
            if i < len(lines) - 1 or not rows:
                raise ActionError(f"{p}: not a {what} (bad JSON on line {i + 1})") from None
    if not rows or not isinstance(rows[0], dict) or rows[0].get("tag") != tag:
        raise ActionError(f"{p}: not a {what} (no {tag} header)")
    return rows


def read_manifest(path: str | os.PathLike[str]) -> ManifestState:
    """The operations of a manifest and what was undone; raises :class:`ActionError` for a bad
    file. A torn last line (a crash while writing it) is ignored."""
    rows = read_rows(path)
    ops = [dict(r, n=r.get("n", i)) for i, r in enumerate(x for x in rows[1:] if x.get("op") in ("move", "copy"))]
    undone: set[int] = set()
    for r in rows[1:]:
        if isinstance(r.get("undo_of"), int):
            undone.add(r["undo_of"])
        elif "undone" in r:  # version 1 manifests: one line for a whole (not retryable) undo
            undone.update(e["n"] for e in ops)
    return ManifestState(ops, undone)


