"""Text features of prompts whose first ``n_ctx`` words are learnable context vectors.

A template such as ``"X X X X high quality."`` is tokenised normally; the embeddings of its
``X`` tokens (positions 1..n_ctx, right after start-of-text) are replaced by the context
vectors ``ctx`` of shape (n_ctx, width) (width = the text transformer's width). The rest of the
text tower runs unchanged and frozen, so gradients reach only ``ctx``.
"""

from __future__ import annotations

from typing import Any

HIGH, LOW = "high quality.", "low quality."
CTX_INIT = "a photo of a"  # CoOp's initialisation; 4 tokens
#: scene prompts for the semantic-consistency term (GRMP-IQA)
SCENES = ("a photo of a human.", "a photo of an animal.", "a photo of a cityscape.", "a photo of a landscape.",
          "a photo of a plant.", "a photo of food.", "a photo of an object.", "a photo of a room.")


def template(n_ctx: int, text: str) -> str:
    return " ".join(["X"] * n_ctx) + " " + text


def check_text_tower(model) -> None:
    """Learned prompts need open_clip's built-in text tower (``CLIP``, not HF text models)."""
    for attr in ("token_embedding", "positional_embedding", "transformer", "ln_final", "text_projection"):
        if not hasattr(model, attr):
            raise ValueError(f"learned prompts need an open_clip model with its own text tower (no {attr})")


def text_width(model) -> int:
    return int(model.token_embedding.weight.shape[1])


def tokens_for(clip, texts: list[str]):
    return clip.tokenizer(texts, context_length=clip.model.context_length).to(clip.device)


def init_context(clip, n_ctx: int, seed: int = 0):
    """Initial context (n_ctx, width) float32: the embedding of "a photo of a" when n_ctx == 4,
    else N(0, 0.02) from ``seed``."""
    import torch

    check_text_tower(clip.model)
    if n_ctx == len(CTX_INIT.split()):
        with torch.no_grad():
            tok = tokens_for(clip, [CTX_INIT])
            return clip.model.token_embedding(tok)[0, 1:1 + n_ctx].float().clone()
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n_ctx, text_width(clip.model), generator=g) * 0.02).to(clip.device)


def encode_with_context(clip, tokens, ctx, normalize: bool = True) -> Any:
    """Text features (P, D) float32 for ``tokens`` (P, L) with positions 1..n_ctx set to ``ctx``.

    The text transformer is causal, so tokens after the last end-of-text cannot change the
    result; the sequence is cut there to save time (exactly the same output)."""
    import torch

    m = clip.model
    check_text_tower(m)
    n_ctx = ctx.shape[0]
    eot = tokens.argmax(dim=-1)
    length = int(eot.max()) + 1
    tokens = tokens[:, :length]
    cast = m.transformer.get_cast_dtype()
    x = m.token_embedding(tokens).to(cast)
    ctx_b = ctx.to(cast).unsqueeze(0).expand(x.shape[0], -1, -1)
    x = torch.cat([x[:, :1], ctx_b, x[:, 1 + n_ctx:]], dim=1)
    x = x + m.positional_embedding[:length].to(cast)
    mask = m.attn_mask[:length, :length] if m.attn_mask is not None else None
    x = m.transformer(x.permute(1, 0, 2), attn_mask=mask).permute(1, 0, 2)
    x = m.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), eot] @ m.text_projection
    x = x.float()
    return torch.nn.functional.normalize(x, dim=-1) if normalize else x
