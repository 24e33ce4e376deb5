"""Face and hand detectors on real photos: the hand-labelled set (bench/data/people_labels.json).

Photos that ship in this environment's packages (scikit-image, matplotlib, gradio) are always
checked; the PyPI/Debian ones only where ``bench/hands.py --fetch`` has cached them (the tests
that need them skip otherwise, saying so).
"""

from __future__ import annotations

import pytest

from lib_qfix.detect.face_boxes import clear_memo
from lib_qfix.detect.faces import FaceDetector
from lib_qfix.detect.hands import HandDetector
from lib_qfix.options import DEFAULTS
from testkit import people_photos
from testkit.people_photos import labels, negatives, people

NEGATIVES, _ = negatives()


def test_label_file_names_source_licence_and_split_for_every_photo():
    data = labels()
    entries = list(data["photos"].values()) + list(data["negatives"].values())
    assert len(data["photos"]) >= 15 and len(data["negatives"]) >= 20
    for e in entries:
        assert e["split"] in ("tune", "holdout") and len(e["sha256"]) == 64 and e["licence"]
        assert e["source"]["kind"] in ("skimage", "matplotlib", "gradio", "pypi", "debian") and e["source"]["member"]
    for p in data["photos"].values():
        for key in ("hands", "faces", "hands_difficult", "faces_difficult"):
            assert all(len(b) == 4 and b[0] < b[2] and b[1] < b[3] for b in p[key])
    hands = {s: sum(len(p["hands"]) for p in data["photos"].values() if p["split"] == s) for s in ("tune", "holdout")}
    assert hands["tune"] >= 10 and hands["holdout"] >= 8, hands


def test_photos_in_the_environment_are_found_and_intact():
    names = {n for n, _ in NEGATIVES}
    # scikit-image's people-free photos ship with the project's environment
    assert {"coffee", "chelsea", "rocket", "stereo_motorcycle", "hubble_deep_field"} <= names
    found, _ = people()
    assert {"astronaut", "camera", "grace_hopper"} <= {p.name for p in found}


def test_a_changed_file_is_not_used(tmp_path, monkeypatch):
    entry = dict(labels()["negatives"]["quokka"])
    monkeypatch.setenv("QFIX_BENCH_PHOTOS", str(tmp_path))
    people_photos._cached(entry).write_bytes(b"not the photo")
    assert people_photos.path_of(entry) is None


@pytest.mark.parametrize("name", [n for n, _ in NEGATIVES])
def test_no_face_or_hand_boxes_on_photos_without_people(name):
    image = dict(NEGATIVES)[name]
    clear_memo()
    assert FaceDetector().detect(image, DEFAULTS) == []
    assert HandDetector().detect(image, DEFAULTS) == []


def _recall(split: str) -> tuple[int, int, int]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from hands import match

    photos, missing = people(split)
    if missing:
        pytest.skip(f"labelled photos not fetched ({', '.join(missing)}): run bench/hands.py --fetch")
    det = HandDetector()
    hits = truths = false = 0
    for p in photos:
        clear_memo()
        h, t, f = match([r.box for r in det.detect(p.image, DEFAULTS)], p.hands, p.hands_difficult)
        hits, truths, false = hits + h, truths + t, false + f
    return hits, truths, false


def test_hand_recall_on_the_tune_photos():
    hits, truths, false = _recall("tune")
    assert hits >= 0.8 * truths and false == 0, (hits, truths, false)


def test_hand_recall_on_the_holdout_photos():
    hits, truths, false = _recall("holdout")
    assert hits >= 0.6 * truths and false == 0, (hits, truths, false)
