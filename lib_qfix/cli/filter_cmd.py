"""``qfix filter DIR…``: rank images by quality, keep or reject them, write CSV/JSON/HTML, and
(only when asked) move rejects or copy keeps with a manifest that ``--undo`` reverses.

Exit codes: 0 all images scored, 1 some images could not be read (reported, skipped), a file
could not be moved, or the report or the cache could not be written (what was computed is still
written/reported), 2 bad usage (missing folder, no images, bad option or number, unusable output,
destination or cache), 130 interrupted (partial report written).
"""

from __future__ import annotations

import sys
import time

from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED, UsageError
from lib_qfix.cli.args import check_output_dir, number, write_or_report
from lib_qfix.cli.common import add_option_args, resolve_cli_options
from lib_qfix.cli.filter_files import apply_actions, check_destinations, undo
from lib_qfix.cli.judge_support import add_judge_args, configure_judge, print_summary
from lib_qfix.filter import pipeline
from lib_qfix.filter.bursts import MAX_DISTANCE
from lib_qfix.filter.cache import CacheError, default_cache_path
from lib_qfix.filter.decide import DecideError, check_threshold, parse_keep_top
from lib_qfix.filter.decode import WORK_SIDE
from lib_qfix.filter.job import RunConfig, check_detect
from lib_qfix.filter.records import ERROR, KEEP, REJECT, count_status
from lib_qfix.filter.scan import ScanError
from lib_qfix.imageio import MAX_PIXELS
from lib_qfix.options import DETECT_CHOICES


def register(sub) -> None:
    p = sub.add_parser("filter", help="rank a folder of images by quality and keep/reject them",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="*", metavar="DIR", help="folders of images (searched recursively)")
    p.add_argument("--undo", metavar="MANIFEST", help="reverse the moves/copies recorded in MANIFEST")
    p.add_argument("--out", default="qfix-filter", help="folder for decisions.csv/.json and report.html")
    g = p.add_argument_group("decision")
    g.add_argument("--threshold", type=number(float, 0, 1), help="keep images with quality >= this (0..1; default: "
                   "the preset's quality_threshold)")
    g.add_argument("--keep-top", metavar="N|P%", help="keep the best N images or the best P percent")
    g.add_argument("--best-of-burst", action="store_true", help="keep at most the best image of each "
                   "near-duplicate burst")
    g.add_argument("--burst-distance", type=number(int, 0, 64), default=MAX_DISTANCE, help="max differing bits of "
                   f"the 64-bit perceptual hash for two shots to be one burst (0..64, default {MAX_DISTANCE})")
    g.add_argument("--burst-seconds", type=number(float, 0), help="also require shots of a burst to be at "
                   "most this many seconds apart (file modification time; >= 0)")
    s = p.add_argument_group("scoring")
    add_option_args(s, per_image=False)
    add_judge_args(p)
    s.add_argument("--detect", default="", help=f"detectors to run, comma-separated: {','.join(DETECT_CHOICES)} "
                   "(default none: the score alone)")
    s.add_argument("--work-size", type=number(int, 0, 100_000), default=WORK_SIDE, help="long side in pixels "
                   f"images are scored at (0 = full size; default {WORK_SIDE})")
    s.add_argument("--max-pixels", type=number(int, 1), default=MAX_PIXELS, help="skip images with more pixels")
    s.add_argument("--batch-size", type=number(int, 1, 4096), default=16, help="images per scorer call "
                   "(1..4096, default 16)")
    s.add_argument("--workers", type=number(int, 0, 1024), default=0, help="decode threads (0 = one per CPU)")
    e = p.add_argument_group("engine and cache")
    e.add_argument("--engine", choices=("local", "ray"), default="local")
    e.add_argument("--ray-address", help="address of an existing Ray cluster (default: start a local one)")
    e.add_argument("--ray-actors", type=number(int, 0, 1024), default=0, help="scorer actors (0 = one per CPU)")
    e.add_argument("--cache", help="score cache file (default ~/.cache/qfix/filter-cache.sqlite)")
    e.add_argument("--no-cache", action="store_true", help="score everything, read and write no cache")
    e.add_argument("--verify-cache", action="store_true", help="re-hash every file instead of trusting "
                   "an unchanged size/mtime/inode")
    e.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    a = p.add_argument_group("actions (files are never deleted)")
    a.add_argument("--move-rejects-to", metavar="DIR", help="move rejected images here (relative paths kept)")
    a.add_argument("--copy-keeps-to", metavar="DIR", help="copy kept images here (relative paths kept)")
    a.add_argument("--manifest", help="manifest path (default OUT/manifest-<time>.jsonl)")
    p.set_defaults(func=run)


def _progress(enabled: bool):
    """(update callback, holder of the tqdm bar); the bar starts at the first update, when the
    total is known, and shows the rate and the ETA on stderr."""
    holder: list = []
    if not enabled:
        return None, holder
    from tqdm import tqdm

    def update(done: int, total: int, cached: int) -> None:
        if not holder:
            holder.append(tqdm(total=total, unit="img", file=sys.stderr, dynamic_ncols=True, smoothing=0.1))
        bar = holder[0]
        bar.set_postfix(cached=cached, refresh=False)
        bar.update(done - bar.n)

    return update, holder


def run(args) -> int:
    if args.undo:
        if args.folders:
            raise UsageError("--undo takes a manifest and no folders")
        return undo(args)
    if not args.folders:
        raise UsageError("give at least one folder of images (qfix filter DIR…)")
    options = resolve_cli_options(args)
    judged = configure_judge(args, options)
    try:
        threshold = check_threshold(args.threshold if args.threshold is not None else options.quality_threshold)
        parse_keep_top(args.keep_top)
        detect = check_detect(args.detect.split(","))
    except (DecideError, ValueError) as e:
        raise UsageError(str(e)) from None
    if args.keep_top and args.threshold is not None:
        raise UsageError("--threshold and --keep-top are exclusive; choose one")
    check_output_dir("--out", args.out)
    check_destinations(args)
    cfg = RunConfig(work_side=args.work_size, max_pixels=args.max_pixels, batch_size=args.batch_size,
                    workers=args.workers, verify=args.verify_cache, detect=detect)
    cache_path = None if args.no_cache else (args.cache or default_cache_path())
    exclude = [x for x in (args.move_rejects_to, args.copy_keeps_to, args.out) if x]
    update, bar = _progress(not args.no_progress)
    ray_kwargs = {"address": args.ray_address, "actors": args.ray_actors} if args.engine == "ray" else None
    t0 = time.perf_counter()
    try:
        found, result = pipeline.score_folders(args.folders, options, cfg, cache_path=cache_path,
                                               engine=args.engine, exclude=exclude, progress=update,
                                               ray_kwargs=ray_kwargs)
    except ScanError as e:
        raise UsageError(str(e)) from None
    except CacheError as e:
        raise UsageError(f"--cache {e}") from None
    finally:
        for b in bar:
            b.close()
        if judged:
            print_summary()
    elapsed = time.perf_counter() - t0
    decisions = pipeline.make_decisions(result, threshold, args.keep_top, args.best_of_burst,
                                        args.burst_distance, args.burst_seconds)
    meta = {"scorer": options.scorer, "quality_threshold": None if args.keep_top else threshold,
            "keep_top": args.keep_top, "engine": args.engine, "seconds": round(elapsed, 2),
            "scored": result.scored, "cached": result.cached, "interrupted": result.interrupted,
            "not_processed": len(found.items) - len(result.records)}
    paths: dict[str, str] = {}
    written = write_or_report("--out", args.out, lambda: paths.update(
        pipeline.write_outputs(decisions, args.out, None if args.keep_top else threshold, **meta)))
    for path, why in found.skipped:
        print(f"qfix filter: skipped {path}: {why}", file=sys.stderr)
    for w in result.warnings:
        if w != result.cache_error:
            print(f"qfix filter: warning: {w}", file=sys.stderr)
    for d in decisions:
        if d.status == ERROR:
            print(f"qfix filter: {d.reasons[0]}", file=sys.stderr)
    counts = count_status(decisions)
    keep, rej, err = counts[KEEP], counts[REJECT], counts[ERROR]
    rate = len(result.records) / elapsed if elapsed > 0 else 0.0
    print(f"{len(decisions)} images: {keep} keep, {rej} reject, {err} unreadable "
          f"({result.cached} from cache, {rate:.0f} img/s)")
    if written:
        print(f"report: {paths['html']}\ncsv: {paths['csv']}\njson: {paths['json']}")
    if result.cache_error:
        print(f"qfix: error: --cache {result.cache_error}", file=sys.stderr)
    if result.interrupted:
        print(f"qfix filter: interrupted after {len(result.records)} of {len(found.items)} images; "
              "the report is partial and no files were moved", file=sys.stderr)
        return 130
    if not written:
        print("qfix filter: no files were moved or copied (the report could not be written)", file=sys.stderr)
        return EXIT_SOME_FAILED
    failed = bool(err or result.cache_error)
    if args.move_rejects_to or args.copy_keeps_to:
        failed = apply_actions(args, decisions) != EXIT_OK or failed
    return EXIT_SOME_FAILED if failed else EXIT_OK
