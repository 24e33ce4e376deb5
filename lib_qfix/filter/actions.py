"""Move rejects / copy keeps, only when asked; never delete, never overwrite; undo from a manifest.

Destinations keep each file's path relative to the folder it was found in. A name that is taken
gets a suffix (``a.jpg`` -> ``a-1.jpg``): the destination is claimed with an exclusive create first,
so even a concurrent writer cannot be overwritten. Only regular files inside their scanned folder
are touched (symlinks never). A destination may not be a scanned folder, lie inside one, or contain
one (:func:`check_destination`): files would be renamed in place, or picked up again by the next
scan of that folder.

Every finished operation is appended to a JSON-lines manifest at once (fsynced), and only finished
ones: a copy that fails midway (disk full) is removed, the source is untouched, nothing is logged.
If the manifest itself cannot be written, the operation it could not record is reversed and the
run stops, so everything that happened can be undone. ``undo(manifest)`` moves files back (never
over an existing file), removes copies that are unchanged, and logs each reversal as it happens
(``{"undo_of": n}``): an undo that partly failed, or was interrupted, can simply be run again and
retries only what is left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lib_qfix.errors import reason
from lib_qfix.fileio import unwritable_reason
from lib_qfix.filter.manifest import (  # noqa: F401 - re-exported: the public names of this module
    MANIFEST_TAG,
    ActionError,
    Manifest,
    ManifestState,
    _discard,
    read_manifest,
)
from lib_qfix.filter.records import Decision


@dataclass
class ActionResult:
    done: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    manifest: str | None = None
    left: int = 0  # undo: operations still to reverse (a retry does those)


def _file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_destination(flag: str, dest: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]) -> Path:
    """The resolved destination folder, or :class:`ActionError` naming ``flag`` when it is a scanned
    folder, lies inside one or contains one, is not a folder, or cannot be created/written."""
    d = Path(dest).expanduser().resolve()
    allowed = "allowed: a folder outside every scanned folder"
    for r in roots:
        root = Path(r).expanduser().resolve()
        if d == root:
            raise ActionError(f"{flag} {dest}: is the scanned folder {root}; {allowed}")
        if d.is_relative_to(root):
            raise ActionError(f"{flag} {dest}: lies inside the scanned folder {root} (the next scan of it "
                              f"would pick the files up again); {allowed}")
        if root.is_relative_to(d):
            raise ActionError(f"{flag} {dest}: contains the scanned folder {root}; {allowed}")
    why = unwritable_reason(d)
    if why:
        raise ActionError(f"{flag} {dest}: {why}; allowed: a writable folder that exists or can be created")
    return d


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
    """Put ``src`` at the claimed placeholder ``dst`` (rename when possible, else copy). On an
    error ``src`` is still in place (for a move it is removed only after a complete copy)."""
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


def _revert(op: str, src: Path, dst: Path) -> str:
    """Reverse one operation that could not be logged; returns what happened, for the message."""
    try:
        if op == "copy":
            dst.unlink()
            return "the copy was removed again"
        os.close(os.open(src, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        _place(dst, src, move=True)
        return "the file was moved back"
    except OSError as e:
        return f"the file stays at {dst} ({reason(e)})"


def apply(decisions: Sequence[Decision], manifest_path: str | os.PathLike[str], *,
          move_rejects_to: str | os.PathLike[str] | None = None,
          copy_keeps_to: str | os.PathLike[str] | None = None) -> ActionResult:
    """Move rejected files and/or copy kept files; logs each to ``manifest_path`` (must not exist).
    Raises :class:`ActionError` (nothing done) for a destination refused by
    :func:`check_destination` or a manifest that cannot be created; a file that fails is an
    entry of ``errors`` and the others go on."""
    plan = []
    for d in decisions:
        if move_rejects_to is not None and d.status == "reject":
            plan.append(("move", d, Path(move_rejects_to)))
        if copy_keeps_to is not None and d.status == "keep":
            plan.append(("copy", d, Path(copy_keeps_to)))
    res = ActionResult()
    if not plan:
        return res
    roots = {d.record.root for _, d, _ in plan if d.record.root}
    for flag, dest in (("--move-rejects-to", move_rejects_to), ("--copy-keeps-to", copy_keeps_to)):
        if dest is not None:
            check_destination(flag, dest, roots)
    mpath = Path(manifest_path)
    log = Manifest(mpath)
    res.manifest = str(mpath)
    try:
        for k, (op, d, dest_root) in enumerate(plan):
            rec = d.record
            src = Path(rec.path)
            root = Path(rec.root).resolve() if rec.root else src.parent.resolve()
            if src.is_symlink() or not src.is_file() or not src.resolve().is_relative_to(root):
                res.errors.append(f"{src}: skipped (not a regular file inside {root})")
                continue
            rel = Path(rec.rel) if rec.rel and ".." not in Path(rec.rel).parts else Path(src.name)
            try:
                dst = claim(dest_root.resolve() / rel)
            except (OSError, ActionError) as e:
                res.errors.append(f"{src}: {op} failed (cannot create {dest_root.resolve() / rel}: {reason(e)})")
                continue
            try:
                digest = _file_hash(src)
                _place(src, dst, move=op == "move")
            except OSError as e:
                if not (op == "move" and not os.path.lexists(src) and dst.is_file()):
                    _discard(dst)  # our placeholder or a partial copy; the source is untouched
                    res.errors.append(f"{src}: {op} failed ({reason(e)}); left in place")
                    continue
            entry = {"n": len(res.done), "op": op, "src": str(src.resolve() if src.exists() else src),
                     "dst": str(dst), "hash": digest, "status": d.status}
            try:
                log.write(entry)
            except OSError as e:
                what = _revert(op, src, dst)
                res.errors.append(f"{mpath}: cannot write the manifest ({reason(e)}); {op} of {src} not "
                                  f"recorded, so {what}; stopped with {len(plan) - k - 1} file(s) not processed")
                break
            res.done.append(entry)
    finally:
        log.close()
    return res


def _undo_one(e: dict) -> str | None:
    """Reverse one logged operation; None when done, else why not."""
    src, dst = Path(e["src"]), Path(e["dst"])
    if not dst.is_file() or dst.is_symlink():
        return f"{dst}: missing, cannot undo {e['op']} of {src}"
    if e["op"] == "copy":
        if not src.is_file():
            return f"{src}: original is gone; kept the copy {dst}"
        if _file_hash(dst) != e.get("hash"):
            return f"{dst}: changed since it was copied; left in place"
        dst.unlink()
        return None
    if src.exists():
        return f"{src}: exists already; left {dst} where it is"
    try:
        src.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(src, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except OSError as err:
        return f"{dst}: cannot move back to {src} ({reason(err)})"
    try:
        _place(dst, src, move=True)
    except OSError as err:
        _discard(src)  # our placeholder or a partial copy; dst is untouched
        return f"{dst}: cannot move back to {src} ({reason(err)})"
    return None


def undo(path: str | os.PathLike[str]) -> ActionResult:
    """Reverse what a manifest still holds, newest operation first. Moves go back (never over an
    existing file); copies are removed only if unchanged (same hash) and the original still
    exists. Each reversal is logged at once; ``left`` counts what a retry would still do."""
    state = read_manifest(path)
    pending = state.pending
    if not pending:
        raise ActionError(f"{path}: this manifest was already undone" if state.ops
                          else f"{path}: the manifest records no moves or copies; nothing to undo")
    log = Manifest(Path(path), create=False)
    res = ActionResult(manifest=str(path))
    try:
        for e in reversed(pending):
            why = _undo_one(e)
            if why is not None:
                res.errors.append(why)
                continue
            try:
                log.write({"undo_of": e["n"], "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
            except OSError as err:
                res.errors.append(f"{path}: cannot record the undo ({reason(err)}); stopped")
                res.done.append(e)
                break
            res.done.append(e)
    finally:
        log.close()
    res.left = len(pending) - len(res.done)
    return res
