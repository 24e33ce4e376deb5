"""The ``qfix`` command (also ``python -m lib_qfix``).

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func(args) -> int`` as the default. Exit codes: 0 all images
processed, 1 some failed, 2 bad usage. Every error is one line ``qfix: error: …`` on stderr, never a
traceback: bad usage (argparse's own errors included) exits 2; a file that cannot be written
exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from lib_qfix import __version__
from lib_qfix.cli import deferred

#: subcommand modules, in help order (a module that is not there yet is skipped)
SUBCOMMANDS = ("score", "diagnose", "filter", "fix", "presets", "schema", "train")

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage; printed as ``qfix: error: …`` with exit code 2."""


class QfixParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``qfix: error: --flag: why (see 'qfix CMD --help')``, exit 2.
    Subcommand parsers are of this class too (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str) -> NoReturn:
        sub = self.prog.removeprefix("qfix").strip()
        hint = f"see 'qfix {sub} --help'" if sub else "see 'qfix --help'"
        self.exit(EXIT_USAGE, f"qfix: error: {message.removeprefix('argument ')} ({hint})\n")


def build_parser() -> argparse.ArgumentParser:
    parser = QfixParser(prog="qfix", description="Score, diagnose and filter images.")
    parser.add_argument("--version", action="version", version=f"qfix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"lib_qfix.cli.{name}_cmd")
        except ModuleNotFoundError as e:
            if e.name == f"lib_qfix.cli.{name}_cmd":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    deferred.install()  # this process only: MediaPipe's drawing and audio modules load on first use
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"qfix: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:  # a file that could not be written or read: one line, the run failed
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"qfix: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_SOME_FAILED
    except KeyboardInterrupt:
        print("qfix: interrupted", file=sys.stderr)
        return 130
