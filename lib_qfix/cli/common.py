"""Pieces shared by the ``qfix`` subcommands: option resolution from the command line (``--preset``
takes a preset name or a preset file), the image loop with a progress bar, JSON output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lib_qfix.cli import UsageError
from lib_qfix.diagnose import error_report
from lib_qfix.errors import error_text
from lib_qfix.fileio import atomic_write_text
from lib_qfix.imageio import ImageLoadError, find_images, load_image
from lib_qfix.options import OptionError, Options, choices_help, validate
from lib_qfix.presets import PresetError, read_file, resolve_options

PRESET_HELP = "preset name, or a preset file (a path with '/' or ending in .json); default: 'default'"


def add_option_args(p, scorer: bool = True, per_image: bool = True) -> None:
    """The option arguments every command shares: --preset, --scorer, --set KEY=VALUE (repeatable);
    with ``per_image`` also --prompt and --no-progress. Read back with :func:`resolve_cli_options`."""
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    if scorer:
        p.add_argument("--scorer", default=None, help="scorer: " + choices_help("scorer"))
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set any option (see `qfix schema`), e.g. --set hand_confidence=0.6")
    if per_image:
        p.add_argument("--prompt", default="", help="the generation prompt, if known (text allowed, prompt match)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` items as a dict (values are coerced by the options schema later)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r} is not allowed; allowed: KEY=VALUE (see `qfix schema`)")
        out[key.strip()] = value.strip()
    return out


def is_preset_file(value: str) -> bool:
    """A ``--preset`` value naming a file: it has a path separator or ends in ``.json``."""
    seps = [os.sep] + ([os.altsep] if os.altsep else [])
    return any(sep in value for sep in seps) or value.lower().endswith(".json")


def resolve_preset_options(preset: str | None, explicit: dict[str, Any]) -> Options:
    """Options = defaults < preset (a name, or a preset file on the command line) < ``explicit``.
    Raises :class:`UsageError` naming ``--preset`` or the bad option. (The HTTP API still takes
    names only: a path there would read any file of the server.)"""
    name = preset or "default"
    try:
        if not is_preset_file(name):
            return resolve_options(name, explicit)
        try:
            doc = read_file(name)
        except PresetError as e:
            raise UsageError(f"--preset {name}: {e}") from None
        explicit = {k: v for k, v in explicit.items() if k != "preset"}
        # recorded as the file's name (e.g. in infotext): a path may be long or private
        recorded = Path(name).name[:64]
        return validate({**explicit, "preset": recorded}, base=validate(doc["options"]), source="options")
    except (OptionError, PresetError) as e:
        raise UsageError(str(e)) from None


def resolve_cli_options(args, **extra: Any) -> Options:
    """Options from --preset, --scorer and --set (defaults < preset < explicit)."""
    explicit = parse_sets(getattr(args, "sets", []))
    if getattr(args, "scorer", None):
        explicit["scorer"] = args.scorer
    explicit.update(extra)
    return resolve_preset_options(args.preset, explicit)


def collect_entries(paths: list[str], command: str) -> list[tuple[Path, str]]:
    """(image path, name relative to the argument it came from) for every image, found the way
    ``qfix filter`` finds them (:func:`lib_qfix.imageio.walk_images`: symlinks inside folders are
    skipped, a file named directly is used); each skipped path is one line ``qfix COMMAND: skipped
    PATH: why`` on stderr. UsageError for a missing path or when no image is found."""
    try:
        found = find_images(paths)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    for path, why in found.skipped:
        print(f"qfix {command}: skipped {path}: {why}", file=sys.stderr)
    if not found.entries:
        raise UsageError("no image files found in " + ", ".join(paths))
    return found.entries


def collect_paths(paths: list[str], command: str) -> list[Path]:
    """The paths of :func:`collect_entries`."""
    return [p for p, _ in collect_entries(paths, command)]


def unique_names(entries: list[tuple[Path, str]], suffix: str) -> dict[Path, str]:
    """An output name per image: its relative name plus ``suffix`` (``sub/a.jpg`` ->
    ``sub/a.jpg.overlay.jpg``); a name that two arguments share gets ``-2``, ``-3``… before the
    suffix, so no two images ever write to one file."""
    taken: set[str] = set()
    out: dict[Path, str] = {}
    for path, rel in entries:
        name, n = rel + suffix, 1
        while name.lower() in taken:  # case-insensitive: safe on any file system
            n += 1
            name = f"{rel}-{n}{suffix}"
        taken.add(name.lower())
        out[path] = name
    return out


def progress(items: list[Path], args, desc: str) -> Iterator[Path]:
    """Items with a tqdm progress bar on stderr (only for more than one item and unless
    --no-progress)."""
    if len(items) <= 1 or getattr(args, "no_progress", False):
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, unit="img", file=sys.stderr, dynamic_ncols=True)


def each_image(paths: list[Path], args, desc: str,
               loader: Callable[[Path], np.ndarray] | None = None) -> Iterator[tuple[Path, np.ndarray | None, str | None]]:
    """(path, image, error) for every path, read by ``loader`` (default :func:`load_image`);
    unreadable files give (path, None, message): any exception while reading one file is that
    file's error, the batch goes on."""
    for path in progress(paths, args, desc):
        try:
            image = (loader or load_image)(path)
        except ImageLoadError as e:
            yield path, None, str(e)
        except Exception as e:  # never lose the batch to one file
            yield path, None, f"{path}: cannot read image ({error_text(e)})"
        else:
            yield path, image, None


def write_json(data: Any, target: str | None) -> None:
    """Write JSON to a file (atomically) or to stdout for ``-``."""
    text = json.dumps(data, indent=2)
    if target in (None, "-"):
        print(text)
        return

    atomic_write_text(target, text + "\n")


def run_reports(paths: list[Path], args, desc: str, make: Callable[[np.ndarray, Path], Any],
                on_each: Callable[[Any, np.ndarray | None], None] | None = None,
                loader: Callable[[Path], np.ndarray] | None = None) -> tuple[list[Any], int]:
    """Apply ``make(image, path) -> ImageReport`` to every image; returns (reports, n_failed).

    ``on_each(report, image)`` sees each result while its image is still in memory (``image`` is
    None for failures). Errors while reading or processing one image become that image's
    ``error``; the batch goes on.
    """
    reports, failed = [], 0
    for path, image, err in each_image(paths, args, desc, loader):
        report = None
        if err is None:
            try:
                report = make(image, path)
            except Exception as e:  # one bad image never ends the batch
                err = f"{path}: {error_text(e)}"
        failed += record(reports, str(path), report, image, err, on_each)
    return reports, failed


def record(reports: list[Any], path: str, report: Any, image: np.ndarray | None, err: str | None,
           on_each: Callable[[Any, np.ndarray | None], None] | None) -> bool:
    """Append ``report``, or for None the error report of ``err``, and show it to ``on_each`` (with
    ``image``, None for a failure). True when the image failed."""
    failed = report is None
    if failed:
        report, image = error_report(path, err or "failed"), None
    reports.append(report)
    if on_each is not None:
        on_each(report, image)
    return failed
