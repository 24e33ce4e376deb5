"""Quality scorers. ``scorer_for(options)`` picks the one the options ask for, falling back to
the offline scorer (with a warning) when CLIP weights are not available."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib_qfix.judge import JUDGE_SCORER, NO_BASE
from lib_qfix.judge.setup import current as judge_setup
from lib_qfix.registry import create_scorer

if TYPE_CHECKING:  # only for types: the options schema imports this package (its prompt-pair sets)
    from lib_qfix.options import Options


class WeightsUnavailable(RuntimeError):
    """Model weights are not on disk and cannot be downloaded; the message says where to put them."""


def scorer_config(options: Options, models_dir: str | None = None) -> dict[str, Any]:
    """The registry config for the scorer named by ``options.scorer`` (hashable values only).
    ``models_dir``: the host's models folder, searched first for weights and learned prompts."""
    if options.scorer == "offline":
        return {}
    if options.scorer == JUDGE_SCORER:
        return judge_config(options, models_dir)
    cfg = {
        "model": options.clip_model,
        "pretrained": options.clip_pretrained,
        "pairs": options.prompt_pairs,
        "custom_pairs": options.custom_pairs,
        "device": options.device,
        "precision": options.clip_precision,
    }
    if options.scorer == "clip-iqa+learned":
        cfg["learned"] = options.learned_prompts
    if models_dir:
        cfg["models_dir"] = str(models_dir)
    return cfg


def judge_config(options: Options, models_dir: str | None = None) -> dict[str, Any]:
    """The LLM judge's config: its options, the config of the scorer it is combined with, and where
    the judge is (:func:`lib_qfix.judge.setup.current`: the host's or the CLI's choice, never an
    option; its ``repr`` shows only a fingerprint of URL and model)."""
    base = options.judge_base
    return {"base": base,
            "base_config": scorer_config(options.replace(scorer=base), models_dir) if base != NO_BASE else {},
            "weight": options.judge_weight, "match_weight": options.judge_match_weight,
            "calls": options.judge_calls, "instructions": options.judge_prompt, "timeout": options.judge_timeout,
            "retries": options.judge_retries, "concurrency": options.judge_concurrency, "setup": judge_setup()}


def per_image(scorer: Any) -> Any:
    """The scorer for the versions of one image in a fix loop: the LLM judge's budgeted session
    (at most ``judge_calls`` calls), any other scorer itself."""
    make = getattr(scorer, "for_image", None)
    return make() if callable(make) else scorer


def scorer_for(options: Options, models_dir: str | None = None) -> tuple[Any, list[str]]:
    """(scorer, warnings) for ``options``; never raises for missing weights. ``models_dir`` is the
    host's models folder (part of the scorer's configuration, not the process environment)."""
    if options.scorer == "offline":
        return create_scorer("offline"), []
    try:
        return create_scorer(options.scorer, **scorer_config(options, models_dir)), []
    except (WeightsUnavailable, ImportError) as e:
        return create_scorer("offline"), [f"{options.scorer} unavailable, used the offline score: {e}"]
