"""``qfix schema``: print the options JSON schema."""

from __future__ import annotations

import json

from lib_qfix.options import json_schema


def register(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON schema of QFix options")
    p.set_defaults(func=run)


def run(args) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0
