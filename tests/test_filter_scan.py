"""Scanning: symlink loops and links outside are never followed; clear errors for bad folders."""

from __future__ import annotations

import pytest

from lib_qfix.filter.scan import ScanError, scan


def test_scan_skips_symlinks_and_loops(tmp_path):
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "a.jpg").write_bytes(b"1")
    (root / "b.PNG").write_bytes(b"2")
    (root / "notes.txt").write_text("x")
    (root / "d" / "loop").symlink_to(root)  # a symlink loop
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"s")
    (root / "link.jpg").symlink_to(secret)  # a link to a file outside
    res = scan([root])
    assert [i.rel for i in res.items] == ["b.PNG", "d/a.jpg"]
    why = dict(res.skipped)
    assert why[str(root / "d" / "loop")] == "symlink to a folder, not followed"
    assert why[str(root / "link.jpg")] == "symlink, not followed"


def test_exclude_output_folder(tmp_path):
    (tmp_path / "rejects").mkdir()
    (tmp_path / "rejects" / "r.jpg").write_bytes(b"1")
    (tmp_path / "k.jpg").write_bytes(b"1")
    res = scan([tmp_path], exclude=[tmp_path / "rejects"])
    assert [i.rel for i in res.items] == ["k.jpg"]


def test_missing_folder_and_no_images(tmp_path):
    with pytest.raises(ScanError, match="nope: no such folder"):
        scan([tmp_path / "nope"])
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ScanError, match="no images found in"):
        scan([tmp_path])
    with pytest.raises(ScanError, match="not a folder"):
        scan([tmp_path / "f.txt"])
