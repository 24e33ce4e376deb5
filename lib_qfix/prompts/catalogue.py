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
}


def entry(defect: str) -> Entry:
    """The entry for ``defect``; ``KeyError`` names the known defects."""
    try:
        return CATALOGUE[defect]
    except KeyError:
        raise KeyError(f"unknown defect {defect!r}; known: {', '.join(sorted(CATALOGUE))}") from None
