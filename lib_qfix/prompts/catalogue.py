"""Defect name -> weighted negative terms and positive keywords ("specific beats generic").

Every defect name of the shared vocabulary (``Region.defects``) has an :class:`Entry`. Weights are
A1111 attention weights before ``negative_strength`` scaling: 1.0 is neutral; the catalogue stays
within 1.0..1.4 so that the scaled, clamped result (see :mod:`lib_qfix.prompts.negatives`) never
dominates the user's own negative. The first negative of an entry names the defect most
specifically; later ones are common synonyms that SD checkpoints were trained on.
``positives`` are quality keywords for the inpaint prompt of a region with that defect.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib_qfix.types import Region

Term = tuple[str, float]


@dataclass(frozen=True)
class Entry:
    """Prompt terms for one defect: weighted negatives, and positives for the inpaint prompt."""

    defect: str
    negatives: tuple[Term, ...]
    positives: tuple[str, ...]


def _e(defect: str, negatives: tuple[Term, ...], positives: tuple[str, ...]) -> tuple[str, Entry]:
    return defect, Entry(defect, negatives, positives)


CATALOGUE: dict[str, Entry] = dict((
    # --- hands
    _e("malformed_hand",
       (("malformed hands", 1.3), ("deformed hands", 1.2), ("mutated hands", 1.2), ("bad hands", 1.1)),
       ("detailed hand", "natural hand pose")),
    _e("extra_fingers",
       (("extra fingers", 1.3), ("six fingers", 1.2), ("too many fingers", 1.2)),
       ("five fingers", "detailed hand")),
    _e("missing_fingers",
       (("missing fingers", 1.3), ("fewer digits", 1.2), ("four fingers", 1.1)),
       ("five fingers", "detailed hand")),
    _e("fused_fingers",
       (("fused fingers", 1.3), ("merged fingers", 1.2), ("webbed fingers", 1.1)),
       ("separated fingers", "detailed hand")),
    _e("cropped_hand",
       (("cropped hand", 1.2), ("hand out of frame", 1.1)),
       ("hands in frame",)),
    # --- faces
    _e("blurry_face",
       (("blurry face", 1.3), ("out of focus face", 1.2), ("soft focus", 1.1)),
       ("sharp focus", "detailed face")),
    _e("asymmetric_eyes",
       (("asymmetric eyes", 1.3), ("uneven eyes", 1.2), ("cross-eyed", 1.2), ("misaligned pupils", 1.1)),
       ("symmetric eyes", "detailed eyes")),
    _e("small_face",
       (("poorly drawn face", 1.2), ("distorted small face", 1.1)),
       ("detailed face", "clear facial features")),
    _e("cropped_face",
       (("cropped face", 1.2), ("head out of frame", 1.2)),
       ("full face in frame",)),
    _e("deformed_face",
       (("deformed face", 1.3), ("disfigured face", 1.2), ("distorted face", 1.2), ("ugly face", 1.1)),
       ("detailed face", "natural proportions")),
    _e("missing_teeth",  # dark gaps in the bright band of an open mouth's teeth (face mesh)
       (("missing teeth", 1.3), ("bad teeth", 1.2), ("deformed mouth", 1.1)),
       ("detailed teeth", "natural smile")),
    _e("fused_teeth",  # an open mouth's teeth as one flat band without the lines between teeth
       (("fused teeth", 1.3), ("bad teeth", 1.2), ("deformed mouth", 1.1)),
       ("detailed teeth", "natural smile")),
    _e("waxy_skin",  # skin with far less fine texture than real photos while the eyes stay sharp
       (("waxy skin", 1.3), ("plastic skin", 1.2), ("airbrushed skin", 1.2), ("doll skin", 1.1)),
       ("detailed skin texture", "natural skin", "skin pores")),
    # --- body (pose landmarks + hands, the anatomy detector)
    _e("bad_anatomy",
       (("bad anatomy", 1.3), ("deformed body", 1.2), ("disfigured", 1.1)),
       ("correct anatomy", "natural proportions")),
    _e("twisted_joint",  # a joint bent or a bone stretched past what a body does
       (("twisted limbs", 1.3), ("contorted joints", 1.2), ("bad anatomy", 1.2), ("broken limbs", 1.1)),
       ("correct anatomy", "natural pose")),
    _e("extra_limb",  # a third hand: both arms already end in one
       (("extra limbs", 1.3), ("extra arms", 1.2), ("too many hands", 1.2), ("bad anatomy", 1.1)),
       ("two arms", "correct anatomy")),
    _e("missing_limb",  # an arm the pose cannot find while the other is clearly there
       (("missing limbs", 1.3), ("missing arm", 1.2), ("bad anatomy", 1.1)),
       ("two arms", "complete body")),
    _e("detached_hand",  # a hand that does not meet an arm
       (("disconnected limbs", 1.3), ("floating hand", 1.2), ("detached hand", 1.2), ("bad anatomy", 1.1)),
       ("hands attached to arms", "correct anatomy")),
    # --- text on the image
    _e("watermark",
       (("watermark", 1.3), ("stock photo watermark", 1.2), ("logo", 1.1)),
       ("clean image",)),
    _e("signature",
       (("signature", 1.3), ("artist name", 1.2), ("username", 1.1)),
       ("clean image",)),
    _e("text",
       (("text", 1.2), ("letters", 1.1), ("caption", 1.1), ("words", 1.1)),
       ("clean image",)),
    _e("garbled_text",  # read by OCR recognition: gibberish, misspelt or malformed glyphs
       (("garbled text", 1.3), ("gibberish text", 1.2), ("misspelled text", 1.2), ("illegible letters", 1.1)),
       ("legible text", "clear lettering")),
    _e("logo",  # a compact high-contrast mark in a corner or along an edge
       (("logo", 1.3), ("brand logo", 1.2), ("emblem", 1.1), ("corner badge", 1.1)),
       ("clean image",)),
    # --- scene (composition, lighting, style)
    _e("cluttered_background",
       (("cluttered background", 1.3), ("busy background", 1.2), ("messy background", 1.1),
        ("distracting background", 1.1)),
       ("simple background", "clean composition")),
    _e("bad_framing",
       (("bad framing", 1.2), ("poorly framed", 1.2), ("awkward composition", 1.1), ("cut off limbs", 1.1)),
       ("well framed", "balanced composition")),
    _e("inconsistent_lighting",
       (("inconsistent lighting", 1.3), ("mismatched lighting", 1.2), ("unnatural shadows", 1.1)),
       ("consistent lighting", "natural lighting")),
    _e("wrong_era",  # only from the CLIP "new/old photo" pair (needs CLIP weights) or the LLM judge
       (("anachronism", 1.3), ("anachronistic", 1.2), ("wrong era", 1.1)),
       ("period accurate", "historically accurate")),
    _e("generic_style",  # only from the CLIP "natural/synthetic" pair (needs CLIP weights) or the LLM judge
       (("generic", 1.2), ("bland", 1.1), ("stock photo", 1.1), ("ai generated", 1.1)),
       ("distinctive style", "intricate details")),
    # --- whole image
    _e("blur",
       (("blurry", 1.3), ("out of focus", 1.2), ("motion blur", 1.1)),
       ("sharp focus", "highly detailed")),
    _e("noise",
       (("noisy", 1.2), ("grainy", 1.2), ("film grain", 1.1)),
       ("clean", "smooth")),
    _e("jpeg",
       (("jpeg artifacts", 1.3), ("compression artifacts", 1.2), ("blocky", 1.1)),
       ("high quality",)),
    _e("overexposed",
       (("overexposed", 1.3), ("blown out highlights", 1.2), ("washed out", 1.1)),
       ("balanced exposure",)),
    _e("underexposed",
       (("underexposed", 1.3), ("too dark", 1.2), ("crushed shadows", 1.1)),
       ("balanced exposure", "well lit")),
    _e("low_resolution",
       (("low resolution", 1.3), ("lowres", 1.2), ("pixelated", 1.1)),
       ("high resolution", "highly detailed")),
    _e("low_quality",
       (("worst quality", 1.3), ("low quality", 1.3), ("normal quality", 1.1)),
       ("best quality", "high quality")),
    _e("cropped",
       (("cropped", 1.2), ("out of frame", 1.2), ("cut off", 1.1)),
       ("full body in frame", "centered composition")),
))

#: the defect assumed for a defective region that names no defect, by region kind
#: (``exposure`` has none: over and under need opposite negatives)
KIND_DEFAULT_DEFECT: dict[str, str] = {
    "face": "deformed_face", "hand": "malformed_hand", "watermark": "watermark", "text": "text",
    "blur": "blur", "noise": "noise", "jpeg": "jpeg", "low_resolution": "low_resolution",
    "cropped": "cropped", "low_quality": "low_quality",
    "clutter": "cluttered_background", "framing": "bad_framing", "shading": "inconsistent_lighting",
    "body": "bad_anatomy",
}

# --- fix strategies (the seed's decision table), one per defect; presets override them through the
# ``strategies`` option (:mod:`lib_qfix.fix.strategy` parses it and applies the table)

#: strategy -> what the fix loop does for a defect with it
STRATEGIES: dict[str, str] = {
    "inpaint": "repaint the region with the defect's negatives and positives (ControlNet units as the "
               "ControlNet options say, where the host has them)",
    "inpaint_pose": "anatomy: repaint the region guided by ControlNet's pose units (hand or face skeleton, "
                    "depth) where the host has them; the other strategies leave those units out",
    "inpaint_text": "repaint the region with the text negatives (text, letters, watermark) added",
    "regenerate_steps": "regenerate on the same seed with 1.5x the sampling steps (needs 'regenerate')",
    "regenerate_keywords": "regenerate on the same seed with the defect's positive quality keywords in the "
                           "prompt and its negatives (needs 'regenerate')",
    "report": "report only: suggest the negatives, never repaint or regenerate for it",
}
#: strategies that repaint a region (the others are whole-image or nothing)
INPAINT_STRATEGIES = ("inpaint_pose", "inpaint_text", "inpaint")
#: defects whose negatives ``inpaint_text`` adds to a pass
TEXT_NEGATIVE_DEFECTS = ("text", "watermark")

_TEXT, _POSE = "inpaint_text", "inpaint_pose"
#: defect -> its default strategy; a defect missing here uses :func:`default_strategy`'s fallback
DEFAULT_STRATEGY: dict[str, str] = {
    "malformed_hand": _POSE, "extra_fingers": _POSE, "missing_fingers": _POSE, "fused_fingers": _POSE,
    "cropped_hand": "inpaint",
    "blurry_face": "inpaint", "asymmetric_eyes": _POSE, "small_face": "inpaint", "cropped_face": "inpaint",
    "deformed_face": _POSE,
    "bad_anatomy": _POSE, "twisted_joint": _POSE, "extra_limb": _POSE, "missing_limb": _POSE,
    "detached_hand": _POSE, "missing_teeth": "inpaint", "fused_teeth": "inpaint", "waxy_skin": "inpaint",
    "watermark": _TEXT, "signature": _TEXT, "text": _TEXT, "logo": _TEXT,
    "garbled_text": "inpaint",  # requested text read as gibberish: redraw it legibly, keep text
    "blur": "regenerate_steps",
    "noise": "regenerate_keywords", "jpeg": "regenerate_keywords", "overexposed": "regenerate_keywords",
    "underexposed": "regenerate_keywords", "low_resolution": "regenerate_keywords",
    "low_quality": "regenerate_keywords", "cropped": "regenerate_keywords",
    "cluttered_background": "regenerate_keywords", "bad_framing": "regenerate_keywords",
    "inconsistent_lighting": "regenerate_keywords", "wrong_era": "regenerate_keywords",
    "generic_style": "regenerate_keywords",
}


def default_strategy(defect: str, local: bool = True) -> str:
    """The catalogue's strategy for ``defect``; a defect without one gets "inpaint" on a region with
    a box (``local``) and "regenerate_keywords" on a whole-image finding."""
    return DEFAULT_STRATEGY.get(defect) or ("inpaint" if local else "regenerate_keywords")


def region_defects(region: Region) -> tuple[str, ...]:
    """The defects ``region`` names, else its kind's default (:data:`KIND_DEFAULT_DEFECT`), else ()."""
    if region.defects:
        return tuple(region.defects)
    fallback = KIND_DEFAULT_DEFECT.get(region.kind)
    return (fallback,) if fallback else ()


def entry(defect: str) -> Entry:
    """The entry for ``defect``; ``KeyError`` names the known defects."""
    try:
        return CATALOGUE[defect]
    except KeyError:
        raise KeyError(f"unknown defect {defect!r}; known: {', '.join(sorted(CATALOGUE))}") from None
