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


def _cross_device(monkeypatch, dest):
    """Make renames into ``dest`` fail as across file systems, so moves go through a copy."""
    import errno

    real = os.replace

    def replace(src, dst, *a, **kw):
        if str(dst).startswith(str(dest)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", replace)


def test_move_that_fails_midway_leaves_no_partial_copy(tmp_path, monkeypatch):
    import errno
    import shutil

    src, files = setup_tree(tmp_path)
    dest = tmp_path / "rejects"
    _cross_device(monkeypatch, dest)
    real_copy = shutil.copyfile

    def disk_full_on_z(a, b, *args, **kw):
        if str(a).endswith("z.jpg"):  # write half, then the disk is full
            data = open(a, "rb").read()
            with open(b, "wb") as f:
                f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(a, b, *args, **kw)

    monkeypatch.setattr(shutil, "copyfile", disk_full_on_z)
    res = apply(decisions(src, {"a/x.jpg": "reject", "z.jpg": "reject"}), tmp_path / "m.jsonl", move_rejects_to=dest)
    assert [os.path.relpath(e["dst"], dest) for e in res.done] == ["a/x.jpg"]
    assert len(res.errors) == 1 and "No space left" in res.errors[0]
    assert not (dest / "z.jpg").exists()  # the truncated copy is gone
    assert (src / "z.jpg").read_bytes() == files["z.jpg"]  # the source is untouched
    logged = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()[1:]]
    assert [os.path.relpath(e["dst"], dest) for e in logged] == ["a/x.jpg"]  # only completed moves
    assert not undo(tmp_path / "m.jsonl").errors and (src / "a" / "x.jpg").read_bytes() == files["a/x.jpg"]


def test_one_destination_that_cannot_be_created_does_not_stop_the_others(tmp_path):
    src, _ = setup_tree(tmp_path)
    dest = tmp_path / "rejects"
    dest.mkdir()
    (dest / "a").write_text("a file where the folder a/ would go")
    res = apply(decisions(src, {"a/x.jpg": "reject", "z.jpg": "reject"}), tmp_path / "m.jsonl", move_rejects_to=dest)
    assert len(res.done) == 1 and (dest / "z.jpg").exists()
    assert len(res.errors) == 1 and "a/x.jpg" in res.errors[0] and (src / "a" / "x.jpg").exists()


def test_manifest_that_cannot_be_written_reverts_the_unlogged_move_and_stops(tmp_path, monkeypatch):
    import errno

    from lib_qfix.filter import manifest as manifest_mod

    src, files = setup_tree(tmp_path)
    real_write = os.write
    calls = {"n": 0}

    def write(fd, data):
        if b'"op"' in data:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(manifest_mod.os, "write", write)
    ds = decisions(src, {"a/x.jpg": "reject", "y.jpg": "reject", "z.jpg": "reject"})
    res = apply(ds, tmp_path / "m.jsonl", move_rejects_to=tmp_path / "r")
    monkeypatch.setattr(manifest_mod.os, "write", real_write)
    assert len(res.done) == 1 and "moved back" in res.errors[-1] and "1 file(s) not processed" in res.errors[-1]
    assert (src / "y.jpg").read_bytes() == files["y.jpg"] and (src / "z.jpg").exists()  # reverted / untouched
    assert not undo(tmp_path / "m.jsonl").errors  # the manifest is intact and complete
    assert all((src / rel).read_bytes() == data for rel, data in files.items())


def test_undo_is_retryable_and_logs_each_reversal(tmp_path):
    src, files = setup_tree(tmp_path)
    apply(decisions(src, {"a/x.jpg": "reject", "y.jpg": "reject"}), tmp_path / "m.jsonl", move_rejects_to=tmp_path / "r")
    (src / "y.jpg").write_bytes(b"in the way")
    first = undo(tmp_path / "m.jsonl")
    assert len(first.done) == 1 and first.left == 1 and first.errors
    assert (src / "a" / "x.jpg").read_bytes() == files["a/x.jpg"]
    (src / "y.jpg").unlink()
    second = undo(tmp_path / "m.jsonl")
    assert [os.path.basename(e["src"]) for e in second.done] == ["y.jpg"] and second.left == 0
    assert (src / "y.jpg").read_bytes() == files["y.jpg"]
    with pytest.raises(ActionError, match="already undone"):
        undo(tmp_path / "m.jsonl")


def test_version_1_manifest_with_an_undo_line_stays_undone(tmp_path):
    m = tmp_path / "old.jsonl"
    m.write_text('{"tag": "qfix-filter-manifest", "version": 1}\n'
                 '{"op": "move", "src": "/a", "dst": "/b", "hash": "h", "status": "reject"}\n'
                 '{"undone": "2024-01-01T00:00:00", "reversed": 0, "errors": 1}\n')
    with pytest.raises(ActionError, match="already undone"):
        undo(m)


@pytest.mark.parametrize("where", ["same", "inside", "above"])
def test_apply_refuses_a_destination_overlapping_a_scanned_folder(tmp_path, where):
    src, files = setup_tree(tmp_path)
    dest = {"same": src, "inside": src / "rejects", "above": tmp_path}[where]
    with pytest.raises(ActionError, match="scanned folder"):
        apply(decisions(src, {"y.jpg": "reject"}), tmp_path / "m.jsonl", move_rejects_to=dest)
    assert not (tmp_path / "m.jsonl").exists() and (src / "y.jpg").read_bytes() == files["y.jpg"]
