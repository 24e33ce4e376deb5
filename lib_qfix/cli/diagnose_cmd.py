"""``qfix diagnose PATH… [--json FILE] [--html FILE] [--overlays DIR] [--preset NAME|FILE]``:
score, detect and judge every image; suggest a weighted negative.

Overlays keep each image's path relative to the argument it came from, plus ``.overlay.jpg``
(``DIR/sub/a.jpg.overlay.jpg``), so ``a.jpg`` and ``a.png``, or two folders' ``x.jpg``, never share a
file (a name two arguments share gets ``-2``, ``-3``…).

Large photos are read at ``--work-size`` (long side, default 1024 px; JPEGs in draft mode) and every
scorer and detector runs once on that copy; the reports give sizes and boxes in the original's
pixels, overlays and HTML cards show the working copy.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from lib_qfix import diagnose as diagnosis  # the module: a test may swap its diagnose while a command loads
from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED
from lib_qfix.cli.args import check_output_dir, check_output_file, number, write_or_report
from lib_qfix.cli.common import (
    add_option_args,
    collect_entries,
    resolve_cli_options,
    run_reports,
    unique_names,
    write_json,
)
from lib_qfix.cli.judge_support import add_judge_args, configure_judge, print_summary, prompt_for, run_judged
from lib_qfix.fileio import atomic_write_bytes
from lib_qfix.imageio import WORK_SIDE, load_working
from lib_qfix.judge.verdicts import judge_findings, rating_text
from lib_qfix.report.html import make_card, write_report
from lib_qfix.report.overlay import draw_regions
from lib_qfix.working import regions_at, report_at

OVERLAY_SUFFIX = ".overlay.jpg"


def register(sub) -> None:
    p = sub.add_parser("diagnose", help="score and diagnose images (faces, hands, text, global defects)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--json", metavar="FILE", help="write the reports as JSON ('-' for stdout)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--overlays", metavar="DIR", help="write each image with its regions drawn "
                   "(DIR/<relative path>.overlay.jpg)")
    p.add_argument("--work-size", type=number(int, 0, 100_000), default=WORK_SIDE,
                   help=f"long side in pixels large images are diagnosed at (0 = full size; default {WORK_SIDE})")
    add_option_args(p)
    add_judge_args(p)
    p.set_defaults(func=run)


def _summary_line(report) -> str:
    if report.error:
        return f"{report.path}: ERROR {report.error}"
    found = ", ".join(f"{r.kind}({'/'.join(r.defects) or 'defect'})" for r in report.defects) or "ok"
    rating = rating_text(report.signals)  # the LLM judge's, with its findings on the lines below
    judged = f" judge: {rating}" if rating else ""
    lines = [f"  judge: {line}" for line in judge_findings(report.regions)]
    return "\n".join([f"{report.path}: quality {report.quality:.2f} [{report.scorer}] {found}{judged}", *lines])


def save_overlay(image, regions, target: Path) -> None:
    """Write ``image`` with ``regions`` drawn to ``target`` (JPEG, atomically)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(draw_regions(image, regions)).save(buf, "JPEG", quality=90)
    atomic_write_bytes(target, buf.getvalue())


def run(args) -> int:
    options = resolve_cli_options(args)
    judged = configure_judge(args, options)
    check_output_file("--json", args.json, stdout_ok=True)
    check_output_file("--html", args.html)
    check_output_dir("--overlays", args.overlays)
    entries = collect_entries(args.paths, "diagnose")
    names = unique_names(entries, OVERLAY_SUFFIX)
    cards = []
    overlay_dir = Path(args.overlays) if args.overlays else None
    overlay_errors: list[str] = []

    def on_each(report, image) -> None:
        # regions as drawn on ``image``, the working copy the report was made on
        drawn = regions_at(report, image.shape[1], image.shape[0]) if image is not None else report.regions
        if args.html:
            cards.append(make_card(replace(report, regions=drawn), image))
        if overlay_dir is not None and image is not None:
            target = overlay_dir / names[Path(report.path)]
            try:
                save_overlay(image, drawn, target)
            except OSError as e:  # one overlay that cannot be written never ends the batch
                overlay_errors.append(f"qfix: error: --overlays {target}: cannot write ({e.strerror or e})")

    if judged:  # judge calls overlap across images
        reports, failed = run_judged([p for p, _ in entries], args, "diagnose", options, on_each)
    else:
        sizes: dict[Path, tuple[int, int]] = {}  # original (width, height) of each working copy

        def load(path: Path):
            image, w, h = load_working(path, args.work_size)
            sizes[path] = (w, h)
            return image

        def make(image, path: Path):
            report = diagnosis.diagnose(image, options, prompt=prompt_for(path, args), path=str(path))
            return report_at(report, *sizes.pop(path, (image.shape[1], image.shape[0])))

        reports, failed = run_reports([p for p, _ in entries], args, "diagnose", make, on_each, loader=load)
    ok = True
    if args.json:
        ok = write_or_report("--json", args.json, lambda: write_json([r.to_json() for r in reports], args.json))
    if args.html:
        ok = write_or_report("--html", args.html, lambda: write_report(cards, args.html)) and ok
    for line in overlay_errors:
        print(line, file=sys.stderr)
    if args.json != "-":
        for r in reports:
            print(_summary_line(r))
    if judged:
        print_summary()
    return EXIT_SOME_FAILED if failed or not ok or overlay_errors else EXIT_OK
