"""50 varied CLIP requests through the routes keep a bounded number of models, scorers and text
features alive (tiny random-weight open_clip models; no downloads)."""

from __future__ import annotations

import base64
import gc
import io
import weakref

import numpy as np
import pytest
from clip_tiny import CONFIGS, register
from PIL import Image

from testkit.fake_a1111 import install

pytest.importorskip("torch")


def rss_mib() -> float:
    """Resident set size of this process in MiB after a collection (Linux, glibc's free memory
    handed back first so that allocator slack does not count), or NaN elsewhere."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return float("nan")


@pytest.fixture()
def client(monkeypatch, tmp_path):
    host = install(monkeypatch, tmp_path)
    register(tmp_path / "clipcfg")
    opts = host.modules["modules.shared"].opts
    opts.qfix_clip_models = ", ".join(CONFIGS)
    opts.qfix_clip_weights = "random"
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from lib_qfix import registry
    from lib_qfix.a1111 import api

    registry.clear_cache()
    app = FastAPI()
    api.on_app_started(None, app)
    yield TestClient(app)
    registry.clear_cache()


def test_fifty_varied_requests_stay_bounded(client, monkeypatch):
    from lib_qfix import registry
    from lib_qfix.scoring import clip_model
    from lib_qfix.scoring.clip_iqa import ClipIQA

    loaded: weakref.WeakSet = weakref.WeakSet()
    real_load = clip_model.load_clip

    def load_and_track(*args, **kwargs):  # observes every model built; builds it for real
        clip = real_load(*args, **kwargs)
        loaded.add(clip)
        return clip

    monkeypatch.setattr(clip_model, "load_clip", load_and_track)
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 96, 3), np.uint8)).save(buf, "PNG")
    image = base64.b64encode(buf.getvalue()).decode()
    devices = ["cpu", "auto"]
    before, most_alive, scores = None, 0, set()
    for i in range(50):
        arch = "qfix-tiny-vit-t4" if i % 10 == 9 else ("qfix-tiny-rn", "qfix-tiny-vit")[i % 2]  # some evictions
        options = {"scorer": "clip-iqa", "clip_model": arch, "clip_pretrained": "random",
                   "custom_pairs": f"good {i}|bad {i}", "device": devices[i % 2]}
        r = client.post("/qfix/v1/score", json={"image": image, "options": options, "prompt": f"a photo {i}"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["scorer"] == "clip-iqa" and not body["warnings"], body  # CLIP ran, no fallback
        assert any(k.startswith(f"clip:custom_good_{i}_") for k in body["signals"])
        scores.add(body["quality"])
        if i == 9:
            before = rss_mib()  # after the first builds of each architecture
        gc.collect()
        most_alive = max(most_alive, len(loaded))
        sizes = registry.cache_sizes()
        assert sizes["clip"] <= registry.BUDGETS["clip"] and sizes["scorer"] <= registry.BUDGETS["scorer"]
    assert len(scores) > 1  # the requests really differed
    assert most_alive <= registry.BUDGETS["clip"]  # evicted models were released, not just forgotten
    scorers = [o for o in gc.get_objects() if isinstance(o, ClipIQA)]
    assert len(scorers) <= registry.BUDGETS["scorer"]
    assert all(len(c.text_cache) <= clip_model.TEXT_CACHE for c in loaded)
    growth = rss_mib() - before
    print(f"RSS growth over 40 requests: {growth:.1f} MiB; models alive at most: {most_alive}")
    assert not growth > 150  # a tiny model holds 7-13 MiB: 40 kept models would be 300-500 MiB


def test_custom_pairs_reuse_the_model_and_its_text_features(client):
    from lib_qfix.registry import create_scorer
    from lib_qfix.scoring.clip_model import TEXT_CACHE

    cfg = {"model": "qfix-tiny-vit", "pretrained": "random", "pairs": "paper", "device": "cpu"}
    first = create_scorer("clip-iqa", custom_pairs="sharp|soft", **cfg)
    second = create_scorer("clip-iqa", custom_pairs="vivid|dull", **cfg)
    assert second is not first and second.clip is first.clip  # one model for both
    cache = first.clip.text_cache
    # the pair set and the neutral captions were encoded once and reused by the second scorer
    assert "Good photo." in cache and "vivid" in cache and "sharp" in cache
    n = len(cache)
    create_scorer("clip-iqa", custom_pairs="sharp|soft;vivid|dull", **cfg)
    assert len(cache) == n  # nothing new to encode
    assert cache.budget == TEXT_CACHE
