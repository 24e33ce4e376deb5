"""What ControlNet guidance costs QFix itself, on CPU, on the fake A1111 host (its inner passes do
no sampling, so only QFix's work is timed).

One 512x512 txt2img image (``process_images`` timed, the UI build not) whose (scripted) diagnosis finds one malformed hand with MediaPipe-style
landmarks; one fix round (one inner pass). Timed per image, median of ``--repeats`` runs after a
warm-up, all in the same process:
- ``off``: ``use_controlnet`` false (the unguided pass QFix ran before ControlNet support);
- ``missing``: on, no ControlNet installed (detection + the note);
- ``guided``: on, with the fake sd-webui-controlnet and an OpenPose model: the plausible-hand guide
  at 512x512, model resolution, the inner runner and deep-copied args, ``update_cn_script_in_processing``;
- ``units_off_us`` / ``units_on_ms``: :func:`lib_qfix.fix.guidance.control_units` alone, off and on.

Last line: ``controlnet: off_ms=… missing_ms=… guided_ms=… guided_extra_ms=… guided_vs_off=…
units_off_us=… units_on_ms=…``.

    python bench/controlnet.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZE = 512


def timed(fn, repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()

    from lib_qfix.fix.guidance import control_units
    from lib_qfix.options import DEFAULTS
    from testkit.fake_a1111 import controlnet_a1111, install
    from tests import controlnet_support as S

    points = S.malformed_hand()  # inside 256 px
    points[:, :2] = points[:, :2] * (SIZE / S.SIZE)  # scaled into the 512 px image
    S.SIZE = SIZE
    region = S.hand_region(points)
    times: dict[str, list[float]] = {"off": [], "missing": [], "guided": []}
    for rep in range(args.repeats + 1):  # the cases take turns, so they share the machine's load
        for case in times:
            with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as tmp:
                host = install(mp, Path(tmp))
                host.base_image = np.full((SIZE, SIZE, 3), 100, np.uint8)
                S.scripted(mp, region)
                fake = controlnet_a1111.install(mp, host) if case == "guided" else None
                process_images = host.modules["modules.processing"].process_images
                for i in range(2):  # a warm-up in this host, then the timed image
                    host.inner.clear()
                    _, p = S.request(host, fake, {"use_controlnet": case != "off"})  # builds the UI: not timed
                    t = time.perf_counter()
                    process_images(p)
                    if i and rep:  # the first round is a warm-up too
                        times[case].append(time.perf_counter() - t)
                assert len(host.inner) == 1 and (fake is None or fake.processes), case
    results = {case: statistics.median(ts) * 1000 for case, ts in times.items()}
    off_opts = DEFAULTS.replace(use_controlnet=False)
    units_off = timed(lambda: control_units("hand", [region], off_opts, SIZE, SIZE), args.repeats * 20) * 1e6
    units_on = timed(lambda: control_units("hand", [region], DEFAULTS, SIZE, SIZE), args.repeats) * 1000
    off, missing, guided = results["off"], results["missing"], results["guided"]
    print(f"per image (ms, median of {args.repeats}): off {off:.2f}, missing {missing:.2f}, guided {guided:.2f}")
    print(f"controlnet: off_ms={off:.2f} missing_ms={missing:.2f} guided_ms={guided:.2f} "
          f"guided_extra_ms={guided - off:.2f} guided_vs_off={guided / off:.2f} units_off_us={units_off:.2f} "
          f"units_on_ms={units_on:.2f}")


if __name__ == "__main__":
    main()
