"""A real OpenAI-compatible chat-completions server on 127.0.0.1, for the judge's tests and bench.

It speaks HTTP/1.1 over a real socket (``http.server`` in a thread): each POST to
``.../chat/completions`` is answered by a *script*, a function ``(request) -> Reply``, so a test can
give valid verdicts, malformed JSON, hallucinated kinds, 429 with ``Retry-After``, 500, answers that
arrive late or trickle in byte by byte, or refuse a ``response_format``. Every request is recorded
(parsed body and headers) for assertions.

    with JudgeServer(lambda req: verdict_reply({"prompt_match": 7, ...})) as srv:
        os.environ["QFIX_JUDGE_URL"] = srv.url   # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    """One request the server got: ``body`` (parsed JSON or None), ``headers`` (lower-case keys), ``path``."""

    path: str
    body: Any
    headers: dict[str, str]

    @property
    def mode(self) -> str:
        """The answer mode asked for: json_schema, json_object or text."""
        rf = (self.body or {}).get("response_format") or {}
        return rf.get("type", "text")

    @property
    def user_text(self) -> str:
        for m in (self.body or {}).get("messages", []):
            if m.get("role") == "user":
                return "".join(p.get("text", "") for p in m["content"] if p.get("type") == "text")
        return ""


@dataclass
class Reply:
    """How to answer: ``status``; ``body`` (dict -> JSON, str/bytes as is); ``headers``; ``delay``
    seconds before anything is sent; ``trickle`` seconds between body chunks of ``chunk`` bytes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0
    chunk: int = 16


def completion(content: Any, usage: dict[str, int] | None = None) -> dict[str, Any]:
    """A chat-completions body whose message content is ``content`` (a str or content parts)."""
    body: dict[str, Any] = {"id": "chatcmpl-test", "object": "chat.completion", "model": "test-vlm",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}]}
    if usage is not None:
        body["usage"] = {**usage, "total_tokens": sum(usage.values())}
    return body


def verdict_reply(verdict: Any, usage: dict[str, int] | None = None, **kw: Any) -> Reply:
    """A 200 whose message is ``verdict`` (a dict is sent as its JSON text, a str as it is)."""
    text = verdict if isinstance(verdict, str) else json.dumps(verdict)
    return Reply(200, completion(text, usage if usage is not None else {"prompt_tokens": 800, "completion_tokens": 60}),
                 **kw)


GOOD = {"prompt_match": 8, "quality": 6, "defects": [
    {"kind": "extra_fingers", "reason": "six fingers on the left hand", "box": [0.1, 0.5, 0.3, 0.8]},
    {"kind": "watermark", "reason": "stock watermark lower right", "box": None}]}


class JudgeServer:
    """Serve ``script`` on 127.0.0.1 (a free port) until :meth:`close`; a context manager."""

    def __init__(self, script: Callable[[Request], Reply] | None = None):
        self.script = script or (lambda req: verdict_reply(GOOD))
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                req = Request(self.path, body, {k.lower(): v for k, v in self.headers.items()})
                with owner._lock:
                    owner.requests.append(req)
                reply = owner.script(req) if self.path.endswith("/chat/completions") else Reply(404, {"error": "nope"})
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body
                if isinstance(data, (dict, list)):
                    data = json.dumps(data)
                if isinstance(data, str):
                    data = data.encode()
                data = data or b""
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if not reply.trickle:
                        self.wfile.write(data)
                        return
                    for i in range(0, len(data), reply.chunk):
                        self.wfile.write(data[i:i + reply.chunk])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up: fine
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="judge-server")
        self._thread.start()

    def __enter__(self) -> JudgeServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)
