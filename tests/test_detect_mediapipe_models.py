"""MediaPipe Tasks model files: the pinned table, the folder, the checked download against a real
HTTP server on 127.0.0.1 (never the internet), the offline message, the local-file alternative."""

from __future__ import annotations

import hashlib
import http.server
import logging
import os
import threading
from pathlib import Path

import pytest

from lib_qfix.detect import mp_models
from lib_qfix.detect.mp_models import MODELS, ModelFile, ModelUnavailable, ensure_model, mediapipe_dir
from tests.mediapipe_bundles import wheel_modules

PAYLOAD = bytes(range(256)) * 40 + b"qfix model bytes"


class _Server:
    """Serves ``routes`` (path -> bytes; missing paths 404) and counts requests."""

    def __init__(self, routes: dict[str, bytes]):
        self.routes, self.hits = routes, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.hits.append(self.path)
                body = outer.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server({"/m/model.task": PAYLOAD, "/m/tampered.task": PAYLOAD[:-1] + b"X", "/m/long.task": PAYLOAD + b"!"})
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    monkeypatch.setattr(mp_models, "_failed", {})
    monkeypatch.setattr(mp_models, "_verified", {})
    monkeypatch.setattr(mp_models, "_models_dir", None)


def spec(url: str, data: bytes = PAYLOAD, name: str = "model.task") -> ModelFile:
    return ModelFile(name, url, len(data), hashlib.sha256(data).hexdigest(), "test")


def test_download_is_checked_atomic_and_announced_once(server, tmp_path, caplog):
    s = spec(f"{server.url}/m/model.task")
    with caplog.at_level(logging.WARNING, logger="qfix"):
        path = ensure_model(s, tmp_path, download=True)
        again = ensure_model(s, tmp_path, download=True)
    assert path == again == tmp_path / "model.task" and path.read_bytes() == PAYLOAD
    assert server.hits == ["/m/model.task"]  # the second call found the file
    notes = [r.getMessage() for r in caplog.records if "downloading MediaPipe model" in r.getMessage()]
    assert len(notes) == 1 and "model.task" in notes[0] and server.url in notes[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.task"]  # no temp file left


@pytest.mark.parametrize("route, problem", [("/m/tampered.task", "sha256"), ("/m/long.task", "bytes")])
def test_a_wrong_download_is_refused_and_not_stored(server, tmp_path, route, problem):
    s = ModelFile("model.task", server.url + route, len(PAYLOAD), hashlib.sha256(PAYLOAD).hexdigest(), "test")
    with pytest.raises(ModelUnavailable, match=problem) as err:
        ensure_model(s, tmp_path, download=True)
    assert "refused" in str(err.value) and str(tmp_path) in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_offline_names_folder_file_url_and_digest(server, tmp_path):
    s = spec(f"{server.url}/m/model.task")
    assert mp_models.offline()  # conftest sets QFIX_OFFLINE=1
    with pytest.raises(ModelUnavailable) as err:
        ensure_model(s, tmp_path)
    msg = str(err.value)
    assert all(part in msg for part in ("model.task", str(tmp_path), s.url, s.sha256, "QFIX_OFFLINE"))
    assert server.hits == []


def test_a_file_put_there_by_hand_is_used_only_when_it_matches(server, tmp_path):
    s = spec(f"{server.url}/m/model.task")
    (tmp_path / "model.task").write_bytes(PAYLOAD[:-1] + b"Y")
    with pytest.raises(ModelUnavailable, match="not the expected one"):
        ensure_model(s, tmp_path, download=True)
    (tmp_path / "model.task").write_bytes(PAYLOAD)
    assert ensure_model(s, tmp_path, download=False) == tmp_path / "model.task"
    assert server.hits == []


def test_a_failed_download_is_not_retried_at_once(server, tmp_path, monkeypatch):
    s = spec(f"{server.url}/m/missing.task")
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="404"):
            ensure_model(s, tmp_path, download=True)
    assert server.hits == ["/m/missing.task"]
    monkeypatch.setattr(mp_models, "RETRY_AFTER_S", 0.0)
    with pytest.raises(ModelUnavailable):
        ensure_model(s, tmp_path, download=True)
    assert len(server.hits) == 2


def test_table_pins_every_file():
    for name, m in MODELS.items():
        assert m.name == name and m.url.startswith("https://storage.googleapis.com/") and m.url.endswith("/" + name)
        assert len(m.sha256) == 64 and m.size > 100_000
        assert "/latest/" not in m.url  # versioned URLs only: a digest pins one file
    with pytest.raises(ValueError, match="64 lowercase hex"):
        ModelFile("x.task", "https://example.invalid/x.task", 10, "", "no digest")
    with pytest.raises(ValueError, match="64 lowercase hex"):
        ModelFile("x.task", "https://example.invalid/x.task", 10, "A" * 64, "upper case")


@pytest.mark.skipif(wheel_modules() is None, reason="needs a mediapipe wheel with the legacy models")
def test_pinned_full_range_digest_matches_the_wheel_file(tmp_path):
    """The table's full-range file is the very one legacy mediapipe bundles: its pin passes."""
    src = wheel_modules() / "face_detection" / "face_detection_full_range_sparse.tflite"
    (tmp_path / src.name).write_bytes(src.read_bytes())
    assert ensure_model(MODELS[src.name], tmp_path, download=False) == tmp_path / src.name


def test_models_folder_order(tmp_path, monkeypatch):
    monkeypatch.delenv("QFIX_MODELS", raising=False)
    assert mediapipe_dir() == Path.home() / ".cache" / "qfix" / "models" / "mediapipe"
    monkeypatch.setenv("QFIX_MODELS", str(tmp_path / "env"))
    assert mediapipe_dir() == tmp_path / "env" / "mediapipe"
    mp_models.set_models_dir(tmp_path / "host")
    assert mediapipe_dir() == tmp_path / "host" / "mediapipe"
    assert mediapipe_dir(tmp_path / "arg") == tmp_path / "arg" / "mediapipe"
    mp_models.set_models_dir(None)
    assert mediapipe_dir() == tmp_path / "env" / "mediapipe"


def test_override_bypasses_the_table_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(mp_models, "_overrides", {})
    own = tmp_path / "own.task"
    own.write_bytes(b"assembled")
    mp_models.use_model_file("hand_landmarker.task", own)
    assert mp_models.model_path("hand_landmarker.task") == own
    mp_models.use_model_file("hand_landmarker.task", None)
    monkeypatch.setenv("QFIX_MODELS", str(tmp_path))
    with pytest.raises(ModelUnavailable, match="hand_landmarker.task"):
        mp_models.model_path("hand_landmarker.task")
    with pytest.raises(ValueError, match="allowed"):
        mp_models.use_model_file("other.task", own)
    assert not os.path.exists(tmp_path / "mediapipe" / "hand_landmarker.task")
