"""``qfix diagnose/score/filter --scorer llm-judge`` against a real local server: the rating and the
defects printed, each image's prompt from --prompt or from the A1111 parameters in the PNG,
overlapped calls, the cache on a rerun, the summary line, a judge that is down, and the key, URL
and model never in any output."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from lib_qfix.cli import main
from lib_qfix.judge import setup as judge
from testkit.judge_server import JudgeServer, Reply, verdict_reply

KEY = "sk-cli-SECRET-4242"
MODEL = "my-private-vlm"


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for name in (judge.ENV_URL, judge.ENV_MODEL, judge.ENV_CACHE):
        monkeypatch.setenv(name, "")  # the CLI exports these; monkeypatch restores them after the test
    monkeypatch.setenv(judge.ENV_KEY, KEY)
    judge.configure(None)
    yield
    judge.configure(None)


@pytest.fixture()
def photos(tmp_path, astronaut, coffee):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, img, prompt in (("astro.png", astronaut, "an astronaut in a white suit"),
                              ("coffee.png", coffee, "a cup of coffee")):
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", f"{prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 1")
        Image.fromarray(img[::2, ::2]).save(folder / name, pnginfo=info)
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(folder / "plain.png")
    return folder


def judge_args(srv, *more):
    return ["--scorer", "llm-judge", "--judge-url", srv.url, "--judge-model", MODEL, *more]


def no_secrets(*texts: str, url: str = "") -> None:
    for text in texts:
        assert KEY not in text and MODEL not in text and (not url or url not in text)


def test_diagnose_prints_rating_and_defects_with_the_stored_prompt(photos, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    with JudgeServer() as srv:
        code = main(["diagnose", str(photos / "astro.png"), *judge_args(srv, "--no-judge-cache", "--json",
                     str(out_json), "--html", str(out_html), "--set", "detect_hands=false",
                     "--set", "detect_faces=false", "--set", "detect_text=false")])
        prompt_sent = srv.requests[0].user_text
        assert srv.requests[0].headers["authorization"] == f"Bearer {KEY}"
    out, err = capsys.readouterr()
    assert code == 0
    assert "[llm-judge]" in out and "judge: match 8/10, quality 6/10" in out
    assert "  judge: hand extra_fingers: six fingers on the left hand" in out
    assert "an astronaut in a white suit" in prompt_sent and "blurry" not in prompt_sent
    assert "qfix: judge: 1 calls, 0 cache hits" in err and "tokens 800 in / 60 out" in err
    report = json.loads(out_json.read_text())[0]
    assert report["signals"]["judge:prompt_match"] == 8 and report["scorer"] == "llm-judge"
    html = out_html.read_text()
    assert "LLM judge: <b>match 8/10, quality 6/10</b>" in html and "six fingers" in html
    no_secrets(out, err, out_json.read_text(), html, caplog.text, url=srv.url)


def test_prompt_flag_wins_over_the_stored_one(photos, capsys):
    with JudgeServer() as srv:
        assert main(["score", str(photos / "astro.png"), "--prompt", "a red bicycle",
                     *judge_args(srv, "--no-judge-cache")]) == 0
        assert srv.requests[0].user_text.endswith("a red bicycle")
    assert "[judge match 8/10, quality 6/10]" in capsys.readouterr().out


def test_score_overlaps_calls_and_a_rerun_hits_the_cache(photos, tmp_path, capsys):
    cache = tmp_path / "cache"
    with JudgeServer(lambda req: verdict_reply({"prompt_match": 6, "quality": 7, "defects": []}, delay=0.2)) as srv:
        assert main(["score", str(photos), *judge_args(srv, "--judge-cache", str(cache), "--set",
                     "judge_concurrency=3", "--no-progress")]) == 0
        first = capsys.readouterr()
        assert srv.count == 3 and "qfix: judge: 3 calls, 0 cache hits" in first.err
        assert main(["score", str(photos), *judge_args(srv, "--judge-cache", str(cache), "--no-progress")]) == 0
        second = capsys.readouterr()
        assert srv.count == 3 and "qfix: judge: 0 calls, 3 cache hits" in second.err
    assert first.out == second.out  # same scores from the cache
    texts = {r.user_text for r in srv.requests}
    assert any("a cup of coffee" in t for t in texts) and any("No generation prompt" in t for t in texts)
    no_secrets(first.out, first.err, second.out, second.err, *(p.read_text() for p in cache.rglob("*.json")))


def test_a_judge_that_is_down_never_fails_the_batch(photos, tmp_path, capsys):
    out_json = tmp_path / "r.json"
    with JudgeServer(lambda req: Reply(503, {"error": "overloaded"})) as srv:
        code = main(["score", str(photos), *judge_args(srv, "--no-judge-cache", "--json", str(out_json),
                     "--set", "judge_retries=0", "--no-progress")])
    out, err = capsys.readouterr()
    assert code == 0
    reports = json.loads(out_json.read_text())
    assert all(r["quality"] is not None and "HTTP 503" in r["warnings"][0] for r in reports)
    assert "(3 failed)" in err or "skipped" in err
    no_secrets(out, err, out_json.read_text(), url=srv.url)


def test_missing_endpoint_is_a_usage_error(photos, capsys):
    assert main(["score", str(photos), "--scorer", "llm-judge"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qfix: error: --scorer llm-judge: the judge is not configured") and "QFIX_JUDGE_URL" in err
    assert err.count("\n") == 1 and KEY not in err


def test_filter_ranks_by_the_judge_and_shows_its_rating(photos, tmp_path, capsys):
    def script(req):
        good = "coffee" in req.user_text
        return verdict_reply({"prompt_match": 9 if good else 3, "quality": 9 if good else 4, "defects": []})

    out = tmp_path / "out"
    with JudgeServer(script) as srv:
        code = main(["filter", str(photos), "--out", str(out), "--no-cache", "--no-progress", "--threshold", "0.5",
                     *judge_args(srv, "--no-judge-cache", "--set", "judge_base=none")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    decisions = json.loads((out / "decisions.json").read_text())
    by_name = {r["rel"]: r for r in decisions["decisions"]}
    coffee, astro = by_name["coffee.png"], by_name["astro.png"]
    assert coffee["status"] == "keep" and astro["status"] == "reject"
    html = (out / "report.html").read_text()
    assert "LLM judge: match 9/10, quality 9/10" in html
    assert "qfix: judge: 3 calls" in printed.err
    no_secrets(printed.out, printed.err, html, (out / "decisions.json").read_text(), url=srv.url)


def test_diagnose_with_the_judge_works_at_the_work_size_like_without_it(photos, tmp_path):
    out_json = tmp_path / "r.json"
    with JudgeServer() as srv:
        assert main(["diagnose", str(photos / "astro.png"), "--work-size", "128", *judge_args(
            srv, "--no-judge-cache", "--json", str(out_json), "--set", "detect_text=false")]) == 0
    report = json.loads(out_json.read_text())[0]
    # judged (and detected) on the 128 px working copy, reported in the 256 px photo's pixels
    assert (report["width"], report["height"]) == (256, 256) and report["signals"]["working_scale"] == 0.5
    assert all(0 <= r["box"][2] <= 256 and 0 <= r["box"][3] <= 256 for r in report["regions"] if r["box"])
