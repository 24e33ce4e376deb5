"""CLIP-IQA: zero-shot image quality from antonym prompt pairs (and learned prompts).

For each pair, ``p = softmax(logit_scale * [cos(img, positive), cos(img, negative)])[0]`` (0..1);
``quality`` is the weighted, oriented mean over the pairs (see :mod:`prompt_pairs`). Signals:

- ``clip:<pair>``: each pair's probability in its own wording (the attribute breakdown);
- ``clip:learned``: p("X X X X high quality.") with learned context (``clip-iqa+learned`` only; it is
  then the quality);
- ``prompt_match`` (only when a non-empty prompt is given): how much better the image matches its own
  generation prompt than neutral captions, ``sigmoid(logit_scale * (cos(img, prompt) - mean_b cos(img,
  b)))`` over the baselines :data:`NEUTRAL_CAPTIONS`; 0.5 = no better than "a photo", -> 1 = clearly
  the prompted content, -> 0 = less like the prompt than like a generic photo.

Global-defect regions are added when a pair with a known defect (blur, noise, low resolution) falls
below ``defect_below`` (probability of the good side).
Text features (pairs, neutral captions, generation prompts) come from the model's bounded text cache
(:meth:`LoadedClip.text_features`), so a scorer for new custom pairs encodes only the new texts and
never loads another model: the factories take the model from the registry's ``clip`` cache.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from lib_qfix.scoring.clip_image import encode_images
from lib_qfix.scoring.clip_model import shared_clip
from lib_qfix.scoring.learned.io import load_prompts
from lib_qfix.scoring.prompt_pairs import PromptPair, quality_of, resolve_pairs
from lib_qfix.types import DEFECT, Region, ScoreResult

NEUTRAL_CAPTIONS = ("a photo.", "an image.", "a picture.")
#: pair name -> (region kind, defect name) reported when the pair's good side is improbable
DEFECT_PAIRS = {
    "sharp_blurry": ("blur", "blur"),
    "sharp_edges": ("blur", "blur"),
    "noisefree_noisy": ("noise", "noise"),
    "noisy_clean": ("noise", "noise"),
    "high_low_resolution": ("low_resolution", "low_resolution"),
}


class ClipIQA:
    """The ``clip-iqa`` scorer. ``score(images, prompts)`` -> one :class:`ScoreResult` per image.

    ``native``: ResNet models see images at native size (see :mod:`clip_image`); ``pos_embed``:
    "drop" or "interpolate"; ``batch_size``: images per forward pass; ``min_side``/``max_side``:
    native size limits in pixels; ``defect_below``: 0..1 threshold for defect regions.
    """

    name = "clip-iqa"

    def __init__(self, clip, pairs: tuple[PromptPair, ...], *, native: bool = True, pos_embed: str = "drop",
                 batch_size: int = 16, min_side: int = 64, max_side: int = 1024, defect_below: float = 0.3,
                 learned: Any = None):
        import torch

        self.clip, self.pairs, self.learned = clip, pairs, learned
        self.native = native and clip.is_resnet
        self.pos_embed, self.batch_size = pos_embed, int(batch_size)
        self.min_side, self.max_side, self.defect_below = int(min_side), int(max_side), float(defect_below)
        self.version = f"1:{clip.name}:{os.path.basename(str(clip.pretrained))}:{pos_embed if self.native else 'fixed'}"
        if clip.autocast is not None:  # scores differ from fp32 (slightly): cached ones are kept apart
            self.version += ":bf16"
        if clip.int8_trunk is not None:
            self.version += ":int8"
        if learned is not None:
            self.name = "clip-iqa+learned"
            self.version += f":{learned.tag}"
        self._pos_cache: dict = {}
        with torch.inference_mode():
            texts = [t for p in pairs for t in (p.positive, p.negative)]
            self._pair_feats = clip.text_features(texts).view(len(pairs), 2, -1)
            self._neutral = clip.text_features(NEUTRAL_CAPTIONS)
            self._learned_feats = learned.text_features(clip) if learned is not None else None
            self._scale = float(clip.model.logit_scale.exp().float())

    def encode_texts(self, texts: list[str]):
        """L2-normalised float32 text features (N, D), not cached."""
        return self.clip.encode_texts(texts)

    def image_features(self, images: Sequence[np.ndarray]):
        return encode_images(images, self.clip, native=self.native, pos_embed=self.pos_embed,
                             batch_size=self.batch_size, min_side=self.min_side, max_side=self.max_side,
                             cache=self._pos_cache)

    def score(self, images: Sequence[np.ndarray], prompts: Sequence[str] | None = None) -> list[ScoreResult]:
        import torch

        images = list(images)
        if prompts is not None and len(prompts) != len(images):
            raise ValueError(f"prompts: {len(prompts)} given for {len(images)} images; one per image or none")
        if not images:
            return []
        img = self.image_features(images)  # (N, D)
        with torch.inference_mode():
            logits = self._scale * torch.einsum("nd,pkd->npk", img, self._pair_feats)
            probs = logits.softmax(dim=-1)[..., 0].cpu().numpy()  # (N, P)
            learned = None
            if self._learned_feats is not None:
                learned = (self._scale * img @ self._learned_feats.T).softmax(-1)[:, 0].cpu().numpy()
            match = [None] * len(images)
            if prompts is not None:
                todo = [i for i, p in enumerate(prompts) if p and p.strip()]
                if todo:
                    pf = self.clip.text_features([prompts[i].strip() for i in todo])
                    own = (img[todo] * pf).sum(-1)
                    base = (img[todo] @ self._neutral.T).mean(-1)
                    m = torch.sigmoid(self._scale * (own - base)).cpu().numpy()
                    for i, v in zip(todo, m, strict=False):
                        match[i] = float(v)
        return [self._result(probs[i], None if learned is None else float(learned[i]), match[i])
                for i in range(len(images))]

    def _result(self, probs: np.ndarray, learned: float | None, match: float | None) -> ScoreResult:
        signals = {p.signal: float(v) for p, v in zip(self.pairs, probs, strict=False)}
        quality = quality_of(signals, self.pairs) if learned is None else learned
        if learned is not None:
            signals["clip:learned"] = learned
        if match is not None:
            signals["prompt_match"] = match
        regions, seen = [], set()
        for p in self.pairs:
            if p.name not in DEFECT_PAIRS or p.sign == 0:
                continue
            good = signals[p.signal] if p.sign > 0 else 1.0 - signals[p.signal]
            kind, defect = DEFECT_PAIRS[p.name]
            if good < self.defect_below and kind not in seen:
                seen.add(kind)
                regions.append(Region(kind, None, 1.0 - good, DEFECT,
                                      (f"CLIP {p.positive!r} vs {p.negative!r}: {good:.2f} < {self.defect_below:.2f}",),
                                      (defect,), self.name))
        return ScoreResult(float(quality), self.name, signals, (), tuple(regions))


def _clip(model: str, pretrained: str, device: str, models_dir: str | None, precision: str = "auto"):
    """The shared model for (model, pretrained, device, models folder, precision) from the registry
    (``$QFIX_MODELS`` is searched after ``models_dir`` by :func:`models_dirs`)."""
    return shared_clip(model, pretrained, device, models_dir, precision)


def create_clip_iqa(model: str = "RN50", pretrained: str = "openai", pairs: str = "quality5",
                    custom_pairs: str = "", device: str = "auto", models_dir: str | None = None,
                    precision: str = "auto", **kwargs: Any) -> ClipIQA:
    """Registry factory for ``clip-iqa`` (config from :func:`lib_qfix.scoring.scorer_config`).

    Raises :class:`lib_qfix.scoring.WeightsUnavailable` when the weights cannot be had."""
    chosen = resolve_pairs(pairs, custom_pairs)  # bad options fail before any model is loaded
    return ClipIQA(_clip(model, pretrained, device, models_dir, precision), chosen, **kwargs)


def create_clip_iqa_learned(model: str = "RN50", pretrained: str = "openai", pairs: str = "quality5",
                            custom_pairs: str = "", device: str = "auto", learned: str = "",
                            models_dir: str | None = None, precision: str = "auto", **kwargs: Any) -> ClipIQA:
    """Registry factory for ``clip-iqa+learned``: quality from a learned prompt file (name or path);
    the pair set is still reported as the attribute breakdown."""
    chosen = resolve_pairs(pairs, custom_pairs)
    prompts = load_prompts(learned, models_dir)
    clip = _clip(model, pretrained, device, models_dir, precision)
    prompts.check_fits(clip)
    return ClipIQA(clip, chosen, learned=prompts, **kwargs)
