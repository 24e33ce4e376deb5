"""QFix's HTTP routes with FastAPI's TestClient (fastapi 0.94, pydantic v1), on the fake host:
answers, 422s naming the field, the client policy (no paths, only allowed resources), body limits."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from testkit.fake_a1111 import install


def b64(img: np.ndarray, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture()
def host(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path)


@pytest.fixture()
def client(host):
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
    doc = client.get("/openapi.json").json()["paths"]["/qfix/v1/diagnose"]["post"]["requestBody"]
    assert doc["content"]["application/json"]["schema"]["required"] == ["image"]


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


def detail(r) -> dict:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]


@pytest.mark.parametrize("pairs", ["nopipe", "a|b|notanumber", "|"])
def test_malformed_custom_pairs_are_422_not_500(client, pairs):
    r = client.post("/qfix/v1/score", json={"image": "QUFB", "options": {"scorer": "clip-iqa", "custom_pairs": pairs}})
    d = detail(r)
    assert d["loc"] == ["body", "options", "custom_pairs"] and "positive|negative" in d["msg"]


def test_every_path_like_field_is_refused_without_touching_the_file(client):
    import tempfile
    from pathlib import Path

    from lib_qfix.options.policy import PATH_LIKE_FIELDS

    folder = Path(tempfile.mkdtemp(prefix="q"))  # short: paths fit every field's length limit
    config = folder / "model.json"  # a valid-looking open_clip config
    config.write_text(json.dumps({"embed_dim": 8, "vision_cfg": {}, "text_cfg": {}}))
    for key in PATH_LIKE_FIELDS:
        msgs = []
        for value in (str(config), str(folder / "missing.json")):
            d = detail(client.post("/qfix/v1/diagnose", json={"image": "QUFB", "options": {key: value}}))
            assert d["loc"] == ["body", "options", key] and "not a path" in d["msg"]
            msgs.append(d["msg"].replace(value, "VALUE"))
        assert msgs[0] == msgs[1]  # whether the file exists does not show


def test_resources_only_among_what_the_server_allows(client, host, coffee, tmp_path):
    shared = host.modules["modules.shared"]
    d = detail(client.post("/qfix/v1/score", json={"image": b64(coffee), "options": {"clip_model": "ViT-B-32"}}))
    assert d["loc"] == ["body", "options", "clip_model"] and "allowed on this server: 'RN50'" in d["msg"]
    d = detail(client.post("/qfix/v1/score", json={"image": b64(coffee), "options": {"clip_pretrained": "laion2b"}}))
    assert d["loc"][-1] == "clip_pretrained" and "'openai'" in d["msg"]
    shared.opts.qfix_scorer_device = "cpu"
    d = detail(client.post("/qfix/v1/score", json={"image": b64(coffee), "options": {"device": "cuda"}}))
    assert d["loc"][-1] == "device" and "'auto', 'cpu'" in d["msg"]
    prompts = host.models_path / "qfix" / "prompts"
    prompts.mkdir(parents=True)
    (prompts / "mine.safetensors").write_bytes(b"not really")
    d = detail(client.post("/qfix/v1/score", json={"image": b64(coffee), "options": {"learned_prompts": "theirs"}}))
    assert d["loc"][-1] == "learned_prompts" and "'', 'mine'" in d["msg"]
    shared.opts.qfix_clip_models = "RN50, ViT-B-32"
    r = client.post("/qfix/v1/score", json={"image": b64(coffee), "options": {
        "clip_model": "ViT-B-32", "learned_prompts": "mine", "device": "cpu"}})
    assert r.status_code == 200, r.text  # allowed now (the offline scorer runs: no weights offline)
    schema = client.get("/qfix/v1/schema").json()["properties"]
    assert schema["clip_model"]["x-allowed"] == ["RN50", "ViT-B-32"]
    assert schema["learned_prompts"]["x-allowed"] == ["", "mine"]


def test_preset_values_pass_the_same_policy(client, host):
    folder = host.data_path / "qfix" / "presets"
    folder.mkdir(parents=True)
    (folder / "sneaky.json").write_text(json.dumps({"schema_version": 1, "options": {
        "scorer": "clip-iqa", "clip_pretrained": "/root/weights.pt"}}))
    d = detail(client.post("/qfix/v1/score", json={"image": "QUFB", "options": {"preset": "sneaky"}}))
    assert d["loc"] == ["body", "options", "clip_pretrained"] and "not a path" in d["msg"]


@pytest.mark.parametrize("raw, loc, words", [
    (b"{not json", ["body"], "not JSON"),
    (b"[" * 200_000 + b"]" * 200_000, ["body"], "not JSON"),
    (b"[1, 2]", ["body"], "a JSON list"),
    (b'{"image": "QUFB", "imgae": 1}', ["body", "imgae"], "unknown field"),
    (b'{"image": 5}', ["body", "image"], "base64"),
    (b'{"image": "QUFB", "options": [1]}', ["body", "options"], "object of QFix options"),
    (b'{"image": "QUFB", "prompt": 7}', ["body", "prompt"], "text of at most"),
    (json.dumps({"image": "QUFB", "prompt": "x" * 10_001}).encode(), ["body", "prompt"], "10001 characters"),
], ids=["not-json", "deep", "list", "unknown-key", "image-int", "options-list", "prompt-int", "prompt-long"])
def test_body_shape_errors_name_the_field(client, raw, loc, words):
    d = detail(client.post("/qfix/v1/diagnose", content=raw, headers={"Content-Type": "application/json"}))
    assert d["loc"] == loc and words in d["msg"]


def test_body_over_the_limit_is_413_by_content_length(client, monkeypatch, coffee):
    from lib_qfix.a1111 import api

    monkeypatch.setattr(api, "MAX_BODY_BYTES", 1000)
    r = client.post("/qfix/v1/score", json={"image": b64(coffee)})
    assert r.status_code == 413, r.text
    msg = r.json()["detail"][0]["msg"]
    assert msg.startswith("body: ") and "at most 1000 bytes" in msg
    small = np.full((8, 8, 3), 120, np.uint8)
    assert client.post("/qfix/v1/score", json={"image": b64(small)}).status_code == 200


def test_the_servers_own_default_preset_is_always_allowed(client, host, coffee):
    folder = host.data_path / "qfix" / "presets"
    folder.mkdir(parents=True)
    (folder / "house.json").write_text(json.dumps({"schema_version": 1, "options": {"clip_model": "ViT-B-32"}}))
    host.modules["modules.shared"].opts.qfix_default_preset = "house"
    r = client.post("/qfix/v1/score", json={"image": b64(coffee)})
    assert r.status_code == 200, r.text
    allowed = client.get("/qfix/v1/schema").json()["properties"]["clip_model"]["x-allowed"]
    assert allowed == ["RN50", "ViT-B-32"]
    d = detail(client.post("/qfix/v1/score", json={"image": b64(coffee), "options": {"clip_model": "RN101"}}))
    assert "'RN50', 'ViT-B-32'" in d["msg"]


@pytest.mark.parametrize("value", [[0] * 100_000, "x" * 100_000, {"a": [[[[[[1]]]]]]}], ids=["list", "text", "deep"])
def test_large_bad_values_give_short_messages(client, value):
    d = detail(client.post("/qfix/v1/score", json={"image": "QUFB", "options": {"custom_pairs": value}}))
    assert d["loc"] == ["body", "options", "custom_pairs"] and len(d["msg"]) < 300 and "\n" not in d["msg"]


def test_preset_route_uses_the_presets_name_check(client):
    # the route had its own regex whose `$` let a trailing newline through
    r = client.get("/qfix/v1/presets/default%0A")
    assert r.status_code == 422 and "name" in r.text
    assert client.get("/qfix/v1/presets/default").status_code == 200


def test_routes_hand_the_models_folder_to_the_scorer_not_the_environment(client, host, coffee, monkeypatch):
    from lib_qfix import scoring
    from lib_qfix.a1111 import settings
    from lib_qfix.detect import mp_models

    monkeypatch.delenv("QFIX_MODELS", raising=False)
    seen = []
    real = scoring.scorer_for
    monkeypatch.setattr("lib_qfix.diagnose.scorer_for", lambda o, m=None: seen.append(m) or real(o, m))
    r = client.post("/qfix/v1/score", json={"image": b64(coffee)})
    assert r.status_code == 200 and seen == [settings.models_dir()]
    assert "QFIX_MODELS" not in os.environ and mp_models.mediapipe_dir() == Path(settings.models_dir()) / "mediapipe"
