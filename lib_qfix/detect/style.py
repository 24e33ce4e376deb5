"""Style and era ("wrong_era", "generic_style") from CLIP's look/feel prompt pairs.

Nothing offline can judge these without a vision-language model: they need the CLIP-IQA scorer with
real weights and pairs that include the ``feel`` set's ``new_old`` ("New photo." / "Old photo.") and
``natural_synthetic`` ("Natural photo." / "Synthetic photo."), whose probabilities the scorer reports
as the signals ``clip:new_old`` (P(new)) and ``clip:natural_synthetic`` (P(natural)); or the LLM judge
(:mod:`lib_qfix.judge`), which names the same catalogue defects itself. With the offline scorer
those signals are absent and nothing is judged.

Rules (whole-image regions, kind "style", only when ``options.judge_style``):
- "wrong_era": the prompt names an old era (:data:`OLD_WORDS`: vintage, victorian, 1920s, ...) and
  P(new) >= :data:`CLEAR`, or a new one (:data:`NEW_WORDS`: modern, futuristic, 2020s, ...) and
  P(new) <= 1 - :data:`CLEAR`;
- "generic_style": the prompt asks for a photograph (:data:`PHOTO_WORDS`) and P(natural) <= 1 -
  :data:`CLEAR`: the image reads as synthetic.
The thresholds are not calibrated against human labels (no CLIP weights here): treat the findings
as hints; a finding the judge already made is not repeated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from lib_qfix.types import DEFECT, Region

#: how far from 0.5 a pair's probability must be to count
CLEAR = 0.7
OLD_WORDS = re.compile(r"\b(vintage|retro|antique|victorian|edwardian|medieval|renaissance|baroque|ancient|"
                       r"historical|sepia|daguerreotype|tintype|film noir|art deco|old[- ]fashioned|"
                       r"1[0-8]\d\ds?|19[0-7]0s|19[0-7]\d)\b", re.IGNORECASE)
NEW_WORDS = re.compile(r"\b(modern|contemporary|futuristic|cyberpunk|sci-?fi|high[- ]tech|present[- ]day|"
                       r"20[1-9]0s|202\d)\b", re.IGNORECASE)
PHOTO_WORDS = re.compile(r"\b(photo(?:graph)?s?|photorealistic|realistic|dslr|35 ?mm|raw photo|portrait photo)\b",
                         re.IGNORECASE)
NEW_OLD, NATURAL = "clip:new_old", "clip:natural_synthetic"
SOURCE = "clip"


def style_regions(signals: Mapping[str, float], prompt: str, found: Iterable[Region] = ()) -> list[Region]:
    """The style findings for a scored image (see the module doc); ``found`` are the regions already
    reported (a defect the judge gave is not repeated)."""
    have = {d for r in found for d in r.defects}
    out: list[Region] = []
    p_new = signals.get(NEW_OLD)
    if p_new is not None and "wrong_era" not in have:
        old, new = OLD_WORDS.search(prompt or ""), NEW_WORDS.search(prompt or "")
        if old and not new and p_new >= CLEAR:
            out.append(_region("wrong_era", p_new, f"the prompt asks for {old.group(0)!r}, but CLIP reads it as a "
                               f"new photo (P(new) {p_new:.2f} from 'New photo.'/'Old photo.')"))
        elif new and not old and p_new <= 1 - CLEAR:
            out.append(_region("wrong_era", 1 - p_new, f"the prompt asks for {new.group(0)!r}, but CLIP reads it as "
                               f"an old photo (P(old) {1 - p_new:.2f} from 'New photo.'/'Old photo.')"))
    p_nat = signals.get(NATURAL)
    if p_nat is not None and "generic_style" not in have:
        photo = PHOTO_WORDS.search(prompt or "")
        if photo and p_nat <= 1 - CLEAR:
            out.append(_region("generic_style", 1 - p_nat, f"the prompt asks for a {photo.group(0)!r}, but CLIP reads "
                               f"it as synthetic (P(synthetic) {1 - p_nat:.2f} from 'Natural photo.'/"
                               "'Synthetic photo.')"))
    return out


def _region(defect: str, confidence: float, reason: str) -> Region:
    return Region("style", None, float(confidence), DEFECT,
                  (reason, "judged from CLIP prompt pairs (needs CLIP weights; the LLM judge can say it too)"),
                  (defect,), SOURCE)
