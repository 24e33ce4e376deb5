"""A1111 generation parameters ("infotext"): parse them, change them, write them back the way A1111 does.

Pure core (no host import). The text A1111 stores in a PNG's ``parameters`` chunk (and shows in PNG
Info) is: the prompt (one or more lines), then optionally ``Negative prompt: ...`` (one or more
lines), then one line of ``Key: value`` pairs joined by ``", "`` (``Steps: 20, Sampler: Euler a,
CFG scale: 7, Seed: 965400086, Size: 512x512, ...``). That last line is recognised as such only when
it holds at least three pairs (A1111's ``parse_generation_parameters``); a value holding ``,`` ``:``
or a newline is JSON-quoted (A1111's ``infotext_utils.quote``). :func:`format_infotext` writes what
:func:`parse_infotext` reads, and both follow those rules, so A1111's PNG Info and its paste-back read
what QFix writes. Reading the text out of a file: :func:`lib_qfix.judge.pnginfo.read_infotext`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NEGATIVE_PREFIX = "Negative prompt:"
#: A1111's ``re_param_code``: a key (word characters, spaces, ``-``, ``/``), then a quoted or plain value
_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^(\d+)x(\d+)$")
#: pairs a settings line needs to be read as one (A1111's rule)
MIN_PAIRS = 3
#: the prefix of every key QFix writes (options and results, :mod:`lib_qfix.fix.infotext`)
QFIX_PREFIX = "QFix "


def quote(value: Any) -> str:
    """A value as A1111 writes it: JSON-quoted when it holds ``,`` ``:`` or a newline."""
    s = str(value)
    if "," not in s and "\n" not in s and ":" not in s:
        return s
    return json.dumps(s, ensure_ascii=False)


def unquote(text: str) -> str:
    """The value of a (possibly JSON-quoted) infotext value."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        out = json.loads(text)
    except ValueError:
        return text
    return out if isinstance(out, str) else text


@dataclass(frozen=True)
class GenParams:
    """One image's generation parameters. ``pairs``: the settings line, key -> unquoted value, in
    the order written (``{"Steps": "20", "Sampler": "Euler a", ...}``)."""

    prompt: str = ""
    negative: str = ""
    pairs: dict[str, str] = field(default_factory=dict)

    def text(self, key: str, default: str = "") -> str:
        return self.pairs.get(key, default)

    def integer(self, key: str) -> int | None:
        """An integer value (``Seed``, ``Steps``), None when missing or not a whole number."""
        try:
            return int(self.pairs[key].strip())
        except (KeyError, ValueError):
            return None

    def number(self, key: str) -> float | None:
        """A float value (``CFG scale``, ``Denoising strength``), None when missing or not a number."""
        try:
            return float(self.pairs[key].strip())
        except (KeyError, ValueError):
            return None

    @property
    def seed(self) -> int | None:
        return self.integer("Seed")

    @property
    def steps(self) -> int | None:
        return self.integer("Steps")

    @property
    def cfg_scale(self) -> float | None:
        return self.number("CFG scale")

    @property
    def sampler(self) -> str:
        """The sampler name, e.g. "DPM++ 2M" or (before A1111 1.9) "DPM++ 2M Karras"; "" when unknown."""
        return self.text("Sampler")

    @property
    def scheduler(self) -> str:
        """A1111 1.9+'s ``Schedule type`` (``Karras``, ``Automatic``, ...); "" when not written."""
        return self.text("Schedule type")

    @property
    def size(self) -> tuple[int, int] | None:
        """``Size: WxH`` as (width, height) pixels, None when missing."""
        m = _SIZE.match(self.text("Size").strip())
        return (int(m.group(1)), int(m.group(2))) if m else None

    def with_pairs(self, extra: Mapping[str, Any], drop_prefix: str = QFIX_PREFIX) -> GenParams:
        """These parameters with the keys starting with ``drop_prefix`` removed (a previous run's
        QFix keys) and ``extra`` added before ``Version`` (where A1111 writes extension keys); None
        values are left out."""
        kept = [(k, v) for k, v in self.pairs.items() if not (drop_prefix and k.startswith(drop_prefix))]
        added = [(k, str(v)) for k, v in extra.items() if v is not None]
        at = next((i for i, (k, _) in enumerate(kept) if k == "Version"), len(kept))
        return GenParams(self.prompt, self.negative, dict(kept[:at] + added + kept[at:]))


def parse_pairs(line: str) -> dict[str, str]:
    """The ``Key: value`` pairs of one settings line, values unquoted."""
    return {k.strip(): unquote(v.strip()) for k, v in _PAIR.findall(line)}


def parse_infotext(text: str) -> GenParams:
    """Parse an A1111 infotext (see the module doc); an empty text gives empty parameters."""
    lines = text.strip().replace("\r\n", "\n").split("\n") if text.strip() else []
    pairs: dict[str, str] = {}
    if lines and len(_PAIR.findall(lines[-1])) >= MIN_PAIRS:
        pairs = parse_pairs(lines.pop())
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines:
        line = line.strip()
        if line.startswith(NEGATIVE_PREFIX):
            in_negative = True
            line = line[len(NEGATIVE_PREFIX):].strip()
        (negative if in_negative else prompt).append(line)
    return GenParams("\n".join(prompt), "\n".join(negative), pairs)


def format_pairs(pairs: Mapping[str, Any]) -> str:
    """One settings line, A1111's way: ``Key: value`` joined by ``", "``, values quoted when needed,
    None values left out, a pair whose value equals its key written as the key alone."""
    return ", ".join(k if k == v else f"{k}: {quote(v)}" for k, v in pairs.items() if v is not None)


def format_infotext(params: GenParams) -> str:
    """The infotext A1111 would write for ``params`` (its ``create_infotext`` layout)."""
    negative = f"\n{NEGATIVE_PREFIX} {params.negative}" if params.negative else ""
    return f"{params.prompt}{negative}\n{format_pairs(params.pairs)}".strip()
