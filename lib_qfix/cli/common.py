"""Pieces shared by the ``qfix`` subcommands: option resolution from the command line,
the image loop with a progress bar, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lib_qfix.cli import UsageError
from lib_qfix.imageio import ImageLoadError, iter_image_paths, load_image
from lib_qfix.options import OptionError


def add_option_args(p, scorer: bool = True) -> None:
    """--preset, --scorer, --set KEY=VALUE (repeatable), --prompt."""
    p.add_argument("--preset", default=None, help="preset name or preset file (default: 'default')")
    if scorer:
        p.add_argument("--scorer", default=None, help="scorer: offline (default), clip-iqa, clip-iqa+learned")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set any option (see `qfix schema`), e.g. --set hand_confidence=0.6")
    p.add_argument("--prompt", default="", help="the generation prompt, if known (text allowed, prompt match)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def resolve_cli_options(args, **extra: Any) -> Any:
    """Options from --preset, --scorer and --set (defaults < preset < explicit)."""
    from lib_qfix.presets import PresetError, resolve_options

    explicit = parse_sets(getattr(args, "sets", []))
    if getattr(args, "scorer", None):
        explicit["scorer"] = args.scorer
    explicit.update(extra)
    try:
        return resolve_options(args.preset or "default", explicit)
    except (OptionError, PresetError) as e:
        raise UsageError(str(e)) from None


def collect_paths(paths: list[str]) -> list[Path]:
    try:
        found = iter_image_paths(paths)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    if not found:
        raise UsageError("no image files found in " + ", ".join(paths))
    return found


def progress(items: list[Path], args, desc: str) -> Iterator[Path]:
    """Items with a tqdm progress bar on stderr (only for more than one item and unless
    --no-progress)."""
    if len(items) <= 1 or getattr(args, "no_progress", False):
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, unit="img", file=sys.stderr, dynamic_ncols=True)


def each_image(paths: list[Path], args, desc: str) -> Iterator[tuple[Path, np.ndarray | None, str | None]]:
    """(path, image, error) for every path; unreadable files give (path, None, message)."""
    for path in progress(paths, args, desc):
        try:
            yield path, load_image(path), None
        except ImageLoadError as e:
            yield path, None, str(e)


def write_json(data: Any, target: str | None) -> None:
    """Write JSON to a file (atomically) or to stdout for ``-``."""
    text = json.dumps(data, indent=2)
    if target in (None, "-"):
        print(text)
        return
    from lib_qfix.fileio import atomic_write_text

    atomic_write_text(target, text + "\n")


def run_reports(paths: list[Path], args, desc: str, make: Callable[[np.ndarray, Path], Any],
                on_each: Callable[[Any, np.ndarray | None], None] | None = None) -> tuple[list[Any], int]:
    """Apply ``make(image, path) -> ImageReport`` to every image; returns (reports, n_failed).

    ``on_each(report, image)`` sees each result while its image is still in memory (``image`` is
    None for failures). Errors while reading or processing one image become that image's
    ``error``; the batch goes on.
    """
    from lib_qfix.diagnose import error_report

    reports, failed = [], 0
    for path, image, err in each_image(paths, args, desc):
        report = None
        if err is None:
            try:
                report = make(image, path)
            except Exception as e:  # one bad image never ends the batch
                err = f"{path}: {type(e).__name__}: {e}"
        if report is None:
            failed += 1
            report, image = error_report(str(path), err), None
        reports.append(report)
        if on_each is not None:
            on_each(report, image)
    return reports, failed
