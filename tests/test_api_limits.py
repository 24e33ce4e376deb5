"""Body size limits on a real uvicorn server on 127.0.0.1 (in a thread), over raw sockets: an oversized
body is refused with 413 before it is read, by its Content-Length or while it streams in."""

from __future__ import annotations

import json
import select
import socket
import threading
import time

import pytest

from testkit.fake_a1111 import install

HEADERS = "POST /qfix/v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.fixture()
def server(monkeypatch, tmp_path):
    """(host, port) of a uvicorn server running QFix's routes on the fake host."""
    uvicorn = pytest.importorskip("uvicorn")
    install(monkeypatch, tmp_path)
    from fastapi import FastAPI

    from lib_qfix.a1111 import api

    app = FastAPI()
    api.on_app_started(None, app)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield sock.getsockname()
    srv.should_exit = True
    thread.join(10)
    sock.close()


def read_response(conn: socket.socket, timeout: float = 10.0) -> tuple[int, dict]:
    """(status, JSON body) of one HTTP response, read until the body is complete or the peer closes."""
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body[:_length(data)])


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 1 << 30


def test_declared_oversize_is_refused_before_any_body_byte(server):
    with socket.create_connection(server) as conn:
        conn.sendall((HEADERS + "Content-Length: 200000000\r\n\r\n").encode())  # and never a body byte
        status, body = read_response(conn)
    assert status == 413
    msg = body["detail"][0]["msg"]
    assert body["detail"][0]["loc"] == ["body"] and msg.startswith("body: 200000000 bytes; allowed: at most")


def test_streamed_oversize_is_refused_while_it_streams(server, monkeypatch):
    from lib_qfix.a1111 import api

    monkeypatch.setattr(api, "MAX_BODY_BYTES", 256 * 1024)
    total, sent, chunk = 64 * 1024 * 1024, 0, b"A" * 65536
    with socket.create_connection(server) as conn:
        conn.sendall((HEADERS + "Transfer-Encoding: chunked\r\n\r\n").encode())
        conn.sendall(b'%x\r\n{"image": "\r\n' % len(b'{"image": "'))
        try:
            while sent < total and not select.select([conn], [], [], 0)[0]:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending
        status, body = read_response(conn)
    assert status == 413 and "at most 262144 bytes" in body["detail"][0]["msg"]
    assert sent < total // 4  # answered long before the client was done (the body was never buffered)


def test_a_body_within_the_limit_is_answered(server):
    import base64
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(buf, "PNG")
    payload = json.dumps({"image": base64.b64encode(buf.getvalue()).decode()}).encode()
    with socket.create_connection(server) as conn:
        conn.sendall((HEADERS + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload)
        status, body = read_response(conn, timeout=60)
    assert status == 200 and body["width"] == 16 and body["scorer"] == "offline"
