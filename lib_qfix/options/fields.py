"""Every QFix option, declared once, as an attribute of :class:`Options`. Add an option here and it
appears in the A1111 panel, the API, presets, infotext and the JSON schema; its type is the
annotation (what mypy sees), everything else about it is in :func:`~lib_qfix.options.field.option`.

Units: sizes in pixels unless a field says "fraction of the image area" (0..1);
confidences and quality in 0..1; denoising strength in 0..1.

:data:`FIELDS` (one :class:`~lib_qfix.options.field.Field` per attribute, in declaration order: the
order of the UI's positional values) and the validation that ``Options.replace`` needs are here
too; conversions are in :mod:`lib_qfix.options.schema`, derived lists in
:mod:`lib_qfix.options.derived`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lib_qfix.options.field import (
    KIND_NEGATIVE,
    KIND_PROMPT,
    META,
    ROLES,
    STAGES,
    Field,
    OptionError,
    closest,
    option,
)
from lib_qfix.registry import DETECTORS, scorer_names
from lib_qfix.scoring.clip_model import DEVICES
from lib_qfix.scoring.prompt_pairs import PAIR_SETS, check_custom_pairs
from lib_qfix.types import LOCAL_KINDS

#: characters allowed in a model, weights or prompt file name (locally: a path, hence PATH_MAX)
NAME_LENGTH = 4096

MODES = ("fix", "fix_all", "score_only")
FACE_MASKS = ("hull", "box", "eyes")
RESTORERS = ("none", "GFPGAN", "CodeFormer")
MASK_MERGE = ("none", "merge")

G_GENERAL, G_SCORE, G_DETECT, G_PROMPTS, G_MASK, G_INPAINT, G_LOOP = (
    "General", "Scoring", "Detectors", "Prompts", "Masks", "Inpaint", "Loop",
)


def _confidence(subject: str, *read_by: str) -> float:
    """A detector's minimum confidence, e.g. ``face_confidence``."""
    return option(0.5, f"{subject.capitalize()} confidence", f"Minimum {subject} detection confidence (0..1).",
                  G_DETECT, 0.0, 1.0, 0.01, read_by=read_by)


def _area(subject: str, bound: str, *read_by: str) -> float:
    """Detections of ``subject`` outside an area range, e.g. ``face_min_area`` (``bound`` min or max)."""
    low = bound == "min"
    return option(0.0 if low else 1.0, f"{subject.capitalize()} {bound} area",
                  f"Ignore {subject}s {'smaller' if low else 'larger'} than this fraction of the image area (0..1).",
                  G_DETECT, 0.0, 1.0, 0.001, read_by=read_by)


@dataclass(frozen=True)
class Options:
    """All QFix options: a frozen record, one typed attribute per option (see the module doc for
    units). Build one with :func:`validate`; ``replace`` validates too."""

    # --- General
    enable: bool = option(False, "Enable QFix", "Score, diagnose and fix every output image.", G_GENERAL,
                          role=META, read_by=("host", "loop"))
    preset: str = option("default", "Preset", "Preset the other options start from (bundled or user).",
                         G_GENERAL, max_length=NAME_LENGTH, path_like=True, role=META, read_by=("host",))
    mode: str = option("fix", "Mode",
                       "fix: repair regions judged defective; fix_all: inpaint every detected face and hand; "
                       "score_only: diagnose and record, change nothing.", G_GENERAL, choices=MODES,
                       read_by=("plan", "loop"))
    # --- Scoring
    scorer: str = option("offline", "Scorer",
                         "Quality scorer (the default is classical and needs no downloads; the CLIP scorers "
                         "download their weights once).", G_SCORE, choices=scorer_names, read_by=("scorer",))
    quality_threshold: float = option(
        0.5, "Quality threshold", "Images scoring below this (0..1) are treated as defective even without a "
        "local finding.", G_SCORE, 0.0, 1.0, 0.01, read_by=("diagnose",))
    clip_model: str = option(
        "RN50", "CLIP model", "open_clip architecture name for CLIP-IQA (locally also a config .json path; a "
        "shared server offers the architectures its settings allow).", G_SCORE,
        max_length=NAME_LENGTH, resource=True, path_like=True, read_by=("scorer",))
    clip_pretrained: str = option(
        "openai", "CLIP weights", "open_clip pretrained tag or a checkpoint file name in the models folder "
        "(locally also a path; a shared server offers the weights its settings allow).", G_SCORE,
        max_length=NAME_LENGTH, resource=True, path_like=True, read_by=("scorer",))
    prompt_pairs: str = option("quality5", "Prompt pairs",
                               "Which set of antonym prompts (good/bad, sharp/blurry, …) CLIP-IQA compares "
                               "the image with.", G_SCORE, choices=tuple(PAIR_SETS), read_by=("scorer",))
    custom_pairs: str = option(
        "", "Custom prompt pairs", "Extra pairs as 'positive|negative[|weight]', separated by ';' (at most 16). "
        "Used in addition to the set.", G_SCORE, max_length=1000, check=check_custom_pairs, read_by=("scorer",))
    learned_prompts: str = option(
        "", "Learned prompts", "Name of a learned prompt file (safetensors) in the models folder's prompts/ "
        "for clip-iqa+learned (locally also a path).", G_SCORE, max_length=NAME_LENGTH, resource=True,
        path_like=True, read_by=("scorer",))
    device: str = option("auto", "Scorer device", "Where CLIP runs (auto: the best this machine has).", G_SCORE,
                         choices=DEVICES, resource=True, read_by=("scorer", "host"))
    # --- Detectors
    detect_faces: bool = option(True, "Faces", "Detect faces (MediaPipe) and judge them.", G_DETECT,
                                read_by=("diagnose",))
    face_confidence: float = _confidence("face", "face", "fidelity")
    face_min_area: float = _area("face", "min", "face")
    face_max_area: float = _area("face", "max", "face")
    face_mask: str = option("hull", "Face mask", "Mask shape: face mesh hull, box, or eyes only.", G_DETECT,
                            choices=FACE_MASKS, read_by=("face", "masks"))
    detect_hands: bool = option(True, "Hands", "Detect hands (MediaPipe) and check their plausibility.",
                                G_DETECT, read_by=("diagnose",))
    hand_confidence: float = _confidence("hand", "hand", "fidelity")
    hand_min_area: float = _area("hand", "min", "hand")
    hand_max_area: float = _area("hand", "max", "hand")
    hand_crops: bool = option(True, "Search hands in crops",
                              "Also look for hands in crops around people (finds far more hands in group shots; "
                              "slower).", G_DETECT, read_by=("hand",))
    detect_text: bool = option(True, "Watermarks and text", "Detect watermarks, signatures and text (OCR).",
                               G_DETECT, read_by=("diagnose",))
    text_confidence: float = _confidence("text", "text")
    ignore_text_in_prompt: bool = option(
        True, "Allow text the prompt asks for", "Do not treat text as a defect when the prompt asks for text "
        "(a sign, a logo, a caption).", G_DETECT, read_by=("text",))
    detect_global: bool = option(True, "Global defects", "Judge blur, noise, JPEG artefacts and exposure.",
                                 G_DETECT, read_by=("diagnose",))
    detect_cropping: bool = option(True, "Cropped subjects", "Flag faces and hands cut by the frame.", G_DETECT,
                                   read_by=("face", "hand"))
    # --- Prompts
    negative_strength: float = option(1.0, "Negative strength",
                                      "Multiplies the weights of the negatives QFix adds (0.5..2).", G_PROMPTS,
                                      0.5, 2.0, 0.05, read_by=("prompts",))
    extra_negative: str = option("", "Extra negative", "Added to every negative QFix builds.", G_PROMPTS,
                                 read_by=("plan", "prompts"))
    face_prompt: str = option("[PROMPT], detailed face, symmetric eyes", "Face prompt",
                              "Prompt for face inpainting; [PROMPT] inserts the image's own prompt.", G_PROMPTS,
                              multiline=True, role=KIND_PROMPT, serves=("face",), read_by=("plan",))
    face_negative: str = option("", "Face negative", "Added to the negative for face inpainting.", G_PROMPTS,
                                multiline=True, role=KIND_NEGATIVE, serves=("face",), read_by=("plan", "prompts"))
    hand_prompt: str = option("[PROMPT], detailed hand, five fingers", "Hand prompt",
                              "Prompt for hand inpainting; [PROMPT] inserts the image's own prompt.", G_PROMPTS,
                              multiline=True, role=KIND_PROMPT, serves=("hand",), read_by=("plan",))
    hand_negative: str = option("", "Hand negative", "Added to the negative for hand inpainting.", G_PROMPTS,
                                multiline=True, role=KIND_NEGATIVE, serves=("hand",), read_by=("plan", "prompts"))
    text_prompt: str = option("[PROMPT]", "Text/watermark prompt", "Prompt for inpainting over watermarks and text.",
                              G_PROMPTS, multiline=True, role=KIND_PROMPT, serves=("watermark", "text"),
                              read_by=("plan",))
    text_negative: str = option("", "Text/watermark negative", "Added to the negative for text removal.",
                                G_PROMPTS, multiline=True, role=KIND_NEGATIVE, serves=("watermark", "text"),
                                read_by=("plan", "prompts"))
    # --- Masks
    mask_dilation: int = option(8, "Mask dilation", "Grow (or shrink, negative) masks by this many pixels.",
                                G_MASK, -64, 128, 1, read_by=("masks",))
    mask_feather: int = option(4, "Mask feather", "Soft edge width in pixels (A1111 mask blur).", G_MASK,
                               0, 64, 1, read_by=("masks", "fidelity"))
    inpaint_padding: int = option(32, "Inpaint padding", "Context around the mask for 'only masked', pixels.",
                                  G_MASK, 0, 256, 4, read_by=("inpaint",))
    mask_merge: str = option("none", "Mask merge",
                             "none: one inpaint per region; merge: all regions of a kind in one pass.", G_MASK,
                             choices=MASK_MERGE, read_by=("plan",))
    mask_top_k: int = option(0, "Max regions", "Fix at most this many regions per kind, largest first (0 = all).",
                             G_MASK, 0, 20, 1, read_by=("plan",))
    # --- Inpaint
    denoise: float = option(0.4, "Denoising strength", "Inpaint denoising strength (0..1).", G_INPAINT,
                            0.0, 1.0, 0.01, read_by=("inpaint",))
    inpaint_resolution: int = option(512, "Inpaint resolution",
                                     "Long side of the crop sampled by the model, pixels (snapped to 8).",
                                     G_INPAINT, 64, 2048, 8, read_by=("inpaint",))
    steps: int = option(0, "Steps", "Sampling steps for inpainting (0 = same as the image).", G_INPAINT,
                        0, 150, 1, read_by=("inpaint",))
    cfg_scale: float = option(0.0, "CFG scale", "CFG scale for inpainting (0 = same as the image).", G_INPAINT,
                              0.0, 30.0, 0.5, read_by=("inpaint",))
    sampler: str = option("", "Sampler", "Sampler for inpainting (empty = same as the image).", G_INPAINT,
                          choices=("",), free_choice=True, read_by=("inpaint",))
    scheduler: str = option("", "Scheduler", "Scheduler for inpainting (empty = same as the image).", G_INPAINT,
                            choices=("",), free_choice=True, read_by=("inpaint",))
    face_restorer: str = option("none", "Face restorer", "Restore fixed faces with A1111's GFPGAN or CodeFormer.",
                                G_INPAINT, choices=RESTORERS, read_by=("restore",))
    restore_visibility: float = option(1.0, "Restorer visibility", "Blend of the restored face (0..1).",
                                       G_INPAINT, 0.0, 1.0, 0.05, read_by=("restore",))
    codeformer_weight: float = option(0.5, "CodeFormer weight", "CodeFormer fidelity (0 = most restoration).",
                                      G_INPAINT, 0.0, 1.0, 0.05, read_by=("restore",))
    # --- Loop
    rounds: int = option(2, "Rounds", "Maximum fix rounds per image (0 = diagnose only).", G_LOOP, 0, 5, 1,
                         read_by=("loop",))
    keep_best: bool = option(True, "Keep best", "Keep the best-scoring result, never a worse one than the original.",
                             G_LOOP, read_by=("loop",))
    min_improvement: float = option(
        0.0, "Min improvement", "A fix must raise quality by at least this much (0..0.5) to replace the image.",
        G_LOOP, 0.0, 0.5, 0.005, read_by=("loop",))
    regenerate: bool = option(False, "Regenerate on global defects",
                              "Regenerate on the same seed with the augmented negative when the defect is global.",
                              G_LOOP, read_by=("loop",))
    regenerate_rounds: int = option(1, "Regenerate rounds", "At most this many regenerations per image.", G_LOOP,
                                    0, 3, 1, read_by=("loop",))

    def to_dict(self) -> dict[str, Any]:
        """``{key: value}`` for every option (JSON-ready)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes`` validated (raises :class:`OptionError` naming the field)."""
        return validate({**self.to_dict(), **changes})


def _fields() -> tuple[Field, ...]:
    """One :class:`Field` per attribute of :class:`Options`, checked: roles, readers and the region
    kinds served are known names (a typo fails at import, not in a lookup at run time)."""
    hints = typing.get_type_hints(Options)
    readers = set(STAGES) | {d.name for d in DETECTORS}
    out = tuple(Field.declared(f, hints[f.name]) for f in dataclasses.fields(Options))
    for f in out:
        bad = ([f"role {f.role!r}"] if f.role not in ROLES else []) \
            + [f"reader {r!r}" for r in f.read_by if r not in readers] \
            + [f"kind {k!r}" for k in f.serves if k not in LOCAL_KINDS]
        if not f.read_by or bad or bool(f.serves) != (f.role in (KIND_PROMPT, KIND_NEGATIVE)):
            raise TypeError(f"option {f.key}: {', '.join(bad) or 'read_by/serves/role disagree'}")
    return out


FIELDS: tuple[Field, ...] = _fields()
FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
KEYS: tuple[str, ...] = tuple(FIELD_BY_KEY)
DEFAULTS = Options()


def check_keys(data: Mapping[str, Any], source: str | None = None) -> None:
    """Raise :class:`OptionError` for the first unknown key, naming the closest valid key."""
    for key in data:
        if key not in FIELD_BY_KEY:
            hint = closest(str(key), KEYS)
            allowed = f"did you mean {hint!r}?" if hint else "see `qfix schema` for the valid keys"
            raise OptionError(str(key), data[key], "unknown option; " + allowed, source)


def coerce_values(data: Mapping[str, Any], source: str | None = None) -> dict[str, Any]:
    """Validate a partial dict of options; returns normalised values (same keys)."""
    check_keys(data, source)
    out = {}
    for key, value in data.items():
        try:
            out[key] = FIELD_BY_KEY[key].coerce(value)
        except OptionError as e:
            raise e.with_source(source) if source else e from None
    return out


def validate(data: Mapping[str, Any], base: Options | None = None, source: str | None = None) -> Options:
    """Options from a (partial) dict laid over ``base`` (default: the built-in defaults)."""
    merged = (base if base is not None else DEFAULTS).to_dict()
    merged.update(coerce_values(data, source))
    return Options(**merged)
