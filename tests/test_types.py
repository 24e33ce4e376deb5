"""The shared records: ``Region.from_json`` reads back what ``Region.to_json`` writes."""

from __future__ import annotations

import json

import pytest

from lib_qfix.types import DEFECT, OK, Region


def test_region_json_round_trip():
    r = Region("hand", (10, 20, 110, 220), 0.87654321, DEFECT, ("6 fingers",), ("extra_fingers",), "mediapipe",
               polygon=((10, 20), (110, 220), (10, 220)), landmarks=((0.5, 0.5),))
    back = Region.from_json(json.loads(json.dumps(r.to_json())))
    assert back.to_json() == r.to_json()
    assert back.box == (10, 20, 110, 220) and isinstance(back.box, tuple)
    assert back.confidence == 0.8765  # as to_json rounds it
    assert back.polygon is None and back.landmarks is None  # not part of the JSON
    assert back.reasons == ("6 fingers",) and back.defects == ("extra_fingers",) and back.is_defect


def test_global_region_and_defaults():
    g = Region("blur", None, 0.5, DEFECT, ("laplacian variance 12 < 80",), ("blur",), "offline")
    assert Region.from_json(g.to_json()) == g
    minimal = Region.from_json({"kind": "face"})
    assert minimal == Region("face", None, 0.0, OK)


def test_bad_json_raises():
    with pytest.raises(KeyError):
        Region.from_json({"box": None})
    with pytest.raises(ValueError):
        Region.from_json({"kind": "face", "box": [1, 2, 3]})


def test_box_area_is_the_one_area_function():
    from lib_qfix import masks
    from lib_qfix.detect import nms
    from lib_qfix.types import box_area

    assert box_area((10, 20, 40, 60)) == 1200 and box_area((0.5, 0, 1.5, 2.0)) == 2.0
    assert box_area(None) == 0 and box_area((5, 5, 1, 9)) == 0  # global region, inverted box
    assert not hasattr(nms, "area") and masks.box_area is box_area
