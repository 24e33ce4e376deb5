"""Quality scorers. ``scorer_for(options)`` picks the one the options ask for, falling back to
the offline scorer (with a warning) when CLIP weights are not available."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib_qfix.registry import create_scorer

if TYPE_CHECKING:  # only for types: the options schema imports this package (its prompt-pair sets)
    from lib_qfix.options import Options


class WeightsUnavailable(RuntimeError):
    """Model weights are not on disk and cannot be downloaded; the message says where to put them."""


def scorer_config(options: Options) -> dict[str, Any]:
    """The registry config for the scorer named by ``options.scorer`` (hashable values only)."""
    if options.scorer == "offline":
        return {}
    cfg = {
        "model": options.clip_model,
        "pretrained": options.clip_pretrained,
        "pairs": options.prompt_pairs,
        "custom_pairs": options.custom_pairs,
        "device": options.device,
    }
    if options.scorer == "clip-iqa+learned":
        cfg["learned"] = options.learned_prompts
    return cfg


def scorer_for(options: Options) -> tuple[Any, list[str]]:
    """(scorer, warnings) for ``options``; never raises for missing weights."""
    if options.scorer == "offline":
        return create_scorer("offline"), []
    try:
        return create_scorer(options.scorer, **scorer_config(options)), []
    except (WeightsUnavailable, ImportError) as e:
        return create_scorer("offline"), [f"{options.scorer} unavailable, used the offline score: {e}"]
