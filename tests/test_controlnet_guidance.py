"""The core of the ControlNet guidance: which units a pass gets from the options and the regions,
their control images (QFix's own guides), ``auto`` model matching, and the loop handing the units
to the inpainter. No host."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.fix import guidance
from lib_qfix.fix.guidance import control_units, describe, pick_model, resolve_model, resolve_module
from lib_qfix.fix.infotext import CONTROLNET, NOTE, RESULT_KEYS
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.guides import hand_guide
from lib_qfix.options import DEFAULTS, FIELDS, from_infotext
from lib_qfix.options.groups import CN_UNITS, CONTROL_MODES, G_CONTROLNET
from lib_qfix.protocols import ControlUnit, InpaintParams
from lib_qfix.types import ImageReport, Region
from testkit.fixtures_hand_landmarks import canonical_hand
from tests.controlnet_support import SIZE, hand_region, malformed_hand

W, H = SIZE, SIZE
MODELS = ["control_sd15_inpaint_depth_hand_fp16 [09456e54]", "control_v11f1e_sd15_tile [a371b31b]",
          "control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_inpaint [ebff9138]",
          "control_v11p_sd15_openpose [cab727d4]", "thibaud_xl_openpose [c7b9cadd]"]


def test_default_hand_pass_gets_one_openpose_unit_with_the_plausible_hand():
    region = hand_region(malformed_hand())
    (unit,) = control_units("hand", [region], DEFAULTS, W, H)
    assert (unit.kind, unit.module, unit.model, unit.target, unit.keywords) == ("hand", "none", "auto", "hand",
                                                                                 ("openpose",))
    assert (unit.weight, unit.guidance_start, unit.guidance_end, unit.control_mode) == (0.8, 0.0, 1.0, "balanced")
    assert unit.image is not None and unit.image.shape == (H, W, 3) and unit.image.dtype == np.uint8
    assert np.array_equal(unit.image, hand_guide(region, (W, H)))
    traced = hand_guide(hand_region(malformed_hand(), defect=False), (W, H))
    assert not np.array_equal(unit.image, traced)  # a well-formed hand, not the malformed one traced
    assert unit.label == "openpose" and describe([unit]) == "openpose(0.8)"


def test_off_switch_and_units_without_a_guide():
    region = hand_region(malformed_hand())
    assert control_units("hand", [region], DEFAULTS.replace(use_controlnet=False), W, H) == ()
    assert control_units("hand", [region], DEFAULTS.replace(controlnet_hand=False), W, H) == ()
    bare = Region("hand", (10, 10, 50, 50), 0.9, "defect")  # no landmarks: no guide, so no unit
    assert control_units("hand", [bare], DEFAULTS, W, H) == ()
    assert control_units("face", [Region("face", (10, 10, 50, 50), 0.9)], DEFAULTS, W, H) == ()  # face unit off
    o = DEFAULTS.replace(controlnet_face=True)
    assert control_units("face", [Region("face", (10, 10, 50, 50), 0.9)], o, W, H) == ()  # no mesh, no guide


def test_several_regions_of_a_pass_share_one_image_by_pixelwise_max():
    a = canonical_hand().copy()
    b = a.copy()
    a[:, :2] = a[:, :2] * 0.4 + 5
    b[:, :2] = b[:, :2] * 0.4 + 120
    ra, rb = hand_region(a, defect=False), hand_region(b, defect=False)
    (unit,) = control_units("hand", [ra, rb], DEFAULTS, W, H)
    assert np.array_equal(unit.image, np.maximum(hand_guide(ra, (W, H)), hand_guide(rb, (W, H))))


def test_which_units_serve_which_pass():
    o = DEFAULTS.replace(controlnet_depth=True, controlnet_inpaint=True, controlnet_tile=True,
                         controlnet_tile_module="auto")
    hand = control_units("hand", [hand_region(malformed_hand())], o, W, H)
    assert [(u.kind, u.module, u.keywords) for u in hand] == [
        ("hand", "none", ("openpose",)), ("depth", "depth_hand_refiner", ("depth_hand", "depth")),
        ("inpaint", "inpaint_only", ("inpaint",)), ("tile", "tile_resample", ("tile",))]
    assert all(u.image is None for u in hand[1:])  # the preprocessors work on the pass's own image
    face = control_units("face", [Region("face", (10, 10, 60, 60), 0.9)], o, W, H)
    assert [(u.kind, u.module) for u in face] == [("depth", "depth_midas"), ("inpaint", "inpaint_only"),
                                                  ("tile", "tile_resample")]
    text = control_units("text", [Region("text", (10, 10, 60, 30), 0.9)], o, W, H)
    assert [u.kind for u in text] == ["inpaint", "tile"] and {u.target for u in text} == {"text"}
    mine = control_units("hand", [hand_region(malformed_hand())], o.replace(controlnet_hand_module="openpose_hand"),
                         W, H)[0]
    assert mine.module == "openpose_hand" and mine.image is None  # the extension's own preprocessor


def test_options_carry_weight_guidance_and_mode():
    o = DEFAULTS.replace(controlnet_hand_weight=1.3, controlnet_hand_start=0.6, controlnet_hand_end=0.2,
                         controlnet_hand_mode="controlnet", controlnet_hand_model="my_pose")
    (u,) = control_units("hand", [hand_region(malformed_hand())], o, W, H)
    assert (u.weight, u.guidance_start, u.guidance_end, u.control_mode, u.model) == (1.3, 0.6, 0.6, "controlnet",
                                                                                     "my_pose")


def test_auto_model_matching():
    assert pick_model(("openpose",), MODELS) == "control_v11p_sd15_openpose [cab727d4]"
    assert pick_model(("openpose",), MODELS, sdxl=True) == "thibaud_xl_openpose [c7b9cadd]"
    # an inpaint_depth_hand model is neither the inpaint nor the depth model, but is the hand-refiner one
    assert pick_model(("inpaint",), MODELS) == "control_v11p_sd15_inpaint [ebff9138]"
    assert pick_model(("depth",), MODELS) == "control_v11f1p_sd15_depth [cfd03158]"
    assert pick_model(("depth_hand", "depth"), MODELS) == "control_sd15_inpaint_depth_hand_fp16 [09456e54]"
    assert pick_model(("depth_hand", "depth"), MODELS[1:]) == "control_v11f1p_sd15_depth [cfd03158]"
    assert pick_model(("tile",), MODELS) == "control_v11f1e_sd15_tile [a371b31b]"
    assert pick_model(("openpose",), ["control_v11f1e_sd15_tile [a371b31b]"]) is None
    assert pick_model(("openpose",), []) is None


def test_explicit_models_and_modules_resolve_as_the_host_spells_them():
    def unit(model: str) -> ControlUnit:
        return ControlUnit("hand", model=model, keywords=("openpose",))

    assert resolve_model(unit("auto"), MODELS) == "control_v11p_sd15_openpose [cab727d4]"
    assert resolve_model(unit("control_v11p_sd15_openpose [cab727d4]"), MODELS) == MODELS[4]
    assert resolve_model(unit("Control_V11p_SD15_openpose"), MODELS) == MODELS[4]  # hash and case left out
    assert resolve_model(unit("control_v11p_sd15_openpose [00000000]"), MODELS) == MODELS[4]  # a stale hash
    assert resolve_model(unit("nope"), MODELS) is None
    assert resolve_module("none", ["None", "canny"]) == "None"  # Forge's spelling
    assert resolve_module("none", ["none", "canny"]) == "none"
    assert resolve_module("depth_hand_refiner", ["none", "canny"]) is None


def test_option_block_is_one_group_with_every_unit():
    keys = [f.key for f in FIELDS if f.group == G_CONTROLNET]
    order = [f.key for f in FIELDS]
    core = [k for k in keys if not k.startswith("controlnet_body")]
    assert keys[0] == "use_controlnet" and order[order.index(keys[0]):][:len(core)] == core  # one block
    body = [k for k in keys if k.startswith("controlnet_body")]
    start = order.index(body[0])  # the body unit came later: one block after all that existed then
    assert order[start:start + len(body)] == body and start > order.index("detect_waxy_skin")
    for unit in CN_UNITS:
        for what in ("", "_module", "_model", "_weight", "_start", "_end", "_mode"):
            assert f"controlnet_{unit}{what}" in keys
    assert DEFAULTS.controlnet_hand and not DEFAULTS.controlnet_face and not DEFAULTS.controlnet_depth
    assert not DEFAULTS.controlnet_body
    assert not DEFAULTS.controlnet_inpaint and not DEFAULTS.controlnet_tile
    assert {f.key: f for f in FIELDS}["controlnet_hand_mode"].choice_list() == CONTROL_MODES
    with pytest.raises(Exception, match="controlnet_hand_weight"):
        DEFAULTS.replace(controlnet_hand_weight=2.5)


def test_result_keys_are_not_options_and_do_not_paste_back():
    assert CONTROLNET in RESULT_KEYS and NOTE in RESULT_KEYS
    assert not {CONTROLNET, NOTE} & {f.infotext_key for f in FIELDS}
    pasted = from_infotext({CONTROLNET: "hand=openpose(0.8)", NOTE: "ControlNet: not installed",
                            "QFix enable": "True"})
    assert pasted.get("controlnet_hand_weight", DEFAULTS.controlnet_hand_weight) == DEFAULTS.controlnet_hand_weight


class Recorder:
    """An inpainter that records the units each pass asked for and paints the mask white."""

    def __init__(self):
        self.units: list[tuple[ControlUnit, ...]] = []

    def inpaint(self, image, mask, prompt, negative, seed, params: InpaintParams):
        self.units.append(params.units)
        out = image.copy()
        out[mask > 127] = 255
        return out


@pytest.mark.parametrize("on", [True, False])
def test_the_loop_hands_each_pass_its_units(on):
    region = hand_region(malformed_hand())
    image = np.full((H, W, 3), 100, np.uint8)

    def diagnose(img):
        bad = int(img[200, 200, 0]) == 100
        return ImageReport(None, W, H, 0.5 if bad else 0.8, "fake", regions=(region,) if bad else ())

    rec = Recorder()
    o = DEFAULTS.replace(enable=True, rounds=1, use_controlnet=on)
    run_fix_loop(image, o, diagnose=diagnose, inpainter=rec, check_regions=lambda a, b, groups: ())
    assert len(rec.units) == 1
    if on:
        (unit,) = rec.units[0]
        assert unit.kind == "hand" and np.array_equal(unit.image, guidance.guide_image("hand", [region], W, H))
    else:
        assert rec.units[0] == ()


def test_unit_options_round_trip_through_infotext_and_presets(tmp_path):
    from lib_qfix.options import to_infotext
    from lib_qfix.presets import load_preset, save_preset

    o = DEFAULTS.replace(controlnet_hand_weight=1.1, controlnet_depth=True, controlnet_tile_mode="prompt",
                         controlnet_face_model="control_v11p_sd15_openpose [cab727d4]")
    pairs = to_infotext(o)
    assert pairs["QFix controlnet hand weight"] == 1.1 and pairs["QFix controlnet depth"] is True
    back = DEFAULTS.replace(**from_infotext({k: str(v) for k, v in pairs.items()}))
    assert back == o
    save_preset("cn", o, tmp_path)
    assert DEFAULTS.replace(**load_preset("cn", tmp_path)) == o  # a preset stores what differs


def test_a_body_pass_gets_the_pose_skeleton():
    from lib_qfix.guides import body_guide

    pts = np.full((33, 2), np.nan)
    joints = {0: (128, 40), 11: (150, 70), 12: (106, 70), 13: (165, 110), 14: (91, 110), 15: (170, 150),
              16: (86, 150), 23: (140, 150), 24: (116, 150), 25: (142, 200), 26: (114, 200), 27: (144, 245),
              28: (112, 245), 2: (122, 34), 5: (134, 34), 7: (140, 38), 8: (116, 38)}
    for i, xy in joints.items():
        pts[i] = xy
    pts = np.where(np.isnan(pts), 128.0, pts)
    region = Region("body", (80, 30, 180, 250), 0.8, "defect", (), ("extra_limb",),
                    landmarks=tuple((float(x), float(y)) for x, y in pts))
    assert control_units("body", [region], DEFAULTS, W, H) == ()  # off by default
    o = DEFAULTS.replace(controlnet_body=True, controlnet_inpaint=True)
    units = control_units("body", [region], o, W, H)
    assert [(u.kind, u.module, u.keywords, u.target) for u in units] == [
        ("body", "none", ("openpose",), "body"), ("inpaint", "inpaint_only", ("inpaint",), "body")]
    assert np.array_equal(units[0].image, body_guide(pts, (W, H))) and units[0].image.any()
    assert control_units("hand", [hand_region(malformed_hand())], o, W, H)[0].kind == "hand"  # body serves body
