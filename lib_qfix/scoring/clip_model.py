"""Loading open_clip models for CLIP-IQA: pretrained tags, local checkpoint files, a models folder.

Where weights come from, in order, for ``load_clip(model, pretrained)``:

1. ``pretrained == "random"``: random initialisation (tests and benchmarks only: same compute,
   meaningless scores).
2. ``pretrained`` is an existing file path, or a file name found in a models folder: loaded as a
   state dict (``.safetensors``, a torch state-dict pickle read with ``weights_only=True``, or an
   OpenAI TorchScript archive such as ``RN50.pt``).
3. A file named ``<model>-<tag>.{safetensors,pt,bin}`` or the open_clip download name (e.g.
   ``RN50.pt`` for ``openai``) in a models folder.
4. An open_clip pretrained tag, downloaded into the first models folder on first use (a one-line
   notice is logged) unless ``QFIX_OFFLINE=1``.

Models folders: the ``models_dir`` argument (A1111 passes ``models/qfix``), ``$QFIX_MODELS``,
then ``~/.cache/qfix/models``. When nothing works, :class:`lib_qfix.scoring.WeightsUnavailable` is
raised with one line that names the local-file alternative (also when open_clip cannot build the
model from a config). ``model`` may also be a path to an open_clip JSON config (``<name>.json``) for
custom architectures; the A1111 adapter never lets a client name a path (see ``a1111/settings.py``).

:func:`shared_clip` keeps loaded models in the registry's ``clip`` cache, keyed only by
(architecture, weights, resolved device, models folder), so that scorers differing in prompts share
one model. Each model carries a bounded cache of text features (:data:`TEXT_CACHE` texts).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_qfix.compat.torchvision_ops import ensure_torchvision
from lib_qfix.errors import reason
from lib_qfix.lru import LRU
from lib_qfix.registry import shared
from lib_qfix.scoring import WeightsUnavailable
from lib_qfix.scoring.clip_int8 import quantize_trunk

log = logging.getLogger("qfix")
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
#: where CLIP can run ("auto": CUDA, then MPS, then the CPU); also "cuda:N" for one GPU
DEVICES = ("auto", "cpu", "cuda", "mps")
#: "auto": reduced precision where it is fast and close (CUDA fp16 weights, bfloat16 autocast on a CPU
#: that computes bfloat16 natively); "fp32": full precision everywhere; "int8": a ResNet's image trunk
#: quantised to int8 on the CPU (see clip_int8), fp32 elsewhere
PRECISIONS = ("auto", "fp32", "int8")
#: text features kept per model (one (D,) float32 vector each: 2-4 KiB; prompt pairs and prompts)
TEXT_CACHE = 256


@dataclass(frozen=True)
class LoadedClip:
    """A ready model (eval mode, on ``device`` in ``dtype``) and what scoring needs around it."""

    model: Any
    tokenizer: Any
    name: str
    pretrained: str
    device: Any
    dtype: Any
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: tuple[int, int]
    is_resnet: bool
    #: dtype the image encoder runs in under ``torch.autocast`` on the CPU (bfloat16), or None
    autocast: Any = None
    #: the int8 stem + layer1-4 replacing the float ones (``precision`` "int8", ResNet on CPU), or None
    int8_trunk: Any = field(default=None, compare=False, repr=False)
    text_cache: LRU = field(default_factory=lambda: LRU(TEXT_CACHE), compare=False, repr=False)

    def encode_texts(self, texts: Sequence[str]):
        """L2-normalised float32 text features (N, D), computed now (no cache)."""
        import torch

        tokens = self.tokenizer(list(texts), context_length=self.model.context_length).to(self.device)
        with torch.inference_mode():
            return torch.nn.functional.normalize(self.model.encode_text(tokens).float(), dim=-1)

    def text_features(self, texts: Sequence[str]):
        """Like :meth:`encode_texts`, through the model's bounded text cache (only unseen texts
        are encoded)."""
        import torch

        texts = list(texts)
        found = {t: self.text_cache.get(t) for t in dict.fromkeys(texts)}
        missing = [t for t, f in found.items() if f is None]
        if missing:
            for t, f in zip(missing, self.encode_texts(missing), strict=True):
                found[t] = f.clone()  # a copy: a view would keep the whole batch alive
                self.text_cache.put(t, found[t])
        return torch.stack([found[t] for t in texts])


def open_clip_module():
    """``import open_clip`` after the CPU-torch torchvision fix (see docs/environment.md)."""
    ensure_torchvision()
    import open_clip

    return open_clip


def models_dirs(models_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for weights, first = where downloads go."""
    dirs = [Path(models_dir)] if models_dir else []
    if os.environ.get("QFIX_MODELS"):
        dirs.append(Path(os.environ["QFIX_MODELS"]))
    dirs.append(Path.home() / ".cache" / "qfix" / "models")
    return dirs


def cpu_autocast(device: Any, precision: str = "auto"):
    """torch.bfloat16 when image encoding on ``device`` should run under CPU autocast: ``precision``
    "auto", a CPU device, and a CPU with native bfloat16 (AVX512-BF16 or AMX; emulated bfloat16 is
    slower than fp32); else None. A ResNet runs only its convolution trunk so
    (:class:`lib_qfix.scoring.clip_image.AutocastTrunk`), a ViT all of it. RN50 at 512 px on 2 such
    cores: ~1.7-2x the fp32 rate, scores within ~0.0001 of fp32 (bench/clip.py)."""
    import torch

    if precision != "auto" or torch.device(device).type != "cpu":
        return None
    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        native = False
    return torch.bfloat16 if native else None


def pick_device(device: str = "auto", precision: str = "auto"):
    """(torch.device, dtype of the weights): auto prefers CUDA (fp16; fp32 with ``precision``
    "fp32"), then MPS (fp32), then CPU (fp32 weights; see :func:`cpu_autocast`)."""
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    if device not in DEVICES[1:] and not device.startswith("cuda:"):
        raise ValueError(f"device: {device!r} is not allowed; one of {', '.join(DEVICES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"clip_precision: {precision!r} is not allowed; one of {', '.join(PRECISIONS)}")
    dtype = torch.float16 if device.startswith("cuda") and precision == "auto" else torch.float32
    return torch.device(device), dtype


def _model_name(open_clip, model: str) -> str:
    if model.endswith(".json") and Path(model).is_file():
        try:  # parse first: open_clip re-reads every config it was given on each later addition
            json.loads(Path(model).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise WeightsUnavailable(f"CLIP model config {model} cannot be read: {reason(e)}") from None
        open_clip.add_model_config(model)
        return Path(model).stem
    if model not in open_clip.list_models():
        raise WeightsUnavailable(
            f"unknown CLIP model {model!r} (option clip_model); e.g. RN50, ViT-B-32, ViT-B-16, or a config .json path")
    return model


def _read_state_dict(path: Path) -> dict[str, Any]:
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path))
        else:
            try:
                sd = torch.load(str(path), map_location="cpu", weights_only=True)
            except Exception:  # OpenAI's own files are TorchScript archives, not pickles
                sd = torch.jit.load(str(path), map_location="cpu").state_dict()
    except Exception as e:
        raise WeightsUnavailable(f"cannot read CLIP weights {path}: {e}") from None
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    return {k.removeprefix("module."): v for k, v in sd.items()}


def find_weights(model: str, pretrained: str, dirs: list[Path], open_clip=None) -> Path | None:
    """A local file for (model, pretrained): a known file name in ``dirs`` (searched first, so a
    name never resolves against the working directory when the models folder has it), else a path."""
    names = [pretrained] + [f"{model}{sep}{pretrained}{s}" for sep in ("-", "_") for s in WEIGHT_SUFFIXES]
    if open_clip is not None:
        url = (open_clip.get_pretrained_cfg(model, pretrained) or {}).get("url", "")
        if url:
            names.append(os.path.basename(url))
    for d in dirs:
        for n in names:
            if n and (d / n).is_file():
                return d / n
    if pretrained and Path(pretrained).expanduser().is_file():
        return Path(pretrained).expanduser()
    return None


def _download(open_clip, model: str, pretrained: str, dirs: list[Path]):
    """Build with an open_clip tag, downloading into ``dirs[0]``; WeightsUnavailable on failure."""
    hint = f"put a checkpoint file in {dirs[0]} (the qfix command also takes a local file path as clip_pretrained)"
    if not open_clip.get_pretrained_cfg(model, pretrained):
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none"
        raise WeightsUnavailable(
            f"CLIP weights {pretrained!r} are not a file or a known tag for {model} (tags: {tags}); {hint}")
    if os.environ.get("QFIX_OFFLINE", "") not in ("", "0"):
        raise WeightsUnavailable(f"CLIP weights {model}/{pretrained} are not downloaded and QFIX_OFFLINE is set; {hint}")
    dirs[0].mkdir(parents=True, exist_ok=True)
    log.warning("qfix: downloading CLIP weights %s/%s into %s (first use only)", model, pretrained, dirs[0])
    try:
        return open_clip.create_model(model, pretrained=pretrained, cache_dir=str(dirs[0]))
    except Exception as e:
        raise WeightsUnavailable(
            f"cannot download CLIP weights {model}/{pretrained} ({reason(e)}); {hint}") from None


def _resize_visual_pos_embed(state_dict: dict[str, Any], model) -> None:
    """Adapt a ViT checkpoint's positional grid to the model's (open_clip's own helper)."""
    from open_clip.model import resize_pos_embed

    resize_pos_embed(state_dict, model)


def _create(open_clip, name: str):
    """An untrained open_clip model; WeightsUnavailable (one line) when its config cannot be built."""
    try:
        return open_clip.create_model(name, pretrained=None)
    except Exception as e:  # a config that parses but describes no buildable model
        raise WeightsUnavailable(f"CLIP model {name!r} cannot be built: {reason(e)}") from None


def shared_clip(model: str = "RN50", pretrained: str = "openai", device: str = "auto",
                models_dir: str | os.PathLike[str] | None = None, precision: str = "auto") -> LoadedClip:
    """:func:`load_clip` through the registry's bounded ``clip`` cache (one model per key)."""
    dev, _ = pick_device(device, precision)
    folders = tuple(str(d) for d in models_dirs(models_dir))
    key = (model, pretrained, str(dev), folders, precision)
    return shared("clip", key, lambda: load_clip(model, pretrained, str(dev), models_dir, precision))


def load_clip(model: str = "RN50", pretrained: str = "openai", device: str = "auto",
              models_dir: str | os.PathLike[str] | None = None, precision: str = "auto") -> LoadedClip:
    """The open_clip ``model`` with weights ``pretrained`` (see the module doc), ready for inference
    in ``precision`` (:data:`PRECISIONS`)."""
    import torch

    open_clip = open_clip_module()
    name = _model_name(open_clip, model)
    dev, dtype = pick_device(device, precision)
    dirs = models_dirs(models_dir)
    if pretrained in ("random", ""):
        net = _create(open_clip, name)
    else:
        path = find_weights(name, pretrained, dirs, open_clip)
        if path is not None:
            net = _create(open_clip, name)
            sd = _read_state_dict(path)
            _resize_visual_pos_embed(sd, net)
            try:
                missing, _ = net.load_state_dict(sd, strict=False)
            except RuntimeError as e:  # shape mismatch: a checkpoint of another architecture
                detail = str(e).strip().splitlines()[-1].strip()
                raise WeightsUnavailable(f"{path} does not fit CLIP model {name}: {detail}") from None
            missing = [k for k in missing if k != "attn_mask"]
            if missing:
                raise WeightsUnavailable(
                    f"{path} does not fit CLIP model {name}: {len(missing)} missing keys, e.g. {missing[0]}")
        else:
            net = _download(open_clip, name, pretrained, dirs)
    try:
        net = net.to(dev).eval()
    except (RuntimeError, AssertionError) as e:  # e.g. "Torch not compiled with CUDA enabled"
        raise WeightsUnavailable(f"CLIP cannot run on device {dev}: {reason(e)}") from None
    if dtype == torch.float16:
        from open_clip.model import convert_weights_to_lp

        convert_weights_to_lp(net, torch.float16)
    for p in net.parameters():
        p.requires_grad_(False)
    visual = net.visual
    size = getattr(visual, "image_size", 224)
    size = (size, size) if isinstance(size, int) else tuple(size)
    mean = tuple(getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN)
    std = tuple(getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD)
    is_resnet = hasattr(visual, "attnpool")
    if is_resnet:  # oneDNN/cuDNN convolutions run 1.3-1.5x faster in NHWC (same fp32 arithmetic)
        visual.to(memory_format=torch.channels_last)
    trunk = quantize_trunk(visual, mean, std) if precision == "int8" and is_resnet and dev.type == "cpu" else None
    return LoadedClip(net, open_clip.get_tokenizer(name), name, pretrained, dev, dtype, mean, std, size, is_resnet,
                      cpu_autocast(dev, precision), int8_trunk=trunk)
