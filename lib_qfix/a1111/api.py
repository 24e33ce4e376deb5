"""QFix's HTTP routes, added to A1111's FastAPI app in ``on_app_started``.

``GET /qfix/v1/version|schema|presets|presets/{name}``; ``POST /qfix/v1/score|diagnose`` take
``{"image": "<base64 PNG/JPEG/WebP, data: URL prefix allowed>", "options": {...}, "prompt": ""}``
and answer the same JSON as ``qfix score`` / ``qfix diagnose``. Bad input answers 422 with
``detail: [{"loc": [...], "msg": ..., "type": ...}]`` naming the field. Limits: the base64 text at
most :data:`MAX_BASE64_CHARS`, the image at most :data:`MAX_PIXELS` pixels. No filesystem paths
are accepted anywhere (images are inline; path-like option values are refused).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel

from lib_qfix import __version__

MAX_BASE64_CHARS = 48 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
PATH_FIELDS = ("clip_pretrained", "learned_prompts", "preset")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


class ImageRequest(BaseModel):
    image: str
    options: dict[str, Any] = {}
    prompt: str = ""


def _fail(loc: list[Any], msg: str, kind: str = "value_error") -> HTTPException:
    return HTTPException(status_code=422, detail=[{"loc": loc, "msg": msg, "type": kind}])


def decode_image(text: str) -> np.ndarray:
    """Base64 (optionally a ``data:`` URL) -> (H, W, 3) uint8 RGB; raises 422 naming ``image``."""
    from PIL import Image

    from lib_qfix.imageio import ImageLoadError, check_size, reading, to_rgb_array

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
        with reading("image"), Image.open(io.BytesIO(raw)) as img:
            check_size("image", img.size, MAX_PIXELS)
            img.load()
            return to_rgb_array(img)
    except ImageLoadError as e:
        raise _fail(loc, f"{e}; allowed: PNG, JPEG or WebP (cannot decode anything else) of at most "
                         f"{MAX_PIXELS} pixels") from None


def parse_options(data: dict[str, Any]) -> Any:
    """Options dict over its preset and the defaults; 422 naming ``options.<field>``."""
    from lib_qfix.a1111.args import parse_args
    from lib_qfix.a1111.settings import default_preset, user_preset_dir
    from lib_qfix.options import OptionError

    for key in PATH_FIELDS:
        v = data.get(key)
        if isinstance(v, str) and ("/" in v or "\\" in v or v.startswith((".", "~"))):
            raise _fail(["body", "options", key], f"{key}: {v!r} looks like a path; allowed: a name")
    try:
        return parse_args([{"enable": True, **data}], default_preset(), user_preset_dir()).options
    except OptionError as e:
        raise _fail(["body", "options", e.field], f"{e.field}: {e.value!r} is not allowed; {e.allowed}") from None


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise _fail(["path", "name"], f"name: {name!r}; allowed: letters, digits, space, '_', '-', '.' "
                                      "(a preset name, not a path)")
    return name


def build_router() -> APIRouter:
    r = APIRouter(prefix="/qfix/v1", tags=["QFix"])

    @r.get("/version")
    def version() -> dict[str, Any]:
        from lib_qfix.options import SCHEMA_VERSION

        return {"version": __version__, "schema_version": SCHEMA_VERSION}

    @r.get("/schema")
    def schema() -> dict[str, Any]:
        from lib_qfix.options import json_schema

        return json_schema()

    @r.get("/presets")
    def presets() -> dict[str, Any]:
        from lib_qfix.a1111.settings import user_preset_dir
        from lib_qfix.presets import list_presets

        return {"presets": [{"name": i.name, "description": i.description, "source": i.source,
                             "error": i.error} for i in list_presets(user_preset_dir())]}

    @r.get("/presets/{name}")
    def preset(name: str) -> dict[str, Any]:
        from lib_qfix.a1111.settings import user_preset_dir
        from lib_qfix.presets import PresetError, load_preset

        try:
            return {"name": name, "options": load_preset(_check_name(name), user_preset_dir())}
        except PresetError as e:
            raise HTTPException(status_code=404, detail=f"preset {name!r}: {e}") from None

    @r.post("/score")
    def score(req: ImageRequest) -> dict[str, Any]:
        from lib_qfix.diagnose import diagnose

        # the same as `qfix score`: every detector off, global judgements kept
        options, image = parse_options(req.options), decode_image(req.image)
        options = options.replace(detect_faces=False, detect_hands=False, detect_text=False)
        return diagnose(image, options, prompt=req.prompt).to_json()

    @r.post("/diagnose")
    def diagnose_route(req: ImageRequest) -> dict[str, Any]:
        from lib_qfix.diagnose import diagnose

        options, image = parse_options(req.options), decode_image(req.image)
        return diagnose(image, options, prompt=req.prompt).to_json()

    return r


def on_app_started(demo: Any, app: FastAPI) -> None:
    app.include_router(build_router())
