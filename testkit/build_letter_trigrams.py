"""Build :mod:`lib_qfix.detect.letter_trigrams` (the letter-trigram table that judges whether read text
looks like words) from English prose that ships with every CPython: the docstrings and comments of
the standard library's own ``.py`` files (tests, idlelib and site-packages left out).

Model: letters a-z plus a word boundary (27 symbols); each word (lower-cased, letters only, 2+
letters) counts ``1 + ln(count)`` times, so that frequent technical words ("self", "return") do not
dominate; P(c | a, b) = 0.6 trigram + 0.3 bigram + 0.1 unigram (add-one unigram, a tiny bigram
floor), stored as -ln P in 1/16 nat steps (uint8, 0..15.9 nats), zlib-compressed, base64.

    .venv/bin/python -m testkit.build_letter_trigrams [STDLIB_DIR]   # rewrites the module

The table in the repository was built from CPython 3.11.7's Lib folder (601 files, 10,161 distinct
words); rebuilding from another 3.11.x gives nearly the same numbers.
"""

from __future__ import annotations

import ast
import base64
import io
import math
import re
import sys
import sysconfig
import textwrap
import tokenize
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "lib_qfix" / "detect" / "letter_trigrams.py"
WORD = re.compile(r"(?<![\w.])[A-Za-z][a-z]+(?![\w(])")
SCALE = 16.0
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def corpus_words(lib: Path) -> tuple[Counter[str], int]:
    """Lower-case words of the docstrings and comments under ``lib`` and the number of files read."""
    words: Counter[str] = Counter()
    files = [f for f in sorted(lib.rglob("*.py"))
             if not {"test", "tests", "idlelib", "site-packages", "lib2to3"} & set(f.relative_to(lib).parts)]
    for f in files:
        try:
            src = f.read_text(encoding="utf-8")
            tree = ast.parse(src)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                words.update(w.lower() for w in WORD.findall(ast.get_docstring(node) or ""))
        try:
            for tok in tokenize.generate_tokens(io.StringIO(src).readline):
                if tok.type == tokenize.COMMENT:
                    words.update(w.lower() for w in WORD.findall(tok.string))
        except (tokenize.TokenError, SyntaxError):
            pass
    return words, len(files)


def table(words: Counter[str]) -> np.ndarray:
    """(27, 27, 27) uint8: -ln P(c | a, b) x 16, index 0 = word boundary, 1..26 = a..z."""
    idx = {c: i + 1 for i, c in enumerate(ALPHABET)}
    tri, bi, uni = np.zeros((27, 27, 27)), np.zeros((27, 27)), np.zeros(27)
    for w, n in words.items():
        if len(w) < 2 or not all(c in idx for c in w):
            continue
        weight = 1.0 + math.log(n)
        s = [0, 0] + [idx[c] for c in w] + [0]
        for i in range(2, len(s)):
            tri[s[i - 2], s[i - 1], s[i]] += weight
            bi[s[i - 1], s[i]] += weight
            uni[s[i]] += weight
    pu = (uni + 1) / (uni + 1).sum()
    pb = (bi + 1e-3) / (bi + 1e-3).sum(1, keepdims=True)
    pt = tri / np.maximum(tri.sum(2, keepdims=True), 1e-9)
    p = 0.6 * pt + 0.3 * pb[None] + 0.1 * pu[None, None]
    return np.clip(np.round(-np.log(p) * SCALE), 0, 255).astype(np.uint8)


def write(t: np.ndarray, source: str) -> None:
    blob = base64.b64encode(zlib.compress(t.tobytes(), 9)).decode("ascii")
    lines = "\n".join(f'    "{chunk}"' for chunk in textwrap.wrap(blob, 100))
    about = textwrap.fill(f"Built by ``python -m testkit.build_letter_trigrams`` from {source}. {t.size} entries: "
                          f"-ln P(c | a, b) in 1/{SCALE:g} nat steps (uint8) for a, b, c in word boundary + a..z "
                          "(index 0 = boundary); see :func:`lib_qfix.detect.text_reading.plausibility`.", 100)
    OUT.write_text(f'''"""Letter-trigram table for judging whether read text looks like words (generated: do not edit).

{about}
"""

SCALE = {SCALE:g}
SHAPE = {t.shape}
DATA = (
{lines}
)
''', encoding="utf-8")


def main() -> int:
    lib = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sysconfig.get_paths()["stdlib"])
    words, files = corpus_words(lib)
    write(table(words), f"the docstrings and comments of CPython {sys.version.split()[0]}'s standard library "
                        f"({files} files, {len(words)} distinct words)")
    print(f"wrote {OUT} from {files} files, {len(words)} distinct words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
