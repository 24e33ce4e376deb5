"""``qfix score PATH… [--json FILE]``: the quality score of every image (no detectors)."""

from __future__ import annotations

from lib_qfix import diagnose as diagnosis  # the module: a test may swap its diagnose while a command loads
from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED
from lib_qfix.cli.args import check_output_file, write_or_report
from lib_qfix.cli.common import add_option_args, collect_paths, resolve_cli_options, run_reports, write_json
from lib_qfix.cli.judge_support import add_judge_args, configure_judge, print_summary, prompt_for, run_judged
from lib_qfix.judge.verdicts import rating_text
from lib_qfix.options import DETECTORS_OFF


def register(sub) -> None:
    p = sub.add_parser("score", help="quality score of images (0..1, higher is better)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON ('-' for stdout)")
    add_option_args(p)
    add_judge_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    # score only: every detector off, global judgements kept
    options = resolve_cli_options(args, **DETECTORS_OFF)
    judged = configure_judge(args, options)
    check_output_file("--json", args.json, stdout_ok=True)
    paths = collect_paths(args.paths, "score")
    if judged:  # judge calls overlap across images
        reports, failed = run_judged(paths, args, "score", options)
    else:
        reports, failed = run_reports(
            paths, args, "score",
            lambda image, path: diagnosis.diagnose(image, options, prompt=prompt_for(path, args), path=str(path)))
    written = True
    if args.json:
        written = write_or_report("--json", args.json, lambda: write_json([r.to_json() for r in reports], args.json))
    if args.json != "-":
        for r in reports:
            rating = None if r.error else rating_text(r.signals)
            print(f"{r.path}: ERROR {r.error}" if r.error else
                  f"{r.quality:.4f}  {r.path}" + (f"  [judge {rating}]" if rating else ""))
    if judged:
        print_summary()
    return EXIT_SOME_FAILED if failed or not written else EXIT_OK
