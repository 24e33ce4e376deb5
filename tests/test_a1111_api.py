"""QFix's HTTP routes with FastAPI's TestClient (fastapi 0.94, pydantic v1), on the fake host."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.fake_a1111 import install


def b64(img: np.ndarray, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture()
def client(monkeypatch, tmp_path):
    install(monkeypatch, tmp_path)
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from lib_qfix.a1111 import api

    app = FastAPI()
    api.on_app_started(None, app)
    return TestClient(app)


def test_version_schema_presets(client):
    v = client.get("/qfix/v1/version").json()
    assert v["version"] and v["schema_version"] == 1
    schema = client.get("/qfix/v1/schema").json()
    assert schema["properties"]["denoise"]["maximum"] == 1.0 and schema["additionalProperties"] is False
    names = [p["name"] for p in client.get("/qfix/v1/presets").json()["presets"]]
    assert "default" in names
    assert "options" in client.get("/qfix/v1/presets/default").json()
    assert client.get("/qfix/v1/presets/nope").status_code == 404
    r = client.get("/qfix/v1/presets/..%2F..%2Fetc%2Fpasswd")
    assert r.status_code in (404, 422)


def test_score_and_diagnose(client, coffee, astronaut):
    r = client.post("/qfix/v1/score", json={"image": b64(coffee)})
    assert r.status_code == 200, r.text
    s = r.json()
    assert 0.0 <= s["quality"] <= 1.0 and s["scorer"] == "offline" and s["width"] == coffee.shape[1]
    assert all(reg["box"] is None for reg in s["regions"])  # no detectors in score
    d = client.post("/qfix/v1/diagnose", json={"image": "data:image/png;base64," + b64(astronaut),
                                               "options": {"detect_hands": False, "detect_text": False}})
    assert d.status_code == 200, d.text
    rep = d.json()
    assert rep["width"] == 512 and {"regions", "negative", "quality", "warnings"} <= set(rep)
    assert any(reg["kind"] == "face" for reg in rep["regions"])


@pytest.mark.parametrize("body, loc, words", [
    ({"image": "not base64!!"}, ["body", "image"], "not valid base64"),
    ({"image": base64.b64encode(b"hello world, no image").decode()}, ["body", "image"], "cannot decode"),
    ({"image": "/etc/passwd"}, ["body", "image"], "image"),
    ({"image": "QUFB", "options": {"denoise": 2}}, ["body", "options", "denoise"], "from 0 to 1"),
    ({"image": "QUFB", "options": {"nope": 1}}, ["body", "options", "nope"], "unknown option"),
    ({"image": "QUFB", "options": {"clip_pretrained": "/root/x.pt"}}, ["body", "options", "clip_pretrained"],
     "path"),
    ({}, ["body", "image"], "field required"),
])
def test_bad_input_is_422_naming_the_field(client, body, loc, words):
    r = client.post("/qfix/v1/diagnose", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == loc and words in detail["msg"]


def test_size_limit(client, monkeypatch):
    from lib_qfix.a1111 import api

    monkeypatch.setattr(api, "MAX_PIXELS", 32 * 32)
    r = client.post("/qfix/v1/score", json={"image": b64(np.zeros((40, 40, 3), np.uint8))})
    assert r.status_code == 422 and "too large" in r.json()["detail"][0]["msg"]
