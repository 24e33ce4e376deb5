"""The one record every engine returns: picklable, its score part round-trips through the cache
JSON, Ray's columns convert both ways, and the thread and process engines give equal records."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace

import pytest
from filter_support import make_variants, write_folder

from lib_qfix.filter.decide import decide
from lib_qfix.filter.engine_ray import columns_to_records, columns_to_tasks, records_to_columns, tasks_to_rows
from lib_qfix.filter.job import RunConfig
from lib_qfix.filter.pipeline import score_folders
from lib_qfix.filter.records import ImageRecord, count_status
from lib_qfix.filter.scan import ScanItem
from lib_qfix.options import validate
from lib_qfix.types import DEFECT, Region
from tests.conftest import ROOT

REC = ImageRecord(path="/x/a.jpg", rel="a.jpg", root="/x", content="ab" * 16, width=640, height=480,
                  quality=0.25, scorer="offline", signals={"sharpness": 0.1}, reasons=("soft",),
                  regions=(Region("blur", None, 0.75, DEFECT, ("soft",), ("blur",), "offline"),
                           Region("face", (1, 2, 30, 40), 0.9, detector="yunet")),
                  dhash=0xFEDCBA9876543210, thumb=b"\xff\xd8thumb", mtime=1700000000.5, warnings=("w",),
                  seconds=0.012)


def test_record_pickles_and_its_score_part_round_trips():
    assert pickle.loads(pickle.dumps(REC)) == REC
    unscored = replace(REC, quality=None, scorer="", signals={}, reasons=(), regions=(), warnings=())
    assert unscored.status == "decoded"
    back = unscored.with_score(REC.score_json(), cached=True)
    assert back == replace(REC, cached=True) and back.status == "cached"
    assert REC.status == "scored" and replace(REC, error="bad").status == "error"
    with pytest.raises(ValueError, match="not scored"):
        unscored.score_json()


def test_ray_columns_convert_both_ways():
    tasks = [(ScanItem("/x/a.jpg", "/x", "a.jpg"), 1.5), (ScanItem("/x/s/b.png", "/x", "s/b.png"), 2.0)]
    rows = tasks_to_rows(tasks)
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    assert columns_to_tasks(columns) == tasks
    records = [REC, replace(REC, path="/x/b.jpg", error="unreadable", quality=None)]
    assert columns_to_records(records_to_columns(records)) == records


def test_status_counted_once():
    recs = [REC, replace(REC, path="/x/b.jpg", quality=0.9), replace(REC, path="/x/c.jpg", quality=None, error="x")]
    assert count_status(decide(recs, 0.5)) == {"keep": 1, "reject": 1, "error": 1}
    assert count_status([]) == {"keep": 0, "reject": 0, "error": 0}


def test_thread_and_process_engines_return_equal_records(tmp_path, astronaut):
    folder = tmp_path / "imgs"
    write_folder(folder, make_variants(astronaut, 6), sub_every=3)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 no")
    opts = validate({"scorer": "offline"})
    _, threads = score_folders([folder], opts, RunConfig(batch_size=4, pool="threads"))
    _, procs = score_folders([folder], opts, RunConfig(batch_size=4, workers=2, pool="processes"))
    assert [replace(r, seconds=0.0) for r in procs.records] == [replace(r, seconds=0.0) for r in threads.records]
    assert all(r.seconds > 0 for r in threads.records)


@pytest.mark.parametrize("module", ["workers", "engine_local", "engine_ray", "core", "job", "session"])
def test_each_engine_module_imports_first_without_a_cycle(module):
    r = subprocess.run([sys.executable, "-c", f"import lib_qfix.filter.{module}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
