"""``qfix presets list|show NAME|validate FILE...``: inspect and check option presets.

Exit codes: 0 ok; 1 ``validate`` found errors (or ``list`` found broken presets); 2 bad usage
(unknown preset name, missing action).
"""

from __future__ import annotations

import json
import sys

from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, UsageError
from lib_qfix.presets import PresetError, find_preset, list_presets, read_file, resolve_options, validate_file


def register(sub) -> None:
    p = sub.add_parser("presets", help="list, show and validate option presets",
                       description="Bundled presets are read-only; user presets live in $QFIX_HOME/presets "
                                   "(default ~/.config/qfix/presets) and shadow bundled ones.")
    p.add_argument("--user-dir", default=None, help="user presets folder (default: $QFIX_HOME/presets)")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("list", help="list presets (name, source, description)")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = actions.add_parser("show", help="print a preset's options as JSON")
    show.add_argument("name")
    show.add_argument("--resolved", action="store_true",
                      help="print every option as the preset resolves it (defaults < preset)")
    val = actions.add_parser("validate", help="check preset files; exit 1 if any has errors")
    val.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run, _parser=p)


def run(args) -> int:
    if args.action == "list":
        return _list(args)
    if args.action == "show":
        return _show(args)
    if args.action == "validate":
        return _validate(args)
    args._parser.print_help(sys.stderr)
    return EXIT_USAGE


def _list(args) -> int:
    infos = list_presets(args.user_dir)
    if args.json:
        print(json.dumps([info.__dict__ for info in infos], indent=2))
    else:
        width = max([len(i.name) for i in infos] + [4])
        for i in infos:
            source = i.source + (" (shadows bundled)" if i.shadows else "")
            text = f"BROKEN: {i.error}" if i.error else i.description
            print(f"{i.name:<{width}}  {source:<8}  {text}")
    return EXIT_SOME_FAILED if any(i.error for i in infos) else EXIT_OK


def _show(args) -> int:
    try:
        path, source = find_preset(args.name, args.user_dir)
    except PresetError as e:
        raise UsageError(str(e)) from None
    try:
        doc = read_file(path)
        if args.resolved:
            doc["options"] = resolve_options(args.name, {}, args.user_dir).to_dict()
    except PresetError as e:
        print(f"qfix presets: {e}", file=sys.stderr)
        return EXIT_SOME_FAILED
    print(json.dumps({**doc, "source": source, "path": str(path)}, indent=2))
    return EXIT_OK


def _validate(args) -> int:
    bad = 0
    for name in args.files:
        errors = validate_file(name)
        if errors:
            bad += 1
            for e in errors:
                print(f"{e}", file=sys.stderr)
        else:
            print(f"{name}: ok")
    return EXIT_SOME_FAILED if bad else EXIT_OK
