"""The request the judge gets: the image as a base64 data URL (downsized), and the chat-completions
body in one of three answer modes.

Modes, tried in this order until the server accepts one (:data:`MODES`): ``json_schema``
(``response_format`` with the answer's JSON schema: llama.cpp, vLLM, Ollama >= 0.5, OpenAI),
``json_object`` (plain JSON mode), ``text`` (no ``response_format``; the parser's repair step
copes with prose or code fences around the JSON).
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from lib_qfix.judge import prompt as jp

MODES = ("json_schema", "json_object", "text")
#: long side of the image sent, pixels (vision models tile at ~448-1024 px; more costs tokens, not accuracy)
MAX_SIDE = 768
JPEG_QUALITY = 90
#: longest answer asked for, tokens (a verdict with 20 defects is ~600 tokens)
MAX_TOKENS = 1024


@dataclass(frozen=True)
class EncodedImage:
    """``data_url``: ``data:image/jpeg;base64,...`` (or png); ``width``/``height``: pixels of the
    image as sent (the judge's box coordinates, when it gives pixels, refer to these)."""

    data_url: str
    width: int
    height: int


def image_digest(image: np.ndarray) -> str:
    """32 hex digits of the pixels and shape of an (H, W, 3) uint8 image (the cache's image key)."""
    arr = np.ascontiguousarray(image)
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((arr.shape, str(arr.dtype))).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def encode_image(image: np.ndarray, max_side: int = MAX_SIDE, fmt: str = "jpeg") -> EncodedImage:
    """``image`` ((H, W, 3) uint8 RGB) scaled so its long side is at most ``max_side`` pixels
    (never enlarged), as a JPEG (default) or PNG data URL."""
    img = Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8, copy=False), "RGB")
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", optimize=False)
    else:
        img.save(buf, "JPEG", quality=JPEG_QUALITY)
    mime = "image/png" if fmt == "png" else "image/jpeg"
    return EncodedImage(f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}", *img.size)


def build_body(model: str, system: str, user: str, image: EncodedImage, mode: str) -> dict[str, Any]:
    """The chat-completions request body (temperature 0: the same image gets the same verdict)."""
    body: dict[str, Any] = {
        "model": model,
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "stream": False,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": [
                {"type": "text", "text": user},
                {"type": "image_url", "image_url": {"url": image.data_url}},
            ]},
        ],
    }
    if mode == "json_schema":
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "qfix_judge_verdict", "strict": True, "schema": jp.response_schema()}}
    elif mode == "json_object":
        body["response_format"] = {"type": "json_object"}
    return body
