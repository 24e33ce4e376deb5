"""The diffusers host's ports on a tiny random-weight pipeline: only masked pixels change, the
feathered seam blends, seeds are honoured, crops are sampled at the guide-size rule's size,
ControlNet units reach the ControlNet inpaint pipeline, A1111 sampler names map to schedulers."""

from __future__ import annotations

import numpy as np
import pytest
from diffusers_support import feathered_box_mask, photo, pipe

from lib_qfix.diffusers_host.controlnet import ControlNets, ControlRecord, control_image
from lib_qfix.diffusers_host.inpainter import (
    DiffusersInpainter,
    DiffusersRegenerator,
    PipelineViews,
    Sampling,
    crop_box,
    paste,
)
from lib_qfix.diffusers_host.schedulers import scheduler_for, split_sampler
from lib_qfix.fix.sampling import crop_sample_size
from lib_qfix.protocols import ControlUnit, InpaintParams
from testkit.tiny_diffusers import tiny_controlnet

PARAMS = InpaintParams(padding=16, resolution=64, denoise=0.5, steps=2)
BOX = (60, 50, 130, 120)


@pytest.fixture(scope="module")
def views():
    return PipelineViews(pipe())


@pytest.fixture(scope="module")
def image():
    return photo()


@pytest.fixture(scope="module")
def mask(image):
    return feathered_box_mask(image.shape[:2], BOX, 6)


@pytest.fixture(scope="module")
def painted(views, image, mask):
    return DiffusersInpainter(views, Sampling(steps=2)).inpaint(image, mask, "a face", "blurry", 7, PARAMS)


def test_only_masked_pixels_change(image, mask, painted):
    assert painted.shape == image.shape and painted.dtype == np.uint8
    assert np.array_equal(painted[mask == 0], image[mask == 0])  # bit for bit outside the mask
    inside = np.abs(painted.astype(int) - image.astype(int)).sum(-1)[mask == 255]
    assert (inside > 0).mean() > 0.5  # random weights paint something else inside


def test_feathered_seam_blends_in_proportion(image, mask, painted):
    diff = np.abs(painted.astype(float) - image.astype(float)).mean(-1)
    ramp = (mask > 0) & (mask < 255)
    assert ramp.sum() > 100
    low, high = diff[ramp & (mask < 85)].mean(), diff[ramp & (mask > 170)].mean()
    assert 0 < low < high < diff[mask == 255].mean() * 1.2
    # the paste itself is the A1111 blend: out = image * (1 - a) + result * a
    x0, y0, x1, y1 = box = crop_box(mask, 16)
    white = np.full((y1 - y0, x1 - x0, 3), 255, np.uint8)
    out = paste(image, box, white, mask)
    a = mask[y0:y1, x0:x1, None] / 255.0
    want = np.round(image[y0:y1, x0:x1] * (1 - a) + 255 * a)
    assert np.abs(out[y0:y1, x0:x1].astype(float) - want).max() <= 0.5


def test_same_seed_same_result_other_seed_other_result(views, image, mask, painted):
    again = DiffusersInpainter(views, Sampling(steps=2)).inpaint(image, mask, "a face", "blurry", 7, PARAMS)
    other = DiffusersInpainter(views, Sampling(steps=2)).inpaint(image, mask, "a face", "blurry", 8, PARAMS)
    assert np.array_equal(again, painted)
    assert not np.array_equal(other, painted)


def test_crop_is_sampled_at_the_guide_size(views, image, mask, monkeypatch):
    calls = []
    real = views.inpaint

    def spy(models=None):
        view = real(models)

        def call(**kw):
            calls.append(kw)
            return view(**kw)
        return type("Spy", (), {"__call__": lambda self, **kw: call(**kw), "scheduler": None})()

    monkeypatch.setattr(views, "inpaint", spy)
    guided = InpaintParams(padding=16, resolution=64, denoise=0.5, steps=2, guide_size=96)
    DiffusersInpainter(views, Sampling(steps=2)).inpaint(image, mask, "a face", "", 1, guided)
    x0, y0, x1, y1 = crop_box(mask, 16)
    assert (calls[0]["width"], calls[0]["height"]) == crop_sample_size(x1 - x0, y1 - y0, 64, 96)
    assert calls[0]["image"].size == (calls[0]["width"], calls[0]["height"])


def test_controlnet_units_guide_the_pass(views, image, mask):
    guide = np.zeros_like(image)
    guide[70:100, 80:110] = 255
    units = (ControlUnit("hand", weight=0.8, guidance_end=0.9, image=guide, target="hand", keywords=("openpose",)),
             ControlUnit("inpaint", "inpaint_only", weight=0.5, target="hand", keywords=("inpaint",)),
             ControlUnit("depth", "depth_midas", target="hand", keywords=("depth",)))
    nets = ControlNets({"openpose": tiny_controlnet(1), "inpaint": tiny_controlnet(2)})
    record = ControlRecord()
    out = DiffusersInpainter(views, Sampling(steps=2), nets, record).inpaint(
        image, mask, "a hand", "", 3, InpaintParams(16, 64, 0.5, 2, units=units))
    assert np.array_equal(out[mask == 0], image[mask == 0])
    pairs = record.pairs()
    assert pairs["QFix controlnet"] == "hand=openpose(0.8)+inpaint(0.5)"
    assert "no depth model" in pairs["QFix note"]
    # no models at all: the pass runs unguided and says why
    bare = ControlRecord()
    DiffusersInpainter(views, Sampling(steps=2), None, bare).inpaint(image, mask, "a hand", "", 3,
                                                                     InpaintParams(16, 64, 0.5, 2, units=units[:1]))
    assert "QFix controlnet" not in bare.pairs() and "--controlnet" in bare.pairs()["QFix note"]


def test_control_images_are_cut_to_the_crop(image, mask):
    box = crop_box(mask, 16)
    x0, y0, x1, y1 = box
    crop, cmask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    inpaint = control_image(ControlUnit("inpaint", "inpaint_only"), box, (64, 64), crop, cmask)
    assert tuple(inpaint.shape) == (1, 3, 64, 64) and float(inpaint.min()) == -1.0
    assert control_image(ControlUnit("tile", "tile_resample"), box, (64, 48), crop, cmask).size == (64, 48)
    assert control_image(ControlUnit("depth", "depth_midas"), box, (64, 64), crop, cmask) is None


def test_regenerate_keeps_the_size_and_the_seed(views):
    regen = DiffusersRegenerator(views, "a photo", (100, 76), Sampling(steps=2))
    a, b = regen("blurry", 5), regen("blurry", 5)
    assert a.shape == (76, 100, 3) and np.array_equal(a, b)


def test_a1111_sampler_names_map_to_schedulers():
    base = pipe().scheduler
    sched, note = scheduler_for(base, "DPM++ 2M Karras")
    assert type(sched).__name__ == "DPMSolverMultistepScheduler" and sched.config.use_karras_sigmas and not note
    sched, _ = scheduler_for(base, "DPM++ 2M SDE", "Exponential")
    assert sched.config.algorithm_type == "sde-dpmsolver++" and sched.config.use_exponential_sigmas
    assert type(scheduler_for(base, "Euler a")[0]).__name__ == "EulerAncestralDiscreteScheduler"
    same, note = scheduler_for(base, "Restart")
    assert same is base and "Restart" in note
    assert scheduler_for(base, "")[0] is base
    assert split_sampler("DPM++ SDE Karras") == ("dpm++ sde", "karras")
