"""Every QFix option, declared once. Add an option here and it appears in the A1111 panel,
the API, presets, infotext and the JSON schema.

Units: sizes in pixels unless a field says "fraction of the image area" (0..1);
confidences and quality in 0..1; denoising strength in 0..1.
"""

from __future__ import annotations

from lib_qfix.options.field import Field


def _scorer_names() -> tuple[str, ...]:
    from lib_qfix.registry import scorer_names

    return scorer_names()


def _check_custom_pairs(text: str) -> None:
    from lib_qfix.scoring.prompt_pairs import check_custom_pairs

    check_custom_pairs(text)


#: characters allowed in a model, weights or prompt file name (locally: a path, hence PATH_MAX)
NAME_LENGTH = 4096


PAIR_SETS = ("paper", "quality5", "look", "feel")
MODES = ("fix", "fix_all", "score_only")
FACE_MASKS = ("hull", "box", "eyes")
RESTORERS = ("none", "GFPGAN", "CodeFormer")
MASK_MERGE = ("none", "merge")
DEVICES = ("auto", "cpu", "cuda", "mps")

G_GENERAL, G_SCORE, G_DETECT, G_PROMPTS, G_MASK, G_INPAINT, G_LOOP = (
    "General", "Scoring", "Detectors", "Prompts", "Masks", "Inpaint", "Loop",
)

FIELDS: tuple[Field, ...] = (
    # --- General
    Field("enable", "bool", False, "Enable QFix", "Score, diagnose and fix every output image.", G_GENERAL),
    Field("preset", "str", "default", "Preset", "Preset the other options start from (bundled or user).", G_GENERAL,
          max_length=NAME_LENGTH, path_like=True),
    Field("mode", "choice", "fix", "Mode",
          "fix: repair regions judged defective; fix_all: inpaint every detected face and hand; "
          "score_only: diagnose and record, change nothing.", G_GENERAL, choices=MODES),
    # --- Scoring
    Field("scorer", "choice", "offline", "Scorer",
          "Quality scorer: offline (classical, no downloads), clip-iqa, clip-iqa+learned.",
          G_SCORE, choices=_scorer_names),
    Field("quality_threshold", "float", 0.5, "Quality threshold",
          "Images scoring below this (0..1) are treated as defective even without a local finding.",
          G_SCORE, 0.0, 1.0, 0.01),
    Field("clip_model", "str", "RN50", "CLIP model",
          "open_clip architecture name for CLIP-IQA (locally also a config .json path; a shared server "
          "offers the architectures its settings allow).", G_SCORE,
          max_length=NAME_LENGTH, resource=True, path_like=True),
    Field("clip_pretrained", "str", "openai", "CLIP weights",
          "open_clip pretrained tag or a checkpoint file name in the models folder (locally also a path; "
          "a shared server offers the weights its settings allow).", G_SCORE,
          max_length=NAME_LENGTH, resource=True, path_like=True),
    Field("prompt_pairs", "choice", "quality5", "Prompt pairs",
          "Antonym prompt set: paper (Good/Bad photo.), quality5, look, feel.", G_SCORE, choices=PAIR_SETS),
    Field("custom_pairs", "str", "", "Custom prompt pairs",
          "Extra pairs as 'positive|negative[|weight]', separated by ';' (at most 16). Used in addition to "
          "the set.", G_SCORE, max_length=1000, check=_check_custom_pairs),
    Field("learned_prompts", "str", "", "Learned prompts",
          "Name of a learned prompt file (safetensors) in the models folder's prompts/ for clip-iqa+learned "
          "(locally also a path).", G_SCORE, max_length=NAME_LENGTH, resource=True, path_like=True),
    Field("device", "choice", "auto", "Scorer device", "Where CLIP runs: auto, cpu, cuda, mps.", G_SCORE,
          choices=DEVICES, resource=True),
    # --- Detectors
    Field("detect_faces", "bool", True, "Faces", "Detect faces (MediaPipe) and judge them.", G_DETECT),
    Field("face_confidence", "float", 0.5, "Face confidence", "Minimum face detection confidence (0..1).",
          G_DETECT, 0.0, 1.0, 0.01),
    Field("face_min_area", "float", 0.0, "Face min area",
          "Ignore faces smaller than this fraction of the image area (0..1).", G_DETECT, 0.0, 1.0, 0.001),
    Field("face_max_area", "float", 1.0, "Face max area",
          "Ignore faces larger than this fraction of the image area (0..1).", G_DETECT, 0.0, 1.0, 0.001),
    Field("face_mask", "choice", "hull", "Face mask", "Mask shape: face mesh hull, box, or eyes only.",
          G_DETECT, choices=FACE_MASKS),
    Field("detect_hands", "bool", True, "Hands", "Detect hands (MediaPipe) and check their plausibility.",
          G_DETECT),
    Field("hand_confidence", "float", 0.5, "Hand confidence", "Minimum hand detection confidence (0..1).",
          G_DETECT, 0.0, 1.0, 0.01),
    Field("hand_min_area", "float", 0.0, "Hand min area",
          "Ignore hands smaller than this fraction of the image area (0..1).", G_DETECT, 0.0, 1.0, 0.001),
    Field("hand_max_area", "float", 1.0, "Hand max area",
          "Ignore hands larger than this fraction of the image area (0..1).", G_DETECT, 0.0, 1.0, 0.001),
    Field("hand_crops", "bool", True, "Search hands in crops",
          "Also look for hands in crops around people (finds far more hands in group shots; slower).", G_DETECT),
    Field("detect_text", "bool", True, "Watermarks and text", "Detect watermarks, signatures and text (OCR).",
          G_DETECT),
    Field("text_confidence", "float", 0.5, "Text confidence", "Minimum text detection confidence (0..1).",
          G_DETECT, 0.0, 1.0, 0.01),
    Field("ignore_text_in_prompt", "bool", True, "Allow text the prompt asks for",
          "Do not treat text as a defect when the prompt asks for text (a sign, a logo, a caption).", G_DETECT),
    Field("detect_global", "bool", True, "Global defects", "Judge blur, noise, JPEG artefacts and exposure.",
          G_DETECT),
    Field("detect_cropping", "bool", True, "Cropped subjects", "Flag faces and hands cut by the frame.",
          G_DETECT),
    # --- Prompts
    Field("negative_strength", "float", 1.0, "Negative strength",
          "Multiplies the weights of the negatives QFix adds (0.5..2).", G_PROMPTS, 0.5, 2.0, 0.05),
    Field("extra_negative", "str", "", "Extra negative", "Added to every negative QFix builds.", G_PROMPTS),
    Field("face_prompt", "str", "[PROMPT], detailed face, symmetric eyes", "Face prompt",
          "Prompt for face inpainting; [PROMPT] inserts the image's own prompt.", G_PROMPTS, multiline=True),
    Field("face_negative", "str", "", "Face negative", "Added to the negative for face inpainting.",
          G_PROMPTS, multiline=True),
    Field("hand_prompt", "str", "[PROMPT], detailed hand, five fingers", "Hand prompt",
          "Prompt for hand inpainting; [PROMPT] inserts the image's own prompt.", G_PROMPTS, multiline=True),
    Field("hand_negative", "str", "", "Hand negative", "Added to the negative for hand inpainting.",
          G_PROMPTS, multiline=True),
    Field("text_prompt", "str", "[PROMPT]", "Text/watermark prompt",
          "Prompt for inpainting over watermarks and text.", G_PROMPTS, multiline=True),
    Field("text_negative", "str", "", "Text/watermark negative", "Added to the negative for text removal.",
          G_PROMPTS, multiline=True),
    # --- Masks
    Field("mask_dilation", "int", 8, "Mask dilation", "Grow (or shrink, negative) masks by this many pixels.",
          G_MASK, -64, 128, 1),
    Field("mask_feather", "int", 4, "Mask feather", "Soft edge width in pixels (A1111 mask blur).", G_MASK,
          0, 64, 1),
    Field("inpaint_padding", "int", 32, "Inpaint padding", "Context around the mask for 'only masked', pixels.",
          G_MASK, 0, 256, 4),
    Field("mask_merge", "choice", "none", "Mask merge",
          "none: one inpaint per region; merge: all regions of a kind in one pass.", G_MASK, choices=MASK_MERGE),
    Field("mask_top_k", "int", 0, "Max regions", "Fix at most this many regions per kind, largest first (0 = all).",
          G_MASK, 0, 20, 1),
    # --- Inpaint
    Field("denoise", "float", 0.4, "Denoising strength", "Inpaint denoising strength (0..1).", G_INPAINT,
          0.0, 1.0, 0.01),
    Field("inpaint_resolution", "int", 512, "Inpaint resolution",
          "Long side of the crop sampled by the model, pixels (snapped to 8).", G_INPAINT, 64, 2048, 8),
    Field("steps", "int", 0, "Steps", "Sampling steps for inpainting (0 = same as the image).", G_INPAINT,
          0, 150, 1),
    Field("cfg_scale", "float", 0.0, "CFG scale", "CFG scale for inpainting (0 = same as the image).",
          G_INPAINT, 0.0, 30.0, 0.5),
    Field("sampler", "choice", "", "Sampler", "Sampler for inpainting (empty = same as the image).", G_INPAINT,
          choices=("",), free_choice=True),
    Field("scheduler", "choice", "", "Scheduler", "Scheduler for inpainting (empty = same as the image).",
          G_INPAINT, choices=("",), free_choice=True),
    Field("face_restorer", "choice", "none", "Face restorer",
          "Restore fixed faces with A1111's GFPGAN or CodeFormer.", G_INPAINT, choices=RESTORERS),
    Field("restore_visibility", "float", 1.0, "Restorer visibility", "Blend of the restored face (0..1).",
          G_INPAINT, 0.0, 1.0, 0.05),
    Field("codeformer_weight", "float", 0.5, "CodeFormer weight", "CodeFormer fidelity (0 = most restoration).",
          G_INPAINT, 0.0, 1.0, 0.05),
    # --- Loop
    Field("rounds", "int", 2, "Rounds", "Maximum fix rounds per image (0 = diagnose only).", G_LOOP, 0, 5, 1),
    Field("keep_best", "bool", True, "Keep best",
          "Keep the best-scoring result, never a worse one than the original.", G_LOOP),
    Field("min_improvement", "float", 0.0, "Min improvement",
          "A fix must raise quality by at least this much (0..0.5) to replace the image.", G_LOOP, 0.0, 0.5, 0.005),
    Field("regenerate", "bool", False, "Regenerate on global defects",
          "Regenerate on the same seed with the augmented negative when the defect is global.", G_LOOP),
    Field("regenerate_rounds", "int", 1, "Regenerate rounds", "At most this many regenerations per image.",
          G_LOOP, 0, 3, 1),
)
