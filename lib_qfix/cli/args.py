"""Checking command-line values before any work starts.

:func:`number` is the one argparse ``type=`` for every numeric flag: it refuses what is not a
number, NaN and infinities, and values outside the flag's range, with a message that names the
value and the allowed range (argparse adds the flag): ``qfix: error: --burst-distance: '99' is not
allowed; allowed: an integer from 0 to 64``. :func:`check_output_file` and :func:`check_output_dir`
refuse output paths that cannot be written, so a run never computes everything and then fails.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

from lib_qfix.cli import UsageError
from lib_qfix.fileio import unwritable_reason


def _bound(v: float, open_: bool) -> str:
    return f"{'below ' if open_ else ''}{v:g}"


def describe(kind: type, lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False) -> str:
    """``"an integer from 0 to 64"``, ``"a number > 0"``, … (what :func:`number` allows)."""
    what = "an integer" if kind is int else "a number"
    if lo is not None and hi is not None:
        return f"{what} from {'above ' if lo_open else ''}{lo:g} to {_bound(hi, hi_open)}"
    if lo is not None:
        return f"{what} {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{what} {'<' if hi_open else '<='} {hi:g}"
    return what


def number(kind: type = float, lo: float | None = None, hi: float | None = None, *,
           lo_open: bool = False, hi_open: bool = False) -> Callable[[str], int | float]:
    """An argparse ``type`` parsing ``kind`` (int or float) within [lo, hi] (an end is excluded when
    ``lo_open``/``hi_open``; None: unbounded). Floats must be finite."""
    allowed = describe(kind, lo, hi, lo_open, hi_open)

    def parse(text: str) -> int | float:
        try:
            value = int(text, 10) if kind is int else float(text)
        except ValueError:
            value = None
        if (value is None or (kind is float and not math.isfinite(value))
                or (lo is not None and (value < lo or (lo_open and value == lo)))
                or (hi is not None and (value > hi or (hi_open and value == hi)))):
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: {allowed}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _writable_place(flag: str, shown: str, folder: Path) -> None:
    """``folder`` exists as a writable folder, or can be created under one."""
    why = unwritable_reason(folder)
    if why:
        raise UsageError(f"{flag} {shown}: {why}; allowed: a path in a writable folder")


def check_output_file(flag: str, path: str | None, stdout_ok: bool = False) -> None:
    """Refuse (:class:`UsageError`) an output file that cannot be written; ``-`` is stdout when
    ``stdout_ok``."""
    if path is None or (stdout_ok and path == "-"):
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; allowed: a file path")
    if p.exists() and not os.access(p, os.W_OK):
        raise UsageError(f"{flag} {path}: is not writable; allowed: a writable file")
    _writable_place(flag, path, p.parent)


def check_output_dir(flag: str, path: str | None) -> None:
    """Refuse (:class:`UsageError`) an output folder that is a file or cannot be created/written."""
    if path is None:
        return
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {path}: is not a folder; allowed: a folder that can be created")
    _writable_place(flag, path, p)


def write_or_report(flag: str, target: str, write: Callable[[], object]) -> bool:
    """Run ``write()``; on an OS error print one ``qfix: error:`` line naming ``flag`` and return
    False (the caller reports a failed run, everything else it has is still printed/written)."""
    import sys

    try:
        write()
        return True
    except OSError as e:
        print(f"qfix: error: {flag} {target}: cannot write ({e.strerror or e})", file=sys.stderr)
        return False
