"""The learned-prompt file: safetensors (no pickle) with one tensor and string metadata.

Tensor ``ctx``: float32 (n_ctx, width). Metadata (all strings): ``format`` ("qfix-prompts/1"),
``model``, ``pretrained``, ``n_ctx``, ``template_high``, ``template_low``, plus training facts
(``val_srcc``, ``zero_shot_val_srcc``, ``n_train``, ``n_val``, ``lambda``, ``seed``, ``epochs``).

By name: ``<name>`` or ``<name>.safetensors`` under ``<models folder>/prompts/`` (models folders as in
:mod:`lib_qfix.scoring.clip_model`); by path: any existing file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_qfix.fileio import atomic_write_bytes
from lib_qfix.scoring import WeightsUnavailable
from lib_qfix.scoring.clip_model import models_dirs
from lib_qfix.scoring.learned.soft_prompt import check_text_tower, encode_with_context, text_width, tokens_for

FORMAT = "qfix-prompts/1"
log = logging.getLogger("qfix")


@dataclass(frozen=True)
class LearnedPrompts:
    """Loaded context vectors and what they were trained with."""

    ctx: Any
    model: str
    pretrained: str
    template_high: str
    template_low: str
    path: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def n_ctx(self) -> int:
        return int(self.ctx.shape[0])

    @property
    def tag(self) -> str:
        """Short identity for cache keys: file stem + content hash."""
        h = hashlib.sha1(self.ctx.detach().cpu().numpy().tobytes()).hexdigest()[:8]
        return f"{Path(self.path).stem or 'prompts'}@{h}"

    def check_fits(self, clip) -> None:
        """WeightsUnavailable when these prompts were trained for another model."""
        check_text_tower(clip.model)
        if self.model != clip.name or self.ctx.shape[1] != text_width(clip.model):
            raise WeightsUnavailable(
                f"learned prompts {self.path or ''} were trained for CLIP {self.model} (width {self.ctx.shape[1]}),"
                f" not {clip.name}; set clip_model to {self.model} or train new prompts")
        if os.path.basename(str(self.pretrained)) != os.path.basename(str(clip.pretrained)):
            log.warning("qfix: learned prompts %s were trained with weights %r, scoring with %r",
                        self.path, self.pretrained, clip.pretrained)

    def text_features(self, clip):
        """(2, D) normalised float32 features of the high/low quality prompts."""
        import torch


        with torch.inference_mode():
            tok = tokens_for(clip, [self.template_high, self.template_low])
            return encode_with_context(clip, tok, self.ctx.to(clip.device))


def save_prompts(path: str | os.PathLike[str], ctx, model: str, pretrained: str, template_high: str,
                 template_low: str, extra: dict[str, Any] | None = None) -> Path:
    """Write atomically (temporary file + rename); returns the path."""
    from safetensors.torch import save


    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "model": model, "pretrained": str(pretrained), "n_ctx": str(int(ctx.shape[0])),
            "template_high": template_high, "template_low": template_low}
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    return atomic_write_bytes(path, save({"ctx": ctx.detach().float().cpu().contiguous()}, metadata=meta))


def find_prompts(name: str, models_dir: str | os.PathLike[str] | None = None) -> Path:
    """The file for ``name``: a name under ``<models folder>/prompts`` (searched first), else a path."""
    if not name:
        raise WeightsUnavailable("clip-iqa+learned needs a learned prompt file (option learned_prompts);"
                                 " train one with `qfix train-prompts`")
    dirs = [d / "prompts" for d in models_dirs(models_dir)]
    for d in dirs:  # names first: a name never resolves against the working directory
        for cand in (d / name, d / f"{name}.safetensors"):
            if cand.is_file():
                return cand
    p = Path(name).expanduser()
    if p.is_file():
        return p
    raise WeightsUnavailable(f"learned prompts {name!r} not found (option learned_prompts): not a file and not in "
                             + ", ".join(str(d) for d in dirs))


def load_prompts(name: str, models_dir: str | os.PathLike[str] | None = None) -> LearnedPrompts:
    """Read a prompt file; WeightsUnavailable naming the file when it is missing or not ours."""
    from safetensors import safe_open

    path = find_prompts(name, models_dir)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            ctx = f.get_tensor("ctx").float()
    except Exception as e:
        raise WeightsUnavailable(f"{path}: not a learned prompt file ({e})") from None
    if meta.get("format") != FORMAT or ctx.ndim != 2:
        raise WeightsUnavailable(f"{path}: not a learned prompt file (format {meta.get('format')!r}, want {FORMAT})")
    return LearnedPrompts(ctx, meta.get("model", ""), meta.get("pretrained", ""), meta.get("template_high", ""),
                          meta.get("template_low", ""), str(path), meta)
