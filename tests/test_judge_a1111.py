"""The LLM judge inside A1111 (the fake host): its endpoint comes from the server's settings or
environment and never from a request; the routes and the API can select it; the fix loop keeps the
best by its verdict and records its ratings before and after; a judge that is down never fails a
generation; the key, URL and model never reach infotext, responses or logs."""

from __future__ import annotations

import base64
import io
import logging

import numpy as np
import pytest
from PIL import Image

from lib_qfix.fix.outcome import RegionCheck
from lib_qfix.judge import setup as judge
from testkit.fake_a1111 import install
from testkit.fake_a1111.host_api import api_args, make_runner, txt2img
from testkit.judge_server import JudgeServer, Reply, verdict_reply

KEY = "sk-a1111-SECRET-777"
MODEL = "server-side-vlm"
BAD = {"prompt_match": 3, "quality": 2, "defects": [
    {"kind": "extra_fingers", "reason": "six fingers", "box": [0.3, 0.45, 0.8, 0.95]}]}
FIXED = {"prompt_match": 9, "quality": 8, "defects": []}
#: options that switch QFix's own detectors off, so only the judge finds what to fix
JUDGE_ONLY = {"scorer": "llm-judge", "judge_base": "none", "detect_faces": False, "detect_hands": False,
              "detect_text": False, "judge_timeout": 2.0}


def sent_image(req) -> np.ndarray:
    for m in req.body["messages"]:
        if m["role"] == "user":
            url = next(p["image_url"]["url"] for p in m["content"] if p["type"] == "image_url")
            return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2]))).convert("RGB"))
    raise AssertionError("no image sent")


def by_content(req) -> Reply:
    """The original (flat grey) has a bad hand; a repainted image is fine."""
    return verdict_reply(FIXED if float(sent_image(req).std()) > 2.0 else BAD)


@pytest.fixture()
def host(monkeypatch, tmp_path):
    for name in (judge.ENV_URL, judge.ENV_MODEL, judge.ENV_CACHE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(judge.ENV_KEY, KEY)
    judge.configure(None)
    h = install(monkeypatch, tmp_path)
    h.base_image = np.full((128, 128, 3), 100, np.uint8)
    yield h
    judge.configure(None)


@pytest.fixture()
def server(host):
    with JudgeServer(by_content) as srv:
        opts = host.modules["modules.shared"].opts
        opts.qfix_judge_url, opts.qfix_judge_model = srv.url, MODEL
        yield srv


@pytest.fixture()
def checks_pass(monkeypatch):
    """The fake host repaints with a flat colour (the real region checks would call that a seam):
    these tests are about the judge's plumbing."""
    def checker(options, prompt=""):
        return lambda before, after, groups: tuple(RegionCheck(r.kind, r.box) for g in groups for r in g.regions)

    monkeypatch.setattr("lib_qfix.fix.fidelity.region_checker", checker)


def generate(host, options):
    from lib_qfix.a1111.script import QFixScript

    script = QFixScript()
    runner, defaults = make_runner(host, script)
    args = api_args(runner, defaults, {"QFix": {"args": [options]}})
    return txt2img(host, runner, args, is_api=True, width=128, height=128)


def no_secrets(*texts: str, url: str) -> None:
    for t in texts:
        assert KEY not in t and MODEL not in t and url not in t and "127.0.0.1" not in t


def test_settings_hold_url_and_model_out_of_the_apis_reach_and_no_key(host):
    from lib_qfix.a1111 import settings

    settings.on_ui_settings()
    labels = host.modules["modules.shared"].opts.data_labels
    assert labels["qfix_judge_url"].restrict_api is True and labels["qfix_judge_model"].restrict_api is True
    assert not [k for k in labels if "key" in k]  # the key never is a setting (settings are readable by API)


def test_the_environment_wins_over_the_settings(host, monkeypatch):
    from lib_qfix.a1111 import settings

    opts = host.modules["modules.shared"].opts
    opts.qfix_judge_url, opts.qfix_judge_model = "http://settings.example/v1", "settings-model"
    s = settings.judge_setup()
    assert (s.url, s.model, s.key) == ("http://settings.example/v1", "settings-model", KEY)
    assert s.cache_dir.endswith("judge-cache")
    monkeypatch.setenv(judge.ENV_URL, "http://pinned.example/v1")
    assert settings.judge_setup().url == "http://pinned.example/v1"


def test_the_fix_loop_keeps_the_best_by_the_judge_and_records_it(host, server, checks_pass, caplog):
    caplog.set_level(logging.DEBUG)
    p, processed = generate(host, {**JUDGE_ONLY, "rounds": 2})
    info = processed.infotexts[0]
    assert len(host.inner) == 1  # the judge's hand box was repainted; the result had nothing left to fix
    assert host.inner[0]["mask"][100, 70] == 255 and host.inner[0]["mask"][10, 10] == 0
    assert "extra fingers" in host.inner[0]["negative"]
    assert 'QFix judge before: "match 3/10, quality 2/10"' in info
    assert 'QFix judge after: "match 9/10, quality 8/10"' in info
    assert "QFix result: kept" in info and "QFix scorer: llm-judge" in info
    assert server.count == 2 and server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert server.requests[0].user_text.endswith("a portrait photo")
    no_secrets(info, processed.js(), caplog.text, url=server.url)


def test_the_call_budget_bounds_the_loop(host, server, checks_pass, monkeypatch):
    # a judge that never sees the hand fixed: each round is judged until the budget is spent
    monkeypatch.setattr(server, "script", lambda req: verdict_reply(BAD))
    p, processed = generate(host, {**JUDGE_ONLY, "rounds": 4, "judge_calls": 2})
    assert server.count == 2 and "QFix judge before" in processed.infotexts[0]


def test_a_judge_that_is_down_never_fails_the_generation(host, server, checks_pass, monkeypatch):
    monkeypatch.setattr(server, "script", lambda req: Reply(500, {"error": "down"}))
    p, processed = generate(host, {**JUDGE_ONLY, "rounds": 2, "judge_retries": 0})
    info = processed.infotexts[0]
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image)
    assert "QFix warnings" in info and "HTTP 500" in info and "QFix error" not in info
    assert "QFix score before" in info and "QFix judge before" not in info
    no_secrets(info, url=server.url)


@pytest.fixture()
def client(host):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from lib_qfix.a1111 import api

    app = FastAPI()
    api.on_app_started(None, app)
    return TestClient(app)


def png_b64(img: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_routes_use_the_servers_judge_and_no_request_can_choose_another(host, server, client, coffee):
    with JudgeServer() as elsewhere:
        for key in ("judge_url", "judge_model", "judge_key", "judge_endpoint"):
            r = client.post("/qfix/v1/score", json={"image": png_b64(coffee[::4, ::4]),
                                                    "options": {"scorer": "llm-judge", key: elsewhere.url}})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "options", key]
        r = client.post("/qfix/v1/score", json={"image": png_b64(coffee[::4, ::4]), "prompt": "coffee",
                                                "options": {"scorer": "llm-judge"}})
        assert elsewhere.count == 0
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scorer"] == "llm-judge" and body["signals"]["judge:prompt_match"] == 9
    assert server.count == 1 and server.requests[0].user_text.endswith("coffee")
    schema = client.get("/qfix/v1/schema").text
    assert "llm-judge" in schema and "judge_weight" in schema
    no_secrets(r.text, schema, url=server.url)
