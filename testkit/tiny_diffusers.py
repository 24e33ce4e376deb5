"""Tiny random-weight Stable Diffusion pipelines built in memory: no download, a second to build.

For the diffusers host's tests and ``bench/fix.py``. The shapes are Stable Diffusion 1.x's in
miniature: a UNet of two blocks (32/64 channels, cross-attention width 32), a VAE with four blocks
(so latents are 1/8 of the image side, as in SD), a 2-layer CLIP text encoder, and a CLIP tokenizer
whose vocabulary is the head of the real one: the BPE merges that ship inside open_clip
(``bpe_simple_vocab_16e6.txt.gz``), written as ``vocab.json``/``merges.txt`` into a temp folder.
Weights are seeded, so two builds give the same pipeline. What such a model paints is noise; tests
check where it paints and what QFix decides, not what it paints.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from lib_qfix.compat.torchvision_ops import ensure_torchvision
from testkit.clip_vocab import write_vocab

#: BPE merges kept from the real vocabulary (the tokenizer's vocabulary is 512 byte symbols + these + 2)
MERGES = 1000
HIDDEN = 32


@lru_cache(maxsize=1)
def tokenizer_dir() -> str:
    """A folder holding ``vocab.json`` and ``merges.txt`` of the truncated CLIP vocabulary."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("open_clip is not installed; it ships the CLIP vocabulary the tiny tokenizer uses")
    gz = Path(list(spec.submodule_search_locations)[0]) / "bpe_simple_vocab_16e6.txt.gz"
    folder = tempfile.mkdtemp(prefix="qfix-tiny-clip-")
    write_vocab(gz, folder, MERGES)
    return folder


def tiny_components(seed: int = 0, inpainting_unet: bool = False) -> dict[str, Any]:
    """The components of a tiny SD 1.x pipeline (``unet``, ``vae``, ``text_encoder``, ``tokenizer``,
    ``scheduler``, no safety checker); ``inpainting_unet``: a 9-channel UNet as inpainting models have."""
    ensure_torchvision()
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir(), model_max_length=77)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=9 if inpainting_unet else 4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=HIDDEN, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(16, 16, 16, 16), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        latent_channels=4, layers_per_block=1, norm_num_groups=8)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        hidden_size=HIDDEN, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=len(tokenizer), max_position_embeddings=77))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    return {"unet": unet.eval(), "vae": vae.eval(), "text_encoder": text_encoder.eval(), "tokenizer": tokenizer,
            "scheduler": scheduler, "safety_checker": None, "feature_extractor": None,
            "requires_safety_checker": False}


def tiny_pipeline(seed: int = 0, inpainting_unet: bool = False) -> Any:
    """A tiny ``StableDiffusionPipeline`` on the CPU (float32)."""
    ensure_torchvision()
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(**tiny_components(seed, inpainting_unet))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_controlnet(seed: int = 1) -> Any:
    """A tiny ``ControlNetModel`` matching :func:`tiny_pipeline`'s UNet."""
    ensure_torchvision()
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    return ControlNetModel(block_out_channels=(32, 64), layers_per_block=1, in_channels=4,
                           down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), cross_attention_dim=HIDDEN,
                           conditioning_embedding_out_channels=(8, 8, 8, 16), attention_head_dim=4).eval()


def save_tiny(folder: str | os.PathLike[str], seed: int = 0) -> str:
    """Write :func:`tiny_pipeline` as a diffusers folder (what ``qfix fix --model FOLDER`` loads)."""
    tiny_pipeline(seed).save_pretrained(str(folder), safe_serialization=True)
    return str(folder)
