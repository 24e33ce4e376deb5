"""Where and in what precision the pipeline runs, and the memory savers for small GPUs.

The rule is the scorer's (:func:`lib_qfix.scoring.clip_model.pick_device`, the same device names):
``auto`` picks CUDA (float16), then Apple's MPS (float32: float16 on MPS gives black images with
some models), then the CPU (float32: float16 is slow or unsupported there). Attention slicing trades
speed for memory on any device; model CPU offload (CUDA only, needs ``accelerate``) keeps only the
module that is working on the GPU.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import torch

from lib_qfix.scoring.clip_model import DEVICES, pick_device

DTYPES = ("auto", "float16", "bfloat16", "float32")


class DeviceError(ValueError):
    """A device, precision or memory setting this machine cannot honour; one line naming it."""


@dataclass(frozen=True)
class DeviceConfig:
    """``device``: one of :data:`~lib_qfix.scoring.clip_model.DEVICES` (or "cuda:1"); ``dtype``: one of :data:`DTYPES`;
    ``attention_slicing``/``cpu_offload``: the memory savers; ``threads``: CPU threads for torch
    (0 = torch's default)."""

    device: str = "auto"
    dtype: str = "auto"
    attention_slicing: bool = False
    cpu_offload: bool = False
    threads: int = 0


def _mps() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve(cfg: DeviceConfig) -> tuple[str, torch.dtype]:
    """(torch device name, dtype) for ``cfg``; raises :class:`DeviceError` for a device that is not there."""
    try:
        dev, dtype = pick_device(cfg.device.strip().lower() or "auto")
    except ValueError:
        raise DeviceError(f"--device {cfg.device!r} is not allowed; allowed: {', '.join(DEVICES)} (or cuda:N)") from None
    name, base = str(dev), dev.type
    if base == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda: no CUDA GPU is visible to torch; allowed here: cpu" + (", mps" if _mps() else ""))
    if base == "mps" and not _mps():
        raise DeviceError("--device mps: Apple's MPS backend is not available here; allowed here: cpu")
    if cfg.dtype not in DTYPES:
        raise DeviceError(f"--dtype {cfg.dtype!r} is not allowed; allowed: {', '.join(DTYPES)}")
    return name, dtype if cfg.dtype == "auto" else getattr(torch, cfg.dtype)


def place(pipe: Any, cfg: DeviceConfig) -> Any:
    """Move ``pipe`` to the device of ``cfg`` in its dtype and switch on the memory savers asked for."""
    device, dtype = resolve(cfg)
    if cfg.threads > 0:
        torch.set_num_threads(int(cfg.threads))
    if cfg.cpu_offload:
        if not device.startswith("cuda"):
            raise DeviceError("--cpu-offload needs a CUDA GPU; allowed on this machine: no --cpu-offload")
        if importlib.util.find_spec("accelerate") is None:
            raise DeviceError("--cpu-offload needs accelerate: pip install accelerate")
        pipe.to(dtype=dtype)
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device, dtype)
    if cfg.attention_slicing:
        pipe.enable_attention_slicing()
    return pipe


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``: the same noise on every device, so a seed gives the
    same result on a CPU test run and a GPU (up to the device's arithmetic)."""
    return torch.Generator(device="cpu").manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
