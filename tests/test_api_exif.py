"""The routes answer exactly like ``qfix diagnose``/``qfix score`` for the same file, EXIF orientation
included: a portrait photo stored sideways with an Orientation tag is judged upright by both."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from testkit.fake_a1111 import install


def sideways_jpeg(upright: np.ndarray) -> bytes:
    """``upright`` stored rotated 90 degrees counter-clockwise, tagged Orientation 6 (rotate 90 CW)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.rot90(upright))).save(buf, "JPEG", quality=95, exif=exif)
    return buf.getvalue()


@pytest.fixture()
def client(monkeypatch, tmp_path):
    install(monkeypatch, tmp_path)
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from lib_qfix.a1111 import api

    app = FastAPI()
    api.on_app_started(None, app)
    return TestClient(app)


@pytest.mark.parametrize("command", ["diagnose", "score"])
def test_route_equals_cli_for_an_exif_rotated_jpeg(client, grace_hopper, tmp_path, command):
    from lib_qfix.cli import main

    h, w = grace_hopper.shape[:2]
    assert h > w  # a portrait photo
    data = sideways_jpeg(grace_hopper)
    assert Image.open(io.BytesIO(data)).size == (h, w)  # stored as landscape
    path, out = tmp_path / "hopper.jpg", tmp_path / "cli.json"
    path.write_bytes(data)
    assert main([command, str(path), "--json", str(out), "--no-progress"]) == 0
    cli = json.loads(out.read_text())[0]
    r = client.post(f"/qfix/v1/{command}", json={"image": base64.b64encode(data).decode()})
    assert r.status_code == 200, r.text
    route = r.json()
    assert cli.pop("path") == str(path) and route.pop("path") is None
    assert route == cli
    assert (route["width"], route["height"]) == (w, h)  # upright, as the CLI sees it
    if command == "diagnose":
        faces = [g for g in route["regions"] if g["kind"] == "face"]
        assert faces, route["regions"]
        x0, y0, x1, y1 = faces[0]["box"]
        assert x1 <= w and y1 <= h and y0 < h / 2  # the face, in the portrait frame, in the upper half
