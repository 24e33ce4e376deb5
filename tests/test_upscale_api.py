"""Upscale + detail through the fake A1111 host's API (``alwayson_scripts``), presets and paste-back;
A1111's upscalers through the adapter; regeneration of img2img images."""

from __future__ import annotations

import types

import numpy as np
import pytest
from PIL import Image

from lib_qfix.options import DEFAULTS, positional
from lib_qfix.samples import skimage_photo
from lib_qfix.types import DEFECT, ImageReport, Region
from testkit.fake_a1111 import install
from testkit.fake_a1111.host_api import api_args, img2img, make_runner, paste_args, txt2img

#: detectors off: these tests are about the upscale step, not the fixes before it
QUIET = {"detect_faces": False, "detect_hands": False, "detect_text": False}
UP = {"enable": True, "upscale": True, "upscaler": "R-ESRGAN 4x+", "upscale_factor": 2, "tile_size": 256,
      "tile_overlap": 32, **QUIET}


@pytest.fixture()
def host(monkeypatch, tmp_path):
    h = install(monkeypatch, tmp_path)
    h.base_image = np.asarray(Image.fromarray(skimage_photo("astronaut")).resize((256, 256), Image.LANCZOS))
    h.inpaint_fn = lambda p: p.init_images[0]  # a detail pass that changes nothing
    return h


def request(host, body, is_img2img=False, **kw):
    from lib_qfix.a1111.script import QFixScript

    script = QFixScript()
    runner, defaults = make_runner(host, script, is_img2img)
    args = api_args(runner, defaults, {"QFix": {"args": [body]}})
    kw.setdefault("width", 256)
    kw.setdefault("height", 256)
    if is_img2img:
        kw.setdefault("init_images", [Image.fromarray(host.base_image)])
        p, processed = img2img(host, runner, args, is_api=True, **kw)
    else:
        p, processed = txt2img(host, runner, args, is_api=True, **kw)
    assert not host.errors, host.errors
    return script, p, processed


def tile_passes(host):
    return [i for i in host.inner if (i["mask"] == 255).all()]


def test_an_upscale_request_returns_factor_times_the_size_with_the_detail_pass_recorded(host):
    _, p, processed = request(host, UP)
    assert processed.images[0].size == (512, 512)
    assert host.upscale_calls == [("RealESRGAN", 2.0, (256, 256))]
    tiles = tile_passes(host)
    assert len(tiles) == 9 and all((t["width"], t["height"]) == (256, 256) for t in tiles)
    assert all(t["denoise"] == DEFAULTS.detail_denoise and t["padding"] == 0 and t["scripts"] is None for t in tiles)
    assert [t["seed"] for t in tiles] == [p.all_seeds[0] + i for i in range(9)]
    info = processed.infotexts[0]
    assert 'QFix upscaled: "R-ESRGAN 4x+, 256x256 -> 512x512"' in info
    assert 'QFix detail tiles: "9 tiles (3x3, 256x256 px, overlap 32 px), kept"' in info
    assert 'QFix upscale scores: "Lanczos ' in info and "QFix upscale kept: detail" in info
    assert "QFix upscale: True" in info and "QFix upscaler: R-ESRGAN 4x+" in info  # the options, for paste-back
    js = processed.js()
    assert '"QFix upscale kept": ["detail"]' in js  # what an API caller reads


def test_lanczos_and_img2img_upscale_without_a_host_upscaler(host):
    _, _, processed = request(host, {**UP, "upscaler": "Lanczos", "upscale_factor": 1.5, "detail_pass": False})
    assert processed.images[0].size == (384, 384) and host.upscale_calls == [] and tile_passes(host) == []
    assert 'QFix detail tiles: off' in processed.infotexts[0]
    _, _, processed = request(host, {**UP, "upscaler": "lanczos", "detail_pass": False}, is_img2img=True)
    assert processed.images[0].size == (512, 512)


def test_upscale_off_changes_nothing(host):
    _, _, processed = request(host, {"enable": True, **QUIET})
    assert processed.images[0].size == (256, 256) and host.upscale_calls == [] and host.inner == []
    assert "QFix upscale" not in processed.infotexts[0] and "QFix detail" not in processed.infotexts[0]
    _, _, processed = request(host, {**UP, "mode": "score_only"})
    assert processed.images[0].size == (256, 256) and host.upscale_calls == []


def test_a_worse_detail_pass_is_not_kept(host):
    def noisy(p):
        px = np.asarray(p.init_images[0]).astype(np.int16)
        noise = np.random.default_rng(p.seed).normal(0, 40, px.shape)
        return Image.fromarray(np.clip(px + noise, 0, 255).astype(np.uint8))

    host.inpaint_fn = noisy
    _, _, processed = request(host, UP)
    info = processed.infotexts[0]
    assert "QFix upscale kept: R-ESRGAN 4x+" in info and ", rejected (score " in info
    expected = host.modules["modules.shared"].sd_upscalers[3].scaler.upscale(Image.fromarray(host.base_image), 2)
    assert np.array_equal(np.asarray(processed.images[0]), np.asarray(expected))  # the upscaler's own result


def test_an_unknown_upscaler_falls_back_to_lanczos_with_a_note(host):
    _, _, processed = request(host, {**UP, "upscaler": "4x-UltraSharp", "detail_pass": False})
    info = processed.infotexts[0]
    assert processed.images[0].size == (512, 512) and host.upscale_calls == []
    assert "upscaler '4x-UltraSharp' not found (the host has 'None', 'Lanczos', 'Nearest', 'R-ESRGAN 4x+'" in info
    assert "Lanczos used" in info and 'QFix upscaled: "Lanczos, 256x256 -> 512x512"' in info


def test_a_failing_step_keeps_the_image_and_says_why(host, monkeypatch):
    import lib_qfix.a1111.upscaler as adapter

    def boom(*a, **k):
        raise MemoryError("4x of a huge image")

    request(host, {"enable": True, **QUIET})  # the script module is imported now
    monkeypatch.setattr(adapter, "run_upscale", boom)
    _, _, processed = request(host, UP)
    info = processed.infotexts[0]
    assert processed.images[0].size == (256, 256) and "QFix error" not in info
    assert "upscale: failed (MemoryError: 4x of a huge image)" in info


def test_the_adapter_gives_exactly_the_size_asked_for(host):
    from lib_qfix.a1111.upscaler import A1111Upscaler, find_upscaler
    from lib_qfix.protocols import Upscaler

    assert isinstance(A1111Upscaler(), Upscaler)

    odd = np.zeros((101, 75, 3), np.uint8)
    out = A1111Upscaler().upscale(odd, 1.7, "r-esrgan 4x+")  # case-insensitive
    assert out.shape == (172, 128, 3) and host.upscale_calls[-1] == ("RealESRGAN", 1.7, (75, 101))
    assert find_upscaler("Nearest").name == "Nearest"
    with pytest.raises(LookupError, match="'SwinIR 4x' not found"):
        find_upscaler("SwinIR 4x")
    host.upscaler_weights = False  # offline without weights: A1111 itself returns a Lanczos resize
    assert A1111Upscaler().upscale(odd, 2, "R-ESRGAN 4x+").shape == (202, 150, 3)
    assert "Unable to load RealESRGAN model" in host.errors.pop()


def test_presets_and_paste_back_carry_the_upscale_options(host):
    from lib_qfix.a1111 import callbacks, settings
    from lib_qfix.a1111.args import parse_args
    from lib_qfix.presets import save_preset

    save_preset("big", DEFAULTS.replace(upscale=True, upscale_factor=1.5, upscaler="R-ESRGAN 4x+", tile_size=192,
                                        tile_overlap=48, detail_denoise=0.2, guide_size=384, **QUIET),
                settings.user_preset_dir())
    script, _, processed = request(host, {"preset": "big"})
    assert processed.images[0].size == (384, 384)
    assert all(t["denoise"] == 0.2 and t["width"] == 192 for t in tile_passes(host))
    info = processed.infotexts[0]
    assert "QFix preset: big" in info and "QFix upscale factor" not in info  # the preset's value
    # paste-back into a panel showing other values restores every option, result keys ignored
    callbacks.register()
    current = positional(DEFAULTS.replace(upscale=False, tile_size=1024))
    back = parse_args(paste_args(host, script, info, current), user_dir=settings.user_preset_dir()).options
    assert (back.upscale, back.upscale_factor, back.upscaler, back.tile_size, back.guide_size) == \
        (True, 1.5, "R-ESRGAN 4x+", 192, 384)
    _, _, again = request(host, {**UP, "detail_denoise": 0.25})
    back = parse_args(paste_args(host, script, again.infotexts[0], current)).options
    assert (back.upscaler, back.upscale_factor, back.detail_denoise, back.tile_overlap) == ("R-ESRGAN 4x+", 2.0, 0.25, 32)


def test_interrupt_during_the_detail_pass_keeps_the_upscaled_image(host):
    state = host.modules["modules.shared"].state
    sampled = []

    def press_on_second_tile(p):
        sampled.append(p)
        if len(sampled) == 2:
            state.interrupt()

    host.on_inner = press_on_second_tile
    _, _, processed = request(host, UP)
    info = processed.infotexts[0]
    assert processed.images[0].size == (512, 512) and len(sampled) == 2
    assert 'QFix detail tiles: "9 tiles (3x3, 256x256 px, overlap 32 px), interrupted"' in info
    assert "QFix upscale kept: R-ESRGAN 4x+" in info


def test_upscale_is_skipped_where_the_host_composites_at_the_original_size(host):
    from lib_qfix.a1111.upscaler import skip_reason

    assert skip_reason(types.SimpleNamespace(overlay_images=None)) is None
    why = skip_reason(types.SimpleNamespace(overlay_images=[object()]))
    assert why and "img2img inpainting" in why
    host.modules["modules.shared"].state.interrupted = True
    assert skip_reason(types.SimpleNamespace()) == "upscale: skipped (interrupted)"


# ---------------------------------------------------------------- regeneration of img2img images

@pytest.fixture()
def blurred(monkeypatch):
    """The original has a global defect (blur); any image whose top-left pixel is 200 is clean."""
    def diagnose(image, options, *, scorer=None, prompt="", path=None):
        clean = int(image[0, 0, 0]) == 200
        regions = () if clean else (Region("blur", None, 0.9, DEFECT, (), ("blur",)),)
        return ImageReport(path, image.shape[1], image.shape[0], 0.9 if clean else 0.4, "fake", regions=regions)

    monkeypatch.setattr("lib_qfix.diagnose.diagnose", diagnose)


def regen_fn(host):
    def sample(p):  # a regeneration whose negative asks for no blur comes out clean
        px = np.asarray(p.init_images[0]).copy()
        if "blur" in p.negative_prompt:
            px[:] = 200
        host.calls.append(("regenerated", p))
        return Image.fromarray(px)

    return sample


def test_img2img_images_are_regenerated_from_the_same_init_image(host, blurred):
    from lib_qfix.a1111.inpainter import A1111Regenerator

    host.inpaint_fn = regen_fn(host)
    init = Image.fromarray(host.base_image)
    _, p, processed = request(host, {"enable": True, "regenerate": True, **QUIET}, is_img2img=True,
                              init_images=[init], denoising_strength=0.55, steps=9)
    regens = [q for name, q in host.calls if name == "regenerated" and q is not p]
    assert len(regens) == 1
    q = regens[0]
    assert isinstance(q, type(p)) and q is not p and q.init_images[0] is init and q.image_mask is None
    assert (q.denoising_strength, q.seed, q.prompt) == (0.55, p.all_seeds[0], p.all_prompts[0])
    assert q.steps >= 9  # the image's own steps (a fix strategy may scale them up)
    assert q.negative_prompt.startswith("lowres") and "blur" in q.negative_prompt and q.scripts is None
    assert np.asarray(processed.images[0])[0, 0, 0] == 200 and "QFix result: kept" in processed.infotexts[0]
    assert "QFix warnings" not in processed.infotexts[0]
    # txt2img still regenerates; "only masked" img2img inpainting cannot (its image is the crop)
    # txt2img still regenerates as before
    host.calls.clear()
    _, p2, processed = request(host, {"enable": True, "regenerate": True, **QUIET})
    regens = [q for name, q in host.calls if name == "regenerated"]
    assert not regens and "QFix result: kept" not in processed.infotexts[0]  # txt2img samples base_image
    assert any(isinstance(q, type(p2)) and q is not p2 and "blur" in q.negative_prompt for q in host.passes)
    # "only masked" img2img inpainting cannot be regenerated (its image is the sampled crop)
    processing = host.modules["modules.processing"]
    masked = processing.StableDiffusionProcessingImg2Img(init_images=[init], mask=Image.new("L", (256, 256), 255))
    with pytest.raises(TypeError, match="masked area only"):
        A1111Regenerator(masked, 0)
    whole = processing.StableDiffusionProcessingImg2Img(init_images=[init], mask=Image.new("L", (256, 256), 255),
                                                        inpaint_full_res=False)
    assert A1111Regenerator(whole, 0).p is whole


def test_a_batch_regenerates_each_image_from_its_own_init_image(host):
    from lib_qfix.a1111.inpainter import _init_image

    imgs = [Image.new("RGB", (8, 8), c) for c in ("red", "green")]
    p = types.SimpleNamespace(init_images=imgs, batch_size=2)
    assert [_init_image(p, i) for i in range(4)] == [imgs[0], imgs[1], imgs[0], imgs[1]]
    one = types.SimpleNamespace(init_images=imgs[:1], batch_size=3)
    assert all(_init_image(one, i) is imgs[0] for i in range(6))
