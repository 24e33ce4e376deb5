"""What the browser really shows: the panel served by gradio 3.41 with qfix.js and style.css loaded the
way A1111 1.10.1 loads them, in headless Chromium (testkit/page.py, ``run_probe``).

Skipped only when Debian's ``chromium`` is not installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

import pytest

from testkit import page as shot

pytestmark = pytest.mark.skipif(shot.browser() is None, reason="chromium not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def report():
    return shot.run_probe()


def test_button_is_hidden_while_the_panel_is_collapsed(report):
    c = report["collapsed"]
    assert c["panel_shown"] and c["exists"] and c["in_panel"]
    assert not c["shown"] and c["with_label_shown"] == 0  # nothing of it shows under the closed accordion
    assert c["with_label"] == 1  # one button per tab, none added by the script
    assert not report["stray_in_panel_root"]


def test_button_is_a_small_styled_button_inside_the_open_panel(report):
    o = report["open"]
    assert o["shown"] and o["inside_box"] and o["tag"] == "button"
    classes = o["classes"].split()
    assert {"sm", "secondary", "qfix-negative-button"} <= set(classes)
    assert any(c.startswith("svelte-") for c in classes)  # gradio's scoped button styles apply
    assert o["background"] != "rgba(0, 0, 0, 0)" or o["background_image"] != "none"  # not bare text
    assert o["border_width"] != "0px"
    assert 0 < o["width"] < o["panel_width"] / 2 and o["height"] < 40  # small, not a full-width bar
    assert o["title"].startswith("Adds the weighted negative")


def test_pressing_it_twice_appends_the_suggested_negative_once_and_badges_show(report):
    assert report["negative"] == shot.NEGATIVE + shot.SUGGESTED
    assert report["badges"] == ["0.41\u21920.77", "0.9"]
