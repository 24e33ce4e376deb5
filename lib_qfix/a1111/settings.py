"""A1111 settings of QFix (Settings > QFix) and the values read from them.

Keys: ``qfix_models_dir`` (folder for CLIP weights and learned prompts; empty: ``models/qfix``),
``qfix_default_preset``, ``qfix_save_before`` (also save the image as it was before QFix changed
it), ``qfix_scorer_device`` (auto/cpu/cuda/mps; overrides the ``device`` option when that is auto),
``qfix_judge_url`` / ``qfix_judge_model`` (the LLM judge; see :func:`judge_setup`).
User presets live in ``<data dir>/qfix/presets`` (outside the extension folder: kept on update).

What clients may choose (every user of a shared server is a client: the UI, ``alwayson_scripts``,
QFix's routes). For each option the schema marks as a server resource, :func:`allowed_values`
lists the accepted values; anything else is refused naming them:

- ``clip_model``: ``qfix_clip_models`` (comma-separated open_clip architectures, default ``RN50``);
- ``clip_pretrained``: ``qfix_clip_weights`` (comma-separated open_clip tags or checkpoint file names
  in the models folder, default ``openai``);
- ``learned_prompts``: none (empty) or the name of a ``.safetensors`` file in ``<models folder>/prompts``;
- ``device``: ``auto`` and the ``qfix_scorer_device`` setting when that is not auto, else ``auto``,
  ``cpu`` and the accelerators this machine has.

The value the server's default preset uses is always allowed too (it is the server's own choice).
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from lib_qfix.detect.mp_models import set_models_dir as set_mediapipe_models_dir
from lib_qfix.judge import setup as judge
from lib_qfix.options import DEFAULTS, Options, policy
from lib_qfix.options.fields import DEVICES
from lib_qfix.presets import names, resolve

SECTION = ("qfix", "QFix")
#: what clients may choose when the settings are left as they are: the options' own defaults
CLIP_MODELS, CLIP_WEIGHTS = DEFAULTS.clip_model, DEFAULTS.clip_pretrained


def _opt(key: str, default: Any) -> Any:
    from modules import shared

    return getattr(shared.opts, key, default)


def models_dir() -> str:
    from modules import paths_internal

    return _opt("qfix_models_dir", "") or os.path.join(paths_internal.models_path, "qfix")


def public_text(text: str) -> str:
    """``text`` (a warning that reaches API clients in infotext and route answers) with this server's
    folders named rather than spelled out: a client must not learn the install path, and cannot use it."""
    from modules import paths_internal

    places = ((models_dir(), "the QFix models folder (Settings > QFix)"),
              (str(paths_internal.models_path), "the WebUI models folder"),
              (str(paths_internal.data_path), "the WebUI data folder"),
              (str(getattr(paths_internal, "script_path", "")), "the WebUI folder"),
              (os.path.expanduser("~"), "~"))
    for path, label in sorted(places, key=lambda p: -len(p[0])):
        if len(path) > 1:
            text = text.replace(path, label)
    return text


def user_preset_dir() -> str:
    from modules import paths_internal

    return os.path.join(paths_internal.data_path, "qfix", "presets")


def default_preset() -> str:
    return _opt("qfix_default_preset", "default") or "default"


def save_before() -> bool:
    return bool(_opt("qfix_save_before", False))


def apply_device(options: Options) -> Options:
    """The scorer device setting wins over ``device == "auto"`` in options."""
    dev = _opt("qfix_scorer_device", "auto")
    if options.device == "auto" and dev in DEVICES and dev != "auto":
        return replace(options, device=dev)
    return options


def use_models_dir() -> str:
    """Point MediaPipe's model store at the server's models folder and the LLM judge at the
    server's judge (:func:`judge_setup`), and return the folder, which callers hand to the scorer's
    configuration (nothing goes through the process environment)."""
    folder = models_dir()
    set_mediapipe_models_dir(folder)  # where Tasks-API detector models are fetched to
    judge.configure(judge_setup())
    return folder


def judge_setup() -> judge.JudgeSetup:
    """The server's LLM judge: ``qfix_judge_url`` and ``qfix_judge_model`` from the settings (which
    A1111's /sdapi/v1/options cannot change: ``restrict_api``), each overridden by its
    ``QFIX_JUDGE_*`` environment variable; the key only from ``QFIX_JUDGE_KEY`` (never a setting:
    settings are readable through the host's API); verdicts cached in ``<data dir>/qfix/judge-cache``."""
    from modules import paths_internal

    cache = os.path.join(paths_internal.data_path, "qfix", "judge-cache")
    base = judge.JudgeSetup(str(_opt("qfix_judge_url", "") or ""), str(_opt("qfix_judge_model", "") or ""), "",
                            cache)
    return judge.overlay(base)


def _names(text: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.strip() for s in str(text or "").split(",") if s.strip()))


def learned_prompt_names() -> tuple[str, ...]:
    """Names (file stems) of the learned prompt files in ``<models folder>/prompts``."""
    folder = Path(models_dir()) / "prompts"
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.stem for p in folder.glob("*.safetensors") if p.is_file()))


@lru_cache(maxsize=1)
def available_devices() -> tuple[str, ...]:
    """``cpu`` and the accelerators torch sees on this machine (checked once)."""
    found = ["cpu"]
    try:
        import torch

        if torch.cuda.is_available():
            found.append("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            found.append("mps")
    except Exception:  # no torch: only the offline scorer runs, on the CPU
        pass
    return tuple(found)


def server_defaults() -> Options:
    """The options of the server's default preset (the built-in defaults if it cannot be read)."""
    try:
        return resolve(default_preset(), None, user_preset_dir()).baseline
    except Exception:  # a broken default preset is reported where it is used; fall back here
        return DEFAULTS


def allowed_values(key: str, defaults: Options | None = None) -> tuple[str, ...]:
    """The values clients may give the resource option ``key`` on this server (see module doc);
    ``defaults``: :func:`server_defaults` if already at hand. A resource option without a rule
    here allows only the default preset's value."""
    if key == "clip_model":
        listed = _names(_opt("qfix_clip_models", CLIP_MODELS))
    elif key == "clip_pretrained":
        listed = _names(_opt("qfix_clip_weights", CLIP_WEIGHTS))
    elif key == "learned_prompts":
        listed = ("",) + learned_prompt_names()
    elif key == "device":
        dev = _opt("qfix_scorer_device", "auto")
        listed = ("auto", dev) if dev in DEVICES and dev != "auto" else ("auto",) + available_devices()
    else:
        listed = ()
    base = defaults if defaults is not None else server_defaults()
    return tuple(dict.fromkeys((*listed, getattr(base, key))))


def check_client_options(options: Options) -> None:
    """Raise OptionError naming the field when ``options`` name a path or a resource this server
    does not offer (see :mod:`lib_qfix.options.policy`)."""
    base = server_defaults()
    policy.check_client_options(options, lambda key: allowed_values(key, base))


def _preset_choices() -> dict[str, Any]:
    try:
        return {"choices": names(user_preset_dir())}
    except Exception:  # settings page must render even if presets cannot be listed
        return {"choices": ["default"]}


def on_ui_settings() -> None:
    import gradio as gr
    from modules import shared

    add, info = shared.opts.add_option, shared.OptionInfo
    # the settings that make the client policy (models folder, allowed CLIP models/weights, device) are
    # the server's: restrict_api keeps /sdapi/v1/options from changing them (the Settings page still can)
    add("qfix_models_dir", info("", "QFix models folder (CLIP weights, learned prompts; empty: models/qfix)",
                                section=SECTION, restrict_api=True))
    add("qfix_default_preset", info("default", "QFix default preset", gr.Dropdown, _preset_choices,
                                     section=SECTION, restrict_api=True))
    add("qfix_save_before", info(False, "QFix: also save the image as it was before fixing", section=SECTION))
    add("qfix_scorer_device", info("auto", "QFix scorer device (clients may choose only auto or this one; "
                                           "auto: any device this machine has)", gr.Radio,
                                   {"choices": list(DEVICES)}, section=SECTION, restrict_api=True))
    add("qfix_clip_models", info(CLIP_MODELS, "QFix: CLIP architectures clients may choose (comma-separated "
                                              "open_clip names; the default preset's is always allowed)",
                                 section=SECTION, restrict_api=True))
    add("qfix_clip_weights", info(CLIP_WEIGHTS, "QFix: CLIP weights clients may choose (comma-separated open_clip "
                                                "tags or checkpoint file names in the models folder)",
                                  section=SECTION, restrict_api=True))
    # the judge's endpoint is the server's choice: not settable through /sdapi/v1/options (restrict_api);
    # the QFIX_JUDGE_URL / _MODEL environment variables win; the key comes only from QFIX_JUDGE_KEY
    add("qfix_judge_url", info("", "QFix LLM judge: OpenAI-compatible API base URL (e.g. http://localhost:11434/v1; "
                                   "API key from the QFIX_JUDGE_KEY environment variable)", section=SECTION,
                               restrict_api=True))
    add("qfix_judge_model", info("", "QFix LLM judge: vision model name (e.g. qwen2.5vl)", section=SECTION,
                                 restrict_api=True))
