"""The judge's HTTP client against a real OpenAI-compatible server on 127.0.0.1: answers, 429 with
Retry-After, 5xx, timeouts, answers that trickle in, refused response formats, the breaker,
redirects, the key only in the Authorization header and never in an error message."""

from __future__ import annotations

import time

import pytest

from lib_qfix.judge.client import JudgeClient, JudgeError, retry_after
from lib_qfix.judge.setup import JudgeSetup, JudgeUnavailable
from lib_qfix.judge.stats import Stats
from testkit.judge_server import GOOD, JudgeServer, Reply, verdict_reply

KEY = "sk-test-KEY-0123456789"


def body(mode: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            **({"response_format": {"type": mode}} if mode != "text" else {})}


def client(srv: JudgeServer, **kw) -> tuple[JudgeClient, list[float]]:
    waits: list[float] = []
    kw.setdefault("timeout", 1.0)
    kw.setdefault("retries", 2)
    c = JudgeClient(JudgeSetup(srv.url, "test-vlm", KEY), sleep=waits.append, rng=lambda: 1.0,
                    stats=Stats(), **kw)
    return c, waits


def scripted(*replies: Reply):
    """A server script answering with ``replies`` in turn (the last one repeats)."""
    seq = list(replies)

    def script(req):
        return seq.pop(0) if len(seq) > 1 else seq[0]

    return script


def test_valid_answer_and_the_key_only_in_the_authorization_header():
    with JudgeServer(scripted(verdict_reply(GOOD))) as srv:
        c, waits = client(srv)
        a = c.ask(body)
        assert a.envelope["choices"][0]["message"]["content"] and a.attempts == 1 and a.mode == "json_schema"
        req = srv.requests[0]
        assert req.headers["authorization"] == f"Bearer {KEY}" and req.path == "/v1/chat/completions"
        assert KEY not in str(req.body) and waits == []
        assert c.stats.snapshot().calls == 1


def test_429_waits_as_retry_after_says_then_succeeds():
    with JudgeServer(scripted(Reply(429, {"error": "slow down"}, {"Retry-After": "2"}), verdict_reply(GOOD))) as srv:
        c, waits = client(srv)
        a = c.ask(body)
        assert a.attempts == 2 and waits == [2.0] and srv.count == 2


def test_retry_after_is_capped_and_read_as_a_date():
    assert retry_after("7") == 7.0 and retry_after(None) is None and retry_after("soon") is None
    assert 9.0 <= retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) <= 11.0
    with JudgeServer(scripted(Reply(429, {}, {"Retry-After": "3600"}), verdict_reply(GOOD))) as srv:
        c, waits = client(srv, max_retry_after=0.5)
        c.ask(body)
        assert waits == [0.5]


def test_500_backs_off_exponentially_with_jitter_then_gives_up():
    with JudgeServer(scripted(Reply(500, {"error": "boom"}))) as srv:
        c, waits = client(srv, retries=3, backoff=0.5)
        with pytest.raises(JudgeError, match=r"HTTP 500 \(4 attempts\)"):
            c.ask(body)
        assert waits == [0.5, 1.0, 2.0] and srv.count == 4  # rng=1.0: the top of the jitter range
        s = c.stats.snapshot()
        assert (s.calls, s.attempts, s.failures) == (1, 4, 1)


def test_jitter_spreads_waits():
    with JudgeServer(scripted(Reply(503, {}))) as srv:
        waits: list[float] = []
        c = JudgeClient(JudgeSetup(srv.url, "m"), timeout=1.0, retries=2, backoff=1.0, sleep=waits.append,
                        rng=lambda: 0.0, stats=Stats())
        with pytest.raises(JudgeError):
            c.ask(body)
        assert waits == [0.5, 1.0]


def test_other_statuses_fail_at_once():
    with JudgeServer(scripted(Reply(401, {"error": "bad key"}))) as srv:
        c, waits = client(srv)
        # json_schema refused with 401 is not a format problem: no step-down, no retry
        with pytest.raises(JudgeError, match="HTTP 401"):
            c.ask(body)
        assert srv.count == 1 and waits == []


def test_a_timeout_is_retried_and_bounded():
    with JudgeServer(scripted(Reply(200, {}, delay=1.0), verdict_reply(GOOD))) as srv:
        c, waits = client(srv, timeout=0.3, retries=1)
        t0 = time.monotonic()
        a = c.ask(body)
        assert a.attempts == 2 and len(waits) == 1 and time.monotonic() - t0 < 1.5


def test_a_trickling_answer_is_cut_at_the_deadline():
    """Headers at once, then a byte every 50 ms: each read is quick, the whole is not."""
    with JudgeServer(scripted(verdict_reply(GOOD, trickle=0.05, chunk=1))) as srv:
        c, _ = client(srv, timeout=0.4, retries=0)
        t0 = time.monotonic()
        with pytest.raises(JudgeError, match="timed out"):
            c.ask(body)
        assert time.monotonic() - t0 < 1.2


def test_a_slow_but_timely_stream_is_read_whole():
    with JudgeServer(scripted(verdict_reply(GOOD, trickle=0.01, chunk=64))) as srv:
        c, _ = client(srv, timeout=3.0)
        assert c.ask(body).envelope["choices"]


def test_refused_response_format_steps_down_and_stays_down():
    def script(req):
        return Reply(400, {"error": "response_format not supported"}) if req.mode == "json_schema" else \
            verdict_reply(GOOD)

    with JudgeServer(script) as srv:
        c, waits = client(srv)
        assert c.ask(body).mode == "json_object"
        assert c.ask(body).mode == "json_object"
        assert [r.mode for r in srv.requests] == ["json_schema", "json_object", "json_object"] and waits == []


def test_plain_text_mode_is_the_last_resort():
    def script(req):
        return verdict_reply(GOOD) if req.mode == "text" else Reply(422, {"error": "no"})

    with JudgeServer(script) as srv:
        c, _ = client(srv)
        assert c.ask(body).mode == "text" and "response_format" not in srv.requests[-1].body


def test_the_breaker_stops_calling_a_judge_that_is_down():
    with JudgeServer(scripted(Reply(500, {}))) as srv:
        c, _ = client(srv, retries=0, breaker=2, breaker_s=60)
        for _ in range(2):
            with pytest.raises(JudgeError):
                c.ask(body)
        with pytest.raises(JudgeError, match="skipped"):
            c.ask(body)
        assert srv.count == 2 and c.stats.snapshot().skipped == 1


def test_connection_refused_is_one_clear_line_without_url_or_key():
    with JudgeServer() as srv:
        url = srv.url
    c = JudgeClient(JudgeSetup(url, "secret-model-name", KEY), timeout=0.5, retries=1, sleep=lambda s: None,
                    stats=Stats())
    with pytest.raises(JudgeError) as e:
        c.ask(body)
    msg = str(e.value)
    assert "unreachable" in msg and "\n" not in msg
    assert KEY not in msg and url not in msg and "127.0.0.1" not in msg and "secret-model-name" not in msg


def test_redirects_are_not_followed():
    with JudgeServer(scripted(Reply(307, {}, {"Location": "http://127.0.0.1:9/steal"}))) as srv:
        c, _ = client(srv)
        with pytest.raises(JudgeError, match="redirects are not followed"):
            c.ask(body)
        assert srv.count == 1


def test_an_oversized_answer_is_refused(monkeypatch):
    monkeypatch.setattr("lib_qfix.judge.client.MAX_ANSWER_BYTES", 1000)
    with JudgeServer(scripted(verdict_reply("x" * 5000))) as srv:
        c, _ = client(srv)
        with pytest.raises(JudgeError, match="larger than"):
            c.ask(body)


def test_bounded_concurrency():
    with JudgeServer(scripted(verdict_reply(GOOD, delay=0.2))) as srv:
        c, _ = client(srv, concurrency=3)
        t0 = time.monotonic()
        out = c.map(lambda i: c.ask(body).attempts, range(6))
        took = time.monotonic() - t0
        assert out == [1] * 6 and 0.35 < took < 1.0  # two waves of three, not six one after another


@pytest.mark.parametrize("url, words", [
    ("", "not configured"),
    ("ftp://127.0.0.1/v1", "http:// or https://"),
    ("http://user:pw@127.0.0.1/v1", "credentials"),
    ("not a url", "http:// or https://"),
])
def test_unusable_setups_are_refused_without_showing_them(url, words):
    with pytest.raises(JudgeUnavailable, match=words) as e:
        JudgeClient(JudgeSetup(url, "m" if url else "", KEY))
    assert KEY not in str(e.value) and "pw@" not in str(e.value)


def test_setup_repr_and_fingerprint_hide_url_model_and_key():
    s = JudgeSetup("http://10.1.2.3:8000/v1", "big-model", KEY)
    for text in (repr(s), str(s), f"{s}"):
        assert KEY not in text and "10.1.2.3" not in text and "big-model" not in text
    assert s.fingerprint == JudgeSetup("http://10.1.2.3:8000/v1", "big-model", "other").fingerprint
    assert s.fingerprint != JudgeSetup("http://10.1.2.3:8000/v1", "small-model").fingerprint
    assert s.endpoint() == "http://10.1.2.3:8000/v1/chat/completions"
    assert JudgeSetup("http://h/v1/chat/completions", "m").endpoint() == "http://h/v1/chat/completions"
