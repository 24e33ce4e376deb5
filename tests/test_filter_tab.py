"""The A1111 "QFix" tab: layout, scoring a folder, live threshold split, CSV, confirmed move, cancel,
uploads, and one run through a real gradio server."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest
from filter_support import make_variants, write_folder

from lib_qfix.a1111 import tab
from lib_qfix.presets import save_preset
from testkit.fake_a1111 import install


@pytest.fixture(autouse=True)
def host(monkeypatch, tmp_path):
    """The tab runs inside A1111: its presets come from the host's data folder."""
    return install(monkeypatch, tmp_path / "host")


def test_tab_offers_the_servers_user_presets(host):
    from lib_qfix.a1111 import settings

    save_preset("studio", {"denoise": 0.3}, settings.user_preset_dir())
    assert "studio" in tab._presets() and "default" in tab._presets()
    assert tab._options("offline", "studio").denoise == 0.3


@pytest.fixture()
def folder(tmp_path, photos, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the tab uses the default cache
    imgs = make_variants(photos["astronaut"], 6, seed=3) + make_variants(photos["coffee"], 6, seed=4)
    write_folder(tmp_path / "imgs", imgs, sub_every=4)
    return tmp_path / "imgs"


def test_on_ui_tabs_returns_the_tab():
    [(blocks, title, elem_id)] = tab.on_ui_tabs()
    assert isinstance(blocks, gr.Blocks) and title == "QFix" and elem_id == "qfix_tab"
    ids = {getattr(b, "elem_id", None) for b in blocks.blocks.values()}
    assert {"qfix_tab_folders", "qfix_tab_threshold", "qfix_tab_gallery", "qfix_tab_cancel"} <= ids


def test_score_then_live_split_export_and_confirmed_move(folder, tmp_path):
    seen = []
    session, gallery, hist, summary, msg = tab.score(str(folder), None, "offline", "default", [], 0.5, "",
                                                     False, lambda frac, **kw: seen.append(frac))
    assert seen and seen[-1] == (12, 12)
    assert len(gallery) == 12 and all(os.path.isfile(p) for p, _ in gallery)
    quals = [float(c.split()[1]) for _, c in gallery]
    assert quals == sorted(quals, reverse=True)
    assert 'class="threshold"' in hist and "**12 images**" in summary
    # moving the slider re-splits without re-scoring
    _, _, low = tab._views(session, 0.0, "", False)
    _, hist_hi, high = tab._views(session, 1.0, "", False)
    assert "12 keep, 0 reject" in low and "0 keep, 12 reject" in high
    _, _, top = tab._views(session, 0.5, "3", False)
    assert "3 keep, 9 reject" in top
    path, _ = tab.export(session, 0.5, "3", False)
    assert sum(r["status"] == "keep" for r in csv.DictReader(open(path))) == 3
    # move: first a confirmation, nothing moves until confirmed
    dest = tmp_path / "rejects"
    box, text, _ = tab.ask_move(session, 0.5, "3", False, str(dest))
    assert box["visible"] is True and "**9** rejected" in text and not dest.exists()
    box, msg = tab.do_move(session, 0.5, "3", False, str(dest))
    assert box["visible"] is False and msg.startswith("Moved 9 file(s)")
    assert len(list(dest.rglob("*.jpg"))) == 9 and len(list(folder.rglob("*.jpg"))) == 3
    assert list(dest.glob("qfix-manifest-*.jsonl"))


def test_move_refused_without_destination_or_for_the_scanned_folder(folder):
    session, *_ = tab.score(str(folder), None, "offline", "default", [], 0.5, "", False)
    box, _, msg = tab.ask_move(session, 0.5, "", False, "")
    assert box["visible"] is False and "destination" in msg
    _, _, msg = tab.ask_move(session, 0.5, "", False, str(folder))
    assert "scanned folder" in msg


def test_bad_folder_and_cancel(folder, tmp_path, astronaut):
    out = tab.score(str(tmp_path / "nope"), None, "offline", "default", [], 0.5, "", False)
    assert out[0] is None and "no such folder" in out[4]
    write_folder(folder, make_variants(astronaut, 40, seed=9)[12:])  # 40 images: batches of 16

    def cancel_on_first(frac, **kw):
        if frac[0] > 0:
            tab.cancel()

    session, gallery, *_, msg = tab.score(str(folder), None, "offline", "default", [], 0.5, "", False,
                                          cancel_on_first)
    assert session.result.interrupted and len(gallery) == 16 and msg.startswith("Cancelled")


def test_uploads_are_scored_but_never_moved(folder, tmp_path):
    class Upload:  # what gradio 3.41 passes for gr.File(file_count="multiple")
        def __init__(self, name):
            self.name = name

    ups = [Upload(str(p)) for p in sorted(folder.glob("*.jpg"))[:4]]
    session, gallery, *_ = tab.score("", ups, "offline", "default", [], 0.5, "", False)
    assert len(gallery) == 4 and session.uploaded
    _, _, msg = tab.ask_move(session, 1.0, "", False, str(tmp_path / "r"))
    assert "uploaded copies" in msg


def test_through_a_real_gradio_server(folder):
    import httpx

    [(blocks, _, _)] = tab.on_ui_tabs()
    blocks.queue().launch(server_name="127.0.0.1", prevent_thread_lock=True, show_error=True, quiet=True)
    try:
        fn = next(i for i, d in enumerate(blocks.dependencies) if d["trigger"] == "click")
        r = httpx.post(blocks.local_url + "run/predict", timeout=120,
                       json={"fn_index": fn, "data": [str(folder), None, "offline", "default", [], 0.5, "", False]})
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert "**12 images**" in data[3] and len(data[1]) == 12 and 'class="threshold"' in data[2]
    finally:
        blocks.close()


def _child(base, hold: bool) -> subprocess.Popen:
    """A process that makes its QFix temp root under ``base``, prints it, then either dies at once
    without any cleanup (a crash) or keeps running."""
    code = ("import os, sys, time; from lib_qfix.filter import tempdirs; "
            f"print(tempdirs.new_dir('thumbs', {str(base)!r}), flush=True); "
            + ("time.sleep(60)" if hold else "os._exit(0)"))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_stale_temp_folders_of_finished_processes_are_removed_at_start(tmp_path):
    import time

    from lib_qfix.filter import tempdirs

    crashed = _child(tmp_path, hold=False)
    dead_dir = Path(crashed.stdout.readline().strip())
    crashed.wait()
    alive = _child(tmp_path, hold=True)
    try:
        live_dir = Path(alive.stdout.readline().strip())
        old = tmp_path / "qfix-thumbs-legacy1"  # made by an earlier version, untouched for 2 hours
        old.mkdir()
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        fresh = tmp_path / "qfix-upload-legacy2"
        fresh.mkdir()
        other = tmp_path / "not-qfix"
        other.mkdir()
        assert dead_dir.is_dir() and live_dir.is_dir()
        removed = tempdirs.remove_stale(tmp_path)
        assert not dead_dir.parent.exists() and not old.exists()
        assert live_dir.is_dir() and fresh.is_dir() and other.is_dir()  # a live process keeps its files
        assert sorted(removed) == sorted([str(dead_dir.parent), str(old)])
    finally:
        alive.kill()
        alive.wait()
    assert tempdirs.remove_stale(tmp_path) == [str(live_dir.parent)]  # killed: now stale too


def test_building_the_tab_removes_stale_folders(tmp_path, monkeypatch):
    import tempfile
    import time

    stale = tmp_path / "qfix-csv-legacy"
    stale.mkdir()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    tab.on_ui_tabs()
    assert not stale.exists()


def test_a_session_removes_its_temp_folders_when_it_ends(folder, tmp_path):
    class Upload:
        def __init__(self, name):
            self.name = name

    ups = [Upload(str(p)) for p in sorted(folder.glob("*.jpg"))[:3]]
    session, gallery, *_ = tab.score("", ups, "offline", "default", [], 0.5, "", False)
    csv_path, _ = tab.export(session, 0.5, "", False)
    dirs = [Path(session.staged_dir), Path(gallery[0][0]).parent, Path(csv_path).parent]
    assert all(d.is_dir() for d in dirs) and len(list(dirs[0].iterdir())) == 3  # full copies of uploads
    other, *_ = tab.score(str(folder), None, "offline", "default", [], 0.5, "", False)
    other_thumbs = Path(tab._gallery(other, other.decisions(0.5))[0][0]).parent
    tab.release(session)  # this browser session pressed Score again
    assert not any(d.exists() for d in dirs)
    assert other_thumbs.is_dir()  # another session's files are untouched
    assert len(tab._views(session, 0.5, "", False)[0]) == 3  # a released session still renders
    # the Score button releases the session it replaces
    [(blocks, _, _)] = tab.on_ui_tabs()
    fns = [blocks.fns[i].fn for i, d in enumerate(blocks.dependencies) if d["trigger"] == "click"]
    assert tab.release in fns
    other.close()
    assert not other_thumbs.exists()


def test_failed_run_on_uploads_removes_the_staged_copies(tmp_path, monkeypatch):
    from lib_qfix.filter import tempdirs

    bad = tmp_path / "notes.txt"  # no image: the scan fails
    bad.write_text("x")
    made = []
    real = tempdirs.new_dir
    monkeypatch.setattr(tempdirs, "new_dir", lambda kind, base=None: made.append(real(kind, base)) or made[-1])
    out = tab.score("", [str(bad)], "offline", "default", [], 0.5, "", False)
    assert out[0] is None and made and not os.path.exists(made[0])
