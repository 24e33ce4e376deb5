"""Fake ``modules.infotext_utils``: ``quote``, ``unquote`` and ``parse_generation_parameters``
(the last line of an infotext as ``key: value`` pairs, JSON-quoted values unquoted), written from
the behaviour docs/a1111.md describes. As in the host, parsing runs no callbacks: the UI paste
(``connect_paste``, :func:`testkit.fake_a1111.host_api.paste_args`) runs ``on_infotext_pasted``
after it, the API's ``apply_infotext`` (:mod:`testkit.fake_a1111.forge_api`) does not."""

from __future__ import annotations

import json
import re
import types
from typing import Any

_PAIR = re.compile(r'\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def quote(text: Any) -> Any:
    s = str(text)
    if "," not in s and "\n" not in s and ":" not in s:
        return text
    return json.dumps(s, ensure_ascii=False)


def unquote(text: str) -> str:
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def build(host: Any, callbacks: types.ModuleType) -> types.ModuleType:
    m = types.ModuleType("modules.infotext_utils")
    m.quote, m.unquote = quote, unquote

    def parse_generation_parameters(text: str, skip_fields: list | None = None) -> dict[str, Any]:
        lines = text.strip().split("\n")
        params: dict[str, Any] = {}
        prompt, negative, last = [], [], lines[-1] if lines else ""
        if len(_PAIR.findall(last)) < 3:  # as the host: a last line with few pairs is prompt text
            lines.append(last)
            last = ""
        for line in lines[:-1]:
            if line.startswith("Negative prompt:"):
                negative.append(line[len("Negative prompt:"):].strip())
            elif negative:
                negative.append(line)
            else:
                prompt.append(line)
        params["Prompt"], params["Negative prompt"] = "\n".join(prompt), "\n".join(negative)
        for key, value in _PAIR.findall(last):
            params[key.strip()] = unquote(value.strip()) if value.strip().startswith('"') else value.strip()
        return params

    m.parse_generation_parameters = parse_generation_parameters
    return m
