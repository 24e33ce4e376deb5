"""Shared pieces of the ControlNet tests: a scripted diagnosis with a malformed hand that carries
landmarks, and a runner holding a fake ControlNet script and QFix (as the host lays out their args)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lib_qfix.fix.outcome import RegionCheck
from lib_qfix.options import DEFAULTS, positional
from lib_qfix.types import DEFECT, ImageReport, Region
from testkit.fake_a1111 import install
from testkit.fake_a1111.host_api import api_args, ui_defaults
from testkit.fixtures_hand_landmarks import PERTURBATIONS, canonical_hand

SIZE = 256  # the generated image is SIZE x SIZE; the canonical hand lies inside it


def malformed_hand() -> np.ndarray:
    """(21, 3) landmarks: the canonical open hand with a far too long index finger."""
    bad = next(f for f in PERTURBATIONS if f.__name__ == "_long_index")
    p = bad(canonical_hand().copy())
    p[:, :2] = np.clip(p[:, :2], 1, SIZE - 2)
    return p


def hand_region(points: np.ndarray, defect: bool = True) -> Region:
    p = np.asarray(points)[:, :2]
    box = (int(p[:, 0].min()), int(p[:, 1].min()), int(p[:, 0].max()) + 1, int(p[:, 1].max()) + 1)
    return Region("hand", box, 0.9, DEFECT if defect else "ok", (), ("malformed_hand",) if defect else (),
                  landmarks=tuple((float(x), float(y)) for x, y in p))


def scripted(monkeypatch: Any, region: Region) -> dict[str, Any]:
    """Diagnosis by pixel: ``region`` is defective while the pixel at its wrist keeps the original
    grey (100); every repainted region passes its checks (the fake host paints flat colours)."""
    x, y = (int(v) for v in region.landmarks[0])
    state = {"calls": 0}

    def diagnose(image, options, *, scorer=None, prompt="", path=None):
        state["calls"] += 1
        bad = int(image[y, x, 0]) == 100
        regions = (region,) if bad else ()
        return ImageReport(path, image.shape[1], image.shape[0], 0.5 if bad else 0.8, "fake", regions=regions)

    def checks_pass(options, prompt=""):
        return lambda before, after, groups: tuple(RegionCheck(r.kind, r.box) for g in groups for r in g.regions)

    monkeypatch.setattr("lib_qfix.diagnose.diagnose", diagnose)
    monkeypatch.setattr("lib_qfix.fix.fidelity.region_checker", checks_pass)
    return state


def runner(host: Any, cn: Any) -> tuple[Any, Any, list[Any]]:
    """(runner with the ControlNet script then QFix, QFix script, default script args): position 0
    is the selectable-script index, then each script's UI values in order."""
    from lib_qfix.a1111.script import QFixScript

    qfix = QFixScript()
    scripts = [cn.script, qfix] if cn is not None else [qfix]
    r = host.modules["modules.scripts"].ScriptRunner(scripts, False)
    args: list[Any] = [0]
    for s in scripts:
        values = cn.default_args() if s is getattr(cn, "script", None) else ui_defaults(s)
        s.args_from, s.args_to = len(args), len(args) + len(values)
        args += values
    return r, qfix, args


def generate(host: Any, cn: Any, options: dict[str, Any] | None = None, *, cn_args: list[Any] | None = None,
             **kw: Any) -> tuple[Any, Any, Any]:
    """A txt2img request with ``alwayson_scripts`` {"QFix": {"args": [options]}} (and ControlNet's
    args when given): returns (QFix script, outer p, processed)."""
    qfix, p = request(host, cn, options, cn_args=cn_args, **kw)
    return qfix, p, host.modules["modules.processing"].process_images(p)


def request(host: Any, cn: Any, options: dict[str, Any] | None = None, *, cn_args: list[Any] | None = None,
            **kw: Any) -> tuple[Any, Any]:
    """The processing object of :func:`generate`'s request, not run yet: (QFix script, p)."""
    processing = host.modules["modules.processing"]
    r, qfix, defaults = runner(host, cn)
    request = {"QFix": {"args": [{"enable": True, "rounds": 1, **(options or {})}]}}
    if cn_args is not None:
        request["ControlNet"] = {"args": cn_args}
    args = api_args(r, defaults, request)
    kw.setdefault("width", SIZE)
    kw.setdefault("height", SIZE)
    kw.setdefault("prompt", "a hand")
    kw.setdefault("seed", 1234)
    p = processing.StableDiffusionProcessingTxt2Img(**kw)
    p.scripts, p.script_args, p.is_api = r, tuple(args), True
    return qfix, p


def ui_args(**kw: Any) -> list[Any]:
    return positional(DEFAULTS.replace(enable=True, **kw))


def grey_host(monkeypatch: Any, tmp_path: Any) -> Any:
    """The fake host; its generations are flat grey (100), the colour :func:`scripted` reads as unfixed."""
    h = install(monkeypatch, tmp_path)
    h.base_image = np.full((SIZE, SIZE, 3), 100, np.uint8)
    return h


def scripted_hand(monkeypatch: Any) -> Region:
    """The malformed hand, diagnosed by :func:`scripted`."""
    r = hand_region(malformed_hand())
    scripted(monkeypatch, r)
    return r


def inner_runs(fake: Any) -> list[dict[str, Any]]:
    """The ControlNet ``process`` calls of inner passes (img2img with a mask)."""
    return [c for c in fake.processes if getattr(c["p"], "image_mask", None) is not None]
