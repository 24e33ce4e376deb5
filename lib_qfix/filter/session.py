"""A filter session for interactive front ends (the A1111 "QFix" tab): score once, then re-split
keep/reject live as the threshold moves, export CSV, move rejects after a confirmation.
Host-agnostic (no gradio here) and free of presentation: the tab writes the Markdown, captions
and messages from what these methods return.

Temporary files (staged uploads, thumbnails, CSV exports) live in folders from
:mod:`lib_qfix.filter.tempdirs`; :meth:`FilterSession.close` removes them when the session ends
(a closed session still works: thumbnails are written again on demand)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_qfix.filter import tempdirs
from lib_qfix.filter.actions import ActionError, ActionResult, apply, check_destination
from lib_qfix.filter.bursts import group_bursts
from lib_qfix.filter.core import Progress, RunResult
from lib_qfix.filter.decide import decide
from lib_qfix.filter.job import RunConfig
from lib_qfix.filter.pipeline import score_folders
from lib_qfix.filter.records import REJECT, Decision, count_status
from lib_qfix.filter.report import histogram_svg, write_csv
from lib_qfix.options import Options


class MoveRefused(ValueError):
    """Moving the rejects is not possible; the message says why in one sentence."""


@dataclass
class FilterSession:
    """The scored records of one run plus what the UI needs. ``uploaded``: the images are
    temporary copies of uploads (moving them would be meaningless, so it is refused);
    ``staged_dir``: the folder holding those copies (removed by :meth:`close`)."""

    result: RunResult
    roots: list[str]
    uploaded: bool = False
    bursts: dict[str, int] = field(default_factory=dict)
    thumb_dir: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    staged_dir: str = ""
    temp_dirs: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Remove every temporary folder of this session (uploads, thumbnails, exports)."""
        for d in [self.staged_dir, self.thumb_dir, *self.temp_dirs]:
            tempdirs.remove_dir(d)
        self.staged_dir, self.thumb_dir, self.temp_dirs = "", "", []

    def decisions(self, threshold: float, keep_top: str | None = None, best_of_burst: bool = False) -> list[Decision]:
        """Keep/reject at ``threshold`` (quality 0..1) or ``keep_top`` ("N" or "P%"); no re-scoring."""
        return decide(self.result.records, threshold, keep_top or None, self.bursts, best_of_burst)

    def thumb_paths(self) -> dict[str, str]:
        """Thumbnails written once as files (the gallery shows files, not re-encoded arrays)."""
        if not self.thumb_dir or not os.path.isdir(self.thumb_dir):
            self.thumb_dir = tempdirs.new_dir("thumbs")
            for n, r in enumerate(self.result.records):
                if r.thumb:
                    Path(self.thumb_dir, f"{n:06d}.jpg").write_bytes(r.thumb)
        return {r.path: os.path.join(self.thumb_dir, f"{n:06d}.jpg")
                for n, r in enumerate(self.result.records) if r.thumb}

    def histogram(self, threshold: float | None) -> str:
        """An inline SVG histogram of the qualities (0..1), a line at ``threshold`` (None: none)."""
        return histogram_svg([r.quality for r in self.result.records if r.quality is not None], threshold)

    def export_csv(self, decisions: Sequence[Decision]) -> str:
        """Write ``decisions`` as CSV into a session temp folder; returns its path."""
        folder = tempdirs.new_dir("csv")
        self.temp_dirs.append(folder)
        path = os.path.join(folder, "qfix-decisions.csv")
        write_csv(decisions, path)
        return path

    def plan_move(self, decisions: Sequence[Decision], dest: str) -> tuple[Path, int]:
        """(resolved destination, number of rejects) of moving the rejects to ``dest``; raises
        :class:`MoveRefused` (a sentence) for uploads, no or a bad destination, or nothing to move."""
        if self.uploaded:
            raise MoveRefused("These are uploaded copies; moving applies to a folder only.")
        if not dest or not dest.strip():
            raise MoveRefused("Give a destination folder for the rejects.")
        try:
            d = check_destination("destination", dest.strip(), self.roots)
        except ActionError as e:  # the scanned folder itself, inside one, or above one
            raise MoveRefused(str(e)) from None
        n = count_status(decisions)[REJECT]
        if not n:
            raise MoveRefused("Nothing to move: no image is rejected.")
        return d, n

    def move_rejects(self, decisions: Sequence[Decision], dest: str) -> ActionResult:
        """Move the rejects to ``dest`` with a manifest there (raises :class:`MoveRefused` as
        :meth:`plan_move` does)."""
        d, _ = self.plan_move(decisions, dest)
        manifest = d / f"qfix-manifest-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        return apply(decisions, manifest, move_rejects_to=d)


def stage_uploads(paths: Sequence[str]) -> str:
    """Copy uploaded files (gradio temp files) into one fresh folder so they scan as one root
    (removed with the session, or at once if copying fails)."""
    folder = tempdirs.new_dir("upload")
    try:
        for n, p in enumerate(paths):
            shutil.copyfile(p, os.path.join(folder, f"{n:05d}_{os.path.basename(p)}"))
    except BaseException:
        tempdirs.remove_dir(folder)
        raise
    return folder


class Canceller:
    """A cancel flag a Cancel button sets and the engine polls between batches."""

    def __init__(self):
        self._event = threading.Event()

    def reset(self) -> None:
        self._event.clear()

    def cancel(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


def run_session(folders: Sequence[str], options: Options, *, uploaded: bool = False, cache_path: Any = None,
                detect: tuple[str, ...] = (), progress: Progress | None = None,
                should_stop: Callable[[], bool] | None = None) -> FilterSession:
    """Scan and score ``folders`` into a :class:`FilterSession` (raises ScanError for bad folders)."""
    # threads, not processes: inside A1111 a spawned process would re-import the webui main module
    found, res = score_folders(list(folders), options, RunConfig(detect=detect, pool="threads"), cache_path=cache_path,
                               progress=progress, should_stop=should_stop)
    roots = [str(Path(f).resolve()) for f in folders]
    return FilterSession(res, roots, uploaded, group_bursts(res.records), skipped=found.skipped)
