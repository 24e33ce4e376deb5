"""The option groups (their ``G_...`` names, in panel order) and the constants and helpers the
declarations in :mod:`lib_qfix.options.fields` use: choice tuples, and one function per kind of option
that several groups or units repeat (a detector's confidence and area bounds, the seven options of each
ControlNet unit). Each helper returns an :func:`~lib_qfix.options.field.option`; facts live here once.
"""

from __future__ import annotations

from lib_qfix.judge import JUDGE_SCORER, NO_BASE
from lib_qfix.options.field import option
from lib_qfix.registry import scorer_names

#: characters allowed in a model, weights or prompt file name (locally: a path, hence PATH_MAX)
NAME_LENGTH = 4096

MODES = ("fix", "fix_all", "score_only")
FACE_MASKS = ("hull", "box", "eyes")
RESTORERS = ("none", "GFPGAN", "CodeFormer")
MASK_MERGE = ("none", "merge")

G_GENERAL, G_SCORE, G_DETECT, G_PROMPTS, G_MASK, G_INPAINT, G_LOOP = (
    "General", "Scoring", "Detectors", "Prompts", "Masks", "Inpaint", "Loop",
)
G_CONTROLNET, G_UPSCALE, G_SCENE, G_JUDGE = "ControlNet", "Upscale", "Scene", "LLM judge"
#: the body-anatomy group (pose, extra fingers, teeth, skin); its detectors are off by default
G_ANATOMY = "Anatomy"


def confidence(subject: str, *read_by: str) -> float:
    """A detector's minimum confidence, e.g. ``face_confidence``."""
    return option(0.5, f"{subject.capitalize()} confidence", f"Minimum {subject} detection confidence (0..1).",
                  G_DETECT, 0.0, 1.0, 0.01, read_by=read_by)


def area(subject: str, bound: str, *read_by: str) -> float:
    """Detections of ``subject`` outside an area range, e.g. ``face_min_area`` (``bound`` min or max)."""
    low = bound == "min"
    return option(0.0 if low else 1.0, f"{subject.capitalize()} {bound} area",
                  f"Ignore {subject}s {'smaller' if low else 'larger'} than this fraction of the image area (0..1).",
                  G_DETECT, 0.0, 1.0, 0.001, read_by=read_by)


#: ControlNet control modes, in the order of both extensions' ``ControlMode`` enums ("Balanced", "My prompt
#: is more important", "ControlNet is more important")
CONTROL_MODES = ("balanced", "prompt", "controlnet")
#: the ControlNet units QFix can add to an inpaint pass -> the word an ``auto`` model name must contain
CN_UNITS = {"hand": "openpose", "face": "openpose", "body": "openpose", "depth": "depth", "inpaint": "inpaint",
            "tile": "tile"}
#: preprocessors the panel offers (any name the host lists works): "none" passes QFix's own guide image;
#: "auto" (depth): depth_hand_refiner for hands, depth_midas otherwise
CN_MODULES = ("none", "auto", "depth_hand_refiner", "depth_midas", "inpaint_only", "tile_resample")


def cn_on(unit: str, on: bool, what: str) -> bool:
    """Whether ControlNet unit ``unit`` (a key of :data:`CN_UNITS`) guides the passes it serves."""
    return option(on, f"{unit.capitalize()} unit", f"ControlNet unit {what}", G_CONTROLNET, read_by=("loop",))


def cn_module(unit: str, default: str) -> str:
    return option(default, f"{unit.capitalize()} preprocessor",
                  "ControlNet preprocessor (module) as the host names it; 'none' uses QFix's own guide image.",
                  G_CONTROLNET, choices=CN_MODULES, free_choice=True, read_by=("loop",))


def cn_model(unit: str) -> str:
    return option("auto", f"{unit.capitalize()} model",
                  f"ControlNet model as the host lists it (the [hash] may be left out); auto: the first installed "
                  f"model whose name contains '{CN_UNITS[unit]}'.", G_CONTROLNET, choices=("auto",),
                  free_choice=True, read_by=("loop",))


def cn_number(unit: str, what: str, default: float) -> float:
    """``weight`` (0..2), guidance ``start`` or ``end`` (0..1, fractions of the sampling steps)."""
    if what == "weight":
        return option(default, f"{unit.capitalize()} weight", "ControlNet weight (0..2).", G_CONTROLNET,
                      0.0, 2.0, 0.05, read_by=("loop",))
    return option(default, f"{unit.capitalize()} guidance {what}",
                  f"Fraction of the sampling steps at which the unit's guidance {what}s (0..1).", G_CONTROLNET,
                  0.0, 1.0, 0.01, read_by=("loop",))


def cn_mode(unit: str) -> str:
    return option("balanced", f"{unit.capitalize()} control mode",
                  "balanced; prompt: my prompt is more important; controlnet: ControlNet is more important.",
                  G_CONTROLNET, choices=CONTROL_MODES, read_by=("loop",))


def judge_bases() -> tuple[str, ...]:
    """What the LLM judge can be combined with: nothing, or any other registered scorer."""
    return (NO_BASE,) + tuple(n for n in scorer_names() if n != JUDGE_SCORER)
