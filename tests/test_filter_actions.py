"""Move/copy only when asked, keep relative paths, never overwrite, undo from the manifest."""

from __future__ import annotations

import json
import os

import pytest

from lib_qfix.filter.actions import ActionError, apply, undo
from lib_qfix.filter.records import Decision, ImageRecord


def setup_tree(tmp_path):
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    files = {"a/x.jpg": b"x-bytes", "y.jpg": b"y-bytes", "z.jpg": b"z-bytes"}
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    return src, files


def decisions(src, statuses):
    return [Decision(ImageRecord(path=str(src / rel), rel=rel, root=str(src), quality=0.5), st)
            for rel, st in statuses.items()]


def test_move_rejects_keeps_relative_paths_and_undo(tmp_path):
    src, files = setup_tree(tmp_path)
    dest = tmp_path / "rejects"
    (dest / "a").mkdir(parents=True)
    (dest / "a" / "x.jpg").write_bytes(b"already here")  # collision: must get a suffix
    ds = decisions(src, {"a/x.jpg": "reject", "y.jpg": "keep", "z.jpg": "reject"})
    res = apply(ds, tmp_path / "m.jsonl", move_rejects_to=dest)
    assert not res.errors and len(res.done) == 2
    assert (dest / "a" / "x.jpg").read_bytes() == b"already here"  # never overwritten
    assert (dest / "a" / "x-1.jpg").read_bytes() == b"x-bytes"
    assert (dest / "z.jpg").read_bytes() == b"z-bytes"
    assert not (src / "a" / "x.jpg").exists() and (src / "y.jpg").exists()
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert lines[0]["tag"] == "qfix-filter-manifest" and [x["op"] for x in lines[1:]] == ["move", "move"]
    u = undo(tmp_path / "m.jsonl")
    assert len(u.done) == 2 and not u.errors
    for rel, data in files.items():
        assert (src / rel).read_bytes() == data
    assert (dest / "a" / "x.jpg").read_bytes() == b"already here" and not (dest / "a" / "x-1.jpg").exists()
    with pytest.raises(ActionError, match="already undone"):
        undo(tmp_path / "m.jsonl")


def test_copy_keeps_and_undo_removes_only_unchanged_copies(tmp_path):
    src, files = setup_tree(tmp_path)
    dest = tmp_path / "keeps"
    ds = decisions(src, {"a/x.jpg": "keep", "y.jpg": "keep", "z.jpg": "reject"})
    res = apply(ds, tmp_path / "m.jsonl", copy_keeps_to=dest)
    assert sorted(os.path.relpath(e["dst"], dest) for e in res.done) == ["a/x.jpg", "y.jpg"]
    assert all((src / rel).read_bytes() == data for rel, data in files.items())  # originals untouched
    (dest / "y.jpg").write_bytes(b"edited by the user")
    u = undo(tmp_path / "m.jsonl")
    assert not (dest / "a" / "x.jpg").exists()
    assert (dest / "y.jpg").read_bytes() == b"edited by the user"
    assert any("changed since it was copied" in e for e in u.errors)


def test_undo_never_overwrites_a_new_file_at_the_source(tmp_path):
    src, _ = setup_tree(tmp_path)
    apply(decisions(src, {"y.jpg": "reject"}), tmp_path / "m.jsonl", move_rejects_to=tmp_path / "r")
    (src / "y.jpg").write_bytes(b"a new file with the old name")
    u = undo(tmp_path / "m.jsonl")
    assert (src / "y.jpg").read_bytes() == b"a new file with the old name"
    assert (tmp_path / "r" / "y.jpg").read_bytes() == b"y-bytes" and u.errors


def test_symlinks_and_files_outside_root_are_not_touched(tmp_path):
    src, _ = setup_tree(tmp_path)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"outside")
    (src / "link.jpg").symlink_to(outside)
    ds = [Decision(ImageRecord(path=str(src / "link.jpg"), rel="link.jpg", root=str(src), quality=0.1), "reject"),
          Decision(ImageRecord(path=str(outside), rel="../outside.jpg", root=str(src), quality=0.1), "reject")]
    res = apply(ds, tmp_path / "m.jsonl", move_rejects_to=tmp_path / "r")
    assert not res.done and len(res.errors) == 2
    assert outside.read_bytes() == b"outside" and (src / "link.jpg").is_symlink()


def test_no_request_no_action_and_bad_manifest(tmp_path):
    src, _ = setup_tree(tmp_path)
    res = apply(decisions(src, {"y.jpg": "reject"}), tmp_path / "m.jsonl")
    assert not res.done and not (tmp_path / "m.jsonl").exists()
    (tmp_path / "bad.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(ActionError, match="not a QFix filter manifest"):
        undo(tmp_path / "bad.jsonl")
    with pytest.raises(ActionError, match="cannot read manifest"):
        undo(tmp_path / "missing.jsonl")
