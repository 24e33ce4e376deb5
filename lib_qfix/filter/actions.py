"""Move rejects / copy keeps, only when asked; never delete, never overwrite; undo from a manifest.

Destinations keep each file's path relative to the folder it was found in. A name that is taken
gets a suffix (``a.jpg`` -> ``a-1.jpg``): the destination is claimed with an exclusive create first,
so even a concurrent writer cannot be overwritten. Only regular files inside their scanned folder
are touched (symlinks never). Every finished operation is appended to a JSON-lines manifest at
once (flushed and fsynced), so an interrupted run can still be undone: ``undo(manifest)`` moves
files back (never over an existing file) and removes copies that are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lib_qfix.filter.records import Decision

MANIFEST_TAG = "qfix-filter-manifest"


class ActionError(ValueError):
    """A destination or manifest that cannot be used; the message names it and why."""


@dataclass
class ActionResult:
    done: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    manifest: str | None = None


def _file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def claim(dst: Path) -> Path:
    """Create an empty placeholder at ``dst`` or the first free ``stem-N.ext`` and return it."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    for n in range(0, 100_000):
        cand = dst if n == 0 else dst.with_name(f"{dst.stem}-{n}{dst.suffix}")
        try:
            os.close(os.open(cand, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return cand
        except FileExistsError:
            continue
    raise ActionError(f"{dst}: no free name (tried 100000 suffixes)")


def _place(src: Path, dst: Path, move: bool) -> None:
    """Put ``src`` at the claimed placeholder ``dst`` (rename when possible, else copy)."""
    if move:
        try:
            os.replace(src, dst)  # replaces only our own empty placeholder
            return
        except OSError:
            pass  # another file system: copy, check, then remove the source
    shutil.copyfile(src, dst)
    shutil.copystat(src, dst)
    if move:
        if os.path.getsize(dst) != os.path.getsize(src):
            raise OSError(f"copy of {src} to {dst} is incomplete")
        os.unlink(src)


class Manifest:
    """Append-only JSON-lines log of operations (first line: a header)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "x", encoding="utf-8")
        self._write({"tag": MANIFEST_TAG, "version": 1, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})

    def _write(self, obj: dict) -> None:
        self.f.write(json.dumps(obj) + "\n")
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self) -> None:
        self.f.close()


def apply(decisions: Sequence[Decision], manifest_path: str | os.PathLike[str], *,
          move_rejects_to: str | os.PathLike[str] | None = None,
          copy_keeps_to: str | os.PathLike[str] | None = None) -> ActionResult:
    """Move rejected files and/or copy kept files; logs each to ``manifest_path`` (must not exist)."""
    plan = []
    for d in decisions:
        if move_rejects_to is not None and d.status == "reject":
            plan.append(("move", d, Path(move_rejects_to)))
        if copy_keeps_to is not None and d.status == "keep":
            plan.append(("copy", d, Path(copy_keeps_to)))
    res = ActionResult()
    if not plan:
        return res
    mpath = Path(manifest_path)
    if mpath.exists():
        raise ActionError(f"{mpath}: manifest already exists; choose another path")
    log = Manifest(mpath)
    res.manifest = str(mpath)
    try:
        for op, d, dest_root in plan:
            rec = d.record
            src = Path(rec.path)
            root = Path(rec.root).resolve() if rec.root else src.parent.resolve()
            if src.is_symlink() or not src.is_file() or not src.resolve().is_relative_to(root):
                res.errors.append(f"{src}: skipped (not a regular file inside {root})")
                continue
            rel = Path(rec.rel) if rec.rel and ".." not in Path(rec.rel).parts else Path(src.name)
            dst = claim(dest_root.resolve() / rel)
            try:
                digest = _file_hash(src)
                _place(src, dst, move=op == "move")
            except OSError as e:
                if dst.exists() and dst.stat().st_size == 0:
                    dst.unlink()  # our empty placeholder, nothing else
                res.errors.append(f"{src}: {op} failed ({e})")
                continue
            entry = {"op": op, "src": str(src.resolve() if src.exists() else src), "dst": str(dst),
                     "hash": digest, "status": d.status}
            log._write(entry)
            res.done.append(entry)
    finally:
        log.close()
    return res


def read_manifest(path: str | os.PathLike[str]) -> tuple[list[dict], bool]:
    """(operations, already undone) from a manifest; raises :class:`ActionError` for a bad file."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ActionError(f"{p}: cannot read manifest ({e.strerror or e})") from None
    try:
        rows = [json.loads(line) for line in lines if line.strip()]
    except ValueError:
        raise ActionError(f"{p}: not a QFix filter manifest (bad JSON line)") from None
    if not rows or rows[0].get("tag") != MANIFEST_TAG:
        raise ActionError(f"{p}: not a QFix filter manifest (no {MANIFEST_TAG} header)")
    ops = [r for r in rows[1:] if r.get("op") in ("move", "copy")]
    return ops, any("undone" in r for r in rows[1:])


def undo(path: str | os.PathLike[str]) -> ActionResult:
    """Reverse a manifest, newest operation first. Moves go back (never over an existing file);
    copies are removed only if unchanged (same hash) and the original still exists."""
    ops, undone = read_manifest(path)
    if undone:
        raise ActionError(f"{path}: this manifest was already undone")
    res = ActionResult(manifest=str(path))
    for e in reversed(ops):
        src, dst = Path(e["src"]), Path(e["dst"])
        if not dst.is_file() or dst.is_symlink():
            res.errors.append(f"{dst}: missing, cannot undo {e['op']} of {src}")
            continue
        if e["op"] == "move":
            if src.exists():
                res.errors.append(f"{src}: exists already; left {dst} where it is")
                continue
            src.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.close(os.open(src, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                _place(dst, src, move=True)
            except OSError as err:
                if src.is_file() and src.stat().st_size == 0:
                    src.unlink()  # our empty placeholder
                res.errors.append(f"{dst}: cannot move back to {src} ({err})")
                continue
        else:
            if not src.is_file():
                res.errors.append(f"{src}: original is gone; kept the copy {dst}")
                continue
            if _file_hash(dst) != e.get("hash"):
                res.errors.append(f"{dst}: changed since it was copied; left in place")
                continue
            dst.unlink()
        res.done.append(e)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"undone": time.strftime("%Y-%m-%dT%H:%M:%S"), "reversed": len(res.done),
                            "errors": len(res.errors)}) + "\n")
    return res
