"""ControlNet in QFix's inner passes on Forge's built-in ControlNet (fake, from Forge's sources):
no ``update_cn_script_in_processing``, so the units are written into the script's args slice; the
control mode goes in as the string Forge compares with; the outer's own units keep working."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.guides import hand_guide
from testkit.fake_a1111 import controlnet_forge
from tests.controlnet_support import SIZE, generate, grey_host, inner_runs, scripted_hand


@pytest.fixture()
def host(monkeypatch, tmp_path):
    return grey_host(monkeypatch, tmp_path)


@pytest.fixture()
def region(monkeypatch):
    return scripted_hand(monkeypatch)


def test_forge_api_has_none_of_the_a1111_helpers(host, monkeypatch):
    fake = controlnet_forge.install(monkeypatch, host)
    for name in ("find_cn_script", "update_cn_script_in_processing", "get_models", "get_modules"):
        assert not hasattr(fake.api, name)
    assert fake.api.get_api_version() == 2 and fake.api.ControlNetUnit().enabled  # Forge's default: on
    from lib_qfix.a1111 import controlnet

    found, why = controlnet.detect()
    assert isinstance(found, controlnet.ForgeControlNet) and why == ""
    assert found.models() == list(fake.models) and found.modules()[0] == "None"


def test_units_are_written_into_the_args_slice(host, region, monkeypatch):
    fake = controlnet_forge.install(monkeypatch, host)
    qfix, p, processed = generate(host, fake, {"controlnet_hand_mode": "controlnet", "controlnet_hand_weight": 1.1})
    assert len(host.inner) == 1 and not host.errors
    (call,) = inner_runs(fake)
    (unit,) = call["units"]
    assert isinstance(unit, controlnet_forge.ControlNetUnit) and unit.enabled
    assert unit.module == "None" and unit.model == next(iter(fake.models)) and unit.weight == 1.1
    assert unit.control_mode == "ControlNet is more important"  # the string value Forge compares with
    assert fake.script.current_params == {}  # cleared by the inner postprocess
    assert np.array_equal(unit.image, hand_guide(region, (SIZE, SIZE)))
    cn = fake.script
    inner_slice = call["p"].script_args[cn.args_from:cn.args_to]
    assert inner_slice[0] is unit and [u.enabled for u in inner_slice] == [True, False, False]
    assert all(u.module == "None" and u.model == "None" for u in inner_slice[1:])
    assert (cn.args_from, cn.args_to) == (1, 4) and not any(u.enabled for u in p.script_args[1:4])
    assert host.inner[0]["scripts"].alwayson_scripts == [cn]
    info = host.modules["modules.infotext_utils"].parse_generation_parameters(processed.infotexts[0])
    assert info["QFix controlnet"] == "hand=openpose(1.1)" and "QFix note" not in info


def test_the_mode_forge_applies_follows_the_option(host, region, monkeypatch):
    fake = controlnet_forge.install(monkeypatch, host)
    for mode in ("balanced", "prompt", "controlnet"):
        generate(host, fake, {"controlnet_hand_mode": mode})
    modes = [m for c in inner_runs(fake) for m in c["modes"]]
    C = controlnet_forge.ControlMode
    assert modes == [C.BALANCED, C.PROMPT, C.CONTROL]


def test_no_model_on_forge_gives_the_note(host, region, monkeypatch):
    fake = controlnet_forge.install(monkeypatch, host, models=("control_v11f1e_sd15_tile.safetensors",))
    _, p, processed = generate(host, fake, {})
    assert host.inner[0]["scripts"] is None and inner_runs(fake) == []
    info = host.modules["modules.infotext_utils"].parse_generation_parameters(processed.infotexts[0])
    assert info["QFix note"] == "ControlNet: no openpose model"


def test_the_outer_units_still_work_in_later_batches(host, region, monkeypatch):
    fake = controlnet_forge.install(monkeypatch, host)
    own = {"module": "canny", "model": next(iter(fake.models)), "image": np.zeros((SIZE, SIZE, 3), np.uint8)}
    _, p, processed = generate(host, fake, {}, cn_args=[own], n_iter=2)
    outer = [units for q, units in fake.batches if q is p]
    assert len(outer) == 2 and all([u.module for u in units] == ["canny"] for units in outer)
    assert not host.errors  # without the re-run of process, batch 2 fails with KeyError in current_params
    assert len(inner_runs(fake)) == 2
