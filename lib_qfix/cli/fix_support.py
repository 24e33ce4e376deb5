"""The pieces of ``qfix fix`` that are not the run itself: which files, where their results go, the
job every worker gets from the flags, and the progress bar.

Images are found with the walker every command uses (:func:`lib_qfix.imageio.walk_images`), the
``--out`` folder left out when it lies inside a given folder. A result is ``OUT/<relative path with
.png>``; two images that would share a name get ``-2``, ``-3``… (:func:`lib_qfix.cli.common.unique_names`).
A result that would land on any source image is refused before anything runs.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath
from typing import Any

from lib_qfix.cli import UsageError
from lib_qfix.cli.common import unique_names
from lib_qfix.fixrun.records import FixTask, file_key
from lib_qfix.imageio import Found, find_images
from lib_qfix.options import Options

RESULT_SUFFIX = ".png"


def find_sources(paths: list[str], out: str) -> Found:
    """Files named directly, and the images in the folders named (``out`` excluded). UsageError for a
    path that does not exist or when no image is found."""
    try:  # folders resolved, so that the output folder is recognised however it was named
        found = find_images([Path(raw).resolve() if Path(raw).is_dir() else raw for raw in paths],
                            [Path(out).resolve()])
    except FileNotFoundError:
        raise UsageError(f"{next(raw for raw in paths if not Path(raw).exists())}: no such file or folder") from None
    found.entries = [(path.resolve(), name) for path, name in found.entries]
    if not found.entries:
        raise UsageError("no image files found in " + ", ".join(paths))
    return found


def collect_tasks(paths: list[str], out: str) -> tuple[list[FixTask], list[tuple[str, str]]]:
    """(one task per image, in walk order; (path, why) of what was skipped)."""
    found = find_sources(paths, out)
    entries, seen = [], set()
    for path, rel in found.entries:
        if str(path) not in seen:  # a file named twice, or under two given folders, is fixed once
            seen.add(str(path))
            entries.append((path, str(PurePosixPath(rel).with_suffix(""))))
    names = unique_names(entries, RESULT_SUFFIX)
    root = Path(out).resolve()
    sources = {str(p) for p, _ in entries}
    tasks = []
    for path, rel in entries:
        dst = root / names[path]
        if str(dst) in sources:
            raise UsageError(f"--out {out}: the result {dst} would replace a source image; originals are never "
                             "overwritten; allowed: a folder without the source images")
        try:
            key = file_key(path)
        except OSError as e:
            raise UsageError(f"{path}: cannot read ({e.strerror or e})") from None
        tasks.append(FixTask(str(path), rel + Path(path).suffix, str(dst), key))
    return tasks, found.skipped


def parse_controlnets(items: list[str]) -> tuple[tuple[str, str], ...]:
    """``--controlnet KIND=MODEL`` items as (name, model) pairs, in order, one per name."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, model = item.partition("=")
        if not sep or not name.strip() or not model.strip():
            raise UsageError(f"--controlnet {item!r} is not allowed; allowed: KIND=MODEL, e.g. "
                             "openpose=/models/control_v11p_sd15_openpose")
        out[name.strip().lower()] = model.strip()
    return tuple(out.items())


def build_job(args: Any, options: Options, baseline: Options) -> Any:
    """The :class:`~lib_qfix.diffusers_host.job.FixJob` of the flags (imports diffusers)."""
    from lib_qfix.diffusers_host.device import DeviceConfig
    from lib_qfix.diffusers_host.job import FixJob, Overrides

    over = Overrides(args.prompt or None, args.negative, args.seed, args.steps, args.cfg_scale, args.sampler,
                     args.schedule)
    dev = DeviceConfig(args.device, args.dtype, args.attention_slicing, args.cpu_offload, args.threads)
    return FixJob(args.model, options, baseline, dev, args.model_config, parse_controlnets(args.controlnet), over,
                  args.only_changed)


def progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar on stderr for ``total`` images (None when off or for a single image)."""
    if not enabled or total <= 1:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="img", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
