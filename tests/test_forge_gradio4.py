"""QFix's UI under Forge's gradio 4.40, with the real gradio 4 and pydantic 2 (testkit/gradio4_check.py).

The main venv pins gradio 3.41.2 for A1111, so this runs ``testkit.gradio4_check`` with another
interpreter: ``QFIX_GRADIO4_PYTHON`` (``bash testkit/gradio4_venv.sh`` builds a venv with Forge's pins
outside the repo and prints the line to export), or this interpreter when its gradio is 4.x.
Skipped otherwise. About 25 s; the page probe needs Debian's ``chromium``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import page as shot
from testkit.fake_a1111 import forge_api as F

ROOT = Path(__file__).resolve().parents[1]


def _python() -> str | None:
    env = os.environ.get("QFIX_GRADIO4_PYTHON")
    if env:
        return env
    try:
        import gradio

        return sys.executable if gradio.__version__.startswith("4.") else None
    except ImportError:
        return None


PY = _python()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    PY is None, reason="no gradio 4 interpreter: bash testkit/gradio4_venv.sh, then export QFIX_GRADIO4_PYTHON")]


@pytest.fixture(scope="module")
def report():
    r = subprocess.run([PY, "-m", "testkit.gradio4_check"], cwd=ROOT, capture_output=True, text=True, timeout=400,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"})
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_it_is_forges_gradio_and_its_update(report):
    assert report["gradio"].startswith("4.40")
    assert report["update"] == F.gr_update(F.FORGE)  # what forge_api fakes: not unwrapped by apply_infotext


def test_panel_values_are_what_the_fake_says(report):
    p = report["panel"]
    assert "error" not in p, p.get("error")
    assert p["components"] == p["fields"] and p["wrong_values"] == []  # plain values of the option's kind
    assert p["classes"] == ["Checkbox", "Dropdown", "Slider", "Textbox"] and p["infotext_keys_callable"]
    assert p["panel_in_config"]


def test_panel_events_work(report):
    e = report["events"]
    assert "error" not in e, e.get("error")
    assert "Loaded preset" in e["loaded_status"] and e["loaded_denoise"]["value"] == 0.45  # the hands preset
    assert e["saved_dropdown"]["value"] == "mine" and ["mine", "mine"] in e["saved_dropdown"]["choices"]
    assert "Saved preset" in e["saved_status"]


def test_filter_tab_builds(report):
    t = report["tab"]
    assert "error" not in t, t.get("error")
    assert t["title"] == "QFix" and t["elem_id"] == "qfix_tab" and t["gallery"]


def test_pydantic2_annotations_are_what_the_fake_says(report):
    d = report["pydantic"]
    assert "error" not in d, d.get("error")
    assert d["version"].startswith("2.") and d["annotations_differ"] == []
    assert d["styles"] == "typing.Optional[list[str]]"


@pytest.mark.skipif(shot.browser() is None, reason="chromium not installed (apt-get install -y chromium)")
def test_page_badges_and_button_work(report):
    r = report["probe"]
    assert "error" not in r, r.get("error")
    assert r["badges"] == ["0.41\u21920.77", "0.9"]
    c, o = r["collapsed"], r["open"]
    assert c["exists"] and c["in_panel"] and not c["shown"] and c["with_label"] == 1
    assert o["shown"] and o["inside_box"] and o["tag"] == "button"
    assert {"sm", "secondary", "qfix-negative-button"} <= set(o["classes"].split())
    assert 0 < o["width"] < o["panel_width"] / 2 and o["height"] < 40
    assert r["negative"] == shot.NEGATIVE + shot.SUGGESTED and not r["stray_in_panel_root"]
