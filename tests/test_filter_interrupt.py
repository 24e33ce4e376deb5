"""Ctrl-C on a real ``qfix filter`` process: exit 130, a partial report, a consistent cache that a
second run resumes from."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

from filter_support import make_variants, write_folder

from tests.conftest import ROOT


def _scores(cache) -> int:
    try:
        db = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_sigint_leaves_partial_report_and_resumable_cache(tmp_path, photos):
    imgs = []
    for i, name in enumerate(("astronaut", "coffee", "chelsea", "rocket")):
        imgs += make_variants(photos[name], 40, seed=i)
    write_folder(tmp_path / "imgs", imgs)  # 160 images: the process pool is used (>= 64)
    cache, out = tmp_path / "c.sqlite", tmp_path / "out"
    cmd = [sys.executable, "-m", "lib_qfix", "filter", str(tmp_path / "imgs"), "--no-progress",
           "--cache", str(cache), "--out", str(out), "--batch-size", "8"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _scores(cache) < 16 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted after" in stderr and "no files were moved" in stderr
    report = json.loads((out / "decisions.json").read_text())
    done = report["summary"]["images"]
    assert report["summary"]["interrupted"] is True and 16 <= done < 160
    db = sqlite3.connect(cache)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    committed = db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    db.close()
    assert 16 <= committed <= done
    # the next run only scores what the first one did not commit
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert f"({committed} from cache" in r.stdout
    assert json.loads((out / "decisions.json").read_text())["summary"]["images"] == 160
