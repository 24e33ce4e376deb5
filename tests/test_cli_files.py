"""``qfix`` and files: one bad file never ends a batch, unusable outputs/destinations/caches and bad
numbers are one-line errors (never a traceback), overlays get unique names, ``--preset FILE``."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from filter_support import make_variants, write_folder
from PIL import Image
from test_imageio import BAD_EXIF

from lib_qfix.cli import main

FAST = ["--set", "detect_faces=false", "--set", "detect_hands=false", "--set", "detect_text=false",
        "--no-progress"]


def qfix(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run the real command (a fresh process: exit code and stderr exactly as a user sees them)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QFIX_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "lib_qfix", *map(str, args)], capture_output=True, text=True,
                          timeout=240, cwd=cwd, env=env)


def one_error_line(r: subprocess.CompletedProcess, *needles: str) -> str:
    """The single ``qfix: error:`` line of ``r`` (no traceback), checked to contain ``needles``."""
    assert "Traceback" not in r.stderr, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("qfix: error:")]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture()
def imgs(tmp_path, photos):
    imgs = []
    for i, name in enumerate(("astronaut", "coffee")):
        imgs += make_variants(photos[name], 3, seed=i)
    write_folder(tmp_path / "imgs", imgs, sub_every=4)
    return tmp_path / "imgs"


def filter_args(tmp_path, *args):
    return ["filter", "--no-progress", "--cache", tmp_path / "c.sqlite", "--out", tmp_path / "out", *args]


# --- one bad file is that file's error -------------------------------------------------------

def test_exif_text_in_0x0116_no_longer_loses_the_batch(tmp_path, coffee, astronaut):
    d = tmp_path / "d"
    d.mkdir()
    Image.fromarray(coffee).save(d / "exif.jpg", quality=90, exif=BAD_EXIF)
    Image.fromarray(astronaut).save(d / "ok.png")
    for cmd in ("score", "diagnose"):
        out = tmp_path / f"{cmd}.json"
        r = qfix(cmd, d, "--json", out, *FAST)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        by = {x["path"].rsplit("/", 1)[-1]: x for x in json.loads(out.read_text())}
        assert by["exif.jpg"]["error"] is None and by["exif.jpg"]["width"] == coffee.shape[0]  # rotated
        assert by["ok.png"]["quality"] is not None


def test_any_exception_while_reading_one_file_is_its_error(tmp_path, astronaut, monkeypatch, capsys):
    from lib_qfix.cli import common

    for name in ("a.png", "b.png"):
        Image.fromarray(astronaut).save(tmp_path / name)
    real = common.load_image

    def flaky(path, *a, **kw):
        if str(path).endswith("a.png"):
            raise struct.error("required argument is not an integer")
        return real(path, *a, **kw)

    monkeypatch.setattr(common, "load_image", flaky)
    out = tmp_path / "s.json"
    assert main(["score", str(tmp_path), "--json", str(out), *FAST]) == 1
    by = {x["path"].rsplit("/", 1)[-1]: x for x in json.loads(out.read_text())}
    assert "struct.error" in by["a.png"]["error"] or "error: required argument" in by["a.png"]["error"]
    assert by["b.png"]["error"] is None and by["b.png"]["quality"] is not None


# --- numbers ---------------------------------------------------------------------------------

def test_burst_distance_99_is_a_one_line_usage_error(imgs, tmp_path):
    r = qfix(*filter_args(tmp_path, imgs, "--burst-distance", "99"))
    assert r.returncode == 2
    one_error_line(r, "--burst-distance", "'99'", "an integer from 0 to 64")
    assert not (tmp_path / "out").exists()  # refused before any work


@pytest.mark.parametrize("flag,value,allowed", [
    ("--burst-seconds", "-5", "a number >= 0"),
    ("--burst-seconds", "nan", "a number >= 0"),
    ("--threshold", "inf", "a number from 0 to 1"),
    ("--workers", "-1", "an integer from 0 to 1024"),
    ("--batch-size", "0", "an integer from 1 to 4096"),
    ("--work-size", "1.5", "an integer from 0 to 100000"),
    ("--max-pixels", "0", "an integer >= 1"),
    ("--ray-actors", "x", "an integer from 0 to 1024"),
])
def test_every_numeric_filter_flag_is_checked(imgs, tmp_path, capsys, flag, value, allowed):
    with pytest.raises(SystemExit) as e:
        main([*map(str, filter_args(tmp_path, imgs)), flag, value])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"qfix: error: {flag}: '{value}' is not allowed; allowed: {allowed}")


def test_train_prompts_numbers_are_checked_too(capsys):
    with pytest.raises(SystemExit):
        main(["train-prompts", "--labels", "x.csv", "--images", ".", "--out", "o", "--val-frac", "1"])
    assert "--val-frac: '1' is not allowed; allowed: a number from 0 to below 1" in capsys.readouterr().err


# --- outputs, destinations, cache ------------------------------------------------------------

def test_unwritable_out_is_refused_before_scoring(imgs, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    r = qfix("filter", "--no-progress", "--no-cache", imgs, "--out", blocker / "out")
    assert r.returncode == 2
    one_error_line(r, "--out", "is not a folder")
    r = qfix("score", imgs, "--json", blocker / "s.json", *FAST)
    assert r.returncode == 2
    one_error_line(r, "--json")


def test_report_that_fails_to_write_is_one_line_and_moves_nothing(imgs, tmp_path, monkeypatch, capsys):
    import errno

    from lib_qfix.filter import pipeline

    def disk_full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "write_outputs", disk_full)
    before = sorted(imgs.rglob("*.jpg"))
    code = main([*map(str, filter_args(tmp_path, imgs, "--threshold", "1", "--move-rejects-to", tmp_path / "rej"))])
    err = capsys.readouterr().err
    assert code == 1 and "qfix: error: --out" in err and "No space left" in err
    assert sorted(imgs.rglob("*.jpg")) == before  # no decisions on disk: nothing moved


@pytest.mark.parametrize("where", ["same", "inside", "above"])
def test_destination_overlapping_a_scanned_folder_is_refused(imgs, tmp_path, where):
    dest = {"same": imgs, "inside": imgs / "rejects", "above": tmp_path}[where]
    before = sorted(p.relative_to(imgs) for p in imgs.rglob("*.jpg"))
    r = qfix(*filter_args(tmp_path / "o", imgs, "--threshold", "1", "--move-rejects-to", dest))
    assert r.returncode == 2
    one_error_line(r, "--move-rejects-to", "scanned folder")
    assert sorted(p.relative_to(imgs) for p in imgs.rglob("*.jpg")) == before


def test_destination_that_cannot_be_created_is_refused(imgs, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    r = qfix(*filter_args(tmp_path, imgs, "--threshold", "1", "--move-rejects-to", blocker / "rej"))
    assert r.returncode == 2
    one_error_line(r, "--move-rejects-to", "is not a folder")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_destination_is_refused(imgs, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = qfix(*filter_args(tmp_path, imgs, "--threshold", "1", "--move-rejects-to", ro / "rej"))
    finally:
        ro.chmod(0o700)
    assert r.returncode == 2
    one_error_line(r, "--move-rejects-to", "not writable")


def test_corrupt_cache_is_a_usage_error(imgs, tmp_path):
    (tmp_path / "c.sqlite").write_bytes(b"this is not an sqlite database" * 100)
    r = qfix(*filter_args(tmp_path, imgs))
    assert r.returncode == 2
    one_error_line(r, "--cache", "c.sqlite", "not a usable QFix cache", "--no-cache")


def test_full_cache_keeps_every_score_and_writes_the_report(imgs, tmp_path, monkeypatch, capsys):
    import sqlite3

    from lib_qfix.filter import cache as cache_mod

    real = sqlite3.connect

    def tiny(*a, **kw):  # a real "database or disk is full" after a few pages
        db = real(*a, **kw)
        db.execute("PRAGMA max_page_count=12")
        return db

    monkeypatch.setattr(cache_mod.sqlite3, "connect", tiny)
    code = main([*map(str, filter_args(tmp_path, imgs, "--batch-size", "1", "--threshold", "0.3"))])
    err = capsys.readouterr().err
    assert code == 1
    lines = [x for x in err.splitlines() if x.startswith("qfix: error:")]
    assert len(lines) == 1 and "--cache" in lines[0] and "full" in lines[0]
    data = json.loads((tmp_path / "out" / "decisions.json").read_text())
    assert data["summary"]["images"] == 6 and all(d["quality"] is not None for d in data["decisions"])
    monkeypatch.setattr(cache_mod.sqlite3, "connect", real)
    with cache_mod.ScoreCache(tmp_path / "c.sqlite") as c:
        assert 0 < c.counts()["scores"] < 6  # the batches before the failure are kept


# --- actions and undo ------------------------------------------------------------------------

def test_nothing_to_move_prints_no_undo_none(imgs, tmp_path):
    r = qfix(*filter_args(tmp_path, imgs, "--threshold", "0", "--move-rejects-to", tmp_path / "rej"))
    assert r.returncode == 0, r.stderr
    assert "--undo None" not in r.stdout and "nothing to undo" in r.stdout


def test_partly_failed_undo_can_be_retried(imgs, tmp_path):
    before = sorted(p.relative_to(imgs) for p in imgs.rglob("*.jpg"))
    r = qfix(*filter_args(tmp_path, imgs, "--threshold", "1", "--move-rejects-to", tmp_path / "rej"))
    assert r.returncode == 0, r.stderr
    manifest = r.stdout.split("qfix filter --undo ")[1].strip()
    blocked = imgs / before[0]
    blocked.write_bytes(b"a new file with the old name")
    r = qfix("filter", "--undo", manifest)
    assert r.returncode == 1 and "retry with: qfix filter --undo" in r.stdout and "Traceback" not in r.stderr
    assert "1 left" in r.stdout
    blocked.unlink()
    r = qfix("filter", "--undo", manifest)
    assert r.returncode == 0 and "1 operation(s) reversed" in r.stdout, r.stdout + r.stderr
    assert sorted(p.relative_to(imgs) for p in imgs.rglob("*.jpg")) == before
    r = qfix("filter", "--undo", manifest)
    assert r.returncode == 2
    one_error_line(r, "already undone")


# --- diagnose overlays and --preset FILE -----------------------------------------------------

def test_overlays_have_unique_names(tmp_path, astronaut, coffee):
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        Image.fromarray(coffee).save(tmp_path / d / "same.jpg")
    Image.fromarray(astronaut).save(tmp_path / "a.jpg")
    Image.fromarray(coffee).save(tmp_path / "a.png")
    ov = tmp_path / "ov"
    r = qfix("diagnose", tmp_path / "a.jpg", tmp_path / "a.png", tmp_path / "x", tmp_path / "y", "--overlays", ov, *FAST)
    assert r.returncode == 0, r.stderr
    names = sorted(p.relative_to(ov).as_posix() for p in ov.rglob("*.jpg"))
    assert names == ["a.jpg.overlay.jpg", "a.png.overlay.jpg", "same.jpg-2.overlay.jpg", "same.jpg.overlay.jpg"]
    # each overlay shows its own image: the astronaut one is not the coffee one
    a, b = (np.asarray(Image.open(ov / n)) for n in ("a.jpg.overlay.jpg", "a.png.overlay.jpg"))
    assert a.shape != b.shape or np.abs(a.astype(int) - b).mean() > 10


def test_preset_file_on_the_command_line(imgs, tmp_path):
    preset = tmp_path / "strict.json"
    preset.write_text(json.dumps({"schema_version": 1, "name": "strict", "options": {"quality_threshold": 0.999}}))
    r = qfix(*filter_args(tmp_path, imgs, "--preset", preset))
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "out" / "decisions.json").read_text())
    assert data["summary"]["quality_threshold"] == 0.999 and data["summary"]["keep"] == 0
    r = qfix("score", imgs, "--preset", "strict.json", "--json", "-", *FAST, cwd=tmp_path)  # relative .json
    assert r.returncode == 0 and len(json.loads(r.stdout)) == 6, r.stderr
    r = qfix("score", imgs, "--preset", tmp_path / "missing.json", *FAST)
    assert r.returncode == 2
    one_error_line(r, "--preset", "missing.json")
