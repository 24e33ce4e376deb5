"""QFix's HTTP routes, added to A1111's FastAPI app in ``on_app_started``.

``GET /qfix/v1/version|schema|presets|presets/{name}``; ``POST /qfix/v1/score|diagnose`` take
``{"image": "<base64 PNG/JPEG/WebP, data: URL prefix allowed>", "options": {...}, "prompt": ""}``
and answer the same JSON as ``qfix score`` / ``qfix diagnose`` (same decoding, EXIF orientation
applied). Any client of a shared server can call these, so:

- the body is refused with 413 by its ``Content-Length``, or while it streams in, once it passes
  :data:`MAX_BODY_BYTES`; only then is it parsed (by hand: no pydantic model, so the routes behave
  the same under A1111's pydantic 1 and Forge's pydantic 2);
- bad input answers 422 with ``detail: [{"loc": [...], "msg": ..., "type": ...}]`` naming the field;
- options pass the server's client policy (:func:`lib_qfix.a1111.settings.check_client_options`):
  no filesystem paths anywhere, models/weights/device/prompt files only among what the settings allow;
- the image is at most :data:`MAX_PIXELS` pixels.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from lib_qfix import __version__
from lib_qfix.a1111.args import parse_args
from lib_qfix.a1111.settings import (
    allowed_values,
    apply_device,
    default_preset,
    public_text,
    server_defaults,
    use_models_dir,
    user_preset_dir,
)
from lib_qfix.diagnose import diagnose
from lib_qfix.errors import reason
from lib_qfix.imageio import ImageLoadError, decode_bytes
from lib_qfix.options import DETECTORS_OFF, SCHEMA_VERSION, OptionError, Options, json_schema
from lib_qfix.options.policy import RESOURCE_FIELDS
from lib_qfix.presets import PresetError, check_name, list_presets, load_preset

MAX_BASE64_CHARS = 48 * 1024 * 1024
#: request body limit, bytes: the largest base64 image plus 1 MiB for options and prompt
MAX_BODY_BYTES = MAX_BASE64_CHARS + 1024 * 1024
MAX_PIXELS = 4096 * 4096
#: generation prompt limit, characters (CLIP reads 77 tokens; longer text only costs tokenizing time)
MAX_PROMPT_CHARS = 10_000
BODY_KEYS = ("image", "options", "prompt")
_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["image"], "additionalProperties": False, "properties": {
        "image": {"type": "string", "description": "base64 PNG/JPEG/WebP (a data: URL prefix is allowed)"},
        "options": {"type": "object", "description": "QFix options (GET /qfix/v1/schema)"},
        "prompt": {"type": "string", "maxLength": MAX_PROMPT_CHARS}}}}}}}


def _fail(loc: list[Any], msg: str, kind: str = "value_error", status: int = 422) -> HTTPException:
    return HTTPException(status_code=status, detail=[{"loc": loc, "msg": msg, "type": kind}])


def _too_large(size: int | str) -> HTTPException:
    return _fail(["body"], f"body: {size} bytes; allowed: at most {MAX_BODY_BYTES} bytes (an image of at most "
                           f"{MAX_BASE64_CHARS} base64 characters)", "value_error.too_large", 413)


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 by ``Content-Length`` before reading, or as soon as the
    streamed bytes pass :data:`MAX_BODY_BYTES` (chunked uploads); nothing is parsed here."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large(f"more than {MAX_BODY_BYTES}")
    return bytes(body)


def parse_body(raw: bytes) -> tuple[str, dict[str, Any], str]:
    """(image text, options dict, prompt) from a JSON body; 422 naming the field."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:  # RecursionError: nesting deeper than Python's stack
        raise _fail(["body"], f"body: not JSON ({reason(e, 200)}); allowed: a JSON object with "
                              f"{', '.join(BODY_KEYS)}") from None
    if not isinstance(data, dict):
        raise _fail(["body"], f"body: a JSON {type(data).__name__}; allowed: a JSON object with "
                              f"{', '.join(BODY_KEYS)}")
    for key in data:
        if key not in BODY_KEYS:
            raise _fail(["body", str(key)], f"{key}: unknown field; allowed: {', '.join(BODY_KEYS)}")
    if "image" not in data:
        raise _fail(["body", "image"], "image: field required; allowed: a base64-encoded PNG/JPEG/WebP",
                    "value_error.missing")
    image, options, prompt = data["image"], data.get("options", {}), data.get("prompt", "")
    if not isinstance(image, str):
        raise _fail(["body", "image"], f"image: a {type(image).__name__}; allowed: a base64-encoded PNG/JPEG/WebP")
    if not isinstance(options, dict):
        raise _fail(["body", "options"], f"options: a {type(options).__name__}; allowed: an object of QFix options")
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
        shown = f"{len(prompt)} characters" if isinstance(prompt, str) else f"a {type(prompt).__name__}"
        raise _fail(["body", "prompt"], f"prompt: {shown}; allowed: text of at most {MAX_PROMPT_CHARS} characters")
    return image, options, prompt


def decode_image(text: str) -> np.ndarray:
    """Base64 (optionally a ``data:`` URL) -> (H, W, 3) uint8 RGB, decoded exactly as the CLI reads a
    file (EXIF orientation applied); raises 422 naming ``image``."""
    loc = ["body", "image"]
    if len(text) > MAX_BASE64_CHARS:
        raise _fail(loc, f"image: {len(text)} base64 characters; allowed: at most {MAX_BASE64_CHARS}")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _fail(loc, "image: not valid base64; allowed: a base64-encoded PNG/JPEG/WebP "
                         "(file paths and URLs are not accepted)") from None
    try:
        return decode_bytes(raw, "image", MAX_PIXELS)
    except ImageLoadError as e:
        raise _fail(loc, f"{e}; allowed: PNG, JPEG or WebP (cannot decode anything else) of at most "
                         f"{MAX_PIXELS} pixels") from None


def _option_error(e: OptionError) -> HTTPException:
    return _fail(["body", "options", e.field], reason(e))


def parse_options(data: dict[str, Any]) -> Options:
    """Options dict over its preset and the defaults, through the server's client policy and
    device setting; 422 naming ``options.<field>``."""
    try:
        return apply_device(parse_args([{"enable": True, **data}], default_preset(), user_preset_dir()).options)
    except OptionError as e:
        raise _option_error(e) from None


def _check_name(name: str) -> str:
    """The presets' own name check (one validator for files, the UI and the routes), as a 422."""
    try:
        return check_name(name)
    except PresetError as e:
        raise _fail(["path", "name"], f"name: {e.reason}") from None


def run_report(raw: bytes, detectors: bool) -> dict[str, Any]:
    """Parse, check and diagnose one request body (blocking; runs in the thread pool)."""
    text, data, prompt = parse_body(raw)
    del raw
    options = parse_options(data)
    if not detectors:  # the same as `qfix score`: every detector off, global judgements kept
        options = options.replace(**DETECTORS_OFF)
    image = decode_image(text)
    del text
    try:
        report = diagnose(image, options, prompt=prompt, models_dir=use_models_dir()).to_json()
        report["warnings"] = [public_text(w) for w in report["warnings"]]
        return report
    except OptionError as e:  # a value only a scorer could judge: still the client's field
        raise _option_error(e) from None


def _schema() -> dict[str, Any]:
    """The options JSON schema with this server's allowed values for resource options."""
    schema, base = json_schema(), server_defaults()
    for key in RESOURCE_FIELDS:
        schema["properties"][key]["x-allowed"] = list(allowed_values(key, base))
    return schema


def build_router() -> APIRouter:
    r = APIRouter(prefix="/qfix/v1", tags=["QFix"])

    @r.get("/version")
    def version() -> dict[str, Any]:
        return {"version": __version__, "schema_version": SCHEMA_VERSION}

    @r.get("/schema")
    def schema() -> dict[str, Any]:
        return _schema()

    @r.get("/presets")
    def presets() -> dict[str, Any]:
        return {"presets": [{"name": i.name, "description": i.description, "source": i.source,
                             "error": i.error} for i in list_presets(user_preset_dir())]}

    @r.get("/presets/{name}")
    def preset(name: str) -> dict[str, Any]:
        try:
            return {"name": name, "options": load_preset(_check_name(name), user_preset_dir())}
        except PresetError as e:
            raise HTTPException(status_code=404, detail=f"preset {name!r}: {e}") from None

    @r.post("/score", openapi_extra=_BODY_DOC)
    async def score(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(run_report, await read_body(request), False)

    @r.post("/diagnose", openapi_extra=_BODY_DOC)
    async def diagnose_route(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(run_report, await read_body(request), True)

    return r


def on_app_started(demo: Any, app: FastAPI) -> None:
    app.include_router(build_router())
