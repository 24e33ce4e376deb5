"""CSV/JSON/HTML outputs: sorted by score, histogram with the threshold line, region overlays."""

from __future__ import annotations

import csv
import json
import re

from lib_qfix.filter.decide import decide
from lib_qfix.filter.records import ImageRecord
from lib_qfix.filter.report import histogram_svg, write_csv, write_html, write_json
from lib_qfix.types import DEFECT, Region


def recs():
    hand = Region("hand", (10, 20, 110, 220), 0.9, DEFECT, ("6 fingers",), ("extra_fingers",), "hand")
    return [ImageRecord(path="/x/a.jpg", rel="a.jpg", quality=0.2, width=400, height=300, thumb=b"\xff\xd8a",
                        regions=(hand,)),
            ImageRecord(path="/x/b.jpg", rel="b.jpg", quality=0.9, width=400, height=300, thumb=b"\xff\xd8b"),
            ImageRecord(path="/x/c.jpg", rel="c.jpg", error="c.jpg: not an image file")]


def test_histogram_counts_and_threshold_position():
    svg = histogram_svg([0.05, 0.06, 0.51, 0.99], 0.5, bins=10, width=236, height=100)
    heights = [float(h) for h in re.findall(r'class="bar" x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)]
    assert len(heights) == 10
    assert heights[0] == max(heights) and heights[5] == heights[9] == heights[0] / 2 and heights[3] == 0
    x = float(re.search(r'class="threshold" x1="([^"]+)"', svg).group(1))
    assert x == 36 + (236 - 36 - 8) * 0.5
    assert "threshold" not in histogram_svg([0.5], None).replace('class="hist"', "")


def test_csv_json_html(tmp_path):
    ds = decide(recs(), threshold=0.5)
    write_csv(ds, tmp_path / "d.csv")
    rows = list(csv.DictReader(open(tmp_path / "d.csv")))
    assert [r["rel"] for r in rows] == ["b.jpg", "a.jpg", "c.jpg"]
    assert [r["status"] for r in rows] == ["keep", "reject", "error"]
    assert "extra_fingers (hand) at [10, 20, 110, 220]: 6 fingers" in rows[1]["reasons"]
    write_json(ds, tmp_path / "d.json", scorer="s")
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["summary"] == {"images": 3, "keep": 1, "reject": 1, "error": 1, "scorer": "s"}
    assert data["decisions"][1]["regions"][0]["box"] == [10, 20, 110, 220]
    write_html(ds, tmp_path / "r.html", 0.5)
    page = (tmp_path / "r.html").read_text()
    assert page.index("b.jpg") < page.index("a.jpg") < page.index("c.jpg")  # sorted by score
    assert '<rect x="10" y="20" width="100" height="200"' in page  # the hand box over a.jpg
    assert 'viewBox="0 0 400 300"' in page and "no preview" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained
