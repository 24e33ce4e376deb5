"""``fix_image`` and ``qfix fix`` on the tiny pipeline: keep-best with the real diagnosis, a kept
repair written with the image's A1111 parameters plus QFix's keys, the report, resuming after an
interruption, and one-line errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from diffusers_support import INFOTEXT, model_dir, options, photo, pipe, write_png
from PIL import Image

from lib_qfix import diagnose as diagnosis
from lib_qfix.cli import main
from lib_qfix.diffusers_host import INSTALL, DiffusersFixer, fix_image
from lib_qfix.fix import fidelity
from lib_qfix.fixrun.engine import run_local
from lib_qfix.fixrun.records import FIXED, UNCHANGED
from lib_qfix.fixrun.resume import NAME, ResumeLog, fingerprint
from lib_qfix.judge.pnginfo import read_infotext
from lib_qfix.types import DEFECT, ImageReport, Region
from testkit.fake_a1111.host_infotext import build

a1111 = build(None, None).parse_generation_parameters
FACE = (60, 20, 130, 100)


def _planted(original: np.ndarray):
    """A diagnosis that finds a bad face on ``original`` and judges any other image better."""
    def diagnose(img, *args, **kwargs):
        if np.array_equal(img, original):
            return ImageReport(None, img.shape[1], img.shape[0], 0.40, "offline",
                               regions=(Region("face", FACE, 0.9, DEFECT, ("blurry",), ("blurry_face",)),))
        return ImageReport(None, img.shape[1], img.shape[0], 0.80, "offline",
                           regions=(Region("face", FACE, 0.9),))
    return diagnose


def _no_checks(options, prompt=""):
    return lambda before, after, groups: ()


def test_keep_best_never_returns_a_worse_image():
    img = photo()
    out = fix_image(img, pipe=pipe(), options=options(), prompt="an astronaut", seed=3)
    assert out.rounds and out.rounds[0].actions[0].status == "done"  # the face was repainted
    assert not out.changed and out.image is img and out.result() == "unchanged (results rejected)"


def test_region_checks_reject_random_paint_whatever_the_score_says():
    img = photo()
    out = fix_image(img, pipe=pipe(), options=options(), prompt="an astronaut", seed=3, diagnose=_planted(img))
    # the real region checks (detectors on the crop) see random paint: the face is "lost"
    assert not out.changed and "face lost" in out.rejections()


def test_a_kept_repair_changes_only_the_masked_face(monkeypatch):
    monkeypatch.setattr(fidelity, "region_checker", _no_checks)
    img = photo()
    opts = options(mask_dilation=0, mask_feather=4)
    out = fix_image(img, pipe=pipe(), options=opts, prompt="an astronaut", seed=3, diagnose=_planted(img))
    assert out.changed and out.result() == "kept" and out.fixed_summary() == "face"
    x0, y0, x1, y1 = FACE
    outside = np.ones(img.shape[:2], bool)
    outside[y0 - 8:y1 + 8, x0 - 8:x1 + 8] = False  # the face box and its feathered edge
    assert np.array_equal(out.image[outside], img[outside])
    again = DiffusersFixer(pipe()).run(img, opts.replace(face_restorer="CodeFormer"), prompt="an astronaut", seed=3,
                                      diagnose=_planted(img))
    assert np.array_equal(again.outcome.image, out.image)  # the same seed, the same repair
    assert again.pairs["QFix fixed"] == "face" and "no restorer outside A1111" in again.pairs["QFix note"]


def test_cli_writes_fixed_images_with_a1111_parameters(tmp_path, monkeypatch, capsys):
    img = photo()
    src = write_png(tmp_path / "in" / "a.png", img)
    write_png(tmp_path / "in" / "sub" / "plain.png", photo("coffee", (160, 120)), infotext=None)
    monkeypatch.setattr(diagnosis, "diagnose", lambda image, *a, **k: _planted(img)(image))
    monkeypatch.setattr(fidelity, "region_checker", _no_checks)
    before = src.read_bytes()
    out = tmp_path / "out"
    rc = main(["fix", str(tmp_path / "in"), "--model", model_dir(), "--out", str(out), "--no-progress",
               "--set", "inpaint_resolution=64", "--set", "rounds=1", "--set", "use_controlnet=false"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "2 images: 1 fixed, 1 unchanged, 0 failed" in text
    assert src.read_bytes() == before  # the original is never written
    fixed = np.asarray(Image.open(out / "a.png").convert("RGB"))
    assert not np.array_equal(fixed, img)
    host = a1111(read_infotext(out / "a.png"))  # what A1111's PNG Info shows
    own = a1111(INFOTEXT)
    assert all(host[k] == v for k, v in own.items())  # every original parameter, unchanged
    assert host["QFix result"] == "kept" and host["QFix fixed"] == "face" and host["QFix enable"] == "True"
    assert float(host["QFix score after"]) > float(host["QFix score before"])
    plain = a1111(read_infotext(out / "sub" / "plain.png"))
    assert plain["Seed"] == "0" and plain["Steps"] == "20" and plain["Model"] == "tiny-sd"
    assert plain["QFix result"] == "unchanged (nothing to fix)"
    page = (out / "report.html").read_text()
    assert page.count("data:image/jpeg;base64,") == 3 and "fixed: face" in page and "0.400" in page
    doc = json.loads((out / "results.json").read_text())
    assert [r["status"] for r in doc["records"]] == [FIXED, UNCHANGED]


def test_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch, capsys):
    from lib_qfix.cli.fix_support import collect_tasks
    from lib_qfix.diffusers_host.job import FixJob

    monkeypatch.setattr(diagnosis, "diagnose", lambda image, *a, **k: ImageReport(
        None, image.shape[1], image.shape[0], 0.9, "offline"))  # nothing to fix: fast
    for i in range(3):
        write_png(tmp_path / "in" / f"{i}.png", photo(size=(64, 64)))
    out = tmp_path / "out"
    tasks, _ = collect_tasks([str(tmp_path / "in")], str(out))
    job = FixJob(model_dir(), options())
    log = ResumeLog(out / NAME, fingerprint(job.settings()))
    assert not run_local(tasks, job, log.add, should_stop=lambda: True, worker=job.build(pipe()))  # "crash"
    log.close()
    with open(out / NAME, "a") as f:
        f.write('{"path": "torn')  # the write the crash cut off
    rc = main(["fix", str(tmp_path / "in"), "--model", model_dir(), "--out", str(out), "--no-progress",
               "--set", "inpaint_resolution=64", "--set", "steps=4", "--set", "rounds=1", "--set", "mode=fix_all",
               "--set", "use_controlnet=false"])
    text = capsys.readouterr().out
    assert rc == 0 and "3 images: 0 fixed, 3 unchanged, 0 failed (1 resumed" in text
    lines = (out / NAME).read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(x) for x in lines)  # header + 3, the torn line gone
    # other settings: everything is done again
    main(["fix", str(tmp_path / "in"), "--model", model_dir(), "--out", str(out), "--no-progress", "--seed", "9"])
    assert "(0 resumed" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--model", "/no/such/model"], "--model /no/such/model: no such folder or file"),
    (["--model", "someone/some-model"], "not in the Hugging Face cache while offline"),
    (["--model", "M", "--controlnet", "openpose"], "--controlnet 'openpose' is not allowed"),
    (["--model", "CKPT"], "a single-file checkpoint needs its diffusers configuration"),
])
def test_bad_models_are_one_line_errors(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if "CKPT" in argv:
        from safetensors.torch import save_file

        save_file({"model.diffusion_model.x": torch.zeros(1)}, str(tmp_path / "m.safetensors"))
        argv = ["--model", str(tmp_path / "m.safetensors")]
    write_png(tmp_path / "in" / "a.png", photo(size=(64, 64)))
    rc = main(["fix", str(tmp_path / "in"), "--out", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()  # nothing written by a run that could not start


def test_missing_diffusers_names_the_pip_command(tmp_path, monkeypatch, capsys):
    import lib_qfix.diffusers_host as host

    monkeypatch.setattr(host, "REQUIRED", ("diffusers", "no_such_module_qfix"))
    rc = main(["fix", str(tmp_path), "--model", "x"])
    err = capsys.readouterr().err
    assert rc == 2 and INSTALL in err and re.match(r"qfix: error: no_such_module_qfix not installed", err)


def test_results_never_replace_a_source(tmp_path, capsys):
    write_png(tmp_path / "a.png", photo(size=(64, 64)))
    rc = main(["fix", str(tmp_path), "--model", model_dir(), "--out", str(tmp_path)])
    assert rc == 2 and "originals are never overwritten" in capsys.readouterr().err
