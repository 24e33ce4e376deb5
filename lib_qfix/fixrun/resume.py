"""The resume log of ``qfix fix``: one JSON line per finished image, so a run that crashed or was
interrupted goes on where it stopped.

The file (``OUT/qfix-fix-manifest.jsonl``) is a :class:`lib_qfix.filter.manifest.Manifest` under its
own tag: a header line, then each image's :class:`~lib_qfix.fixrun.records.FixRecord` as it
finishes, each line one fsynced write. Every line carries ``settings``, a fingerprint of what decides
a result (options, model, overrides); a run with other settings redoes every image. An image counts
as done when its line has the same settings, its file is unchanged (size and modification time) and
the result it wrote is still there. A torn last line (a crash while writing it) is cut off before
the log is appended to. Nothing is written before the first image finishes (a run that fails to start
leaves no log).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from lib_qfix.filter.manifest import Manifest, read_rows
from lib_qfix.fixrun.records import ERROR, FixRecord, FixTask

TAG = "qfix-fix-manifest"
NAME = "qfix-fix-manifest.jsonl"
WHAT = "qfix fix resume log"


def fingerprint(settings: Any) -> str:
    """A short hash of JSON-able ``settings`` (keys sorted)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _cut_torn_line(path: Path) -> None:
    """Drop a last line without its newline (written by a process that died mid-write)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


class ResumeLog:
    """Open (or create) the log at ``path`` for a run with ``settings`` (a :func:`fingerprint`).
    Raises :class:`~lib_qfix.filter.manifest.ActionError` for a file that is not such a log."""

    def __init__(self, path: str | os.PathLike[str], settings: str):
        self.path, self.settings = Path(path), settings
        self.done: dict[str, FixRecord] = {}
        self.log: Manifest | None = None
        if self.path.exists():
            rows = read_rows(self.path, TAG, WHAT)
            for row in rows[1:]:
                if row.get("settings") != settings:
                    continue
                try:
                    rec = FixRecord.from_json(row)
                except (KeyError, TypeError, ValueError):
                    continue  # a line of another version: the image is simply done again
                self.done[rec.path] = rec

    def finished(self, task: FixTask) -> FixRecord | None:
        """The record of ``task`` from an earlier run, when that still holds (see the module doc);
        images that failed are always tried again."""
        rec = self.done.get(task.path)
        if rec is None or rec.status == ERROR or rec.key != task.key:
            return None
        if rec.dst and not os.path.isfile(rec.dst):
            return None
        return rec

    def add(self, record: FixRecord) -> None:
        """Append one finished image (fsynced before this returns); the first call opens the log."""
        if self.log is None:
            exists = self.path.exists()
            if exists:
                _cut_torn_line(self.path)
            self.log = Manifest(self.path, create=not exists, tag=TAG)
        self.log.write({**record.to_json(), "settings": self.settings})

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
