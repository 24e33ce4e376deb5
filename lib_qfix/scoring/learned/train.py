"""Few-shot training of quality prompts for a frozen CLIP (GRMP-IQA style, context only).

Model: ``"X X X X high quality."`` / ``"X X X X low quality."`` where the X's are 4 learnable
context vectors (initialised from "a photo of a"); score = p(high) = softmax(logit_scale · cos)[0].
Loss: BCE between p(high) and the min-max-normalised score (0..1, min/max of the training split).

Quality-aware gradient regularisation: G_d = ∂L_quality/∂ctx; G_g = ∂KL/∂ctx for the KL divergence
between the scene distribution of the *initial* prompts (frozen, "X X X X a photo of a human." …
with the initial context) and the current ones; where <G_d, G_g> > 0 the update uses
G_d − λ·<G_d, G_g>/‖G_g‖²·G_g (λ = ``lam``, default 5, as docs/field.md describes GRMP-IQA), so the quality
step does not drag the scene semantics along. λ = 0 disables it.

The CLIP weights never change, so image features are computed once. The validation split is fixed
by ``seed`` before training; the reported validation figures are those of the **final epoch** (no
epoch is picked by any score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lib_qfix.scoring.learned.soft_prompt import (
    HIGH,
    LOW,
    SCENES,
    encode_with_context,
    init_context,
    template,
)


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    train_loss: float
    val_loss: float | None
    val_srcc: float | None
    projected_frac: float  # share of steps where the gradient was projected (0..1)


@dataclass(frozen=True)
class TrainResult:
    ctx: Any  # torch float32 (n_ctx, width)
    template_high: str
    template_low: str
    history: tuple[EpochStats, ...]
    zero_shot_val_srcc: float | None
    zero_shot_train_loss: float
    val_srcc: float | None
    train_srcc: float
    train_loss: float  # BCE on the training split after the final epoch (compare zero_shot_train_loss)
    n_train: int
    n_val: int


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (ties averaged); 0.0 when either side is constant."""
    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=float)
        _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
        return (np.bincount(inv, weights=r) / counts)[inv]

    ra, rb = ranks(np.asarray(a, float)), ranks(np.asarray(b, float))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else 0.0


def project(g_d, g_g, lam: float):
    """(gradient, projected?): G_d − λ·<G_d,G_g>/‖G_g‖²·G_g where <G_d,G_g> > 0, else G_d unchanged."""
    dot, norm2 = (g_d * g_g).sum(), (g_g * g_g).sum()
    if lam > 0 and dot > 0 and norm2 > 1e-20:
        return g_d - lam * dot / norm2 * g_g, True
    return g_d, False


def split(n: int, val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), fixed by ``seed``; at least 2 in train."""
    if not 0.0 <= val_frac < 1.0:
        raise ValueError(f"val_frac: {val_frac!r} is not allowed; 0 <= val_frac < 1")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = min(int(round(n * val_frac)), n - 2) if val_frac > 0 else 0
    if val_frac > 0 and n_val < 2:
        n_val = 0  # a correlation needs at least 2 points; say so via n_val == 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def train_prompts(clip, features, scores: Sequence[float], *, n_ctx: int = 4, epochs: int = 30,
                  lr: float = 2e-3, batch_size: int = 16, lam: float = 5.0, val_frac: float = 0.2,
                  seed: int = 0, progress: bool = True) -> TrainResult:
    """Learn context vectors from image ``features`` (N, D; normalised, from the frozen CLIP) and
    their ``scores`` (any scale, higher = better). Raises ValueError for unusable inputs."""
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    y_all = np.asarray(scores, dtype=np.float64)
    n = len(y_all)
    if features.shape[0] != n:
        raise ValueError(f"scores: {n} labels for {features.shape[0]} images")
    if n < 4:
        raise ValueError(f"labels: {n} labelled images is too few; at least 4 (about 50 recommended)")
    if lam < 0 or epochs < 1 or n_ctx < 1 or batch_size < 1:
        raise ValueError("lam >= 0, epochs >= 1, n_ctx >= 1 and batch_size >= 1 are required")
    torch.manual_seed(seed)
    tr, va = split(n, val_frac, seed)
    lo, hi = y_all[tr].min(), y_all[tr].max()
    if hi <= lo:
        raise ValueError("labels: all training scores are equal; nothing to learn")
    target = torch.tensor(np.clip((y_all - lo) / (hi - lo), 0.0, 1.0), dtype=torch.float32, device=clip.device)
    feats = features.float().to(clip.device)
    scale = float(clip.model.logit_scale.exp().float())

    t_high, t_low = template(n_ctx, HIGH), template(n_ctx, LOW)
    tok_q = clip.tokenizer([t_high, t_low], context_length=clip.model.context_length).to(clip.device)
    tok_s = clip.tokenizer([template(n_ctx, s) for s in SCENES],
                           context_length=clip.model.context_length).to(clip.device)
    tok_all = torch.cat([tok_q, tok_s])
    ctx = init_context(clip, n_ctx, seed).float().clone().requires_grad_(True)
    with torch.no_grad():
        ref_scene = (scale * feats @ encode_with_context(clip, tok_s, ctx).T).log_softmax(-1)

    def p_high(c, idx):
        return (scale * feats[idx] @ encode_with_context(clip, tok_q, c).T).softmax(-1)[:, 0]

    def evaluate(idx) -> tuple[float | None, float | None, np.ndarray]:
        if len(idx) == 0:
            return None, None, np.zeros(0)
        with torch.no_grad():
            p = p_high(ctx.detach(), idx)
            loss = F.binary_cross_entropy(p.clamp(1e-6, 1 - 1e-6), target[idx]).item()
        p = p.cpu().numpy()
        return loss, spearman(p, y_all[idx]), p

    zero_shot = evaluate(va)[1]
    zero_shot_train_loss = evaluate(tr)[0]
    opt = torch.optim.Adam([ctx], lr=lr)
    gen = np.random.default_rng(seed + 1)
    history: list[EpochStats] = []
    bar = tqdm(range(epochs), desc="train-prompts", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        order = gen.permutation(tr)
        losses, projected, steps = [], 0, 0
        for k in range(0, len(order), batch_size):
            idx = torch.as_tensor(order[k:k + batch_size], device=clip.device)
            # one text forward for the quality and scene prompts; two gradients from it
            t_all = encode_with_context(clip, tok_all, ctx)
            p = (scale * feats[idx] @ t_all[:2].T).softmax(-1)[:, 0]
            loss_q = F.binary_cross_entropy(p.clamp(1e-6, 1 - 1e-6), target[idx])
            g_d = torch.autograd.grad(loss_q, ctx, retain_graph=lam > 0)[0]
            if lam > 0:
                log_p = (scale * feats[idx] @ t_all[2:].T).log_softmax(-1)
                kl = F.kl_div(log_p, ref_scene[idx], log_target=True, reduction="batchmean")
                g_d, did = project(g_d, torch.autograd.grad(kl, ctx)[0], lam)
                projected += did
            opt.zero_grad()
            ctx.grad = g_d
            opt.step()
            losses.append(loss_q.item())
            steps += 1
        val_loss, val_srcc, _ = evaluate(va)
        history.append(EpochStats(epoch + 1, float(np.mean(losses)), val_loss, val_srcc, projected / max(steps, 1)))
        bar.set_postfix(loss=f"{history[-1].train_loss:.4f}",
                        val_srcc="-" if val_srcc is None else f"{val_srcc:.3f}")
    bar.close()
    train_loss, train_srcc, _ = evaluate(tr)
    return TrainResult(ctx.detach().cpu(), t_high, t_low, tuple(history), zero_shot, float(zero_shot_train_loss),
                       history[-1].val_srcc, float(train_srcc or 0.0), float(train_loss), len(tr), len(va))
