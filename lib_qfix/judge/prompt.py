"""The judge prompt: versioned instructions, the closed defect vocabulary and the answer format.

The system message is the instructions (:data:`INSTRUCTIONS`, or the ``judge_prompt`` option when
it is not empty) followed by the answer format and the vocabulary, which are always appended so an
override cannot break parsing. The user message is the generation prompt (when known) and the image.

The vocabulary is every defect of :data:`lib_qfix.prompts.catalogue.CATALOGUE`, each with the
catalogue's first (most specific) negative term as its gloss, so it follows the catalogue.
Bump :data:`PROMPT_VERSION` whenever the built-in text or the format changes: it is part of the
scorer's version and of every cache key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from lib_qfix.prompts.catalogue import CATALOGUE

PROMPT_VERSION = "1"
#: longest ``judge_prompt`` override, characters
MAX_INSTRUCTIONS = 4000
#: longest generation prompt sent to the judge, characters (A1111 prompts rarely pass 1,000)
MAX_PROMPT = 4000
#: the JSON answer's field names
MATCH, QUALITY, DEFECTS, KIND, REASON, BOX = "prompt_match", "quality", "defects", "kind", "reason", "box"

INSTRUCTIONS = (
    "You are a strict image quality judge for AI-generated images. Look at the image carefully, "
    "compare it with the prompt it was generated from, and report what a careful art director would "
    "reject: anatomy errors (hands, fingers, faces, eyes), watermarks, signatures or stray text, blur, "
    "noise, compression artefacts, bad exposure, subjects cut by the frame. Report only defects you "
    "can actually see; an image without visible defects gets an empty list."
)


def vocabulary() -> tuple[str, ...]:
    """The defect kinds the judge may name (catalogue order)."""
    return tuple(CATALOGUE)


def answer_format() -> str:
    """The fixed part of the system message: fields, scales, vocabulary, box convention."""
    kinds = "\n".join(f"- {name}: {entry.negatives[0][0]}" for name, entry in CATALOGUE.items())
    return (
        "Answer with one JSON object and nothing else:\n"
        f'{{"{MATCH}": <integer 1-10 or null>, "{QUALITY}": <integer 1-10>, '
        f'"{DEFECTS}": [{{"{KIND}": <one kind from the list>, "{REASON}": <a few words>, '
        f'"{BOX}": [x0, y0, x1, y1] or null}}]}}\n'
        f"{MATCH}: how well the image shows what the prompt asks for (10 = exactly; null when no prompt "
        f"is given). {QUALITY}: technical and anatomical quality regardless of the prompt (10 = flawless). "
        f"{BOX}: the defect's bounding box as fractions of the image width and height (0 to 1, "
        "top-left origin), or null for a defect of the whole image.\n"
        f"Allowed kinds (use these names exactly):\n{kinds}"
    )


def system_text(instructions: str = "") -> str:
    """The system message: ``instructions`` (empty: :data:`INSTRUCTIONS`) and the answer format."""
    head = instructions.strip() or INSTRUCTIONS
    return f"{head}\n\n{answer_format()}"


def user_text(prompt: str) -> str:
    """The text part of the user message for a generation ``prompt`` ("" when unknown)."""
    prompt = " ".join(prompt.split())[:MAX_PROMPT]
    if not prompt:
        return f"No generation prompt is known: set {MATCH} to null and judge the image on its own."
    return f"The image was generated from this prompt:\n{prompt}"


def prompt_digest(instructions: str = "") -> str:
    """16 hex digits identifying the judge prompt (version and full system text)."""
    blob = f"{PROMPT_VERSION}\0{system_text(instructions)}".encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


def response_schema() -> dict[str, Any]:
    """The JSON schema of the answer, for servers that take ``response_format: json_schema``
    (OpenAI's strict subset: every property required, no extra properties, no numeric bounds; the
    parser clamps instead)."""
    defect = {
        "type": "object",
        "properties": {
            KIND: {"type": "string", "enum": list(vocabulary())},
            REASON: {"type": "string"},
            BOX: {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "null"}]},
        },
        "required": [KIND, REASON, BOX],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            MATCH: {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            QUALITY: {"type": "integer"},
            DEFECTS: {"type": "array", "items": defect},
        },
        "required": [MATCH, QUALITY, DEFECTS],
        "additionalProperties": False,
    }
