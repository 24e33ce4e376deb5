"""The always-on script on the fake host: hooks, args (UI tuple and API dict), inner passes,
no recursion, best-not-last, interrupt, infotext paste-back, bad args."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lib_qfix.fix.outcome import RegionCheck
from lib_qfix.options import DEFAULTS, FIELDS, positional
from lib_qfix.types import DEFECT, ImageReport, Region
from testkit.fake_a1111 import host_scripts, install
from testkit.fake_a1111.host_api import api_args, make_runner, paste_args, txt2img

HAND_BOX = (40, 60, 100, 120)
CX, CY = 70, 90  # centre of the hand box


@pytest.fixture()
def host(monkeypatch, tmp_path):
    h = install(monkeypatch, tmp_path)
    h.base_image = np.full((128, 128, 3), 100, np.uint8)
    return h


@pytest.fixture()
def scripted(monkeypatch):
    """Diagnosis by pixel: the hand is defective while its centre still has the original grey;
    quality = ``quality_of[centre value]`` (default 0.5 for the original, 0.8 after a repaint)."""
    state = {"quality_of": {}, "calls": 0}

    def fake_diagnose(image, options, *, scorer=None, prompt="", path=None):
        state["calls"] += 1
        v = int(image[CY, CX, 0])
        bad = v == 100
        q = state["quality_of"].get(v, 0.5 if bad else 0.8)
        regions = (Region("hand", HAND_BOX, 0.9, DEFECT if bad else "ok", (), ("extra_fingers",) if bad else ()),)
        return ImageReport(path, image.shape[1], image.shape[0], q, "fake", regions=regions,
                           negative="(extra fingers:1.2)" if bad else "")

    def checks_pass(options, prompt=""):
        # the fake host repaints with a flat colour (a seam the real checks would reject): these
        # tests are about the plumbing, so every repainted region passes its checks
        def check(before, after, groups):
            return tuple(RegionCheck(r.kind, r.box) for g in groups for r in g.regions)

        return check

    monkeypatch.setattr("lib_qfix.diagnose.diagnose", fake_diagnose)
    monkeypatch.setattr("lib_qfix.fix.fidelity.region_checker", checks_pass)
    return state


def ui_values(**kw):
    return positional(DEFAULTS.replace(enable=True, **kw))


def run(host, args=None, api=None, **kw):
    from lib_qfix.a1111.script import QFixScript

    script = QFixScript()
    runner, defaults = make_runner(host, script)
    if api is not None:
        script_args = api_args(runner, defaults, api)
    else:
        script_args = [0] + list(args if args is not None else defaults[1:])
    kw.setdefault("width", 128)
    kw.setdefault("height", 128)
    p, processed = txt2img(host, runner, script_args, is_api=api is not None, **kw)
    return script, p, processed


def test_hooks_inner_passes_and_no_recursion(host, scripted):
    script, p, processed = run(host, ui_values(rounds=2))
    hooks = [h for h, _ in host.calls]
    assert hooks.count("postprocess_image") == 1  # the inner pass did not run QFix again
    assert len(host.inner) == 1 and host.inner[0]["scripts"] is None
    inner = host.inner[0]
    assert inner["seed"] == p.all_seeds[0] and inner["prompt"].startswith("a portrait photo")
    assert "five fingers" in inner["prompt"] and "lowres" in inner["negative"]
    assert "finger" in inner["negative"].replace("lowres", "")  # catalogue's weighted negatives
    assert inner["fill"] == 1 and inner["full_res"] and inner["padding"] == DEFAULTS.inpaint_padding
    assert inner["width"] % 8 == 0 and not inner["save"]
    m = inner["mask"]
    assert m[CY, CX] == 255 and m[5, 5] == 0
    out = np.asarray(processed.images[0])
    assert out[CY, CX, 0] != 100 and (out[5, 5] == 100).all()  # changed inside the mask only
    assert not host.errors
    info = processed.infotexts[0]
    assert "QFix score before: 0.500" in info and "QFix score after: 0.800" in info
    assert "QFix fixed: hand" in info and "QFix rounds used: 1" in info and "QFix enable: True" in info
    assert "QFix rounds:" not in info and "QFix result: kept" in info  # the setting (2) is the preset's
    assert all(pp.closed for pp in host.passes[1:])


def test_api_dict_is_merged_over_preset_and_junk_ignored(host, scripted):
    _, p, processed = run(host, api={"qfix": {"args": [{"hand_confidence": 0.7, "rounds": 1}, "junk"]}})
    assert len(host.inner) == 1  # enabled by the dict; the trailing junk did not shift anything
    info = processed.infotexts[0]
    assert "QFix hand confidence: 0.7" in info and "QFix preset: default" in info


def test_disabled_by_default_and_untouched(host, scripted):
    _, _, processed = run(host)
    assert host.inner == [] and "QFix" not in processed.infotexts[0]
    assert scripted["calls"] == 0


@pytest.mark.parametrize("bad, text", [
    ({"denoise": 3}, "QFix error: \"denoise: 3"),
    ({"hand_confidense": 0.5}, "hand_confidense"),
    ({"preset": "no-such-preset"}, "QFix error: \"preset: 'no-such-preset' is not allowed"),
])
def test_bad_api_dict_leaves_image_untouched_with_error(host, scripted, bad, text):
    _, p, processed = run(host, api={"QFix": {"args": [bad]}})
    assert host.inner == [] and scripted["calls"] == 0
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image)
    assert text in processed.infotexts[0]
    assert "QFix error" in processed.js()  # reaches the API response's info


def test_batch_seeds_per_image_index(host, scripted):
    _, p, processed = run(host, ui_values(rounds=1), batch_size=2, n_iter=2)
    assert [i["seed"] for i in host.inner] == p.all_seeds == [1234, 1235, 1236, 1237]
    assert len(processed.infotexts) == 4 and all("QFix score after" in t for t in processed.infotexts)
    assert host.modules["modules.shared"].state.job_count == 2 + 4  # outer batches + inner passes


def test_best_not_last(host, scripted, monkeypatch):
    # the first repaint fixes the hand (no defect left), so round 2 does not run: stop early
    run(host, ui_values(rounds=2))
    assert len(host.inner) == 1
    # now the hand stays defective; round 1 scores 0.7, round 2 scores 0.6: round 1 is kept
    host.inner.clear()
    tags = []

    def paint(pi):
        from PIL import Image

        img = np.asarray(pi.init_images[0]).copy()
        tags.append(len(tags) + 1)
        img[0, 0] = tags[-1]  # the hand centre keeps its grey: still "defective"
        return Image.fromarray(img)

    def diag(image, options, *, scorer=None, prompt="", path=None):
        q = {100: 0.5, 1: 0.7, 2: 0.6}[int(image[0, 0, 0])]
        return ImageReport(None, 128, 128, q, "fake",
                           regions=(Region("hand", HAND_BOX, 0.9, DEFECT, (), ("extra_fingers",)),))

    monkeypatch.setattr("lib_qfix.diagnose.diagnose", diag)
    host.inpaint_fn = paint
    _, p, processed = run(host, ui_values(rounds=2))
    assert len(host.inner) == 2 and [i["seed"] for i in host.inner] == [1234, 1235]
    assert int(np.asarray(processed.images[0])[0, 0, 0]) == 1  # round 1 kept, not round 2
    assert "QFix score after: 0.700" in processed.infotexts[0]


def test_interrupt_discards_pass_and_keeps_image(host, scripted):
    state = host.modules["modules.shared"].state
    host.on_inner = lambda p: state.interrupt()
    _, p, processed = run(host, ui_values(rounds=2))
    assert len(host.inner) == 1  # the first pass started, was interrupted; no second
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image)
    assert "interrupted" in processed.infotexts[0]


def test_skip_during_pass_is_honoured(host, scripted):
    # a skip pressed during an inner pass survives it (the inner loop ran its one iteration);
    # QFix discards that pass's output and stops
    state = host.modules["modules.shared"].state
    host.on_inner = lambda p: state.skip()
    _, p, processed = run(host, ui_values(rounds=2))
    assert len(host.inner) == 1
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image)
    assert "skipped" in processed.infotexts[0]


def test_params_txt_is_kept(host, scripted):
    run(host, ui_values(rounds=1))
    text = (host.data_path / "params.txt").read_text()
    assert text.startswith("a portrait photo") and "Size: 128x128" in text


def test_infotext_round_trips_through_paste(host, scripted):
    o = dict(hand_confidence=0.65, mask_dilation=12, face_prompt="[PROMPT], a face: smiling, eyes",
             detect_text=False, rounds=1, mode="fix_all")
    script, p, processed = run(host, ui_values(**o))
    info = processed.infotexts[0]
    # paste into a panel showing other values: every QFix option comes back (the extension's
    # on_infotext_pasted fills what the infotext leaves out from the preset)
    from lib_qfix.a1111 import callbacks

    callbacks.register()
    current = positional(DEFAULTS.replace(hand_confidence=0.1, rounds=4, denoise=0.9))
    pasted = paste_args(host, script, info, current)
    from lib_qfix.a1111.args import parse_args

    back = parse_args(pasted).options
    assert back == DEFAULTS.replace(enable=True, **o)
    assert len(script.infotext_fields) == len(FIELDS)


def test_face_restorer_restricted_to_mask(host, monkeypatch):
    def diag(image, options, *, scorer=None, prompt="", path=None):
        bad = int(image[CY, CX, 0]) == 100
        return ImageReport(None, 128, 128, 0.5 if bad else 0.9, "fake",
                           regions=(Region("face", HAND_BOX, 0.9, DEFECT if bad else "ok", (), ("blurry_face",)),))

    monkeypatch.setattr("lib_qfix.diagnose.diagnose", diag)
    _, p, processed = run(host, ui_values(rounds=1, face_restorer="CodeFormer", codeformer_weight=0.3))
    assert host.restore_calls == ["CodeFormer:0.3"]
    out = np.asarray(processed.images[0])
    assert (out[5, 5] == 100).all()  # the fake restorer brightens everything; outside the mask kept


def test_real_pipeline_clean_image_untouched(host):
    # the real offline scorer and detectors on a clean photo with nothing to fix
    from skimage import data

    host.base_image = data.coffee()[:384, :512]
    _, p, processed = run(host, ui_values(detect_text=False, quality_threshold=0.0), width=512, height=384)
    info = processed.infotexts[0]
    assert "QFix score before:" in info and not host.errors
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image) and host.inner == []


def test_issue_noise_painted_over_a_small_face_is_not_kept(host):
    # the issue on the host: real scorer and detectors, forced repair of a 53 px "small face" by a
    # model that paints noise; QFix used to keep the noise and claim "fixed: face"
    import cv2
    from PIL import Image
    from skimage import data

    from testkit.planted import coloured_noise

    host.base_image = cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)

    def paint_noise(pi):
        img = np.asarray(pi.init_images[0].convert("RGB")).astype(np.float64)
        a = np.asarray(pi.image_mask.convert("L"))[..., None] / 255.0
        noise = coloured_noise(img.shape, rng)
        return Image.fromarray(np.clip(img * (1 - a) + noise * a, 0, 255).astype(np.uint8))

    host.inpaint_fn = paint_noise
    _, p, processed = run(host, ui_values(detect_text=False), width=256, height=256)
    info = processed.infotexts[0]
    assert len(host.inner) == 2 and not host.errors  # both rounds tried, from the original
    assert np.array_equal(np.asarray(processed.images[0]), host.base_image)
    assert "QFix rejected: face lost" in info and "QFix result: unchanged (results rejected)" in info
    assert "QFix fixed" not in info and "QFix score after" not in info


ROOT = Path(__file__).resolve().parents[1]


def test_metadata_ini_parses_into_what_the_host_reads():
    import configparser

    config = configparser.ConfigParser()  # strict, as the host's: duplicate keys or sections fail
    assert config.read(ROOT / "metadata.ini")
    scripts = {p.name for p in (ROOT / "scripts").glob("*.py")}
    for section in config.sections():
        # the host reads [Extension] Name/Requires and [scripts]/[scripts/<file>] Requires/Before/After
        assert section == "Extension" or section == "scripts" or section.removeprefix("scripts/") in scripts
        allowed = {"name", "requires"} if section == "Extension" else {"requires", "before", "after"}
        assert set(config[section]) <= allowed, section
    after = config.get("scripts/qfix_script.py", "After").lower()
    assert "adetailer" in after.replace(",", " ").split()


def _extension(root: Path, name: str, *files: str) -> tuple[str, Path]:
    (root / name / "scripts").mkdir(parents=True)
    for f in files:
        (root / name / "scripts" / f).write_text("")
    return name, root / name


@pytest.mark.parametrize("folder", ["a-qfix", "qfix", "zz-qfix"])
def test_qfix_loads_after_the_scripts_that_change_the_image(tmp_path, folder):
    # the host sorts extension folders by name; QFix's folder is the user's choice
    ext = sorted([_extension(tmp_path, "adetailer", "!adetailer.py"),
                  _extension(tmp_path, "sd-webui-reactor", "reactor_faceswap.py"),
                  _extension(tmp_path, "aa-other", "other.py"), (folder, ROOT)])
    order = host_scripts.load_order(ext)
    mine = order.index(f"{folder}/qfix_script.py")
    assert mine > order.index("adetailer/!adetailer.py") and mine > order.index("sd-webui-reactor/reactor_faceswap.py")
    # without its metadata.ini, the same script in the same folder would run first
    bare = [e if e[0] != folder else _extension(tmp_path / "bare", folder, "qfix_script.py") for e in ext]
    bare_order = host_scripts.load_order(bare)
    assert (bare_order.index(f"{folder}/qfix_script.py") < bare_order.index("adetailer/!adetailer.py")) \
        == (folder < "adetailer")


def test_qfix_postprocess_image_sees_what_a_detailer_painted(host, scripted, tmp_path):
    # a detailer that repaints the hand in postprocess_image; in load order QFix's hook comes after
    # it, so QFix diagnoses the detailer's output (its hand centre is no longer the defective grey)
    from lib_qfix.a1111.script import QFixScript
    from testkit.fake_a1111.host_api import txt2img, ui_defaults

    scripts_mod = host.modules["modules.scripts"]

    class Detailer(scripts_mod.Script):
        def title(self):
            return "Detailer"

        def show(self, is_img2img):
            return scripts_mod.AlwaysVisible

        def postprocess_image(self, p, pp, *args):
            from PIL import Image

            img = np.asarray(pp.image).copy()
            img[CY - 5:CY + 5, CX - 5:CX + 5] = 200
            pp.image = Image.fromarray(img)

    names = host_scripts.load_order(sorted([_extension(tmp_path, "adetailer", "!adetailer.py"), ("a-qfix", ROOT)]))
    qfix, detailer = QFixScript(), Detailer()
    by_name = {"a-qfix/qfix_script.py": qfix, "adetailer/!adetailer.py": detailer}
    runner = scripts_mod.ScriptRunner([by_name[n] for n in names], False)
    defaults = ui_defaults(qfix)
    qfix.args_from, qfix.args_to = 1, 1 + len(defaults)
    detailer.args_from = detailer.args_to = qfix.args_to
    _, processed = txt2img(host, runner, [0] + ui_values(), width=128, height=128)
    hooks = [who for hook, who in host.calls if hook == "postprocess_image"]
    assert hooks == ["Detailer", "QFix"]
    assert host.inner == [] and "QFix result: unchanged (nothing to fix)" in processed.infotexts[0]


def test_models_folder_reaches_scorer_and_detectors_by_configuration(host, scripted, monkeypatch):
    # the host's models folder is handed to the scorer's config and the MediaPipe model store;
    # QFix no longer writes it into the process environment per image
    from lib_qfix import scoring
    from lib_qfix.a1111 import settings
    from lib_qfix.detect import mp_models

    monkeypatch.delenv("QFIX_MODELS", raising=False)
    monkeypatch.setattr(mp_models, "_models_dir", None)
    seen = []
    real = scoring.scorer_for
    monkeypatch.setattr(scoring, "scorer_for", lambda o, m=None: seen.append(m) or real(o, m))
    run(host, ui_values())
    assert seen == [settings.models_dir()] and "QFIX_MODELS" not in os.environ
    assert mp_models.mediapipe_dir() == Path(settings.models_dir()) / "mediapipe"
    assert scoring.scorer_config(DEFAULTS.replace(scorer="clip-iqa"), "/m")["models_dir"] == "/m"
