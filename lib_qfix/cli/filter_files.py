"""The file side of ``qfix filter``: checking destinations before a run, moving/copying after it,
and ``--undo``. Kept apart from :mod:`lib_qfix.cli.filter_cmd` (options and scoring).

Destinations (``--move-rejects-to``, ``--copy-keeps-to``) may not be a scanned folder, lie inside
one or contain one (see :func:`lib_qfix.filter.actions.check_destination`): in place they would
rename files, and inside a source folder the next ``qfix filter`` of it would score the rejects
again and mix them back into the set. Both are refused with exit code 2 before anything is scored.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lib_qfix.cli import EXIT_OK, EXIT_SOME_FAILED, UsageError
from lib_qfix.cli.args import check_output_file
from lib_qfix.filter import actions
from lib_qfix.filter.actions import ActionError, check_destination


def check_destinations(args) -> None:
    """Refuse (:class:`UsageError`) destinations and a ``--manifest`` that cannot be used."""
    for flag, dest in (("--move-rejects-to", args.move_rejects_to), ("--copy-keeps-to", args.copy_keeps_to)):
        if dest:
            try:
                check_destination(flag, dest, args.folders)
            except ActionError as e:
                raise UsageError(str(e)) from None
    if args.manifest:
        if Path(args.manifest).exists():
            raise UsageError(f"--manifest {args.manifest}: exists already; allowed: a new file (a manifest "
                             "is never overwritten)")
        check_output_file("--manifest", args.manifest)


def default_manifest(out: str | Path) -> Path:
    """``OUT/manifest-<time>.jsonl``, or ``…-N.jsonl`` when two runs start in the same second."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = Path(out) / f"manifest-{stamp}.jsonl", 1
    while path.exists():
        path, n = Path(out) / f"manifest-{stamp}-{n}.jsonl", n + 1
    return path


def apply_actions(args, decisions) -> int:
    """Move rejects / copy keeps as asked; prints what happened and how to undo it."""
    manifest = Path(args.manifest) if args.manifest else default_manifest(args.out)
    try:
        res = actions.apply(decisions, manifest, move_rejects_to=args.move_rejects_to,
                            copy_keeps_to=args.copy_keeps_to)
    except ActionError as e:
        raise UsageError(str(e)) from None
    for msg in res.errors:
        print(f"qfix filter: {msg}", file=sys.stderr)
    moved = sum(e["op"] == "move" for e in res.done)
    copied = sum(e["op"] == "copy" for e in res.done)
    if res.done:
        print(f"moved {moved}, copied {copied}; undo with: qfix filter --undo {res.manifest}")
    elif res.manifest:
        print(f"moved 0, copied 0 (see the errors above); manifest: {res.manifest}")
    else:
        what = " or ".join(w for w, on in (("rejected", args.move_rejects_to), ("kept", args.copy_keeps_to)) if on)
        print(f"moved 0, copied 0: no image was {what}; nothing to undo")
    return EXIT_SOME_FAILED if res.errors else EXIT_OK


def undo(args) -> int:
    """``qfix filter --undo MANIFEST``: reverse what the manifest still holds; a partial undo can be
    run again and retries only what is left."""
    try:
        res = actions.undo(args.undo)
    except ActionError as e:
        raise UsageError(str(e)) from None
    for msg in res.errors:
        print(f"qfix filter: {msg}", file=sys.stderr)
    if res.left:
        print(f"undone: {len(res.done)} operation(s) reversed, {res.left} left; fix the causes above and "
              f"retry with: qfix filter --undo {args.undo}")
        return EXIT_SOME_FAILED
    print(f"undone: {len(res.done)} operation(s) reversed")
    return EXIT_OK
