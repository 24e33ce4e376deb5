"""The local engine: scores, caches by content, resumes after an interruption, reports bad files."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest
from filter_support import SharpnessScorer, make_variants, write_folder
from PIL import Image

from lib_qfix.filter.cache import ScoreCache
from lib_qfix.filter.job import RunConfig
from lib_qfix.filter.pipeline import score_folders
from lib_qfix.options import DEFAULTS

CFG = RunConfig(batch_size=4, workers=2)


@pytest.fixture()
def folder(tmp_path, astronaut):
    write_folder(tmp_path / "imgs", make_variants(astronaut, 12), sub_every=4)
    return tmp_path / "imgs"


def run(folder, cache, scorer, cfg=CFG, **kw):
    return score_folders([folder], DEFAULTS, cfg, cache_path=cache, scorer=scorer, **kw)[1]


def test_scores_every_image_and_blur_ranks_low(folder, tmp_path):
    sc = SharpnessScorer()
    res = run(folder, tmp_path / "c.sqlite", sc)
    assert len(res.records) == 12 and res.scored == 12 and res.failed == 0
    by = {r.rel: r for r in res.records}
    assert "sub/img_000.jpg" in by and by["sub/img_000.jpg"].width == 256
    # variants 1, 4, 7 are Gaussian-blurred with sigma 2..5: they are the least sharp
    blurred = {"img_001.jpg", "img_007.jpg", "sub/img_004.jpg"}
    worst = sorted(res.records, key=lambda r: r.quality)[:3]
    assert {r.rel for r in worst} == blurred
    assert all(r.dhash is not None and r.thumb[:2] == b"\xff\xd8" for r in res.records)
    assert sc.calls == 3  # batched: 12 images, 4 per call


def test_second_run_reads_cache_and_rescoring_only_changed(folder, tmp_path):
    cache = tmp_path / "c.sqlite"
    first = run(folder, cache, SharpnessScorer())
    sc = SharpnessScorer()
    second = run(folder, cache, sc)
    assert sc.images_scored == 0 and second.cached == 12
    assert [r.quality for r in second.records] == [r.quality for r in first.records]
    assert all(r.cached for r in second.records)
    # change one file's content, rename another (same content): only the changed one is scored
    target = folder / "img_002.jpg"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(target)
    os.rename(folder / "img_003.jpg", folder / "renamed.jpg")
    sc3 = SharpnessScorer()
    third = run(folder, cache, sc3)
    assert sc3.images_scored == 1
    by = {r.rel: r for r in third.records}
    assert by["img_002.jpg"].quality < 0.01 and not by["img_002.jpg"].cached
    assert by["renamed.jpg"].cached


def test_cache_key_changes_with_work_size(folder, tmp_path):
    cache = tmp_path / "c.sqlite"
    run(folder, cache, SharpnessScorer())
    sc = SharpnessScorer()
    run(folder, cache, sc, RunConfig(batch_size=4, work_side=128))
    assert sc.images_scored == 12  # a score made at another working size is not reused


def test_stop_between_batches_leaves_consistent_cache_and_resumes(folder, tmp_path):
    cache = tmp_path / "c.sqlite"
    sc = SharpnessScorer()
    res = run(folder, cache, sc, should_stop=lambda: sc.calls >= 1)
    assert res.interrupted and len(res.records) == 4
    with ScoreCache(cache) as c:
        assert c.counts()["scores"] == 4
    sc2 = SharpnessScorer()
    res2 = run(folder, cache, sc2)
    assert not res2.interrupted and res2.cached == 4 and sc2.images_scored == 8


class InterruptingScorer(SharpnessScorer):
    def score(self, images, prompts=None):
        if self.calls == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread
        return super().score(images, prompts)


def test_ctrl_c_returns_partial_results_and_committed_batches(folder, tmp_path):
    cache = tmp_path / "c.sqlite"
    res = run(folder, cache, InterruptingScorer())
    assert res.interrupted and len(res.records) == 4
    db = sqlite3.connect(cache)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 4
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_bad_files_are_reported_and_skipped(folder, tmp_path):
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "notes.png").write_text("hello")
    Image.fromarray(np.zeros((300, 400, 3), np.uint8)).save(folder / "huge.png")
    res = run(folder, None, SharpnessScorer(), RunConfig(batch_size=4, max_pixels=100_000))
    errors = {r.rel: r.error for r in res.records if r.error}
    assert set(errors) == {"broken.jpg", "notes.png", "huge.png"}
    assert "too large" in errors["huge.png"] and "400x300" in errors["huge.png"]
    assert "not an image" in errors["notes.png"]
    assert res.failed == 3 and res.scored == 12


class PickyScorer(SharpnessScorer):
    """Fails a batch containing a dark image; the engine retries image by image."""

    def score(self, images, prompts=None):
        if any(img.mean() < 5 for img in images):
            if len(images) == 1:
                raise RuntimeError("cannot score a black image")
            raise RuntimeError("batch failed")
        return super().score(images, prompts)


def test_scorer_failure_hits_only_the_bad_image(folder, tmp_path):
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(folder / "img_005.jpg")
    res = run(folder, None, PickyScorer())
    bad = [r for r in res.records if r.error]
    assert [r.rel for r in bad] == ["img_005.jpg"] and "cannot score a black image" in bad[0].error
    assert res.scored == 11


def test_work_size_downscales_large_images_but_reports_original_size(tmp_path, astronaut):
    big = np.kron(astronaut, np.ones((3, 3, 1), np.uint8))  # 1536x1536
    write_folder(tmp_path / "big", [big])
    seen = []

    class Spy(SharpnessScorer):
        def score(self, images, prompts=None):
            seen.extend(i.shape for i in images)
            return super().score(images, prompts)

    res = run(tmp_path / "big", None, Spy(), RunConfig(work_side=512))
    assert seen == [(512, 512, 3)]
    assert (res.records[0].width, res.records[0].height) == (1536, 1536)


def test_exif_orientation_applied(tmp_path, coffee):
    img = Image.fromarray(coffee)  # 600 wide, 400 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    (tmp_path / "o").mkdir()
    img.save(tmp_path / "o" / "rot.jpg", exif=exif.tobytes())
    res = run(tmp_path / "o", None, SharpnessScorer())
    assert (res.records[0].width, res.records[0].height) == (400, 600)


def test_process_pool_gives_the_thread_results_and_resumes(folder, tmp_path):
    from lib_qfix.options import validate

    opts = validate({"scorer": "offline"})
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 no")
    _, threads = score_folders([folder], opts, RunConfig(batch_size=4, pool="threads"))
    _, procs = score_folders([folder], opts, RunConfig(batch_size=4, workers=2, pool="processes"),
                             cache_path=tmp_path / "p.sqlite")
    assert [(r.rel, r.quality, r.dhash, r.error is None) for r in procs.records] == \
        [(r.rel, r.quality, r.dhash, r.error is None) for r in threads.records]
    assert procs.scored == 12 and procs.failed == 1
    _, again = score_folders([folder], opts, RunConfig(pool="processes"), cache_path=tmp_path / "p.sqlite")
    assert again.cached == 12 and again.scored == 0


def test_bad_pool_name(folder):
    with pytest.raises(ValueError, match="pool: 'fork' is not allowed"):
        run(folder, None, SharpnessScorer(), RunConfig(pool="fork"))


def test_detector_boxes_come_back_in_original_pixels(tmp_path, astronaut):
    from lib_qfix.options import validate

    (tmp_path / "d").mkdir()
    Image.fromarray(np.kron(astronaut, np.ones((2, 2, 1), np.uint8))).save(tmp_path / "d" / "big.png")
    Image.fromarray(astronaut).save(tmp_path / "d" / "small.png")
    opts = validate({"scorer": "offline"})
    _, res = score_folders([tmp_path / "d"], opts, RunConfig(work_side=512, detect=("faces",)))
    faces = {r.rel: [g.box for g in r.regions if g.kind == "face"] for r in res.records}
    assert len(faces["big.png"]) == 1 and len(faces["small.png"]) == 1
    big, small = faces["big.png"][0], faces["small.png"][0]
    assert all(abs(b - 2 * s) <= 2 for b, s in zip(big, small, strict=True))
    # detectors change the cache key: a run without them does not reuse these payloads
    from lib_qfix.filter.cache import score_key
    from lib_qfix.filter.job import score_settings

    assert score_key("offline", "1", score_settings(opts, RunConfig(detect=("faces",)))) != \
        score_key("offline", "1", score_settings(opts, RunConfig()))


def test_worker_processes_keep_freed_memory_for_the_next_image(monkeypatch):
    # numpy temporaries of each image reuse heap pages instead of page-faulting fresh mappings
    # (the offline score's measured cost at 512x512: ~12 -> ~8 ms); only QFix's own workers do this
    import sys

    from lib_qfix.filter import workers

    calls = []
    monkeypatch.setattr(workers, "keep_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(workers.signal, "signal", lambda *a: None)  # the test process keeps its Ctrl-C
    monkeypatch.setattr(workers.cv2, "setNumThreads", lambda n: None)  # ... and its OpenCV threads
    workers.init_worker(DEFAULTS.replace(scorer="offline"))
    assert calls == [1]
    monkeypatch.undo()
    assert workers.keep_freed_memory() is sys.platform.startswith("linux")
