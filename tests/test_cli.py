"""The `qfix` command end to end: score, diagnose, JSON shape, HTML, bad input, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lib_qfix.cli import main

FAST = ["--set", "detect_faces=false", "--set", "detect_hands=false", "--set", "detect_text=false",
        "--no-progress"]


@pytest.fixture()
def folder(tmp_path, astronaut, coffee):
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    Image.fromarray(astronaut).save(d / "astronaut.png")
    Image.fromarray(coffee).save(d / "sub" / "coffee.jpg", quality=90)
    (d / "notes.txt").write_text("not an image")  # ignored: not an image suffix
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # corrupt
    full = (d / "sub" / "coffee.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(full[: len(full) // 3])
    (d / "fake.jpg").write_text("hello")
    return d


def test_score_folder_reports_failures_and_continues(folder, tmp_path, capsys):
    out = tmp_path / "s.json"
    code = main(["score", str(folder), "--json", str(out), *FAST])
    data = json.loads(out.read_text())
    by_name = {d["path"].split("/")[-1]: d for d in data}
    assert set(by_name) == {"astronaut.png", "coffee.jpg", "broken.png", "truncated.jpg", "fake.jpg"}
    assert code == 1  # some failed
    for bad in ("broken.png", "fake.jpg"):
        assert by_name[bad]["error"] and by_name[bad]["quality"] is None
    good = by_name["astronaut.png"]
    assert good["error"] is None and 0.0 <= good["quality"] <= 1.0
    assert good["width"] == 512 and good["height"] == 512 and good["scorer"] == "offline"
    assert isinstance(good["signals"], dict) and good["signals"]


def test_all_good_exit_zero_and_json_shape(tmp_path, astronaut):
    p = tmp_path / "a.png"
    Image.fromarray(astronaut).save(p)
    out = tmp_path / "d.json"
    assert main(["diagnose", str(p), "--json", str(out), *FAST]) == 0
    (rep,) = json.loads(out.read_text())
    assert set(rep) >= {"path", "width", "height", "quality", "scorer", "signals", "regions", "negative", "error"}
    for r in rep["regions"]:
        assert set(r) >= {"kind", "box", "confidence", "verdict", "reasons"}
        assert r["verdict"] in ("ok", "defect")


def test_global_defect_appears_as_region_with_null_box(tmp_path, astronaut):
    import cv2

    blurred = cv2.GaussianBlur(astronaut, (0, 0), 6)
    noisy = np.clip(blurred + np.random.default_rng(0).normal(0, 40, blurred.shape), 0, 255).astype(np.uint8)
    p = tmp_path / "bad.png"
    Image.fromarray(noisy).save(p)
    out = tmp_path / "d.json"
    main(["diagnose", str(p), "--json", str(out), *FAST])
    (rep,) = json.loads(out.read_text())
    defects = [r for r in rep["regions"] if r["verdict"] == "defect"]
    assert defects and all(r["box"] is None for r in defects)
    assert rep["negative"]  # a suggestion for what was found


def test_html_report_is_self_contained(folder, tmp_path):
    html = tmp_path / "r.html"
    main(["diagnose", str(folder), "--html", str(html), "--overlays", str(tmp_path / "ov"), *FAST])
    text = html.read_text()
    assert text.count("data:image/jpeg;base64,") == 2  # the two readable images
    assert "broken.png" in text and "error" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched from outside
    overlays = sorted(p.relative_to(tmp_path / "ov").as_posix() for p in (tmp_path / "ov").rglob("*.overlay.jpg"))
    assert overlays == ["astronaut.png.overlay.jpg", "sub/coffee.jpg.overlay.jpg"]  # relative paths kept


def test_bad_usage_exit_two(tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["score", str(empty)]) == 2
    assert "no image files" in capsys.readouterr().err
    p = tmp_path / "x.png"
    Image.new("RGB", (64, 64)).save(p)
    assert main(["score", str(p), "--set", "quality_threshold=2"]) == 2
    err = capsys.readouterr().err
    assert "quality_threshold" in err and "0 to 1" in err
    assert main(["score", str(p), "--set", "qualty_threshold=0.2"]) == 2
    assert "did you mean 'quality_threshold'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["score"])
    assert e.value.code == 2


def test_python_dash_m_is_the_same_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "lib_qfix", "schema"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and json.loads(r.stdout)["title"] == "QFix options"
