"""CLIP-IQA scorer on tiny random-weight open_clip models: formula, batching, resolution, weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from clip_tiny import register

from lib_qfix.options import validate
from lib_qfix.options.field import OptionError
from lib_qfix.scoring import WeightsUnavailable, scorer_for
from lib_qfix.scoring.prompt_pairs import PAIR_SETS, parse_custom_pairs, resolve_pairs

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    register(tmp_path_factory.mktemp("clipcfg"))


def _scorer(model, pairs="quality5", custom="", **kw):
    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.clip_model import load_clip

    torch.manual_seed(0)  # fp32: these tests compare with the formula in fp32 to 1e-5
    return ClipIQA(load_clip(model, "random", "cpu", precision="fp32"), resolve_pairs(pairs, custom), **kw)


def _reference(scorer, image, pos_zero=False):
    """Straightforward CLIP-IQA: normalise, model.encode_image, encode_text per pair, softmax."""
    m, clip = scorer.clip.model, scorer.clip
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    x = (x - torch.tensor(clip.mean).view(1, 3, 1, 1)) / torch.tensor(clip.std).view(1, 3, 1, 1)
    with torch.no_grad():
        if pos_zero:
            saved = m.visual.attnpool.positional_embedding.data.clone()
            m.visual.attnpool.positional_embedding.data.zero_()
        img = torch.nn.functional.normalize(m.encode_image(x), dim=-1)[0]
        if pos_zero:
            m.visual.attnpool.positional_embedding.data.copy_(saved)
        probs = {}
        for p in scorer.pairs:
            t = torch.nn.functional.normalize(m.encode_text(clip.tokenizer([p.positive, p.negative])), dim=-1)
            probs[p.signal] = float((m.logit_scale.exp() * (t @ img)).softmax(0)[0])
    return probs, img


def _img(h, w, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.kron(base, np.ones((8, 8, 1), np.uint8))[:h, :w])


def test_vit_score_equals_reference_formula(tiny):
    s = _scorer("qfix-tiny-vit")
    im = _img(64, 64)  # the model's own input size: no resize involved
    got = s.score([im])[0]
    probs, _ = _reference(s, im)
    for k, v in probs.items():
        assert got.signals[k] == pytest.approx(v, abs=1e-5)
    assert got.quality == pytest.approx(np.mean(list(probs.values())), abs=1e-5)
    assert got.scorer == "clip-iqa" and 0.0 <= got.quality <= 1.0


def test_resnet_interpolate_at_own_size_equals_model(tiny):
    s = _scorer("qfix-tiny-rn", "paper", pos_embed="interpolate")
    im = _img(64, 64, 1)
    probs, _ = _reference(s, im)
    assert s.score([im])[0].signals["clip:good_bad"] == pytest.approx(probs["clip:good_bad"], abs=1e-5)


def test_resnet_drop_equals_model_without_positional_embedding(tiny):
    s = _scorer("qfix-tiny-rn", "look")  # default pos_embed="drop"
    im = _img(64, 64, 2)
    probs, _ = _reference(s, im, pos_zero=True)
    got = s.score([im])[0]
    for k, v in probs.items():
        assert got.signals[k] == pytest.approx(v, abs=1e-5)
    # look set: only sharp_blurry (+) and noisy_clean (-) count for quality
    q = (probs["clip:sharp_blurry"] + 1 - probs["clip:noisy_clean"]) / 2
    assert got.quality == pytest.approx(q, abs=1e-5)


def test_resnet_native_interpolation_matches_a_model_built_for_that_size(tiny):
    """At 128x192 px the features equal those of the same network built for a 4x6 grid with a
    bicubically resized positional embedding (computed here independently)."""
    import open_clip.modified_resnet as mr

    s = _scorer("qfix-tiny-rn", pos_embed="interpolate")
    im = _img(128, 192, 3)
    got = s.image_features([im])[0]
    vis = s.clip.model.visual
    pe = vis.attnpool.positional_embedding.data
    grid = torch.nn.functional.interpolate(pe[1:].reshape(1, 2, 2, -1).permute(0, 3, 1, 2), size=(4, 6),
                                           mode="bicubic", align_corners=False)
    pool = mr.AttentionPool2d(2, pe.shape[1], vis.attnpool.num_heads, vis.attnpool.c_proj.out_features)
    pool.load_state_dict(vis.attnpool.state_dict())
    pool.positional_embedding = torch.nn.Parameter(torch.cat([pe[:1], grid[0].permute(1, 2, 0).reshape(24, -1)]))
    x = torch.from_numpy(im).permute(2, 0, 1)[None].float() / 255
    x = (x - torch.tensor(s.clip.mean).view(1, 3, 1, 1)) / torch.tensor(s.clip.std).view(1, 3, 1, 1)
    with torch.no_grad():
        feat = vis.layer4(vis.layer3(vis.layer2(vis.layer1(vis.stem(x)))))
        ref = torch.nn.functional.normalize(pool.eval()(feat), dim=-1)[0]
    assert torch.allclose(got, ref, atol=1e-5)


@pytest.mark.parametrize("model", ["qfix-tiny-rn", "qfix-tiny-vit"])
def test_batched_equals_one_by_one_mixed_sizes(tiny, model):
    s = _scorer(model, batch_size=2)
    ims = [_img(64, 64, 0), _img(96, 160, 1), _img(64, 64, 2), _img(1500, 2100, 3), _img(96, 160, 4),
           _img(64, 64, 5)]
    prompts = ["a cat", "", "a dog", "a city", "a cat", "  "]
    batched = s.score(ims, prompts)
    for im, pr, b in zip(ims, prompts, batched, strict=True):
        one = s.score([im], [pr])[0]
        assert one.quality == pytest.approx(b.quality, abs=1e-5)
        assert one.signals.keys() == b.signals.keys()
        for k in one.signals:
            assert one.signals[k] == pytest.approx(b.signals[k], abs=1e-5)
    assert "prompt_match" in batched[0].signals and "prompt_match" not in batched[1].signals
    assert "prompt_match" not in batched[5].signals


def test_native_size_limits_large_and_small_images(tiny):
    from lib_qfix.scoring.clip_image import fit_native

    assert fit_native(_img(3000, 1000), 64, 1024).shape == (1024, 341, 3)
    assert fit_native(_img(40, 100), 64, 1024).shape == (64, 160, 3)
    assert fit_native(_img(512, 384), 64, 1024).shape == (512, 384, 3)  # untouched
    s = _scorer("qfix-tiny-rn", max_side=512)
    res = s.score([_img(3000, 1000), _img(20, 30), _img(384, 512)])
    assert all(0.0 <= r.quality <= 1.0 and math.isfinite(r.quality) for r in res)
    # sizes are grouped, so a large image must not change a small one's score
    alone = s.score([_img(384, 512)])[0].quality
    assert res[2].quality == pytest.approx(alone, abs=1e-6)


def test_prompt_match_formula(tiny):
    s = _scorer("qfix-tiny-vit")
    im = _img(64, 64, 7)
    got = s.score([im], ["a red bicycle"])[0].signals["prompt_match"]
    _, img = _reference(s, im)
    m, tok = s.clip.model, s.clip.tokenizer
    with torch.no_grad():
        t = torch.nn.functional.normalize(m.encode_text(tok(["a red bicycle", "a photo.", "an image.", "a picture."])),
                                          dim=-1)
        cos = t @ img
        ref = torch.sigmoid(m.logit_scale.exp() * (cos[0] - cos[1:].mean()))
    assert got == pytest.approx(float(ref), abs=1e-5)


def test_bad_inputs_name_the_image(tiny):
    s = _scorer("qfix-tiny-vit")
    with pytest.raises(ValueError, match=r"images\[1\]"):
        s.score([_img(64, 64), np.zeros((64, 64), np.uint8)])
    with pytest.raises(ValueError, match=r"images\[0\]"):
        s.score([np.zeros((64, 64, 3), np.float32)])
    with pytest.raises(ValueError, match="prompts"):
        s.score([_img(64, 64)], ["a", "b"])
    assert s.score([]) == []


def test_pair_sets_and_custom_pairs():
    assert [p.positive for p in PAIR_SETS["paper"]] == ["Good photo."]
    assert len(PAIR_SETS["quality5"]) == 5 and len(PAIR_SETS["look"]) == 5 and len(PAIR_SETS["feel"]) == 6
    pairs = parse_custom_pairs(" Crisp photo. | Smeared photo. | 2 ; vivid|washed out")
    assert [(p.positive, p.negative, p.weight) for p in pairs] == [
        ("Crisp photo.", "Smeared photo.", 2.0), ("vivid", "washed out", 1.0)]
    assert len(resolve_pairs("paper", "vivid|washed out")) == 2
    for bad in ("onlyone", "a|b|heavy", "a|b|-1", "|b", "a|b|c|d"):
        with pytest.raises(OptionError) as e:
            resolve_pairs("paper", bad)
        assert e.value.field == "custom_pairs"
    with pytest.raises(OptionError) as e:
        resolve_pairs("nonsense")
    assert e.value.field == "prompt_pairs" and "quality5" in str(e.value)


def test_custom_pair_weights_enter_quality(tiny):
    s = _scorer("qfix-tiny-vit", "paper", "Crisp photo.|Smeared photo.|3")
    r = s.score([_img(64, 64, 9)])[0]
    custom = [k for k in r.signals if k.startswith("clip:custom_")]
    assert len(custom) == 1
    assert r.quality == pytest.approx((r.signals["clip:good_bad"] + 3 * r.signals[custom[0]]) / 4, abs=1e-6)


def test_missing_weights_fall_back_to_offline(tmp_path, monkeypatch, coffee):
    from lib_qfix.registry import clear_cache, create_scorer

    monkeypatch.setenv("QFIX_OFFLINE", "1")
    monkeypatch.setenv("QFIX_MODELS", str(tmp_path))
    clear_cache()
    with pytest.raises(WeightsUnavailable) as e:
        create_scorer("clip-iqa", model="RN50", pretrained="openai", pairs="quality5", custom_pairs="", device="cpu")
    msg = str(e.value)
    assert "\n" not in msg and "local file" in msg and str(tmp_path) in msg
    with pytest.raises(WeightsUnavailable, match="unknown CLIP model"):
        create_scorer("clip-iqa", model="NoSuchNet", pretrained="openai", device="cpu")
    scorer, warnings = scorer_for(validate({"scorer": "clip-iqa"}))
    assert scorer.name == "offline" and len(warnings) == 1 and "offline" in warnings[0]
    assert 0.0 <= scorer.score([coffee])[0].quality <= 1.0
    scorer, warnings = scorer_for(validate({"scorer": "clip-iqa+learned", "learned_prompts": "nothing-here"}))
    assert scorer.name == "offline" and "nothing-here" in warnings[0]
    clear_cache()


def test_local_checkpoint_files_load(tiny, tmp_path):
    from safetensors.torch import save_file

    from lib_qfix.scoring.clip_model import load_clip

    torch.manual_seed(1)
    src = load_clip("qfix-tiny-vit", "random", "cpu")
    sd = {k: v.contiguous() for k, v in src.model.state_dict().items()}
    save_file(sd, str(tmp_path / "qfix-tiny-vit-mine.safetensors"))  # found by tag in the models folder
    torch.save(sd, tmp_path / "plain.pt")  # found by path
    im = _img(64, 64)
    ref = _scorer_from(src).score([im])[0].quality
    for pretrained in ("mine", str(tmp_path / "plain.pt")):
        clip = load_clip("qfix-tiny-vit", pretrained, "cpu", tmp_path)
        assert _scorer_from(clip).score([im])[0].quality == pytest.approx(ref, abs=1e-6)
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailable, match="broken.pt"):
        load_clip("qfix-tiny-vit", str(tmp_path / "broken.pt"), "cpu")
    with pytest.raises(WeightsUnavailable, match="does not fit"):
        load_clip("qfix-tiny-rn", str(tmp_path / "plain.pt"), "cpu")


def _scorer_from(clip):
    from lib_qfix.scoring.clip_iqa import ClipIQA

    return ClipIQA(clip, resolve_pairs("quality5"))


def test_unbuildable_configs_are_weights_unavailable(tiny, tmp_path):
    """A config file that parses but describes no model (or is no JSON) is one line, not a traceback."""
    import json

    from lib_qfix.scoring.clip_model import load_clip

    paths = []
    for i, text in enumerate([json.dumps({"embed_dim": 8}),  # no towers
                              json.dumps({"embed_dim": 8, "vision_cfg": {"layers": "x"}, "text_cfg": {}}),
                              "{not json", "[1, 2]"]):
        paths.append(tmp_path / f"odd{i}-model.json")
        paths[-1].write_text(text)
    for path in paths:
        with pytest.raises(WeightsUnavailable) as e:
            load_clip(str(path), "random", "cpu")
        assert "\n" not in str(e.value) and "-model" in str(e.value)
    register(tmp_path / "again")  # a broken file given earlier does not break later configs
    assert load_clip("qfix-tiny-vit", "random", "cpu").name == "qfix-tiny-vit"


def test_names_resolve_in_the_models_folder_before_the_working_directory(tiny, tmp_path, monkeypatch):
    from lib_qfix.scoring.clip_model import find_weights
    from lib_qfix.scoring.learned.io import find_prompts

    models, cwd = tmp_path / "models", tmp_path / "cwd"
    (models / "prompts").mkdir(parents=True)
    cwd.mkdir()
    for folder in (models, models / "prompts", cwd):
        (folder / "mine").write_bytes(b"x")
    monkeypatch.chdir(cwd)
    assert find_weights("qfix-tiny-vit", "mine", [models]) == models / "mine"
    assert find_prompts("mine", models) == models / "prompts" / "mine"
    assert find_weights("qfix-tiny-vit", str(cwd / "mine"), [models]) == cwd / "mine"  # a path still works


def test_models_are_shared_by_architecture_weights_and_device(tiny):
    from lib_qfix.registry import clear_cache
    from lib_qfix.scoring.clip_model import shared_clip

    clear_cache()
    a = shared_clip("qfix-tiny-vit", "random", "cpu")
    assert shared_clip("qfix-tiny-vit", "random", "cpu") is a
    assert shared_clip("qfix-tiny-rn", "random", "cpu") is not a
    feats = a.text_features(["Good photo.", "Bad photo.", "Good photo."])
    assert torch.equal(feats[0], feats[2]) and len(a.text_cache) == 2
    assert torch.allclose(feats, a.encode_texts(["Good photo.", "Bad photo.", "Good photo."]), atol=1e-6)
    clear_cache()


def test_text_cache_is_bounded(tiny):
    from lib_qfix.scoring.clip_model import TEXT_CACHE, load_clip

    clip = load_clip("qfix-tiny-vit", "random", "cpu")
    for i in range(0, TEXT_CACHE + 40, 20):
        clip.text_features([f"prompt number {j}" for j in range(i, i + 20)])
    assert len(clip.text_cache) == TEXT_CACHE and "prompt number 0" not in clip.text_cache


def test_auto_precision_runs_the_image_encoder_in_bfloat16_on_cpus_that_have_it(tiny, monkeypatch):
    from PIL import Image

    from lib_qfix.samples import all_photos
    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.clip_model import cpu_autocast, load_clip

    assert cpu_autocast("cpu", "fp32") is None and cpu_autocast("cuda", "auto") is None
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False, raising=False)
    assert cpu_autocast("cpu", "auto") is None  # emulated bfloat16 is slower than fp32: not used
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    assert cpu_autocast("cpu", "auto") is torch.bfloat16
    images = [np.asarray(Image.fromarray(p).resize((96, 96))) for p in list(all_photos().values())[:4]]
    scores = {}
    for precision in ("fp32", "auto"):
        torch.manual_seed(0)
        clip = load_clip("qfix-tiny-rn", "random", "cpu", precision=precision)
        assert clip.dtype == torch.float32  # weights stay fp32; only the image forward is autocast
        scorer = ClipIQA(clip, resolve_pairs("quality5"))
        seen: list = []  # the dtype the first convolution computed in, per forward
        clip.model.visual.conv1.register_forward_hook(lambda m, i, o, seen=seen: seen.append(o.dtype))
        scores[precision] = ([r.quality for r in scorer.score(images)], scorer.version, set(seen))
    assert scores["fp32"][2] == {torch.float32} and scores["auto"][2] == {torch.bfloat16}
    assert scores["auto"][1] == scores["fp32"][1] + ":bf16"  # cached scores of the two are kept apart
    assert max(abs(a - b) for a, b in zip(scores["fp32"][0], scores["auto"][0], strict=True)) < 0.01


def test_int8_precision_quantises_the_resnet_trunk_and_stays_close_to_fp32(tiny):
    from PIL import Image

    from lib_qfix.samples import all_photos
    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.clip_model import load_clip

    images = [np.asarray(Image.fromarray(p).resize((96, 96))) for p in list(all_photos().values())[:4]]
    scores = {}
    for precision in ("fp32", "int8"):
        torch.manual_seed(0)
        clip = load_clip("qfix-tiny-rn", "random", "cpu", precision=precision)
        clip.model.logit_scale.data.fill_(math.log(100.0))  # a trained CLIP's scale: scores are sensitive
        seen: list = []  # float first convolution calls: none when the int8 trunk runs
        clip.model.visual.conv1.register_forward_hook(lambda m, i, o, seen=seen: seen.append(1))
        for native in (True, False):
            scorer = ClipIQA(clip, resolve_pairs("quality5"), native=native)
            scores[precision, native] = ([r.quality for r in scorer.score(images)], scorer.version, len(seen))
    assert scores["int8", True][2] == scores["int8", False][2] == 0 and scores["fp32", True][2] > 0
    assert scores["int8", True][1] == scores["fp32", True][1] + ":int8"  # cached scores are kept apart
    for native in (True, False):
        assert max(abs(a - b) for a, b in zip(scores["fp32", native][0], scores["int8", native][0], strict=True)) < 0.01
    torch.manual_seed(0)
    vit = load_clip("qfix-tiny-vit", "random", "cpu", precision="int8")  # not a ResNet: fp32, no trunk
    assert vit.int8_trunk is None and vit.autocast is None
