"""Fake ``modules.infotext_utils``: ``quote``, ``unquote`` and ``parse_generation_parameters``
(the last line of an infotext as ``key: value`` pairs, JSON-quoted values unquoted), written from
A1111 1.10.1's and Forge's ``modules/infotext_utils.py``; the one fake of that parser, also used by
the API's ``apply_infotext`` (:mod:`testkit.fake_a1111.forge_api`). As in the host, parsing runs no
callbacks: the UI paste (``connect_paste``, :func:`testkit.fake_a1111.host_api.paste_args`) runs
``on_infotext_pasted`` after it, ``apply_infotext`` does not."""

from __future__ import annotations

import json
import re
import types
from typing import Any

#: the hosts' ``re_param_code`` and ``re_imagesize``
_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^(\d+)x(\d+)$")


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


def parse_generation_parameters(text: str, skip_fields: list | None = None, *, forge: bool = False) -> dict[str, Any]:
    """Prompt, negative prompt, the last line's pairs (quoted values unquoted, ``AxB`` split into
    ``-1``/``-2``), and the defaults the hosts add for missing hires keys (Forge: ``Hires VAE/TE``);
    not the styles and the other defaults, which no paste field here reads."""
    *lines, last = text.strip().split("\n")
    if len(_PAIR.findall(last)) < 3:  # as the host: a last line with few pairs is prompt text
        lines.append(last)
        last = ""
    prompt, negative, neg = [], [], False
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            neg, line = True, line[16:].strip()
        (negative if neg else prompt).append(line)
    res: dict[str, Any] = {}
    for k, v in _PAIR.findall(last):
        v = unquote(v) if v[:1] == '"' and v[-1:] == '"' else v
        m = _SIZE.match(v)
        if m:
            res[f"{k}-1"], res[f"{k}-2"] = m.group(1), m.group(2)
        else:
            res[k] = v
    res["Prompt"], res["Negative prompt"] = "\n".join(prompt), "\n".join(negative)
    for key, default in (("Hires resize-1", 0), ("Hires resize-2", 0), ("Hires checkpoint", "Use same checkpoint"),
                         ("Hires prompt", ""), ("Hires negative prompt", "")):
        res.setdefault(key, default)
    if forge and "Hires Module 1" not in res:
        res["Hires VAE/TE"] = ["Use same choices"]
    return res


def build(host: Any, callbacks: types.ModuleType) -> types.ModuleType:
    m = types.ModuleType("modules.infotext_utils")
    m.quote, m.unquote, m.parse_generation_parameters = quote, unquote, parse_generation_parameters
    return m
