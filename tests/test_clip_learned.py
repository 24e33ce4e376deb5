"""Learned quality prompts: training on a synthetic blur task, the prompt file, the CLI."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from clip_tiny import register, write_configs

from lib_qfix.scoring import WeightsUnavailable

torch = pytest.importorskip("torch")
TRAIN = {"epochs": 20, "lr": 0.02, "batch_size": 8}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    register(tmp_path_factory.mktemp("clipcfg"))


@pytest.fixture(scope="module")
def blur_task(photos):
    """48 images: 4 bundled photos at 64 px, Gaussian blur sigma 0..3; score = -sigma."""
    import cv2

    rng = np.random.default_rng(0)
    base = [cv2.resize(photos[n], (64, 64), interpolation=cv2.INTER_AREA) for n in ("astronaut", "coffee",
                                                                                      "chelsea", "rocket")]
    images, scores = [], []
    for i in range(48):
        sigma = float(rng.uniform(0, 3))
        im = cv2.GaussianBlur(base[i % 4], (0, 0), sigma) if sigma > 0.2 else base[i % 4]
        images.append(np.ascontiguousarray(im))
        scores.append(-sigma)
    return images, scores


def _clip(model="qfix-tiny-vit-t4"):
    import math

    from lib_qfix.scoring.clip_model import load_clip

    torch.manual_seed(0)
    clip = load_clip(model, "random", "cpu", precision="fp32")
    clip.model.logit_scale.data.fill_(math.log(100.0))  # trained CLIPs sit at the clamp, 100
    return clip


@pytest.fixture(scope="module")
def trained(tiny, blur_task):
    from lib_qfix.scoring.clip_image import encode_images
    from lib_qfix.scoring.learned.train import train_prompts

    clip = _clip()
    feats = encode_images(blur_task[0], clip, native=False)
    return clip, train_prompts(clip, feats, blur_task[1], progress=False, seed=0, **TRAIN)


def test_training_lowers_loss_and_beats_zero_shot_on_validation(trained):
    _, r = trained
    assert r.n_train + r.n_val == 48 and r.n_val == 10
    assert r.train_loss < r.zero_shot_train_loss
    assert r.val_srcc is not None and r.zero_shot_val_srcc is not None
    assert r.val_srcc > r.zero_shot_val_srcc + 0.1
    assert r.val_srcc == r.history[-1].val_srcc  # final epoch, not a picked one
    assert len(r.history) == TRAIN["epochs"]


def test_training_is_reproducible_with_a_seed(tiny, blur_task):
    from lib_qfix.scoring.clip_image import encode_images
    from lib_qfix.scoring.learned.train import train_prompts

    clip = _clip()
    feats = encode_images(blur_task[0][:16], clip, native=False)
    a = train_prompts(clip, feats, blur_task[1][:16], epochs=3, progress=False, seed=3)
    b = train_prompts(clip, feats, blur_task[1][:16], epochs=3, progress=False, seed=3)
    assert torch.equal(a.ctx, b.ctx)
    with pytest.raises(ValueError, match="too few"):
        train_prompts(clip, feats[:3], blur_task[1][:3], progress=False)
    with pytest.raises(ValueError, match="all training scores are equal"):
        train_prompts(clip, feats, [1.0] * 16, progress=False)


def test_gradient_projection():
    from lib_qfix.scoring.learned.train import project, spearman

    g_g = torch.tensor([1.0, 0.0])
    g, did = project(torch.tensor([2.0, 1.0]), g_g, 5.0)  # <G_d, G_g> = 2 > 0
    assert did and torch.allclose(g, torch.tensor([2.0 - 5 * 2.0, 1.0]))
    g, did = project(torch.tensor([-2.0, 1.0]), g_g, 5.0)  # conflict-free direction: unchanged
    assert not did and torch.equal(g, torch.tensor([-2.0, 1.0]))
    g, did = project(torch.tensor([2.0, 1.0]), g_g, 1.0)  # λ = 1 removes the G_g component exactly
    assert float((g * g_g).sum()) == 0.0
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 3], [5, 5, 6, 7]) == pytest.approx(1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_prompt_file_round_trip_and_learned_scorer(trained, blur_task, tmp_path):
    from safetensors import safe_open

    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.learned.io import load_prompts, save_prompts
    from lib_qfix.scoring.prompt_pairs import resolve_pairs

    clip, r = trained
    path = save_prompts(tmp_path / "prompts" / "blur", r.ctx, clip.name, "random", r.template_high, r.template_low,
                        {"val_srcc": r.val_srcc})
    assert path.name == "blur.safetensors" and path.stat().st_size < 10_000
    with safe_open(str(path), "pt") as f:  # a plain safetensors file, no pickle
        assert list(f.keys()) == ["ctx"]
    by_name = load_prompts("blur", tmp_path)  # <models folder>/prompts/<name>.safetensors
    by_path = load_prompts(str(path))
    assert torch.equal(by_name.ctx, r.ctx) and torch.equal(by_path.ctx, r.ctx)
    assert by_name.model == "qfix-tiny-vit-t4" and by_name.template_high == "X X X X high quality."
    assert float(by_name.meta["val_srcc"]) == pytest.approx(r.val_srcc)

    scorer = ClipIQA(clip, resolve_pairs("quality5"), learned=by_name)
    res = scorer.score(blur_task[0][:6])
    assert scorer.name == "clip-iqa+learned" and res[0].scorer == "clip-iqa+learned"
    for x in res:
        assert x.quality == x.signals["clip:learned"] and "clip:sharp_blurry" in x.signals
    # the scorer's learned probability is the trained model's p(high)
    from lib_qfix.scoring.learned.soft_prompt import encode_with_context, tokens_for

    with torch.no_grad():
        img = scorer.image_features(blur_task[0][:1])
        t = encode_with_context(clip, tokens_for(clip, [r.template_high, r.template_low]), r.ctx)
        p = (clip.model.logit_scale.exp() * img @ t.T).softmax(-1)[0, 0]
    assert res[0].quality == pytest.approx(float(p), abs=1e-5)

    with pytest.raises(WeightsUnavailable, match="trained for CLIP qfix-tiny-vit-t4"):
        by_name.check_fits(_clip("qfix-tiny-vit"))
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(WeightsUnavailable, match="junk.safetensors"):
        load_prompts(str(tmp_path / "junk.safetensors"))
    with pytest.raises(WeightsUnavailable, match="qfix train-prompts"):
        load_prompts("")


def test_cli_train_prompts_end_to_end(tiny, blur_task, tmp_path, capsys):
    from PIL import Image

    from lib_qfix.cli import main

    cfg = write_configs(tmp_path / "cfg")["qfix-tiny-vit"]
    img_dir = tmp_path / "imgs"
    img_dir.mkdir()
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["filename", "MOS"])
        for i, (im, s) in enumerate(zip(*blur_task, strict=True)):
            Image.fromarray(im).save(img_dir / f"{i:02d}.png")
            w.writerow([f"{i:02d}.png", f"{s:.3f}"])
    out = tmp_path / "out" / "mine.safetensors"
    rc = main(["train-prompts", "--labels", str(tmp_path / "labels.csv"), "--images", str(img_dir),
               "--out", str(out), "--model", str(cfg), "--pretrained", "random", "--device", "cpu",
               "--epochs", "3", "--json", "--no-progress"])
    assert rc == 0 and out.is_file()
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_train"] == 38 and summary["n_val"] == 10 and summary["model"] == "qfix-tiny-vit"
    assert -1.0 <= summary["val_srcc"] <= 1.0

    bad = tmp_path / "bad.csv"
    bad.write_text("filename,MOS\n00.png,good\n")
    rc = main(["train-prompts", "--labels", str(bad), "--images", str(img_dir), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.csv:2" in err and "'good'" in err
    bad.write_text("picture,MOS\n00.png,1\n")
    assert main(["train-prompts", "--labels", str(bad), "--images", str(img_dir), "--out", str(out)]) == 2
    assert "no image column" in capsys.readouterr().err
    bad.write_text("filename,MOS\nmissing.png,1\n")
    assert main(["train-prompts", "--labels", str(bad), "--images", str(img_dir), "--out", str(out)]) == 2
    assert "missing.png" in capsys.readouterr().err
