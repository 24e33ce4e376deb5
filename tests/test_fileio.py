"""Atomic writes: the mode a plain open() gives (or the replaced file's), and leftover temp files
of killed writes swept by age and by our own name pattern only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lib_qfix import fileio as F


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def aged(path: Path, age_s: float, text: str = "{half") -> Path:
    path.write_text(text)
    t = path.stat().st_mtime - age_s
    os.utime(path, (t, t))
    return path


@pytest.fixture
def umask():
    old = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o000, 0o666)],
                         ids=["umask022", "umask002", "umask077", "umask000"])
def test_new_file_gets_the_mode_open_would_give(tmp_path, umask, mask, expected):
    umask(mask)
    F.atomic_write_text(tmp_path / "report.json", "{}")
    with open(tmp_path / "plain.json", "w") as f:
        f.write("{}")
    assert mode(tmp_path / "report.json") == expected == mode(tmp_path / "plain.json")


def test_replacing_keeps_the_existing_mode(tmp_path, umask):
    target = tmp_path / "preset.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    F.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o640
    os.chmod(target, 0o604)
    F.atomic_write_text(target, "newer")
    assert mode(target) == 0o604


def test_sweep_removes_only_our_stale_temp_files(tmp_path):
    stale = aged(tmp_path / ".report.html.x7_k2m9q.tmp", 3600)
    fresh = aged(tmp_path / ".report.html.abcd1234.tmp", 10)
    keep = [aged(tmp_path / name, 3600) for name in
            ("report.tmp", ".report.html.tmp", ".report.html.ABCD1234.tmp", ".report.html.abc123.tmp",
             "x.report.html.abcd1234.tmp", ".report.html.abcd1234.tmp.bak")]
    (tmp_path / ".dir.abcdefgh.tmp").mkdir()
    os.utime(tmp_path / ".dir.abcdefgh.tmp", (0, 0))
    target = tmp_path / "precious.json"
    target.write_text("keep me")
    (tmp_path / ".link.json.abcdefgh.tmp").symlink_to(target)
    os.utime(tmp_path / ".link.json.abcdefgh.tmp", (0, 0), follow_symlinks=False)

    assert F.sweep_stale_temps(tmp_path) == 1
    assert not stale.exists() and fresh.exists() and all(p.exists() for p in keep)
    assert (tmp_path / ".dir.abcdefgh.tmp").is_dir() and target.read_text() == "keep me"
    assert F.sweep_stale_temps(tmp_path, max_age_s=5) == 1 and not fresh.exists()
    assert F.sweep_stale_temps(tmp_path / "missing") == 0


def test_first_write_into_a_folder_sweeps_it(tmp_path):
    killed = aged(tmp_path / ".out.csv.q1w2e3r4.tmp", F.STALE_TEMP_S + 60)
    F.atomic_write_text(tmp_path / "out.csv", "a,b\n")
    assert not killed.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(F.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        F.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["data.bin"]
