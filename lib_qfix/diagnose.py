"""Score + detect + judge one image: the pipeline behind ``qfix diagnose``, the API and the fix loop.

Nothing here fails silently: a detector that raises becomes a warning on the report
(``"hand detector failed: …"``), never "nothing found".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from lib_qfix.options import DEFAULTS
from lib_qfix.registry import create_detector
from lib_qfix.types import DEFECT, ImageReport, Region, ScoreResult

#: option flag -> registered detector name
DETECTOR_SWITCHES = (("detect_faces", "face"), ("detect_hands", "hand"), ("detect_text", "text"))


def enabled_detectors(options: Any) -> list[str]:
    return [name for flag, name in DETECTOR_SWITCHES if getattr(options, flag)]


def run_detectors(image: np.ndarray, options: Any, prompt: str = "") -> tuple[list[Region], list[str]]:
    """All enabled detectors on ``image``; returns (regions, warnings)."""
    regions: list[Region] = []
    warnings: list[str] = []
    for name in enabled_detectors(options):
        try:
            regions.extend(create_detector(name).detect(image, options, prompt))
        except Exception as e:  # a broken detector is reported, never silent
            warnings.append(f"{name} detector failed: {type(e).__name__}: {e}")
    return regions, warnings


def judge_quality(score: ScoreResult, options: Any) -> list[Region]:
    """Global regions from a score: the scorer's defects (if global checks are on) plus
    ``low_quality`` when the score is under the threshold. Global "ok" judgements stay in
    ``signals`` only, so that reports list what was found, not everything that was checked."""
    out = [r for r in score.regions if r.is_defect] if options.detect_global else []
    if score.quality < options.quality_threshold:
        out.append(Region("low_quality", None, 1.0 - score.quality, DEFECT,
                          (f"quality {score.quality:.2f} < threshold {options.quality_threshold:.2f}",),
                          ("low_quality",), score.scorer))
    return out


def build_report(image: np.ndarray, score: ScoreResult, options: Any = DEFAULTS, *, prompt: str = "",
                 path: str | None = None, warnings: Sequence[str] = ()) -> ImageReport:
    """Report for an already-scored image: runs the detectors and builds the negative."""
    from lib_qfix.prompts.negatives import negative_for_regions

    regions, det_warnings = run_detectors(image, options, prompt)
    regions = judge_quality(score, options) + regions
    h, w = image.shape[:2]
    return ImageReport(
        path=path, width=w, height=h, quality=score.quality, scorer=score.scorer,
        signals=dict(score.signals), regions=tuple(regions),
        negative=negative_for_regions(regions, options),
        warnings=tuple(warnings) + tuple(det_warnings),
    )


def diagnose(image: np.ndarray, options: Any = DEFAULTS, *, scorer: Any = None, prompt: str = "",
             path: str | None = None) -> ImageReport:
    """Score and diagnose one RGB uint8 image."""
    from lib_qfix.scoring import scorer_for

    warnings: list[str] = []
    if scorer is None:
        scorer, warnings = scorer_for(options)
    score = scorer.score([image], [prompt])[0]
    return build_report(image, score, options, prompt=prompt, path=path, warnings=warnings)


def error_report(path: str | None, message: str, scorer: str = "") -> ImageReport:
    """The report for an image that could not be processed."""
    return ImageReport(path=path, width=0, height=0, quality=None, scorer=scorer, error=message)


def with_path(report: ImageReport, path: str) -> ImageReport:
    return replace(report, path=path)
