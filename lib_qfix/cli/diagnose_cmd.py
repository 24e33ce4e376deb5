"""``qfix diagnose PATH… [--json FILE] [--html FILE] [--overlays DIR] [--preset NAME]``:
score, detect and judge every image; suggest a weighted negative."""

from __future__ import annotations

from pathlib import Path

from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED
from lib_qfix.cli.common import add_option_args, collect_paths, resolve_cli_options, run_reports, write_json


def register(sub) -> None:
    p = sub.add_parser("diagnose", help="score and diagnose images (faces, hands, text, global defects)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--json", metavar="FILE", help="write the reports as JSON ('-' for stdout)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--overlays", metavar="DIR", help="write each image with its regions drawn")
    add_option_args(p)
    p.set_defaults(func=run)


def _summary_line(report) -> str:
    if report.error:
        return f"{report.path}: ERROR {report.error}"
    found = ", ".join(f"{r.kind}({'/'.join(r.defects) or 'defect'})" for r in report.defects) or "ok"
    return f"{report.path}: quality {report.quality:.2f} [{report.scorer}] {found}"


def run(args) -> int:
    from lib_qfix.diagnose import diagnose

    options = resolve_cli_options(args)
    paths = collect_paths(args.paths)
    cards = []
    overlay_dir = Path(args.overlays) if args.overlays else None

    def on_each(report, image) -> None:
        if args.html:
            from lib_qfix.report.html import make_card

            cards.append(make_card(report, image))
        if overlay_dir is not None and image is not None:
            from PIL import Image

            from lib_qfix.report.overlay import draw_regions

            overlay_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(draw_regions(image, report.regions)).save(overlay_dir / (Path(report.path).stem + ".overlay.jpg"),
                                                                       quality=90)

    reports, failed = run_reports(
        paths, args, "diagnose",
        lambda image, path: diagnose(image, options, prompt=args.prompt, path=str(path)), on_each)
    if args.json:
        write_json([r.to_json() for r in reports], args.json)
    if args.html:
        from lib_qfix.report.html import write_report

        write_report(cards, args.html)
    if args.json != "-":
        for r in reports:
            print(_summary_line(r))
    return EXIT_SOME_FAILED if failed else EXIT_OK
