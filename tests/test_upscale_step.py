"""The upscale step through its ports (lib_qfix/fix/upscale_step.py): recording fakes for the
upscaler, the inpainter and the score. Decisions, not pixels: what is called with which parameters,
what is kept, and that every judgement compares images of the same size."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.fix import upscale_step as U
from lib_qfix.fix.infotext import RESULT_KEYS
from lib_qfix.options import DEFAULTS, FIELDS, from_infotext
from lib_qfix.protocols import Inpainter, Upscaler

IMG = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)


def opts(**kw):
    return DEFAULTS.replace(enable=True, upscale=True, tile_size=128, tile_overlap=32, **kw)


class FakeUpscaler:
    """Nearest-neighbour enlargement (distinct from the Lanczos reference); knows only "Nearest"."""

    def __init__(self, fail=None):
        self.calls, self.fail = [], fail

    def upscale(self, image, factor, name):
        self.calls.append((image.shape, factor, name))
        if self.fail:
            raise self.fail
        if name != "Nearest":
            raise LookupError(f"upscaler {name!r} not found (the host has 'Nearest')")
        h, w = image.shape[:2]
        H, W = U.target_size(w, h, factor)
        return image[(np.arange(H) * h // H)][:, (np.arange(W) * w // W)]


class TileInpainter:
    """Records each tile pass; ``change(pixels, index)`` gives the refined tile (default: unchanged)."""

    def __init__(self, change=None):
        self.calls, self.change = [], change

    def inpaint(self, image, mask, prompt, negative, seed, params):
        self.calls.append(dict(shape=image.shape, mask=mask.copy(), prompt=prompt, negative=negative, seed=seed,
                               params=params))
        return image if self.change is None else self.change(image, len(self.calls) - 1)


class Scores:
    """Quality by candidate: the Lanczos reference, a nearest-neighbour result, a detailed one
    (tiles tagged by a changed pixel); records the size of every image it judged."""

    def __init__(self, lanczos=0.5, nearest=0.6, detail=0.7):
        self.q, self.sizes = dict(lanczos=lanczos, nearest=nearest, detail=detail), []

    def __call__(self, image):
        self.sizes.append(image.shape)
        if image[0, 0, 0] == 7 and image[0, 0, 1] == 7:
            return self.q["detail"]
        ref = U.lanczos(IMG, (image.shape[1], image.shape[0]))
        return self.q["lanczos"] if np.array_equal(image, ref) else self.q["nearest"]


def tagged(pixels, index):
    out = pixels.copy()
    out[0, 0, :2] = 7
    return out


def run(options, upscaler=None, inpainter=None, score=None, **kw):
    return U.run_upscale(IMG, options, upscaler=upscaler or FakeUpscaler(), score=score or Scores(),
                         inpainter=inpainter, prompt="a cat", negative="lowres", seed=10, **kw)


def test_the_fakes_are_the_ports():
    assert isinstance(FakeUpscaler(), Upscaler) and isinstance(TileInpainter(), Inpainter)


def test_lanczos_needs_no_host_and_gives_factor_times_the_size():
    up, score = FakeUpscaler(), Scores()
    out = run(opts(upscale_factor=2.5, detail_pass=False), up, score=score)
    assert out.image.shape == (240, 320, 3) and up.calls == []
    assert np.array_equal(out.image, U.lanczos(IMG, (320, 240)))
    assert (out.upscaler, out.kept, out.detail, out.grid) == ("Lanczos", "Lanczos", "off", None)
    assert out.scores == (("Lanczos", 0.5),) and score.sizes == [(240, 320, 3)]
    assert U.target_size(1000, 750, 1.5) == (1500, 1125)


def test_the_host_upscaler_is_kept_when_not_worse_than_lanczos_at_the_same_size():
    up, score = FakeUpscaler(), Scores()
    out = run(opts(upscaler="Nearest", detail_pass=False), up, score=score)
    assert up.calls == [((96, 128, 3), 2.0, "Nearest")]
    assert out.kept == "Nearest" and out.scores == (("Lanczos", 0.5), ("Nearest", 0.6))
    assert set(score.sizes) == {(192, 256, 3)}  # every candidate judged at the output size
    worse = run(opts(upscaler="Nearest", detail_pass=False), score=Scores(nearest=0.4))
    assert worse.kept == "Lanczos" and np.array_equal(worse.image, U.lanczos(IMG, (256, 192)))
    assert worse.upscaler == "Nearest"  # it ran; its result lost


@pytest.mark.parametrize("fail, words", [(None, "upscaler 'R-ESRGAN 4x+' not found (the host has 'Nearest'); "
                                                "Lanczos used"),
                                         (RuntimeError("CUDA out of memory"), "failed (RuntimeError: CUDA out of memory)")])
def test_a_missing_or_failing_upscaler_falls_back_to_lanczos_with_a_note(fail, words):
    out = run(opts(upscaler="R-ESRGAN 4x+", detail_pass=False), FakeUpscaler(fail))
    assert out.upscaler == "Lanczos" and out.kept == "Lanczos" and out.image.shape == (192, 256, 3)
    assert len(out.notes) == 1 and words in out.notes[0]


def test_detail_pass_refines_every_tile_as_a_full_mask_img2img_at_its_own_size():
    inp = TileInpainter(tagged)
    out = run(opts(detail_denoise=0.25, steps=12, sampler="Euler", inpaint_padding=48, guide_size=512), inpainter=inp)
    g = out.grid
    assert g is not None and len(inp.calls) == g.cols * g.rows == 6  # 256x192 in 128-px tiles, 32 shared
    for i, c in enumerate(inp.calls):
        assert c["shape"] == (128, 128, 3) and (c["mask"] == 255).all()
        p = c["params"]
        assert (p.padding, p.resolution, p.denoise, p.guide_size) == (0, 128, 0.25, 0)
        assert (p.steps, p.sampler) == (12, "Euler")  # the inpaint passes' sampling settings
        assert c["seed"] == 10 + i and c["prompt"] == "a cat" and c["negative"] == "lowres"
        assert p.units == ()  # ControlNet tile unit off by default
    assert out.kept == "detail" and out.detail == "kept"
    assert out.scores == (("Lanczos", 0.5), ("detail", 0.7))


def test_detail_pass_runs_on_the_best_candidate_and_is_rejected_when_worse():
    inp = TileInpainter(tagged)
    out = run(opts(upscaler="Nearest"), inpainter=inp, score=Scores(nearest=0.6, detail=0.55))
    assert out.kept == "Nearest" and out.detail == "rejected (score 0.550 < 0.600)"
    assert out.image[0, 0, 0] != 7 or out.image[0, 0, 1] != 7
    lost = run(opts(upscaler="Nearest"), inpainter=TileInpainter(tagged), score=Scores(nearest=0.4, detail=0.45))
    assert lost.kept == "Lanczos" and lost.detail == "rejected (score 0.450 < 0.500)"  # Lanczos beat Nearest
    won = run(opts(upscaler="Nearest"), inpainter=TileInpainter(tagged), score=Scores(nearest=0.4, detail=0.5))
    assert won.kept == "detail"  # equal is not worse


def test_detail_off_zero_denoise_or_no_inpainter_skip_the_pass():
    for o, inp in ((opts(detail_pass=False), TileInpainter()), (opts(detail_denoise=0.0), TileInpainter()),
                   (opts(), None)):
        out = run(o, inpainter=inp)
        assert out.detail == "off" and out.grid is None and (inp is None or inp.calls == [])


def test_an_interrupt_between_tiles_or_a_failing_tile_keeps_the_upscaled_image():
    stops = iter([None, None, "interrupted"])
    inp = TileInpainter(tagged)
    out = run(opts(), inpainter=inp, should_stop=lambda: next(stops))
    assert len(inp.calls) == 2 and out.detail == "interrupted" and out.kept == "Lanczos"

    def boom(px, i):
        raise RuntimeError("NaN in the latent")

    out = run(opts(), inpainter=TileInpainter(boom))
    assert out.detail == "failed: RuntimeError: NaN in the latent" and out.kept == "Lanczos"
    pressed = []  # Interrupt pressed while a tile sampled: the pass fails, the stop check says why
    out = run(opts(), inpainter=TileInpainter(lambda px, i: pressed.append(1) or boom(px, i)),
              should_stop=lambda: "interrupted" if pressed else None)
    assert out.detail == "interrupted"


def test_a_candidate_that_cannot_be_scored_is_not_kept():
    def score(image):
        if image[0, 0, 0] == 7 and image[0, 0, 1] == 7:
            raise RuntimeError("scorer died")
        return 0.5

    out = run(opts(), inpainter=TileInpainter(tagged), score=score)
    assert out.kept == "Lanczos" and out.detail == "rejected (not scored)"
    assert out.notes == ("upscale: scoring failed (RuntimeError: scorer died)",)


def test_the_controlnet_tile_unit_rides_on_every_tile_when_switched_on():
    inp = TileInpainter()
    run(opts(controlnet_tile=True, controlnet_tile_weight=0.7), inpainter=inp)
    units = {c["params"].units for c in inp.calls}
    assert len(units) == 1
    (unit,) = units.pop()
    assert (unit.kind, unit.module, unit.model, unit.weight, unit.image) == ("tile", "tile_resample", "auto", 0.7, None)
    inp = TileInpainter()
    run(opts(controlnet_tile=True, use_controlnet=False), inpainter=inp)
    assert all(c["params"].units == () for c in inp.calls)


def test_the_tile_unit_is_built_like_every_other_unit():
    # "auto" is the field's default preprocessor (not sent to the host as "auto") and the guidance
    # end is at least its start: the rules of guidance.unit_for, shared with the inpaint passes
    (unit,) = U.tile_units(opts(controlnet_tile=True, controlnet_tile_module="auto", controlnet_tile_start=0.6,
                                controlnet_tile_end=0.2))
    assert (unit.module, unit.guidance_start, unit.guidance_end, unit.target, unit.keywords) == (
        "tile_resample", 0.6, 0.6, "detail", ("tile",))


def test_a_huge_result_is_capped_with_a_note(monkeypatch):
    monkeypatch.setattr(U, "MAX_PIXELS", 200 * 150)
    out = run(opts(upscale_factor=4, detail_pass=False))
    assert out.image.shape[0] * out.image.shape[1] <= 200 * 150
    assert out.notes == ("upscale: factor 4 reduced to 1.56 (the result would exceed 0.03 Mpx)",)


def test_upscale_infotext_uses_result_keys_that_never_paste_back():
    out = run(opts(upscaler="Nearest"), inpainter=TileInpainter(tagged))
    info = U.upscale_infotext(out)
    assert info == {"QFix upscaled": "Nearest, 128x96 -> 256x192",
                    "QFix detail tiles": "6 tiles (3x2, 128x128 px, overlap 32 px), kept",
                    "QFix upscale scores": "Lanczos 0.500, Nearest 0.600, detail 0.700",
                    "QFix upscale kept": "detail"}
    assert set(info) <= set(RESULT_KEYS)
    assert set(info).isdisjoint(f.infotext_key for f in FIELDS)
    assert from_infotext({k: str(v) for k, v in info.items()}) == {}


def test_upscale_step_reads_only_options_declared_for_it():
    import ast
    import inspect

    from lib_qfix.a1111 import upscaler as adapter
    from lib_qfix.options import read_by

    reads = set()
    for module in (U, adapter):
        tree = ast.parse(inspect.getsource(module))
        reads |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                  and n.value.id == "options"} - {"replace", "to_dict"}
    # the tile unit's own fields are read by guidance.unit_for, like every ControlNet unit's
    assert reads == set(read_by("upscale")) | {"use_controlnet", "controlnet_tile"}
    assert U.wanted(opts()) and not U.wanted(opts(mode="score_only")) and not U.wanted(DEFAULTS)


def test_a_model_upscaler_that_silently_resized_is_recorded_as_lanczos():
    # offline, A1111 answers "R-ESRGAN 4x+" without weights with a plain Lanczos resize: say so
    class SilentFallback:
        def upscale(self, image, factor, name):
            h, w = image.shape[:2]
            return U.lanczos(image, U.target_size(w, h, factor))

    out = run(opts(upscaler="R-ESRGAN 4x+", detail_pass=False), SilentFallback())
    assert out.upscaler == "Lanczos" and out.kept == "Lanczos" and out.image.shape == (192, 256, 3)
    assert len(out.notes) == 1 and "'R-ESRGAN 4x+' gave a plain resize" in out.notes[0]
    real = run(opts(upscaler="Nearest", detail_pass=False), FakeUpscaler())  # a real upscaler differs
    assert real.upscaler == "Nearest" and not real.notes
