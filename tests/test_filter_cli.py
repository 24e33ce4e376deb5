"""``qfix filter`` end to end with the real offline scorer."""

from __future__ import annotations

import csv
import json

import pytest
from filter_support import make_variants, write_folder

from lib_qfix.cli import main


@pytest.fixture()
def folder(tmp_path, photos):
    imgs = []
    for i, name in enumerate(("astronaut", "coffee", "chelsea")):
        imgs += make_variants(photos[name], 4, seed=i)
    write_folder(tmp_path / "imgs", imgs, sub_every=5)
    return tmp_path / "imgs"


def cli(tmp_path, *args):
    return main(["filter", "--no-progress", "--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "out"),
                 *map(str, args)])


def test_filter_writes_reports_and_second_run_uses_cache(folder, tmp_path, capsys):
    assert cli(tmp_path, folder, "--threshold", "0.3") == 0
    out = capsys.readouterr().out
    assert "12 images:" in out and "(0 from cache" in out
    rows = list(csv.DictReader(open(tmp_path / "out" / "decisions.csv")))
    assert len(rows) == 12 and rows[0]["rank"] == "1"
    q = [float(r["quality"]) for r in rows]
    assert q == sorted(q, reverse=True)
    for r in rows:
        assert (r["status"] == "keep") == (float(r["quality"]) >= 0.3)
        if r["status"] == "reject":
            assert r["reasons"].startswith("quality ") and "< threshold 0.300 (offline)" in r["reasons"]
    data = json.loads((tmp_path / "out" / "decisions.json").read_text())
    assert data["summary"]["images"] == 12 and data["summary"]["scored"] == 12
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("data:image/jpeg;base64,") == 12 and 'class="threshold"' in html
    assert cli(tmp_path, folder, "--threshold", "0.3") == 0
    assert "(12 from cache" in capsys.readouterr().out


def test_keep_top_percent_and_blurred_reject_reason(folder, tmp_path, capsys):
    assert cli(tmp_path, folder, "--keep-top", "25%") == 0
    rows = list(csv.DictReader(open(tmp_path / "out" / "decisions.csv")))
    assert [r["status"] for r in rows].count("keep") == 3
    # the blurred variants (1, 4, 7, 10 per photo with sigma >= 2) are rejected, and say so
    blurred = [r for r in rows if r["rel"] in ("img_001.jpg", "img_007.jpg")]
    assert all(r["status"] == "reject" for r in blurred)
    assert any("blur" in r["reasons"] and "re-blur index" in r["reasons"] for r in blurred)


def test_move_rejects_then_undo(folder, tmp_path, capsys):
    before = sorted(p.relative_to(folder) for p in folder.rglob("*.jpg"))
    rej = tmp_path / "rejects"
    assert cli(tmp_path, folder, "--threshold", "0.5", "--move-rejects-to", rej) == 0
    out = capsys.readouterr().out
    manifest = out.split("qfix filter --undo ")[1].strip()
    moved = sorted(p.relative_to(rej) for p in rej.rglob("*.jpg"))
    assert moved and set(moved) <= set(before)
    assert not any((folder / m).exists() for m in moved)
    assert main(["filter", "--undo", manifest]) == 0
    assert sorted(p.relative_to(folder) for p in folder.rglob("*.jpg")) == before
    assert not list(rej.rglob("*.jpg"))


def test_bad_usage_and_bad_images(tmp_path, folder, capsys):
    assert cli(tmp_path, tmp_path / "missing") == 2
    assert "missing: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli(tmp_path, tmp_path / "empty") == 2
    assert "no images found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # checked by argparse, before anything runs
        cli(tmp_path, folder, "--threshold", "1.5")
    assert e.value.code == 2
    assert "--threshold: '1.5' is not allowed; allowed: a number from 0 to 1" in capsys.readouterr().err
    assert cli(tmp_path, folder, "--keep-top", "x") == 2
    assert cli(tmp_path, folder, "--detect", "feet") == 2
    assert "'feet' is not a detector" in capsys.readouterr().err
    assert cli(tmp_path, folder, "--set", "quality_threshhold=0.2") == 2
    assert "did you mean 'quality_threshold'" in capsys.readouterr().err
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    assert cli(tmp_path, folder) == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and ("cannot read image" in err or "not an image" in err)
