"""``qfix fix PATH… --model MODEL [--out DIR]``: diagnose and fix images with a diffusers pipeline,
outside A1111.

Each image's prompt, negative, seed, steps, CFG scale and sampler come from the A1111 parameters
stored in it, or from the flags (a flag wins). Results are written as PNG into ``--out`` (relative
paths kept, ``.png``), with the image's own parameters plus QFix's keys, so A1111's PNG Info and
paste-back read them; originals are never written. ``--out`` also gets ``report.html`` (before and
after, what was found and done, the scores), ``results.json`` and the resume log: a run that was
interrupted or crashed is started again with the same command and goes on where it stopped.
``--engine ray`` spreads the images over Ray actors, one pipeline each (one per GPU).

Exit codes: 0 every image processed, 1 some images failed, 2 bad usage (missing diffusers, a model
that does not load, bad flags), 130 interrupted (what finished is written and logged).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED, UsageError
from lib_qfix.cli.args import check_output_dir, number, write_or_report
from lib_qfix.cli.common import add_option_args, resolve_cli_options, resolve_preset_options
from lib_qfix.cli.fix_support import build_job, collect_tasks, parse_controlnets, progress_bar
from lib_qfix.cli.judge_support import add_judge_args, configure_judge, print_summary
from lib_qfix.diffusers_host import missing
from lib_qfix.filter.manifest import ActionError
from lib_qfix.fixrun import engine as engines
from lib_qfix.fixrun.records import ERROR, FIXED, UNCHANGED, FixRecord, count
from lib_qfix.fixrun.report import write_outputs
from lib_qfix.fixrun.resume import NAME, ResumeLog, fingerprint
from lib_qfix.options import DEFAULTS, choices_help

DEFAULT_OUT = "qfix-fixed"


def register(sub: Any) -> None:
    p = sub.add_parser("fix", help="fix images with a diffusers model (no A1111 needed)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (searched recursively)")
    p.add_argument("--model", required=True, help="a diffusers folder, a .safetensors/.ckpt checkpoint, or a "
                   "Hugging Face hub id (online only)")
    p.add_argument("--model-config", metavar="FOLDER", help="for a single-file checkpoint offline: a diffusers "
                   "folder of the same architecture (its configuration is used)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the results, report and resume log "
                   f"(default {DEFAULT_OUT})")
    p.add_argument("--only-changed", action="store_true", help="write only the images that were fixed")
    p.add_argument("--restart", action="store_true", help="ignore the resume log: fix every image again")
    p.add_argument("--controlnet", action="append", default=[], metavar="KIND=MODEL", help="a ControlNet "
                   "model for QFix's units (openpose, inpaint, tile, depth), e.g. openpose=/models/cn-openpose; "
                   "repeatable")
    g = p.add_argument_group("generation (default: the A1111 parameters stored in each image)")
    add_option_args(g)  # --preset --scorer --set --prompt --no-progress
    add_judge_args(p)
    g.add_argument("--negative", default=None, help="negative prompt")
    g.add_argument("--seed", type=number(int, 0, 2**64 - 1), default=None, help="seed (default: the image's, else 0)")
    g.add_argument("--steps", type=number(int, 1, 150), default=None, help="sampling steps (default: the "
                   "image's, else 20)")
    g.add_argument("--cfg-scale", type=number(float, 0, 30), default=None, help="CFG scale (default: the "
                   "image's, else 7)")
    g.add_argument("--sampler", default=None, help="A1111 sampler name, e.g. 'DPM++ 2M' (default: the image's)")
    g.add_argument("--schedule", default=None, help="A1111 schedule type, e.g. Karras (default: the image's)")
    d = p.add_argument_group("device")
    d.add_argument("--device", default=DEFAULTS.device, help=f"{choices_help('device')} or cuda:N (auto: CUDA "
                   "float16, then MPS, then CPU float32)")
    d.add_argument("--dtype", default="auto", help="auto, float16, bfloat16 or float32")
    d.add_argument("--attention-slicing", action="store_true", help="less GPU memory, a little slower")
    d.add_argument("--cpu-offload", action="store_true", help="keep only the working model on the GPU "
                   "(CUDA; needs accelerate)")
    d.add_argument("--threads", type=number(int, 0, 1024), default=0, help="CPU threads for torch (0 = default)")
    e = p.add_argument_group("engine")
    e.add_argument("--engine", choices=engines.ENGINES, default="local")
    e.add_argument("--ray-address", help="address of an existing Ray cluster (default: start a local one)")
    e.add_argument("--ray-actors", type=number(int, 0, 1024), default=0, help="pipelines (actors); 0 = one per "
                   "GPU, else one per CPU")
    p.set_defaults(func=run)


def _summary(records: list[FixRecord], resumed: int, elapsed: float, new: int) -> str:
    c = count(records)
    rate = f"{elapsed / new:.1f} s/img" if new else "nothing new"
    return (f"{len(records)} images: {c[FIXED]} fixed, {c[UNCHANGED]} unchanged, {c[ERROR]} failed "
            f"({resumed} resumed, {rate})")


def run(args: Any) -> int:
    why = missing()
    if why:
        raise UsageError(why)
    if args.engine == "ray" and importlib.util.find_spec("ray") is None:
        raise UsageError("--engine ray: ray is not installed; pip install 'ray[data]'")
    options = resolve_cli_options(args, enable=True)
    baseline = resolve_preset_options(args.preset, {})
    judged = configure_judge(args, options)
    check_output_dir("--out", args.out)
    parse_controlnets(args.controlnet)  # bad flags fail before the model loads
    tasks, skipped = collect_tasks(args.paths, args.out)
    job = build_job(args, options, baseline)
    log_path = Path(args.out) / NAME
    if args.restart and log_path.exists():
        shutil.move(str(log_path), str(log_path) + f".{time.strftime('%Y%m%d-%H%M%S')}.old")
    try:
        log = ResumeLog(log_path, fingerprint(job.settings()))
    except ActionError as e:
        raise UsageError(f"--out {e}") from None
    done = {t.path: log.finished(t) for t in tasks}
    todo = [t for t in tasks if done[t.path] is None]
    records: dict[str, FixRecord] = {p: r for p, r in done.items() if r is not None}
    bar = progress_bar(len(todo), not args.no_progress)

    def on_record(rec: FixRecord) -> None:
        log.add(rec)
        records[rec.path] = rec
        if bar is not None:
            bar.update(1)

    t0 = time.perf_counter()
    broken = ""
    try:
        if args.engine == "ray":
            complete = engines.run_ray(todo, job, on_record, address=args.ray_address, actors=args.ray_actors)
        else:  # the model loads before any file is written: a bad --model leaves nothing behind
            complete = engines.run_local(todo, job, on_record, worker=_build(job) if todo else None)
    except engines.EngineError as e:  # no worker could be built, or every one died
        broken, complete = str(e), True
    finally:
        if bar is not None:
            bar.close()
        log.close()
        if judged:
            print_summary()
    return _finish(args, tasks, records, skipped, len(tasks) - len(todo), time.perf_counter() - t0, complete, broken)


def _finish(args: Any, tasks: list[Any], records: dict[str, FixRecord], skipped: list[tuple[str, str]],
            resumed: int, elapsed: float, complete: bool, broken: str) -> int:
    """Write the report and the JSON, print what happened, return the exit code."""
    ordered = [records[t.path] for t in tasks if t.path in records]
    meta = {"model": args.model, "engine": args.engine, "seconds": round(elapsed, 2), "resumed": resumed,
            "not_processed": len(tasks) - len(ordered)}
    paths: dict[str, str] = {}
    written = write_or_report("--out", args.out, lambda: paths.update(write_outputs(ordered, args.out, meta)))
    for path, why in skipped:
        print(f"qfix fix: skipped {path}: {why}", file=sys.stderr)
    for r in ordered:
        if r.error:
            print(f"qfix fix: {r.rel}: {r.error}", file=sys.stderr)
    print(_summary(ordered, resumed, elapsed, len(ordered) - resumed))
    if written:
        print(f"results: {args.out}\nreport: {paths['html']}\njson: {paths['json']}")
    if broken:
        print(f"qfix: error: {broken}", file=sys.stderr)
        return EXIT_SOME_FAILED
    if not complete:
        print(f"qfix fix: stopped after {len(ordered)} of {len(tasks)} images; run the same command again to "
              "go on", file=sys.stderr)
        return 130
    failed = any(r.status == ERROR or r.error for r in ordered)
    return EXIT_SOME_FAILED if failed or not written else EXIT_OK


def _build(job: Any) -> Any:
    """The local worker; a model or device that cannot be used is a usage error (exit 2)."""
    from lib_qfix.diffusers_host.device import DeviceError
    from lib_qfix.diffusers_host.loading import LoadError

    try:
        return job.build()
    except (LoadError, DeviceError) as e:
        raise UsageError(str(e)) from None
