"""Cost of QFix's own ControlNet control images on CPU, beside the detection they come from.

Inputs: a rendered hand pasted on a 512x512 photo (MediaPipe's real landmarks) and the astronaut
photo (512x512, a real 478-point face mesh). Timed, each a median of ``--repeats`` calls after a
warm-up: ``plausible_hand`` on a malformed copy of the detection (middle finger collapsed), the hand
guide of an ok hand (drawing only) and of the malformed hand (fit + drawing), the face guide (mesh ->
70 keypoints + drawing), and the hand detector on the same image as the baseline
(``guide_vs_detect`` = fitted hand guide / hand detection).

Last line: ``guides: plausible_hand_ms=… hand_guide_ms=… hand_guide_fitted_ms=… face_guide_ms=…
hand_detect_ms=… guide_vs_detect=…``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    from lib_qfix.detect.faces import FaceDetector
    from lib_qfix.detect.hands import HandDetector
    from lib_qfix.guides import face_guide, hand_guide, plausible_hand
    from lib_qfix.options import DEFAULTS
    from testkit.fixtures_detect import coffee_with_hand, photo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()

    canvas = coffee_with_hand()
    detector = HandDetector()
    ok = detector.detect(canvas, DEFAULTS)[0]
    p = np.asarray(ok.landmarks)
    p[10:13] = p[9] + (p[10:13] - p[9]) * 0.1
    bad = replace(ok, verdict="defect", landmarks=tuple(map(tuple, p)))
    face = FaceDetector().detect(photo("astronaut"), DEFAULTS)[0]
    size = (512, 512)

    fit = median_ms(lambda: plausible_hand(p), args.repeats)
    drawn = median_ms(lambda: hand_guide(ok, size), args.repeats)
    fitted = median_ms(lambda: hand_guide(bad, size), args.repeats)
    face_ms = median_ms(lambda: face_guide(face, size), args.repeats)
    detect = median_ms(lambda: detector.detect(canvas, DEFAULTS), max(5, args.repeats // 5))
    print(f"guides: plausible_hand_ms={fit:.3f} hand_guide_ms={drawn:.3f} hand_guide_fitted_ms={fitted:.3f} "
          f"face_guide_ms={face_ms:.3f} hand_detect_ms={detect:.1f} guide_vs_detect={fitted / detect:.4f}")


if __name__ == "__main__":
    main()
