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

from lib_qfix.fix.strategy import MAX_LENGTH as STRATEGIES_LENGTH
from lib_qfix.fix.strategy import OPTION_HELP as STRATEGIES_HELP
from lib_qfix.fix.strategy import check_strategies
from lib_qfix.judge.prompt import MAX_INSTRUCTIONS, PROMPT_VERSION
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
from lib_qfix.options.groups import (
    FACE_MASKS,
    G_ANATOMY,
    G_CONTROLNET,
    G_DETECT,
    G_GENERAL,
    G_INPAINT,
    G_JUDGE,
    G_LOOP,
    G_MASK,
    G_PROMPTS,
    G_SCENE,
    G_SCORE,
    G_UPSCALE,
    MASK_MERGE,
    MODES,
    NAME_LENGTH,
    RESTORERS,
    area,
    cn_mode,
    cn_model,
    cn_module,
    cn_number,
    cn_on,
    confidence,
    judge_bases,
)
from lib_qfix.registry import DETECTORS, scorer_names
from lib_qfix.scoring.clip_model import DEVICES, PRECISIONS
from lib_qfix.scoring.prompt_pairs import PAIR_SETS, check_custom_pairs
from lib_qfix.types import LOCAL_KINDS


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
                       read_by=("plan", "loop", "upscale"))
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
    face_confidence: float = confidence("face", "face", "fidelity")
    face_min_area: float = area("face", "min", "face")
    face_max_area: float = area("face", "max", "face")
    face_mask: str = option("hull", "Face mask", "Mask shape: face mesh hull, box, or eyes only.", G_DETECT,
                            choices=FACE_MASKS, read_by=("face", "masks"))
    detect_hands: bool = option(True, "Hands", "Detect hands (MediaPipe) and check their plausibility.",
                                G_DETECT, read_by=("diagnose",))
    hand_confidence: float = confidence("hand", "hand", "fidelity")
    hand_min_area: float = area("hand", "min", "hand")
    hand_max_area: float = area("hand", "max", "hand")
    hand_crops: bool = option(True, "Search hands in crops",
                              "Also look for hands in crops around people (finds far more hands in group shots; "
                              "slower).", G_DETECT, read_by=("hand",))
    detect_text: bool = option(True, "Watermarks and text", "Detect watermarks, signatures and text (OCR).",
                               G_DETECT, read_by=("diagnose",))
    text_confidence: float = confidence("text", "text")
    ignore_text_in_prompt: bool = option(
        True, "Allow text the prompt asks for", "Do not treat text as a defect when the prompt asks for text "
        "(a sign, a logo, a caption).", G_DETECT, read_by=("text", "logo"))
    detect_global: bool = option(True, "Global defects", "Judge blur, noise, JPEG artefacts and exposure.",
                                 G_DETECT, read_by=("diagnose",))
    detect_cropping: bool = option(True, "Cropped subjects", "Flag faces and hands cut by the frame.", G_DETECT,
                                   read_by=("face", "hand"))
    # --- Prompts
    negative_strength: float = option(1.0, "Negative strength",
                                      "Multiplies the weights of the negatives QFix adds (0.5..2).", G_PROMPTS,
                                      0.5, 2.0, 0.05, read_by=("prompts", "plan"))
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
    # --- ControlNet (sd-webui-controlnet on A1111, the built-in one on Forge; without it passes run unguided)
    use_controlnet: bool = option(True, "Use ControlNet",
                                  "Guide inpaint passes with the ControlNet units switched on below, when the host "
                                  "has ControlNet and a matching model (else the pass runs unguided, with a note).",
                                  G_CONTROLNET, read_by=("loop",))
    controlnet_hand: bool = cn_on("hand", True, "for hand passes: an OpenPose hand skeleton of a well-formed hand "
                                   "fitted to the detected one.")
    controlnet_hand_module: str = cn_module("hand", "none")
    controlnet_hand_model: str = cn_model("hand")
    controlnet_hand_weight: float = cn_number("hand", "weight", 0.8)
    controlnet_hand_start: float = cn_number("hand", "start", 0.0)
    controlnet_hand_end: float = cn_number("hand", "end", 1.0)
    controlnet_hand_mode: str = cn_mode("hand")
    controlnet_face: bool = cn_on("face", False, "for face passes: OpenPose face keypoints from the face mesh.")
    controlnet_face_module: str = cn_module("face", "none")
    controlnet_face_model: str = cn_model("face")
    controlnet_face_weight: float = cn_number("face", "weight", 0.6)
    controlnet_face_start: float = cn_number("face", "start", 0.0)
    controlnet_face_end: float = cn_number("face", "end", 1.0)
    controlnet_face_mode: str = cn_mode("face")
    controlnet_depth: bool = cn_on("depth", False, "for hand and face passes: a depth map of the pass's own image "
                                    "made by the preprocessor (auto: depth_hand_refiner for hands).")
    controlnet_depth_module: str = cn_module("depth", "auto")
    controlnet_depth_model: str = cn_model("depth")
    controlnet_depth_weight: float = cn_number("depth", "weight", 0.6)
    controlnet_depth_start: float = cn_number("depth", "start", 0.0)
    controlnet_depth_end: float = cn_number("depth", "end", 1.0)
    controlnet_depth_mode: str = cn_mode("depth")
    controlnet_inpaint: bool = cn_on("inpaint", False, "for every pass: inpaint_only on the pass's own image and "
                                      "mask (blends the repainted area).")
    controlnet_inpaint_module: str = cn_module("inpaint", "inpaint_only")
    controlnet_inpaint_model: str = cn_model("inpaint")
    controlnet_inpaint_weight: float = cn_number("inpaint", "weight", 1.0)
    controlnet_inpaint_start: float = cn_number("inpaint", "start", 0.0)
    controlnet_inpaint_end: float = cn_number("inpaint", "end", 1.0)
    controlnet_inpaint_mode: str = cn_mode("inpaint")
    controlnet_tile: bool = cn_on("tile", False, "for every pass: tile_resample of the pass's own image (keeps "
                                   "colours and layout).")
    controlnet_tile_module: str = cn_module("tile", "tile_resample")
    controlnet_tile_model: str = cn_model("tile")
    controlnet_tile_weight: float = cn_number("tile", "weight", 0.6)
    controlnet_tile_start: float = cn_number("tile", "start", 0.0)
    controlnet_tile_end: float = cn_number("tile", "end", 1.0)
    controlnet_tile_mode: str = cn_mode("tile")
    # --- Upscale (after the fix loop: enlarge, then refine tile by tile; see lib_qfix/fix/upscale_step.py)
    upscale: bool = option(False, "Upscale",
                           "After the fixes, enlarge the image with the upscaler below, then (detail pass) refine it "
                           "tile by tile; kept only where it scores at least as well as a plain Lanczos resize.",
                           G_UPSCALE, read_by=("upscale",))
    upscaler: str = option("Lanczos", "Upscaler",
                           "Any upscaler the host lists (R-ESRGAN 4x+, ESRGAN_4x, SwinIR_4x, ...); Lanczos needs no "
                           "weights. A name the host does not have falls back to Lanczos, with a note.", G_UPSCALE,
                           choices=("Lanczos",), free_choice=True, read_by=("upscale",))
    upscale_factor: float = option(2.0, "Upscale factor", "Enlargement factor (1..4; 1 = detail pass only).",
                                   G_UPSCALE, 1.0, 4.0, 0.05, read_by=("upscale",))
    detail_pass: bool = option(True, "Detail pass",
                               "Refine the upscaled image tile by tile with img2img on the loaded model (low denoise), "
                               "so large images are sampled one tile at a time.", G_UPSCALE, read_by=("upscale",))
    detail_denoise: float = option(0.3, "Detail denoise", "Denoising strength of the detail pass (0..1).", G_UPSCALE,
                                   0.0, 1.0, 0.01, read_by=("upscale",))
    tile_size: int = option(512, "Tile size",
                            "Side of the square tiles the detail pass samples, pixels (512 for SD 1.5, 1024 for SDXL).",
                            G_UPSCALE, 64, 2048, 8, read_by=("upscale",))
    tile_overlap: int = option(64, "Tile overlap",
                               "Pixels neighbouring tiles share, blended with linear ramps (at most half a tile).",
                               G_UPSCALE, 0, 512, 8, read_by=("upscale",))
    guide_size: int = option(0, "Guide size",
                             "Minimum sampled size of small faces and hands, pixels (0 = off: every crop is sampled at "
                             "Inpaint resolution). A smaller crop is scaled up to it, a larger one sampled at its own "
                             "size up to Inpaint resolution.", G_UPSCALE, 0, 2048, 8, read_by=("inpaint",))
    # --- Scene: text reading, logos, clutter and framing, lighting, style; fix strategy per defect
    text_reading: bool = option(
        True, "Read text", "Read each detected text line (OCR recognition, ~50 ms per line, only when there is "
        "text): legible text the prompt asks for is ok, gibberish is 'garbled_text'.", G_SCENE, read_by=("text",))
    detect_logos: bool = option(False, "Logos", "Find logos: compact high-contrast marks in corners and along "
                                "edges (classical, ~5 ms).", G_SCENE, read_by=("diagnose",))
    logo_confidence: float = option(0.5, "Logo confidence", "Minimum logo confidence (0..1).", G_SCENE,
                                    0.0, 1.0, 0.01, read_by=("logo",))
    detect_composition: bool = option(
        False, "Clutter and framing", "Segment the subject (MediaPipe selfie segmentation) and judge background "
        "clutter and the subject's fit in the frame (head room, cut limbs, size).", G_SCENE, read_by=("diagnose",))
    clutter_threshold: float = option(
        0.5, "Clutter threshold", "Background clutter (0..1: edge density and colour variety outside the "
        "subject) above this is 'cluttered_background'.", G_SCENE, 0.0, 1.0, 0.01, read_by=("composition",))
    detect_lighting: bool = option(
        False, "Lighting", "Compare the left/right shading of faces with the scene's and with each other "
        "(a rough cue: see the README).", G_SCENE, read_by=("diagnose",))
    lighting_min_shading: float = option(
        0.25, "Lighting min shading", "Left/right shading across a face (ln lightness units, 0.1..1) from which its "
        "light side is compared with the scene's and the other faces'; lower finds more, and more false alarms.",
        G_SCENE, 0.1, 1.0, 0.05, read_by=("lighting",))
    judge_style: bool = option(
        True, "Style and era", "Judge 'wrong_era' and 'generic_style' from CLIP's new/old and natural/synthetic "
        "pairs (needs a CLIP scorer with the 'feel' pairs; nothing without CLIP weights).", G_SCENE,
        read_by=("diagnose",))
    strategies: str = option(
        "", "Fix strategies", STRATEGIES_HELP, G_SCENE, max_length=STRATEGIES_LENGTH,
        check=check_strategies, read_by=("plan", "loop"))
    # --- LLM judge (a vision LLM rates image against prompt; its URL, model and key are the server's, never options)
    judge_base: str = option("offline", "Judge combined with",
                             "Scorer whose quality is combined with the judge's (none: the judge alone).", G_JUDGE,
                             choices=judge_bases, read_by=("scorer",))
    judge_weight: float = option(0.7, "Judge weight", "The judge's share of the quality (0..1); the rest is the "
                                 "score it is combined with.", G_JUDGE, 0.0, 1.0, 0.05, read_by=("scorer",))
    judge_match_weight: float = option(0.5, "Prompt match weight", "Share of the prompt-match rating in the judge's "
                                       "quality (0..1); the rest is its technical-quality rating.", G_JUDGE,
                                       0.0, 1.0, 0.05, read_by=("scorer",))
    judge_calls: int = option(3, "Judge calls per image", "At most this many judge calls per image in the fix loop "
                              "(each costs seconds; later versions keep the first verdict); 0 = never call it.",
                              G_JUDGE, 0, 10, 1, read_by=("scorer",))
    judge_prompt: str = option("", "Judge instructions", f"Replaces the judge's built-in instructions (version "
                               f"{PROMPT_VERSION}); the defect vocabulary and the answer format are always added.",
                               G_JUDGE, multiline=True, max_length=MAX_INSTRUCTIONS, read_by=("scorer",))
    judge_timeout: float = option(60.0, "Judge timeout", "Seconds one judge request may take, answer included "
                                  "(1..600).", G_JUDGE, 1.0, 600.0, 1.0, read_by=("scorer",))
    judge_retries: int = option(2, "Judge retries", "Retries after a timeout, HTTP 429 or 5xx, with exponential "
                                "backoff (0..5).", G_JUDGE, 0, 5, 1, read_by=("scorer",))
    judge_concurrency: int = option(4, "Judge concurrency", "Judge requests in flight at most (1..16).", G_JUDGE,
                                    1, 16, 1, read_by=("scorer",))
    # --- Anatomy (pose, extra fingers, teeth, skin: slower or weaker checks, all off by default)
    detect_anatomy: bool = option(
        False, "Body anatomy", "Detect twisted joints and extra, missing or detached limbs (MediaPipe pose and "
        "hands per person, ~60 ms each; the Tasks backend downloads a 9.4 MB pose model once).", G_ANATOMY,
        read_by=("diagnose",))
    anatomy_visibility: float = option(
        0.6, "Pose visibility", "A body landmark counts only when MediaPipe's visibility for it is at least this "
        "(0..1); hidden joints are guesses.", G_ANATOMY, 0.0, 1.0, 0.05, read_by=("anatomy",))
    body_prompt: str = option("[PROMPT], correct anatomy, natural pose", "Body prompt",
                              "Prompt for inpainting anatomy defects; [PROMPT] inserts the image's own prompt.",
                              G_ANATOMY, multiline=True, role=KIND_PROMPT, serves=("body",), read_by=("plan",))
    body_negative: str = option("", "Body negative", "Added to the negative for anatomy inpainting.", G_ANATOMY,
                                multiline=True, role=KIND_NEGATIVE, serves=("body",), read_by=("plan", "prompts"))
    detect_extra_fingers: bool = option(
        False, "Extra fingers", "Count the finger tips on each hand's silhouette; more than the 21 hand landmarks "
        "explain is 'extra_fingers' (hands of 80+ px on a plain background; see the README's limits).", G_ANATOMY,
        read_by=("hand",))
    detect_teeth: bool = option(
        False, "Mouth and teeth", "Judge the teeth of open mouths from the face mesh (gaps and fused bands; weak, "
        "see the README's limits).", G_ANATOMY, read_by=("face",))
    detect_waxy_skin: bool = option(
        False, "Waxy skin", "Flag faces whose skin has far less fine texture than real photos while the eyes are "
        "sharp (the plastic 'AI look'; faces of 128+ px).", G_ANATOMY, read_by=("face",))
    # --- ControlNet, body unit (after the blocks above, so that their positions stay)
    controlnet_body: bool = cn_on("body", False, "for body (anatomy) passes: the OpenPose body skeleton of the "
                                   "MediaPipe pose (one body, two arms; it keeps the detected joint angles).")
    controlnet_body_module: str = cn_module("body", "none")
    controlnet_body_model: str = cn_model("body")
    controlnet_body_weight: float = cn_number("body", "weight", 0.6)
    controlnet_body_start: float = cn_number("body", "start", 0.0)
    controlnet_body_end: float = cn_number("body", "end", 1.0)
    controlnet_body_mode: str = cn_mode("body")
    # --- Scoring, CLIP precision (after the blocks above, so that their positions stay)
    clip_precision: str = option(
        "auto", "CLIP precision", "auto: bfloat16 image convolutions on CPUs that compute it natively (AVX512-BF16 "
        "or AMX; ~1.7-2x faster, scores within ~0.0001 of fp32 in bench/clip.py) and fp16 on CUDA; fp32: full "
        "precision everywhere; "
        "int8: a ResNet model's image trunk quantised to int8 on the CPU (RN50: ~1.9x the bfloat16 rate, scores "
        "within ~0.0005 of fp32, ~10 s to calibrate at load; other models and devices run fp32).",
        G_SCORE, choices=PRECISIONS, read_by=("scorer",))

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
