"""The optional last step after the fix loop: upscale, then refine tile by tile ("detail pass").

Driven through ports only: an :class:`~lib_qfix.protocols.Upscaler` (A1111: ``shared.sd_upscalers``),
the loop's :class:`~lib_qfix.protocols.Inpainter` for the detail pass and a ``score`` callable
(image -> quality 0..1, the scorer the loop used). Steps:

1. **Reference**: the input resized to ``factor`` x its size with plain Lanczos (:func:`lanczos`):
   what the user gets from any image viewer.
2. **Upscaler**: the named upscaler (skipped for "Lanczos", which *is* the reference). A name the
   host does not have, or an upscaler that fails, gives the reference and a note.
3. **Detail pass** (``detail_pass``): the best image so far cut into overlapping tiles
   (:mod:`lib_qfix.fix.tiles`); each tile goes through ``Inpainter.inpaint`` with a mask covering the
   whole tile, no padding and ``resolution`` = the tile's side, i.e. a plain img2img of the tile at
   its own size at ``detail_denoise``, on the image's own prompt, negative and ``seed + tile index``.
   The inpainter port (rather than a separate img2img port) keeps every guard of the host's inner
   pass (interrupt, progress, conditioning caches, ``params.txt``) and carries the ControlNet units
   of :attr:`~lib_qfix.protocols.InpaintParams.units`: a ``tile`` unit (``tile_resample`` of the tile
   itself) when the ControlNet options switch it on (``use_controlnet`` and ``controlnet_tile``).
   Tiles are blended back with linear ramps across their overlap.

**Never worse, at the same resolution.** Every candidate is scored at the output size, so the
comparison is between images of the same size (the offline score counts resolution and fine detail,
which a comparison across sizes would confound): the upscaler's result replaces the reference only
if it scores at least as well, and the detail pass replaces the best so far only if it scores at
least as well. Scoring the result downscaled to the input size instead would throw away exactly the
detail the step adds, and let noise the detail pass introduced vanish in the downscale. If a
candidate cannot be scored it is not kept (the reference always is a valid answer of the asked size).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image

from lib_qfix.errors import error_text
from lib_qfix.fix.guidance import unit_for
from lib_qfix.fix.infotext import DETAIL_TILES, UPSCALE_KEPT, UPSCALE_SCORES, UPSCALED
from lib_qfix.fix.tiles import Tile, TileGrid, refine_tiled, tile_grid
from lib_qfix.options import Options
from lib_qfix.protocols import ControlUnit, Inpainter, InpaintParams, Upscaler

#: image -> quality in 0..1, or None when it could not be scored
Score = Callable[[np.ndarray], "float | None"]
StopCheck = Callable[[], "str | None"]
#: the upscaler name that means the reference resize itself (no host call)
LANCZOS = "Lanczos"
#: the largest result in pixels (~6300x6300): the blend needs 16 bytes per pixel besides the image
MAX_PIXELS = 40_000_000


def _never_stop() -> str | None:
    return None


def wanted(options: Options) -> bool:
    """Whether the step runs: ``upscale`` on and a mode that may change the image (not "score_only")."""
    return bool(options.upscale) and options.mode != "score_only"


def target_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """(width, height) of a ``width`` x ``height`` image enlarged ``factor`` times, rounded."""
    return max(1, int(round(width * factor))), max(1, int(round(height * factor)))


def lanczos(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``size`` = (width, height) with a Lanczos filter (the input when equal)."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


@dataclass(frozen=True)
class UpscaleParams:
    """What the step does: ``upscaler`` name, ``factor`` 1..4, ``detail`` on/off, ``denoise`` 0..1,
    ``tile`` side and ``overlap`` in pixels, ``units``: ControlNet units for every tile."""

    upscaler: str = LANCZOS
    factor: float = 2.0
    detail: bool = True
    denoise: float = 0.3
    tile: int = 512
    overlap: int = 64
    units: tuple[ControlUnit, ...] = ()

    @classmethod
    def from_options(cls, options: Options) -> UpscaleParams:
        return cls(str(options.upscaler), float(options.upscale_factor), bool(options.detail_pass),
                   float(options.detail_denoise), int(options.tile_size), int(options.tile_overlap),
                   tile_units(options))


def tile_units(options: Options) -> tuple[ControlUnit, ...]:
    """The ControlNet ``tile`` unit for every tile when the ControlNet options switch it on
    (``image`` None: ControlNet resamples the tile itself), else none."""
    if not (options.use_controlnet and options.controlnet_tile):
        return ()
    return (unit_for("tile", "detail", options),)


@dataclass(frozen=True, eq=False)
class UpscaleOutcome:
    """The step's result. ``image`` is the kept candidate at ``size_after``; ``upscaler`` the one
    used (Lanczos after a fallback); ``grid`` the detail pass's tiles (None when it did not run);
    ``detail`` its verdict ("kept", "off", "rejected (...)", "failed: ...", "interrupted", ...);
    ``scores``: (candidate, quality at the output size) in order; ``kept``: the kept candidate's
    name; ``notes``: fallbacks and limits, one line each."""

    image: np.ndarray
    size_before: tuple[int, int]
    size_after: tuple[int, int]
    upscaler: str
    grid: TileGrid | None
    detail: str
    scores: tuple[tuple[str, float | None], ...]
    kept: str
    notes: tuple[str, ...] = ()


class _Stopped(Exception):
    """The user asked to stop between tiles."""


def _score(score: Score, image: np.ndarray, notes: list[str]) -> float | None:
    try:
        q = score(image)
    except Exception as e:
        notes.append(f"upscale: scoring failed ({error_text(e)})")
        return None
    return None if q is None else float(q)


def _not_worse(q: float | None, ref: float | None) -> bool:
    return q is not None and ref is not None and q >= ref


def _factor(width: int, height: int, factor: float, notes: list[str]) -> float:
    """``factor``, reduced so that the result stays within :data:`MAX_PIXELS` (with a note)."""
    if width * height * factor * factor <= MAX_PIXELS:
        return factor
    fit = math.floor(math.sqrt(MAX_PIXELS / (width * height)) * 100) / 100
    notes.append(f"upscale: factor {factor:g} reduced to {fit:g} (the result would exceed {MAX_PIXELS / 1e6:g} Mpx)")
    return max(1.0, fit)


def run_upscale(image: np.ndarray, options: Options, *, upscaler: Upscaler, score: Score,
                inpainter: Inpainter | None = None, prompt: str = "", negative: str = "", seed: int = 0,
                should_stop: StopCheck = _never_stop) -> UpscaleOutcome:
    """Upscale one (H, W, 3) uint8 image and refine it (see the module doc). Never raises for a
    failing upscaler, tile or scorer: each becomes a note or the detail verdict."""
    params = UpscaleParams.from_options(options)
    h, w = image.shape[:2]
    notes: list[str] = []
    factor = _factor(w, h, params.factor, notes)
    size = target_size(w, h, factor)
    best = reference = lanczos(image, size)
    best_q = _score(score, reference, notes)
    scores: list[tuple[str, float | None]] = [(LANCZOS, best_q)]
    kept, used = LANCZOS, LANCZOS
    if params.upscaler.strip().lower() != LANCZOS.lower():
        up = _upscale(upscaler, image, factor, params.upscaler, reference, notes)
        if up is not None:
            used = params.upscaler
            q = _score(score, up, notes)
            scores.append((used, q))
            if _not_worse(q, best_q):
                best, best_q, kept = up, q, used
    grid, verdict = None, "off"
    if params.detail and inpainter is not None and params.denoise > 0:
        grid = tile_grid(size[0], size[1], params.tile, params.overlap)
        detailed, verdict = _detail(best, grid, params, options, inpainter, prompt, negative, seed, should_stop)
        if detailed is not None:
            q = _score(score, detailed, notes)
            scores.append(("detail", q))
            if _not_worse(q, best_q):
                best, kept, verdict = detailed, "detail", "kept"
            else:
                verdict = "rejected (" + (f"score {q:.3f} < {best_q:.3f}" if q is not None and best_q is not None
                                          else "not scored") + ")"
    return UpscaleOutcome(best, (w, h), size, used, grid, verdict, tuple(scores), kept, tuple(dict.fromkeys(notes)))


def _upscale(upscaler: Upscaler, image: np.ndarray, factor: float, name: str, reference: np.ndarray,
             notes: list[str]) -> np.ndarray | None:
    """The host upscaler's (never Lanczos) result at exactly the size of ``reference`` (the input's
    Lanczos resize), or None (with a note) when it has no such upscaler, it failed or it only resized."""
    try:
        out = upscaler.upscale(image, factor, name)
    except LookupError as e:  # the adapter's message names the upscaler and what the host has
        notes.append(f"{e.args[0] if e.args else error_text(e)}; {LANCZOS} used")
        return None
    except Exception as e:
        notes.append(f"upscaler {name!r} failed ({error_text(e)}); {LANCZOS} used")
        return None
    if out.ndim != 3 or out.shape[2] != 3 or out.dtype != np.uint8:
        notes.append(f"upscaler {name!r} returned {out.dtype} {out.shape}; {LANCZOS} used")
        return None
    out = lanczos(out, (reference.shape[1], reference.shape[0]))
    if _plain_resize(out, reference):
        # A1111 answers a model upscaler whose weights cannot load with a plain Lanczos resize, silently
        notes.append(f"upscaler {name!r} gave a plain resize (its model did not load: the WebUI log says "
                     f"why); recorded as {LANCZOS}")
        return None
    return out


#: mean absolute difference (0..255 levels) under which an upscaler's output is a plain Lanczos resize
PLAIN_RESIZE_LEVELS = 1.5


def _plain_resize(out: np.ndarray, reference: np.ndarray) -> bool:
    return float(np.abs(out.astype(np.int16) - reference.astype(np.int16)).mean()) < PLAIN_RESIZE_LEVELS


def _detail(image: np.ndarray, grid: TileGrid, params: UpscaleParams, options: Options, inpainter: Inpainter,
            prompt: str, negative: str, seed: int, should_stop: StopCheck) -> tuple[np.ndarray | None, str]:
    """The tiled img2img pass over ``image``: (result, "") or (None, why it did not finish)."""
    base = InpaintParams.from_options(options)  # steps, cfg, sampler and scheduler of the inpaint passes

    def refine(pixels: np.ndarray, t: Tile) -> np.ndarray:
        stop = should_stop()
        if stop:
            raise _Stopped(stop)
        tile_params = replace(base, padding=0, resolution=max(t.w, t.h), denoise=params.denoise,
                              units=params.units, guide_size=0)
        mask = np.full(pixels.shape[:2], 255, np.uint8)
        return inpainter.inpaint(pixels, mask, prompt, negative, seed + t.index, tile_params)

    try:
        return refine_tiled(image, grid, refine), ""
    except _Stopped as e:
        return None, str(e)
    except Exception as e:  # a pass the user interrupted while it sampled fails: say why it ended
        return None, should_stop() or f"failed: {error_text(e)}"


def upscale_infotext(outcome: UpscaleOutcome) -> dict[str, Any]:
    """The step's infotext pairs (result keys of :mod:`lib_qfix.fix.infotext`, never option keys)."""
    (w, h), (W, H) = outcome.size_before, outcome.size_after
    detail = outcome.detail if outcome.grid is None else f"{outcome.grid.describe()}, {outcome.detail}"
    return {UPSCALED: f"{outcome.upscaler}, {w}x{h} -> {W}x{H}",
            DETAIL_TILES: detail,
            UPSCALE_SCORES: ", ".join(f"{n} {'-' if q is None else f'{q:.3f}'}" for n, q in outcome.scores),
            UPSCALE_KEPT: outcome.kept}
