"""Load the Stable Diffusion pipeline and the ControlNet models ``qfix fix`` works with.

``--model`` is a local diffusers folder (``model_index.json``), a single-file checkpoint
(``.safetensors``/``.ckpt``, through ``from_single_file``), or a Hugging Face hub id. A hub id is
taken from the local cache first; only when it is not there and the machine is online
(``HF_HUB_OFFLINE`` unset) is it downloaded. A single-file checkpoint needs its architecture's
diffusers configuration: ``--model-config FOLDER`` (any diffusers folder of the same architecture)
works offline, else it comes from the hub. Every failure is one :class:`LoadError` line naming the
flag, the value and what would work. The safety checker is not loaded (A1111 has none either).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lib_qfix.diffusers_host.libs import diffusers
from lib_qfix.errors import error_text

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".bin")
#: a key only SDXL checkpoints have (their second text encoder)
_SDXL_KEY = "conditioner.embedders.1."


class LoadError(ValueError):
    """A model that cannot be loaded; the message is one line naming the flag and what is allowed."""


def offline() -> bool:
    """Whether the hub may not be reached (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` set)."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def quiet() -> None:
    """No loading bars or advice from diffusers/transformers on the console (``qfix fix`` has its own
    progress and says what matters in one line)."""
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    import transformers

    transformers.utils.logging.set_verbosity_error()


def _is_sdxl(path: Path) -> bool:
    if path.suffix.lower() != ".safetensors":
        return False
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return any(k.startswith(_SDXL_KEY) for k in f.keys())


def _hub(cls: Any, name: str, flag: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained(name)`` from the cache, else (online) from the hub."""
    try:
        return cls.from_pretrained(name, local_files_only=True, **kwargs)
    except Exception as cached_error:
        if offline():
            raise LoadError(f"{flag} {name}: not a local folder or file, and not in the Hugging Face cache while "
                            "offline (HF_HUB_OFFLINE is set); allowed: a diffusers folder, a .safetensors "
                            "checkpoint, or a hub id when online") from cached_error
    try:
        return cls.from_pretrained(name, **kwargs)
    except Exception as e:
        raise LoadError(f"{flag} {name}: cannot load it from the Hugging Face hub ({error_text(e)}); allowed: "
                        "a diffusers folder, a .safetensors checkpoint, or a hub id that can be reached") from None


def load_pipeline(model: str, dtype: Any = None, config: str | None = None) -> Any:
    """The text-to-image pipeline of ``model`` (see the module doc), on the CPU in ``dtype``."""
    flag = "--model"
    quiet()
    path = Path(model).expanduser()
    kwargs: dict[str, Any] = {"torch_dtype": dtype, "safety_checker": None, "requires_safety_checker": False}
    try:
        if path.is_dir():
            if not (path / "model_index.json").is_file():
                raise LoadError(f"{flag} {model}: the folder has no model_index.json; allowed: a diffusers pipeline "
                                "folder (save_pretrained), a .safetensors checkpoint or a hub id")
            pipe = diffusers.AutoPipelineForText2Image.from_pretrained(str(path), local_files_only=True, **kwargs)
        elif path.is_file():
            if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
                raise LoadError(f"{flag} {model}: {path.suffix or 'no suffix'} is not a checkpoint; allowed: "
                                f"{', '.join(SINGLE_FILE_SUFFIXES)}, a diffusers folder or a hub id")
            cls = diffusers.StableDiffusionXLPipeline if _is_sdxl(path) else diffusers.StableDiffusionPipeline
            if config is None and offline():
                raise LoadError(f"{flag} {model}: a single-file checkpoint needs its diffusers configuration, which "
                                "comes from the hub, and HF_HUB_OFFLINE is set; allowed: --model-config FOLDER "
                                "(a diffusers folder of the same architecture)")
            if cls is diffusers.StableDiffusionXLPipeline:
                kwargs = {"torch_dtype": dtype}
            pipe = cls.from_single_file(str(path), config=config, local_files_only=config is not None, **kwargs)
        elif "/" in model and not model.startswith((".", "/", "~")):
            pipe = _hub(diffusers.AutoPipelineForText2Image, model, flag, **kwargs)
        else:
            raise LoadError(f"{flag} {model}: no such folder or file; allowed: a diffusers folder, a .safetensors "
                            "checkpoint, or a hub id (owner/name)")
    except LoadError:
        raise
    except Exception as e:  # a broken folder or file: one line, not a traceback
        raise LoadError(f"{flag} {model}: cannot load it ({error_text(e)})") from None
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_controlnet(spec: str, dtype: Any = None, flag: str = "--controlnet") -> Any:
    """A ``ControlNetModel`` from a diffusers folder, a single file or a hub id."""
    quiet()
    path = Path(spec).expanduser()
    try:
        if path.is_dir():
            return diffusers.ControlNetModel.from_pretrained(str(path), torch_dtype=dtype, local_files_only=True)
        if path.is_file():
            return diffusers.ControlNetModel.from_single_file(str(path), torch_dtype=dtype)
        if "/" in spec and not spec.startswith((".", "/", "~")):
            return _hub(diffusers.ControlNetModel, spec, flag, torch_dtype=dtype)
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(f"{flag} {spec}: cannot load the ControlNet model ({error_text(e)})") from None
    raise LoadError(f"{flag} {spec}: no such folder or file; allowed: a diffusers ControlNet folder, a checkpoint "
                    "file or a hub id")
