"""``qfix fix --engine ray`` makes the local engine's decisions (real diagnosis, tiny pipeline).

Ray runs in local mode here (the actor runs in this process: no worker start-up, no second import of
diffusers), which still goes through the engine's actor code, the task round trip and the resume log;
bench/fix.py measures a real cluster."""

from __future__ import annotations

import json

import pytest
from diffusers_support import model_dir, photo, write_png

from lib_qfix.cli import main
from lib_qfix.fixrun.records import FixRecord

pytestmark = pytest.mark.slow  # Ray start-up takes ~10 s on this machine

ARGS = ["--no-progress", "--set", "mode=fix_all", "--set", "inpaint_resolution=64", "--set", "steps=4",
        "--set", "rounds=1", "--set", "use_controlnet=false"]


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(local_mode=True, num_cpus=1, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1", object_store_memory=128 * 1024 * 1024)
    yield ray
    ray.shutdown()


def _decisions(out) -> list[tuple]:
    doc = json.loads((out / "results.json").read_text())
    return [FixRecord.from_json(r).decision() for r in doc["records"]]


def test_ray_and_local_make_the_same_decisions(ray_local, tmp_path, capsys):
    write_png(tmp_path / "in" / "astronaut.png", photo())
    write_png(tmp_path / "in" / "coffee.png", photo("coffee", (160, 120)), infotext=None)
    rc_local = main(["fix", str(tmp_path / "in"), "--model", model_dir(), "--out", str(tmp_path / "local"), *ARGS])
    rc_ray = main(["fix", str(tmp_path / "in"), "--model", model_dir(), "--out", str(tmp_path / "ray"), *ARGS,
                   "--engine", "ray", "--ray-actors", "1"])
    text = capsys.readouterr().out
    assert rc_local == rc_ray == 0, text
    local, on_ray = _decisions(tmp_path / "local"), _decisions(tmp_path / "ray")
    assert local == on_ray
    assert [d[1] for d in local] == ["unchanged", "unchanged"] and local[0][6] == ("face lost",)
    assert (tmp_path / "ray" / "astronaut.png").read_bytes() == (tmp_path / "local" / "astronaut.png").read_bytes()
    # the Ray run resumes from its own log like the local one
    main(["fix", str(tmp_path / "in"), "--model", model_dir(), "--out", str(tmp_path / "ray"), *ARGS,
          "--engine", "ray"])
    assert "(2 resumed, nothing new)" in capsys.readouterr().out
