"""The Ray engine on a local Ray instance gives the local engine's decisions, and shares its cache."""

from __future__ import annotations

import pytest
from filter_support import make_variants, write_folder

from lib_qfix.filter.job import RunConfig
from lib_qfix.filter.pipeline import make_decisions, score_folders
from lib_qfix.options import validate

pytestmark = pytest.mark.slow  # Ray start-up takes 10-20 s on this machine


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from lib_qfix.filter.engine_ray import _init_ray

    _init_ray(None, 2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, photos):
    root = tmp_path_factory.mktemp("ray")
    imgs = make_variants(photos["astronaut"], 10, seed=1) + make_variants(photos["coffee"], 10, seed=2)
    write_folder(root / "imgs", imgs, sub_every=6)
    (root / "imgs" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    return root / "imgs"


def test_ray_matches_local_and_fills_the_same_cache(ray_local, folder, tmp_path):
    opts = validate({"scorer": "offline"})
    cfg = RunConfig(batch_size=4)
    _, local = score_folders([folder], opts, cfg, engine="local")
    _, ray_res = score_folders([folder], opts, cfg, cache_path=tmp_path / "c.sqlite", engine="ray",
                               ray_kwargs={"actors": 2})
    assert len(ray_res.records) == 21 and ray_res.scored == 20 and ray_res.failed == 1
    a = {d.record.rel: (d.status, d.record.quality, d.reasons) for d in make_decisions(local, 0.4)}
    b = {d.record.rel: (d.status, d.record.quality, d.reasons) for d in make_decisions(ray_res, 0.4)}
    assert a == b
    assert {s for s, _, _ in a.values()} == {"keep", "reject", "error"}
    # the cache the Ray run wrote serves the local engine: nothing is scored again
    _, again = score_folders([folder], opts, cfg, cache_path=tmp_path / "c.sqlite", engine="local")
    assert again.scored == 0 and again.cached == 20
    assert [r.quality for r in again.records] == [r.quality for r in ray_res.records]
