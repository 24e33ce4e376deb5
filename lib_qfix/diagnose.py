"""Score + detect + judge one image: the pipeline behind ``qfix diagnose``, the API and the fix loop.

Nothing here fails silently: a detector that raises becomes a warning on the report
(``"hand detector failed: …"``), never "nothing found".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from lib_qfix.detect.style import style_regions
from lib_qfix.errors import error_text
from lib_qfix.judge.verdicts import merge_findings
from lib_qfix.options import DEFAULTS, Options
from lib_qfix.prompts.negatives import negative_for_regions
from lib_qfix.registry import DETECTORS, create_detector
from lib_qfix.scoring import scorer_for
from lib_qfix.types import DEFECT, ImageReport, Region, ScoreResult


def enabled_detectors(options: Options) -> list[str]:
    """The registry names of the detectors ``options`` switch on, in table order."""
    return [d.name for d in DETECTORS if getattr(options, d.switch)]


#: detectors that run in a worker thread, overlapping the scorer (see ``DetectorEntry.background``)
BACKGROUND_DETECTORS = tuple(d.name for d in DETECTORS if d.background)
_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _background_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="qfix-detect")
        return _pool


def _detect_one(name: str, image: np.ndarray, options: Options, prompt: str) -> tuple[list[Region], str | None]:
    try:
        return list(create_detector(name).detect(image, options, prompt)), None
    except Exception as e:  # a broken detector is reported, never silent
        return [], f"{name} detector failed: {error_text(e)}"


def start_detectors(image: np.ndarray, options: Options,
                    prompt: str = "") -> Callable[[], tuple[list[Region], list[str]]]:
    """Start the enabled detectors; the returned ``finish()`` gives (regions, warnings) in
    detector order. Background detectors start now; the others run inside ``finish()``, so the
    caller can score the image in between."""
    names = enabled_detectors(options)
    futures = {n: _background_pool().submit(_detect_one, n, image, options, prompt)
               for n in names if n in BACKGROUND_DETECTORS}

    def finish() -> tuple[list[Region], list[str]]:
        regions: list[Region] = []
        warnings: list[str] = []
        for n in names:
            found, warning = futures[n].result() if n in futures else _detect_one(n, image, options, prompt)
            regions.extend(found)
            if warning:
                warnings.append(warning)
        return regions, warnings

    return finish


def run_detectors(image: np.ndarray, options: Options, prompt: str = "") -> tuple[list[Region], list[str]]:
    """All enabled detectors on ``image``; returns (regions, warnings)."""
    return start_detectors(image, options, prompt)()


def judge_quality(score: ScoreResult, options: Options) -> list[Region]:
    """Global regions from a score: the scorer's defects (if global checks are on) plus
    ``low_quality`` when the score is under the threshold. Global "ok" judgements stay in
    ``signals`` only, so that reports list what was found, not everything that was checked."""
    # boxed findings (the LLM judge's) are local, like a detector's: kept whatever detect_global says
    out = [r for r in score.regions if r.is_defect and (options.detect_global or r.box is not None)]
    if score.quality < options.quality_threshold:
        out.append(Region("low_quality", None, 1.0 - score.quality, DEFECT,
                          (f"quality {score.quality:.2f} < threshold {options.quality_threshold:.2f}",),
                          ("low_quality",), score.scorer))
    return out


def build_report(image: np.ndarray, score: ScoreResult, options: Options = DEFAULTS, *, prompt: str = "",
                 path: str | None = None, warnings: Sequence[str] = (),
                 detections: tuple[list[Region], list[str]] | None = None) -> ImageReport:
    """Report for an already-scored image: runs the detectors (unless ``detections`` are given)
    and builds the negative."""
    regions, det_warnings = detections if detections is not None else run_detectors(image, options, prompt)
    regions = merge_findings(judge_quality(score, options) + regions)  # a judge's hand and a detector's: one
    if options.judge_style:  # wrong era / generic style from CLIP's feel pairs, when the scorer has them
        regions += style_regions(score.signals, prompt, regions)
    h, w = image.shape[:2]
    return ImageReport(
        path=path, width=w, height=h, quality=score.quality, scorer=score.scorer,
        signals=dict(score.signals), regions=tuple(regions),
        negative=negative_for_regions(regions, options),
        warnings=tuple(warnings) + tuple(score.warnings) + tuple(det_warnings),
    )


def diagnose(image: np.ndarray, options: Options = DEFAULTS, *, scorer: Any = None, prompt: str = "",
             path: str | None = None, models_dir: str | None = None) -> ImageReport:
    """Score and diagnose one RGB uint8 image (the text detector overlaps the scoring). Without a
    ``scorer``, the one ``options`` name is built with the host's ``models_dir``."""
    warnings: list[str] = []
    if scorer is None:
        scorer, warnings = scorer_for(options, models_dir)
    finish = start_detectors(image, options, prompt)
    score = scorer.score([image], [prompt])[0]
    return build_report(image, score, options, prompt=prompt, path=path, warnings=warnings,
                        detections=finish())


def error_report(path: str | None, message: str, scorer: str = "") -> ImageReport:
    """The report for an image that could not be processed."""
    return ImageReport(path=path, width=0, height=0, quality=None, scorer=scorer, error=message)
