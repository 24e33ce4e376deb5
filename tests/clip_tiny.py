"""Tiny random-weight open_clip configs for the CLIP tests (no downloads, builds in milliseconds)."""

from __future__ import annotations

import json
from pathlib import Path

TINY_RN = {"embed_dim": 32, "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 8, "patch_size": None},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
TINY_VIT = {"embed_dim": 32, "vision_cfg": {"image_size": 64, "layers": 2, "width": 32, "patch_size": 16,
                                            "head_width": 16},
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
#: a deeper text tower: enough capacity for learned context vectors to matter
TINY_VIT_TEXT4 = {**TINY_VIT, "text_cfg": {**TINY_VIT["text_cfg"], "width": 64, "heads": 4, "layers": 4}}
CONFIGS = {"qfix-tiny-rn": TINY_RN, "qfix-tiny-vit": TINY_VIT, "qfix-tiny-vit-t4": TINY_VIT_TEXT4}


def write_configs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, cfg in CONFIGS.items():
        out[name] = folder / f"{name}.json"
        out[name].write_text(json.dumps(cfg))
    return out


def register(folder: Path) -> None:
    from lib_qfix.scoring.clip_model import open_clip_module

    write_configs(folder)
    open_clip_module().add_model_config(folder)
