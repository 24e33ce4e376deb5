"""ControlNet in QFix's inner passes on the fake A1111 host with the fake sd-webui-controlnet: the
inner pass carries exactly the units asked for, the outer generation is left as it was, and every
way ControlNet can be missing gives one note and an unguided pass."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from lib_qfix.guides import hand_guide
from testkit.fake_a1111 import controlnet_a1111
from testkit.fake_a1111.host_api import paste_args
from tests.controlnet_support import SIZE, generate, grey_host, inner_runs, scripted_hand

OPENPOSE = "control_v11p_sd15_openpose.pth"


@pytest.fixture()
def host(monkeypatch, tmp_path):
    return grey_host(monkeypatch, tmp_path)


@pytest.fixture()
def region(monkeypatch):
    return scripted_hand(monkeypatch)


def params(host, processed) -> dict:
    """The first image's infotext as the host parses it (values with ':' are quoted in the text)."""
    return host.modules["modules.infotext_utils"].parse_generation_parameters(processed.infotexts[0])


def test_forced_hand_fix_runs_an_openpose_unit_built_from_the_plausible_hand(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host, models=(OPENPOSE, "control_v11f1e_sd15_tile.pth"))
    qfix, p, processed = generate(host, fake, {"mode": "fix_all"})
    outer_args = copy.deepcopy(list(p.script_args))
    assert len(host.inner) == 1 and not host.errors
    (call,) = inner_runs(fake)
    (unit,) = call["units"]
    assert isinstance(unit, controlnet_a1111.ControlNetUnit) and unit.enabled
    assert unit.module == "none" and unit.model == next(m for m in fake.models if "openpose" in m)
    assert unit.model.endswith("]") and (unit.weight, unit.guidance_start, unit.guidance_end) == (0.8, 0.0, 1.0)
    assert unit.control_mode is controlnet_a1111.ControlMode.BALANCED
    assert unit.image.shape == (SIZE, SIZE, 3) and unit.image.dtype == np.uint8
    assert np.array_equal(unit.image, hand_guide(region, (SIZE, SIZE)))  # the plausible hand, not the traced one
    # the inner runner: ControlNet only, no selectable scripts, its own callback cache
    inner = host.inner[0]["scripts"]
    assert inner is not p.scripts and inner.alwayson_scripts == [fake.script] and inner.selectable_scripts == []
    assert inner.callback_map is not p.scripts.callback_map
    assert all(s is not qfix for lst in (c for _, c in inner.callback_map.values()) for s in lst)
    inner_p = call["p"]
    cn = fake.script
    assert inner_p.script_args[cn.args_from:cn.args_to][1:] != [] and \
        not any(u.enabled for u in inner_p.script_args[cn.args_from + 1:cn.args_to])
    assert inner_p.script_args[qfix.args_from] == p.script_args[qfix.args_from]
    assert inner_p.script_args[qfix.args_from] is not p.script_args[qfix.args_from]  # a deep copy
    # the outer p: untouched script args and arg ranges, the fixed image first
    assert (cn.args_from, cn.args_to) == (1, 4) and qfix.args_from == 4
    assert all(not u.enabled for u in p.script_args[1:4]) and len(p.script_args) == len(outer_args)
    assert len(processed.images) == 1 and np.asarray(processed.images[0]).shape == (SIZE, SIZE, 3)
    assert int(np.asarray(processed.images[0])[200, 200, 0]) != 100  # repainted (not ControlNet's map)
    info = processed.infotexts[0]
    assert "QFix controlnet: hand=openpose(0.8)" in info and "QFix note" not in info
    # a result key never pastes back as an option
    assert "QFix controlnet" not in {key for _, key in qfix.infotext_fields}
    current = list(qfix.ui_values) if hasattr(qfix, "ui_values") else [c.value for c, _ in qfix.infotext_fields]
    pasted = paste_args(host, qfix, info, current)
    keys = [key for _, key in qfix.infotext_fields]
    assert pasted[keys.index("QFix controlnet hand weight")] == 0.8 and pasted[keys.index("QFix mode")] == "fix_all"


def test_off_switch_runs_unguided_without_a_note(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host)
    _, p, processed = generate(host, fake, {"use_controlnet": False})
    assert len(host.inner) == 1 and host.inner[0]["scripts"] is None and inner_runs(fake) == []
    assert "QFix controlnet" not in processed.infotexts[0] and "QFix note" not in processed.infotexts[0]


def test_without_the_extension_the_request_succeeds_with_one_note(host, region):
    _, p, processed = generate(host, None, {"rounds": 2})
    assert len(host.inner) == 1 and host.inner[0]["scripts"] is None and not host.errors
    info = params(host, processed)
    assert info["QFix note"] == "ControlNet: not installed" and "QFix controlnet" not in info
    assert info["QFix result"] == "kept"


@pytest.mark.parametrize("models, options, note", [
    (("control_v11f1e_sd15_tile.pth",), {}, "ControlNet: no openpose model"),
    ((OPENPOSE,), {"controlnet_hand_model": "my_pose_v2"}, "ControlNet: no model 'my_pose_v2'"),
    ((OPENPOSE,), {"controlnet_hand_module": "dw_openpose_full"}, "ControlNet: no preprocessor 'dw_openpose_full'"),
])
def test_missing_model_or_preprocessor_gives_one_note_and_an_unguided_pass(host, region, monkeypatch, models,
                                                                            options, note):
    fake = controlnet_a1111.install(monkeypatch, host, models=models)
    _, p, processed = generate(host, fake, {"rounds": 2, **options})
    assert host.inner[0]["scripts"] is None and inner_runs(fake) == []
    assert params(host, processed)["QFix note"] == note


def test_auto_picks_the_first_matching_model_for_the_loaded_checkpoint(host, region, monkeypatch):
    models = ("control_sd15_inpaint_depth_hand_fp16.safetensors", "control_v11p_sd15_inpaint.pth",
              OPENPOSE, "thibaud_xl_openpose.safetensors")
    fake = controlnet_a1111.install(monkeypatch, host, models=models)
    opts = {"controlnet_inpaint": True, "controlnet_depth": True, "controlnet_inpaint_weight": 0.5}
    _, _, processed = generate(host, fake, opts)
    units = inner_runs(fake)[0]["units"]
    assert [(u.module, u.model.split(" [")[0]) for u in units] == [
        ("none", "control_v11p_sd15_openpose"), ("depth_hand_refiner", "control_sd15_inpaint_depth_hand_fp16"),
        ("inpaint_only", "control_v11p_sd15_inpaint")]
    assert units[1].image is None and units[2].image is None  # ControlNet uses the pass's own image and mask
    assert "QFix controlnet: hand=openpose(0.8)+depth(0.6)+inpaint(0.5)" in processed.infotexts[0]
    host.modules["modules.shared"].sd_model.is_sdxl = True
    fake.processes.clear()
    generate(host, fake, {})
    assert inner_runs(fake)[0]["units"][0].model.startswith("thibaud_xl_openpose")


def test_more_units_than_slots_keeps_the_first_and_notes_it(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host, unit_count=1,
                                    models=(OPENPOSE, "control_v11p_sd15_inpaint.pth"))
    _, p, processed = generate(host, fake, {"controlnet_inpaint": True})
    assert [u.module for u in inner_runs(fake)[0]["units"]] == ["none"]
    assert params(host, processed)["QFix note"] == "ControlNet: only 1 unit slots per pass"
    assert (fake.script.args_from, fake.script.args_to) == (1, 2)


def test_a_unit_count_changed_since_the_ui_was_built_does_not_move_the_arg_ranges(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host)
    host.modules["modules.shared"].opts.data["control_net_unit_count"] = 5  # the slice still has 3 slots
    qfix, p, processed = generate(host, fake, {})
    (unit,) = inner_runs(fake)[0]["units"]
    assert unit.module == "none" and (fake.script.args_from, fake.script.args_to, qfix.args_from) == (1, 4, 4)
    assert "QFix controlnet: hand=openpose(0.8)" in processed.infotexts[0]


def test_the_generations_own_units_guide_its_later_batches(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host)
    model = next(iter(fake.models))
    edges = np.zeros((SIZE, SIZE, 3), np.uint8)
    own = {"enabled": True, "module": "canny", "model": model, "weight": 0.4, "image": edges}
    _, p, processed = generate(host, fake, {}, cn_args=[own], n_iter=2)
    outer = [units for q, units in fake.batches if q is p]
    assert len(outer) == 2 and all([u.module for u in units] == ["canny"] for units in outer)
    assert len(inner_runs(fake)) == 2 and not host.errors
    assert p.script_args[1] is own and own["weight"] == 0.4  # the request's own unit is not touched
    assert len(processed.images) == 2 + 1  # two images, then the outer's own detected map (its hook is back)


def test_control_images_are_saved_with_save_before(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host)
    host.modules["modules.shared"].opts.qfix_save_before = True
    _, p, processed = generate(host, fake, {})
    suffixes = [s.get("suffix") for s in host.saved if "suffix" in s]
    assert "-qfix-control-hand-openpose" in suffixes and "-qfix-before" in suffixes
    before = next(s for s in host.saved if s.get("suffix") == "-qfix-before")
    assert "Seed: " in before["info"] and "QFix result" not in before["info"]  # the image's own parameters
    saved = next(s for s in host.saved if s.get("suffix") == "-qfix-control-hand-openpose")
    assert np.array_equal(np.asarray(saved["args"][0]), hand_guide(region, (SIZE, SIZE)))


def test_a_broken_extension_never_fails_the_generation(host, region, monkeypatch):
    fake = controlnet_a1111.install(monkeypatch, host)

    def boom(*a, **k):
        raise RuntimeError("ControlNet API changed")

    monkeypatch.setattr(fake.api, "update_cn_script_in_processing", boom)
    _, p, processed = generate(host, fake, {})
    assert len(host.inner) == 1 and host.inner[0]["scripts"] is None
    info = params(host, processed)
    assert info["QFix result"] == "kept" and info["QFix note"].startswith("ControlNet: ")
    assert "QFix controlnet" not in info


def test_detection_finds_the_extension_by_its_api_file(host, monkeypatch):
    from lib_qfix.a1111 import controlnet

    assert controlnet.detect() == (None, "not installed")
    controlnet_a1111.install(monkeypatch, host, folder_name="sd-webui-controlnet-main")
    found, why = controlnet.detect()
    assert isinstance(found, controlnet.A1111ControlNet) and why == ""
    assert found.models() == [m for m in found.models() if "openpose" in m] and len(found.models()) == 1


def test_the_panel_offers_the_hosts_models_and_preprocessors(host, monkeypatch):
    from lib_qfix.a1111 import ui

    assert ui._host_choices("controlnet_hand_model") == []  # no ControlNet: free text only
    fake = controlnet_a1111.install(monkeypatch, host)
    assert ui._host_choices("controlnet_hand_model") == list(fake.models)
    assert "depth_hand_refiner" in ui._host_choices("controlnet_depth_module")


def test_a_hand_mediapipe_finds_is_guided_by_its_own_skeleton(host, monkeypatch):
    """No scripted diagnosis: the real detectors find the rendered hand, fix_all repaints it, and the
    inner pass carries an OpenPose unit drawn from the detected landmarks, on the hand."""
    from testkit.fixtures_detect import render_hand

    host.base_image = render_hand(SIZE)
    fake = controlnet_a1111.install(monkeypatch, host)
    generate(host, fake, {"mode": "fix_all", "detect_faces": False, "detect_text": False, "detect_global": False})
    assert len(host.inner) == 1
    (unit,) = inner_runs(fake)[0]["units"]
    assert unit.module == "none" and unit.image.shape == (SIZE, SIZE, 3)
    drawn = unit.image.max(axis=2) > 0
    mask = host.inner[0]["mask"] > 0
    assert drawn.sum() > 200 and (drawn & mask).sum() / drawn.sum() > 0.9  # the skeleton lies on the hand
