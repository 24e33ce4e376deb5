"""Keep/reject decisions: threshold, keep-top N and P%, best of burst, reasons per reject."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_qfix.filter.decide import DecideError, decide, parse_keep_top
from lib_qfix.filter.records import ImageRecord
from lib_qfix.types import DEFECT, Region


def rec(name: str, q: float | None, regions=(), error=None) -> ImageRecord:
    return ImageRecord(path=f"/x/{name}", rel=name, quality=q, scorer="s", regions=tuple(regions), error=error)


def test_threshold_splits_and_reasons_name_defect_and_signal():
    blur = Region("blur", None, 0.8, DEFECT, ("laplacian variance 12.0 < 80",), ("blur",), "offline")
    recs = [rec("a.jpg", 0.9), rec("b.jpg", 0.3, [blur]), rec("c.jpg", 0.5), rec("d.jpg", None, error="bad file")]
    d = {x.record.rel: x for x in decide(recs, threshold=0.5)}
    assert d["a.jpg"].status == "keep" and d["c.jpg"].status == "keep"  # >= threshold keeps
    assert d["b.jpg"].status == "reject"
    assert d["b.jpg"].reasons[0] == "quality 0.300 < threshold 0.500 (s)"
    assert d["b.jpg"].reasons[1] == "blur (offline): laplacian variance 12.0 < 80"
    assert d["d.jpg"].status == "error" and d["d.jpg"].reasons == ("bad file",)
    assert [d[n].rank for n in ("a.jpg", "c.jpg", "b.jpg")] == [1, 2, 3]


def test_local_region_reason_has_box():
    hand = Region("hand", (10, 20, 50, 60), 0.9, DEFECT, ("6 fingers",), ("extra_fingers",), "hand")
    d = decide([rec("a.jpg", 0.1, [hand])], threshold=0.5)[0]
    assert d.reasons[1] == "extra_fingers (hand) at [10, 20, 50, 60]: 6 fingers"


def test_keep_top_count_and_percent():
    recs = [rec(f"{i}.jpg", i / 10) for i in range(10)]
    keep = {x.record.rel for x in decide(recs, keep_top="3") if x.keep}
    assert keep == {"9.jpg", "8.jpg", "7.jpg"}
    keep = {x.record.rel for x in decide(recs, keep_top="25%") if x.keep}
    assert keep == {"9.jpg", "8.jpg", "7.jpg"}  # ceil(2.5)
    rej = next(x for x in decide(recs, keep_top="3") if x.record.rel == "0.jpg")
    assert rej.reasons[0] == "rank 10: outside the kept top 3 (3 images)"


@pytest.mark.parametrize("bad", ["-1", "abc", "120%", "5.5", "nan%"])
def test_bad_keep_top_names_option(bad):
    with pytest.raises(DecideError, match="keep-top"):
        parse_keep_top(bad)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_threshold(bad):
    with pytest.raises(DecideError, match="threshold.*from 0 to 1"):
        decide([rec("a", 0.5)], threshold=bad)


def test_best_of_burst_rejects_the_others_before_keep_top():
    recs = [rec("a1.jpg", 0.9), rec("a2.jpg", 0.95), rec("a3.jpg", 0.7), rec("b.jpg", 0.6), rec("c.jpg", 0.2)]
    bursts = {"/x/a1.jpg": 0, "/x/a2.jpg": 0, "/x/a3.jpg": 0}
    d = {x.record.rel: x for x in decide(recs, keep_top="2", bursts=bursts, best_of_burst=True)}
    assert [n for n in d if d[n].keep] == ["a2.jpg", "b.jpg"]
    assert d["a1.jpg"].reasons[0].startswith("burst 0: near-duplicate of a2.jpg")
    assert d["a2.jpg"].burst_best and not d["a1.jpg"].burst_best
    # without best-of-burst the burst members compete normally
    d2 = {x.record.rel: x for x in decide(recs, keep_top="2", bursts=bursts)}
    assert [n for n in d2 if d2[n].keep] == ["a1.jpg", "a2.jpg"]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.integers(0, 50))
def test_keep_top_keeps_exactly_min_n(qs, n):
    recs = [rec(f"{i}.jpg", q) for i, q in enumerate(qs)]
    ds = decide(recs, keep_top=str(n))
    kept = [x.record.quality for x in ds if x.keep]
    assert len(kept) == min(n, len(qs))
    rejected = [x.record.quality for x in ds if not x.keep]
    assert not kept or not rejected or min(kept) >= max(rejected)
