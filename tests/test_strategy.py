"""Fix strategy per defect: the catalogue's table, the ``strategies`` option (and presets), and what
the plan and the loop do with it (recording fakes: decisions, not pixels)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lib_qfix import presets
from lib_qfix.fix import strategy as st
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.fix.plan import plan_round, select_regions
from lib_qfix.options import DEFAULTS, OptionError, json_schema, validate
from lib_qfix.prompts.catalogue import CATALOGUE, DEFAULT_STRATEGY, STRATEGIES, default_strategy
from lib_qfix.protocols import ControlUnit
from lib_qfix.types import DEFECT, OK, ImageReport, Region

H, W = 96, 128
HAND = Region("hand", (10, 20, 50, 70), 0.9, DEFECT, ("6 fingers",), ("extra_fingers",), "hand")
FACE = Region("face", (70, 10, 120, 60), 0.9, DEFECT, ("blurry",), ("blurry_face",), "face")
LOGO = Region("watermark", (100, 70, 124, 92), 0.8, DEFECT, ("mark",), ("logo",), "logo")
BLUR = Region("blur", None, 0.8, DEFECT, ("blurry",), ("blur",), "offline")
NOISE = Region("noise", None, 0.7, DEFECT, ("noisy",), ("noise",), "offline")
CLUTTER = Region("clutter", None, 0.9, DEFECT, ("busy",), ("cluttered_background",), "composition")


def report(quality, *regions):
    return ImageReport(None, W, H, quality, "fake", regions=tuple(regions))


def image(tag):
    out = np.zeros((H, W, 3), np.uint8)
    out[0, 0, 0] = tag
    return out


def opts(**kw):
    return DEFAULTS.replace(enable=True, **kw)


# --- the table ---------------------------------------------------------------------------------

def test_every_defect_has_a_known_strategy():
    for defect in CATALOGUE:
        assert default_strategy(defect) in STRATEGIES, defect
    assert set(DEFAULT_STRATEGY) <= set(CATALOGUE)
    assert set(DEFAULT_STRATEGY.values()) <= set(STRATEGIES)


def test_the_seeds_decision_table():
    assert DEFAULT_STRATEGY["extra_fingers"] == "inpaint_pose"  # anatomy: ControlNet pose + inpaint
    assert DEFAULT_STRATEGY["blurry_face"] == "inpaint"  # a local defect
    assert DEFAULT_STRATEGY["blur"] == "regenerate_steps"  # blur: more steps
    for d in ("watermark", "signature", "text", "logo"):
        assert DEFAULT_STRATEGY[d] == "inpaint_text"  # text negatives
    for d in ("noise", "jpeg", "low_quality", "cluttered_background", "wrong_era"):
        assert DEFAULT_STRATEGY[d] == "regenerate_keywords"  # keywords + negatives, same seed
    assert default_strategy("some_new_defect") == "inpaint"
    assert default_strategy("some_new_defect", local=False) == "regenerate_keywords"


# --- the option --------------------------------------------------------------------------------

def test_option_parses_and_overrides():
    o = validate({"strategies": "blur=report; Text = inpaint,\ncropped:regenerate_steps"})
    table = st.strategy_table(o.strategies)
    assert table["blur"] == "report" and table["text"] == "inpaint" and table["cropped"] == "regenerate_steps"
    assert table["logo"] == "inpaint_text"  # the rest keep the catalogue's
    assert st.strategy_table("") == {d: default_strategy(d) for d in CATALOGUE}


@pytest.mark.parametrize("value, words", [
    ("blur=paint", "unknown strategy 'paint' (did you mean 'inpaint'?)"),
    ("blurr=report", "unknown defect 'blurr' (did you mean 'blur'?)"),
    ("blur", "'defect=strategy' pairs"),
    ("x" * 3000, "at most 2000 characters"),
])
def test_bad_overrides_are_one_line_field_errors(value, words):
    with pytest.raises(OptionError) as e:
        validate({"strategies": value})
    assert e.value.field == "strategies" and words in str(e.value) and "\n" not in str(e.value)


def test_presets_may_write_an_object(tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps({"schema_version": 1, "options": {
        "strategies": {"blur": "regenerate_keywords", "text": "report"}}}))
    o = presets.resolve_options("mine", user_dir=tmp_path)
    assert st.parse_strategies(o.strategies) == {"blur": "regenerate_keywords", "text": "report"}
    (tmp_path / "bad.json").write_text(json.dumps({"schema_version": 1, "options": {"strategies": {"blur": "x"}}}))
    errors = presets.validate_file(tmp_path / "bad.json")
    assert len(errors) == 1 and errors[0].field == "options.strategies" and "unknown strategy 'x'" in str(errors[0])
    saved = presets.save_preset("round", o, user_dir=tmp_path)
    assert presets.read_file(saved)["options"]["strategies"] == o.strategies


def test_schema_shows_the_table():
    schema = json_schema()
    table = schema["x-fix-strategies"]
    assert set(table["strategies"]) == set(STRATEGIES)
    assert table["defaults"]["blur"] == "regenerate_steps" and set(table["defaults"]) == set(CATALOGUE)
    assert "inpaint_pose" in schema["properties"]["strategies"]["description"]


# --- one region, one strategy ------------------------------------------------------------------

def test_region_and_group_strategy():
    table = st.strategy_table("")
    both = Region("text", (0, 0, 9, 9), 0.9, DEFECT, (), ("text", "garbled_text"), "text")
    assert st.region_strategy(both, table) == "inpaint_text"  # text beats plain inpaint
    assert st.region_strategy(HAND, table) == "inpaint_pose"
    assert st.region_strategy(BLUR, table) == "regenerate_steps"
    assert st.region_strategy(Region("text", None, 1, DEFECT, (), ("text",)), table) == "regenerate_keywords"
    ok_face = Region("face", (0, 0, 9, 9), 0.9, OK)
    assert st.region_strategy(ok_face, table) == "inpaint_pose"  # fix_all: the kind's default defect
    assert st.group_strategy([FACE, HAND], table) == "inpaint_pose"
    assert st.region_strategy(HAND, st.strategy_table("extra_fingers=report")) == "report"


def test_pose_units_only_for_pose_passes():
    units = (ControlUnit("hand"), ControlUnit("depth"), ControlUnit("inpaint"), ControlUnit("tile"))
    assert st.strategy_units("inpaint_pose", units) == units
    assert [u.kind for u in st.strategy_units("inpaint", units)] == ["inpaint", "tile"]
    assert [u.kind for u in st.strategy_units("inpaint_text", units)] == ["inpaint", "tile"]


def test_regenerate_plan():
    table = st.strategy_table("")
    plan = st.regenerate_plan([BLUR, NOISE, HAND], table)
    assert plan is not None and plan.steps_scale == st.STEPS_SCALE
    assert plan.regions == (BLUR, NOISE)  # the hand is repainted, not regenerated
    assert plan.keywords == CATALOGUE["noise"].positives  # keywords come from regenerate_keywords findings
    assert st.regenerate_plan([HAND], table) is None
    assert st.regenerate_plan([BLUR], st.strategy_table("blur=report")) is None
    assert st.scaled_steps(20, 1.5) == 30 and st.scaled_steps(120, 1.5) == 150 and st.scaled_steps(200, 1.5) == 200


# --- the plan ----------------------------------------------------------------------------------

def test_plan_skips_regions_whose_strategy_does_not_repaint():
    rep = report(0.3, HAND, FACE, LOGO, BLUR)
    assert select_regions(rep, opts()) == [HAND, FACE, LOGO]
    assert select_regions(rep, opts(strategies="blurry_face=report, logo=regenerate_keywords")) == [HAND]
    assert FACE in select_regions(rep, opts(mode="fix_all", strategies="blurry_face=report"))  # fix_all: every face


def test_plan_groups_carry_their_strategy_and_text_negatives():
    groups = {g.kind: g for g in plan_round(report(0.3, HAND, FACE, LOGO), opts(), "a photo", "ugly")}
    assert groups["hand"].strategy == "inpaint_pose" and groups["face"].strategy == "inpaint"
    logo = groups["watermark"]
    assert logo.strategy == "inpaint_text"
    assert "(logo:1.3)" in logo.negative and "(text:1.2)" in logo.negative and "(watermark:1.3)" in logo.negative
    assert "(text:" not in groups["face"].negative
    plain = {g.kind: g for g in plan_round(report(0.3, LOGO), opts(strategies="logo=inpaint"), "p", "")}
    assert "(text:" not in plain["watermark"].negative and "(logo:1.3)" in plain["watermark"].negative


# --- the loop ----------------------------------------------------------------------------------

class Diag:
    def __init__(self, table):
        self.table = table

    def __call__(self, img):
        return self.table[int(img[0, 0, 0])]


class Inpainter:
    def __init__(self):
        self.calls = []

    def inpaint(self, img, mask, prompt, negative, seed, params):
        self.calls.append({"negative": negative, "units": params.units})
        out = img.copy()
        out[0, 0, 0] = 9
        return out


def test_regeneration_asks_for_more_steps_and_keywords():
    calls = []

    def regen(negative, seed, prompt="", steps_scale=1.0):
        calls.append({"negative": negative, "seed": seed, "prompt": prompt, "steps_scale": steps_scale})
        return image(5)

    diag = Diag({0: report(0.3, BLUR, NOISE), 5: report(0.8)})
    out = run_fix_loop(image(0), opts(regenerate=True), diagnose=diag, inpainter=Inpainter(), prompt="a cat",
                       negative="lowres", seed=7, regenerate=regen)
    assert len(calls) == 1 and out.changed
    call = calls[0]
    assert call["steps_scale"] == st.STEPS_SCALE and call["seed"] == 7
    assert call["prompt"].startswith("a cat") and "clean" in call["prompt"]  # noise's positives
    assert "blurry" in call["negative"] and "lowres" in call["negative"]
    assert out.rounds[0].actions[0].prompt == call["prompt"]


def test_regeneration_follows_the_overrides():
    calls = []

    def regen(negative, seed, **kw):
        calls.append(kw)
        return image(5)

    diag = Diag({0: report(0.3, BLUR), 5: report(0.8)})
    run_fix_loop(image(0), opts(regenerate=True, strategies="blur=report"), diagnose=diag, inpainter=Inpainter(),
                 regenerate=regen)
    assert calls == []  # reported only
    diag = Diag({0: report(0.3, CLUTTER), 5: report(0.8)})
    run_fix_loop(image(0), opts(regenerate=True), diagnose=diag, inpainter=Inpainter(), prompt="p", regenerate=regen)
    assert calls and calls[0]["steps_scale"] == 1.0 and "simple background" in calls[0]["prompt"]


def test_inpaint_passes_keep_pose_units_only_for_anatomy(monkeypatch):
    from lib_qfix.fix import loop

    units = (ControlUnit("hand"), ControlUnit("inpaint"))
    monkeypatch.setattr(loop, "control_units", lambda *a, **k: units)
    ip = Inpainter()
    diag = Diag({0: report(0.3, HAND, LOGO), 9: report(0.9)})
    run_fix_loop(image(0), opts(rounds=1), diagnose=diag, inpainter=ip, check_regions=lambda *a: ())
    kinds = [[u.kind for u in c["units"]] for c in ip.calls]
    assert kinds == [["hand", "inpaint"], ["inpaint"]]  # the hand pass (pose), then the logo pass


# --- through the A1111 adapter (fake host) ------------------------------------------------------

def test_a1111_regeneration_gets_more_steps_and_the_keywords(monkeypatch, tmp_path):
    from testkit.fake_a1111 import install
    from testkit.fake_a1111.host_api import api_args, make_runner, txt2img

    host = install(monkeypatch, tmp_path)

    def diagnose(img, options, *, scorer=None, prompt="", path=None):
        bad = (BLUR, NOISE) if int(img[0, 0, 0]) != 200 else ()
        return ImageReport(path, img.shape[1], img.shape[0], 0.4 if bad else 0.9, "fake", regions=bad)

    monkeypatch.setattr("lib_qfix.diagnose.diagnose", diagnose)
    from lib_qfix.a1111.script import QFixScript

    script = QFixScript()
    runner, defaults = make_runner(host, script)
    args = api_args(runner, defaults, {"QFix": {"args": [{"enable": True, "regenerate": True, "rounds": 0}]}})
    p, _ = txt2img(host, runner, args, is_api=True, width=128, height=128, steps=20, prompt="a cat")
    regens = [q for q in host.passes if q is not p]
    assert len(regens) == 1, host.passes
    q = regens[0]
    assert q.steps == 30 and q.seed == p.all_seeds[0]  # blur: 1.5x the steps
    assert q.prompt.startswith("a cat") and "clean" in q.prompt  # noise: its quality keywords
    assert "(blurry:1.3)" in q.negative_prompt and "(noisy:1.2)" in q.negative_prompt
