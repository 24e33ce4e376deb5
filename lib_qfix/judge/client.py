"""HTTP client for an OpenAI-compatible ``/chat/completions`` endpoint (``httpx``, synchronous,
thread-safe, bounded concurrency).

Per call (:meth:`JudgeClient.ask`):

- every attempt has a wall-clock deadline of ``timeout`` seconds, also while the answer streams in
  (a server that trickles bytes cannot hold a call for longer), and answers over
  :data:`MAX_ANSWER_BYTES` are refused;
- 429, 5xx, timeouts and connection errors are retried up to ``retries`` times, waiting as the
  server's ``Retry-After`` says (capped at ``max_retry_after``) or ``backoff * 2**n`` seconds with
  jitter (x0.5..1, capped at ``max_backoff``); other statuses fail at once;
- a 400/422 while asking for a ``response_format`` steps down to the next answer mode
  (:data:`lib_qfix.judge.payload.MODES`) and stays there for later calls;
- after ``breaker`` calls in a row failed, calls fail at once for ``breaker_s`` seconds (a judge
  that is down costs one note per image, not minutes per image);
- redirects are not followed (the key is never sent elsewhere); error messages never contain the
  URL, the model name or the key.

At most ``concurrency`` requests are in flight per client, however many threads call it;
:meth:`JudgeClient.map` runs a function over items on the client's own pool of that size.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from lib_qfix.judge.payload import MODES
from lib_qfix.judge.setup import JudgeSetup
from lib_qfix.judge.stats import STATS, Stats

T = TypeVar("T")
R = TypeVar("R")
#: largest answer body read, bytes (a verdict is ~2 KB; more is a misbehaving server)
MAX_ANSWER_BYTES = 1024 * 1024
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: statuses that mean "this response_format is not supported here": try the next mode
FORMAT_STATUSES = frozenset({400, 422})


#: loggers of httpx/httpcore that name request URLs and hosts (INFO "HTTP Request: POST <url>", DEBUG traces)
HTTP_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
                "httpcore.socks")


class _HideJudge(logging.Filter):
    """Drops httpx/httpcore log records that mention a judge's URL, host, model or key (A1111's
    console shows httpx's INFO lines: the judge's address must not appear there)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted is not ours to judge
            return True
        return not any(s in text for s in self.secrets)


_HIDE = _HideJudge()
for _name in HTTP_LOGGERS:
    logging.getLogger(_name).addFilter(_HIDE)


class JudgeError(RuntimeError):
    """A judge call that gave no usable answer; the message is one clear line (no URL, no key)."""

    clear_message = True


class _Retryable(JudgeError):
    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class Answer:
    """``envelope``: the parsed response body (a dict), or ``text`` when it was not JSON (an event
    stream, for instance); ``attempts``: HTTP requests this call took; ``seconds``: wall time of
    the call; ``mode``: the answer mode the server accepted."""

    envelope: dict[str, Any] | None
    text: str
    attempts: int
    seconds: float
    mode: str


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class JudgeClient:
    """See the module docstring. ``setup``: where to send (see :mod:`lib_qfix.judge.setup`);
    ``timeout`` in seconds per attempt; ``retries`` in 0..; ``concurrency`` >= 1; ``sleep`` and
    ``rng`` are injectable for tests; ``transport``: an ``httpx`` transport (tests)."""

    def __init__(self, setup: JudgeSetup, *, timeout: float = 60.0, retries: int = 2, concurrency: int = 4,
                 backoff: float = 0.5, max_backoff: float = 8.0, max_retry_after: float = 30.0,
                 breaker: int = 3, breaker_s: float = 30.0, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random, transport: Any = None, stats: Stats = STATS):
        self.url = setup.endpoint()  # raises JudgeUnavailable for an unusable setup
        self.setup = setup
        _HIDE.secrets.update(self._secrets())
        self.timeout, self.retries, self.concurrency = float(timeout), int(retries), max(1, int(concurrency))
        self.backoff, self.max_backoff, self.max_retry_after = float(backoff), float(max_backoff), float(max_retry_after)
        self.breaker, self.breaker_s = int(breaker), float(breaker_s)
        self._sleep, self._rng, self._transport, self.stats = sleep, rng, transport, stats
        self._sem = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._http: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._mode = 0  # index into MODES: the best mode the server accepted so far
        self._failed_in_row = 0
        self._open_until = 0.0
        self._last_failure = ""

    # ------------------------------------------------------------------ plumbing
    def _client(self) -> Any:
        with self._lock:
            if self._http is None:
                import httpx

                host = (httpx.URL(self.url).host or "").lower()
                local = host in ("localhost", "127.0.0.1", "::1")
                self._http = httpx.Client(transport=self._transport, follow_redirects=False,
                                          trust_env=not local)  # no proxy between QFix and a local judge
            return self._http

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.setup.key:
            h["Authorization"] = f"Bearer {self.setup.key}"
        return h

    def _secrets(self) -> list[str]:
        """The strings no message may show: key, URL, model name, host (3+ characters)."""
        found = [self.setup.key, self.setup.url.strip(), self.url, self.setup.model.strip(),
                 urlsplit(self.url).hostname or ""]
        return sorted({s for s in found if s and len(s) >= 3}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with the URL, host, model name and key replaced (for messages that leave here)."""
        for s in self._secrets():
            text = text.replace(s, "<judge>")
        return text

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
            if self._pool is not None:
                self._pool.shutdown(wait=False)
                self._pool = None

    # ------------------------------------------------------------------ one attempt
    def _send(self, body: dict[str, Any]) -> tuple[int, Any, bytes]:
        """(status, headers, body bytes) of one POST within the deadline; raises _Retryable for
        timeouts and connection errors."""
        import httpx

        http = self._client()
        with self._sem:
            deadline = time.monotonic() + self.timeout
            try:
                with http.stream("POST", self.url, json=body, headers=self._headers(),
                                 timeout=httpx.Timeout(self.timeout)) as r:
                    buf = bytearray()
                    for chunk in r.iter_bytes():
                        buf += chunk
                        if len(buf) > MAX_ANSWER_BYTES:
                            raise JudgeError(f"judge answer larger than {MAX_ANSWER_BYTES} bytes")
                        if time.monotonic() > deadline:
                            raise _Retryable(f"judge timed out after {self.timeout:g} s (answer still streaming)")
                    return r.status_code, r.headers, bytes(buf)
            except httpx.TimeoutException:
                raise _Retryable(f"judge timed out after {self.timeout:g} s") from None
            except httpx.TransportError as e:
                raise _Retryable(f"judge unreachable ({type(e).__name__}: {self.scrub(str(e))[:120]})") from None

    # ------------------------------------------------------------------ one call
    def ask(self, make_body: Callable[[str], dict[str, Any]]) -> Answer:
        """One judge call: ``make_body(mode)`` builds the request for an answer mode. Returns the
        :class:`Answer`; raises :class:`JudgeError` (one line) when there is none."""
        now = time.monotonic()
        with self._lock:
            if self._failed_in_row >= self.breaker > 0 and now < self._open_until:
                self.stats.add(skipped=1)
                raise JudgeError(f"judge skipped for {self._open_until - now:.0f} s more after {self._failed_in_row} "
                                 f"failed calls in a row (last: {self._last_failure})")
        t0, attempts, retries_left = time.monotonic(), 0, self.retries
        mode = self._mode
        while True:
            attempts += 1
            try:
                status, headers, raw = self._send(make_body(MODES[mode]))
                if status == 200:
                    answer = self._answer(raw, attempts, time.monotonic() - t0, MODES[mode])
                    self._done(attempts, None)
                    return answer
                if status in FORMAT_STATUSES and mode + 1 < len(MODES):
                    mode += 1  # the server refused this response_format: ask more plainly
                    with self._lock:
                        self._mode = max(self._mode, mode)
                    continue
                if status in RETRY_STATUSES:
                    raise _Retryable(f"judge answered HTTP {status}", retry_after(headers.get("retry-after")))
                raise JudgeError(f"judge answered HTTP {status}" + (" (redirects are not followed)"
                                                                     if 300 <= status < 400 else ""))
            except _Retryable as e:
                if retries_left <= 0:
                    self._done(attempts, str(e))
                    raise JudgeError(f"{e} ({attempts} attempts)") from None
                retries_left -= 1
                self._sleep(self._wait(self.retries - retries_left - 1, e.wait))
            except JudgeError as e:
                self._done(attempts, str(e))
                raise

    def _wait(self, n: int, asked: float | None) -> float:
        """Seconds before retry ``n`` (0-based): the server's ask, else exponential with jitter."""
        if asked is not None:
            return min(asked, self.max_retry_after)
        return min(self.max_backoff, self.backoff * 2 ** n) * (0.5 + 0.5 * self._rng())

    def _answer(self, raw: bytes, attempts: int, seconds: float, mode: str) -> Answer:
        text = raw.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        return Answer(data if isinstance(data, dict) else None, text, attempts, seconds, mode)

    def bad_answer(self, reason: str) -> None:
        """An answer that held no verdict (nonsense, no rating): a failed call, also for the breaker."""
        self.stats.add(failures=1)
        self._count_failure(reason)

    def _count_failure(self, reason: str) -> None:
        with self._lock:
            self._failed_in_row += 1
            self._last_failure = reason
            if self._failed_in_row >= self.breaker > 0:
                self._open_until = time.monotonic() + self.breaker_s

    def _done(self, attempts: int, failure: str | None) -> None:
        self.stats.add(calls=1, attempts=attempts, failures=int(failure is not None))
        if failure is not None:
            self._count_failure(failure)
            return
        with self._lock:
            self._failed_in_row = 0

    # ------------------------------------------------------------------ many calls
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(x) for x in items]`` with at most ``concurrency`` running at once (in order)."""
        items = list(items)
        if len(items) <= 1 or self.concurrency == 1:
            return [fn(x) for x in items]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="qfix-judge")
            pool = self._pool
        return list(pool.map(fn, items))
