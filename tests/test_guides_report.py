"""``qfix diagnose --html`` shows the guide QFix would give ControlNet over each hand and face:
tiles built from real detections, the card markup, the CLI end to end, and the page in Chromium."""

from __future__ import annotations

import colorsys
import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from lib_qfix.cli import main
from lib_qfix.detect.faces import FaceDetector
from lib_qfix.detect.hands import HandDetector
from lib_qfix.guides.preview import GREY, guide_tile, guide_tiles
from lib_qfix.options import DEFAULTS
from lib_qfix.report.html import make_card, render_report
from lib_qfix.types import ImageReport
from testkit import page
from testkit.fixtures_detect import coffee_with_hand


@pytest.fixture(scope="module")
def hand_image() -> np.ndarray:
    return coffee_with_hand()


@pytest.fixture(scope="module")
def regions(hand_image, astronaut):
    hands = HandDetector().detect(hand_image, DEFAULTS)
    assert len(hands) == 1 and hands[0].verdict == "ok"
    ok = hands[0]
    p = np.asarray(ok.landmarks)
    p[10:13] = p[9] + (p[10:13] - p[9]) * 0.1  # a collapsed middle finger
    bad = replace(ok, verdict="defect", defects=("malformed_hand", "missing_fingers"),
                  landmarks=tuple(map(tuple, p)))
    face = FaceDetector().detect(astronaut, DEFAULTS)[0]
    return ok, bad, face


def _hue_bins(img: np.ndarray) -> set[int]:
    """The 20ths of the hue wheel that strongly saturated, bright pixels of ``img`` fall in."""
    px = img.reshape(-1, 3).astype(np.float64) / 255
    keep = (px.max(axis=1) > 0.8) & (px.max(axis=1) - px.min(axis=1) > 0.7)
    return {int(round(colorsys.rgb_to_hsv(*c)[0] * 20)) % 20 for c in px[keep]}


def test_tiles_show_the_guide_over_the_detection(hand_image, astronaut, regions):
    ok, bad, face = regions
    tile = guide_tile(hand_image, ok, 192)
    assert tile.shape == (192, 192, 3)
    assert len(_hue_bins(tile)) >= 15  # the coloured bones of the skeleton
    assert not (tile == GREY).all(axis=2).any()  # an ok hand: no detected skeleton under it
    fitted = guide_tile(hand_image, bad, 192)
    assert (fitted == GREY).all(axis=2).sum() > 50  # the malformed detection in grey ...
    assert len(_hue_bins(fitted)) >= 15  # ... under the fitted hand
    face_tile = guide_tile(astronaut, face, 192)
    assert (face_tile == 255).all(axis=2).sum() > 70 * 4  # 70 white dots
    assert [r for r, _ in guide_tiles(hand_image, [ok, replace(ok, landmarks=None), bad])] == [ok, bad]


def test_card_carries_one_guide_per_hand_and_face(hand_image, regions):
    ok, bad, face = regions
    report = ImageReport("x.png", 512, 512, 0.8, "offline", regions=(ok, bad, face))
    card = make_card(report, hand_image)
    assert [cap.split()[0] for cap, _ in card.guides] == ["hand", "hand", "face"]
    html = render_report([card])
    assert "ControlNet guides" in html and html.count("<figure>") == 3
    assert make_card(replace(report, regions=()), hand_image).guides == ()


def test_diagnose_html_shows_guides(tmp_path, hand_image, astronaut):
    d = tmp_path / "imgs"
    d.mkdir()
    Image.fromarray(hand_image).save(d / "hand.png")
    Image.fromarray(astronaut).save(d / "astronaut.png")
    out = tmp_path / "r.html"
    assert main(["diagnose", str(d), "--html", str(out), "--set", "detect_text=false", "--no-progress"]) == 0
    html = out.read_text()
    assert html.count("<figure>") == 2  # the hand and the astronaut's face
    assert "as detected" in html and "70 keypoints" in html


@pytest.mark.skipif(page.browser() is None, reason="chromium not installed (apt-get install -y chromium)")
def test_report_page_shows_the_guides_in_chromium(tmp_path, hand_image, regions):
    ok, bad, _ = regions
    report = ImageReport("hand.png", 512, 512, 0.8, "offline", regions=(ok, bad))
    path = tmp_path / "r.html"
    path.write_text(render_report([make_card(report, hand_image)]))
    shot = tmp_path / "r.png"
    r = page.chromium(path.as_uri(), f"--screenshot={shot}", "--window-size=900,1100")
    assert shot.exists(), r.stderr[-500:]
    img = np.asarray(Image.open(io.BytesIO(shot.read_bytes())).convert("RGB"))
    bins = _hue_bins(img)
    assert len(bins) >= 12 and bins >= {0, 5, 10, 15}  # the skeletons' colours made it onto the page
