"""CLIP's BPE vocabulary as Hugging Face tokenizer files (``vocab.json``, ``merges.txt``), built from
the merges file open_clip ships (``bpe_simple_vocab_16e6.txt.gz``) the way CLIP's own tokenizer
builds its table: the 256 byte characters, the same with ``</w>``, one token per merge, then the two
special tokens. Standard library only: ``tools/realhost/make_hf_clip_cache.py`` runs it in the
WebUI's venv, ``testkit.tiny_diffusers`` with a truncated list for its tiny tokenizer."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

#: merges in the full CLIP vocabulary (49408 tokens = 512 byte tokens + these + 2 special)
ALL_MERGES = 49152 - 256 - 2


def bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte -> printable character table (the BPE works on these characters)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def write_vocab(bpe_gz: str | Path, folder: str | Path, merges: int = ALL_MERGES) -> int:
    """Write ``vocab.json`` and ``merges.txt`` of the first ``merges`` merges of ``bpe_gz`` into
    ``folder``; returns the vocabulary size."""
    lines = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
    pairs = [tuple(m.split()) for m in lines[1:1 + merges]]
    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in pairs] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    Path(folder, "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    Path(folder, "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in pairs) + "\n",
                                          encoding="utf-8")
    return len(vocab)
