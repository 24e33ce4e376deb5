"""Distortion-ladder benchmark: does the offline score get worse as each distortion gets worse?

For every bundled public-domain photo (resized to 512x512) and each of the seven distortions of
:mod:`testkit.distortions` (five levels), the Spearman correlation (SRCC) between badness
(QFix: minus the quality; BRISQUE: its score) and the level. Reported per distortion as the mean over
photos (and the worst photo), QFix side by side with the ``brisque`` package run in the same
process, plus median milliseconds per 512x512 image for both. This measures monotonicity, not
agreement with people.

    .venv/bin/python -m bench.ladder            # all photos (~2 min on 2 cores)
    .venv/bin/python -m bench.ladder --quick    # three photos
    .venv/bin/python -m bench.ladder --holdout  # other bundled scikit-image photos: the ladder
                                                # constants were tuned on the default set only;
                                                # each also rendered high-key, with a large
                                                # bright sky / wall, as JPEG q80 and dim
                                                # (testkit.photo_variants; --plain: photos only)

SRCC is taken on the quality itself (not 1 - quality, which rounds to 1.0 for tiny qualities and
would tie). Last line: ``ladder: mean_srcc=… min_distortion_srcc=… ms=… brisque_ms=…``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/ladder.py` from anywhere

from lib_qfix.samples import all_photos
from lib_qfix.scoring.offline import OfflineScorer
from testkit.distortions import DISTORTIONS, LEVELS, ladder
from testkit.photo_variants import VARIANTS

QUICK_PHOTOS = ("astronaut", "coffee", "camera")
#: Photographic scikit-image images outside lib_qfix.samples (not used to tune the ladder; their
#: clean scores did prompt a gentler tone penalty for flat, low-contrast photos such as "moon").
#: ("cat" is left out: scikit-image's cat is the tuning set's chelsea.)
HOLDOUT_PHOTOS = ("coins", "moon", "immunohistochemistry", "hubble_deep_field", "brick", "gravel",
                  "retina", "text", "page")
MOTION_ANGLES = (0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 15.0, 75.0)  # one per photo, fixed


def srcc(badness: list[float], levels=LEVELS) -> float:
    """Spearman rank correlation (average ranks for ties); 0.0 when badness is constant."""
    def ranks(v):
        a = np.asarray(v, np.float64)
        order = a.argsort(kind="stable")
        r = np.empty(len(a))
        r[order] = np.arange(len(a), dtype=np.float64)
        for val in np.unique(a):  # average ranks over ties
            idx = a == val
            r[idx] = r[idx].mean()
        return r

    rb, rl = ranks(badness), ranks(levels)
    if rb.std() == 0:
        return 0.0
    return float(np.corrcoef(rb, rl)[0, 1])


def _holdout() -> dict[str, np.ndarray]:
    from lib_qfix.samples import skimage_photo

    out = {}
    for name in HOLDOUT_PHOTOS:
        try:
            out[name] = skimage_photo(name)
        except Exception:  # not bundled with this scikit-image (would download)
            continue
    return out


def load_photos(quick: bool, holdout: bool = False, variants: bool = False) -> dict[str, np.ndarray]:
    """512x512 photos by name; with ``variants`` also each one's renderings as "name+variant"."""
    photos = _holdout() if holdout else all_photos()
    if quick:
        photos = dict(list(photos.items())[:3]) if holdout else \
            {k: v for k, v in photos.items() if k in QUICK_PHOTOS}
    photos = {k: cv2.resize(v, (512, 512), interpolation=cv2.INTER_AREA) for k, v in photos.items()}
    if not variants:
        return photos
    return {(k if vn == "plain" else f"{k}+{vn}"): fn(v)
            for k, v in photos.items() for vn, fn in VARIANTS.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_PHOTOS)}")
    ap.add_argument("--holdout", action="store_true",
                    help="other bundled scikit-image photos instead (an out-of-sample check)")
    ap.add_argument("--plain", action="store_true",
                    help="with --holdout: the photos only, without their bright/dim/JPEG renderings")
    ap.add_argument("--no-brisque", action="store_true", help="skip the BRISQUE peer (faster)")
    args = ap.parse_args(argv)

    photos = load_photos(args.quick, args.holdout, variants=args.holdout and not args.plain)
    scorer = OfflineScorer()
    brisque = None
    if not args.no_brisque:
        from brisque import BRISQUE

        brisque = BRISQUE(url=False)

    ours: dict[str, list[float]] = {d: [] for d in DISTORTIONS}
    peer: dict[str, list[float]] = {d: [] for d in DISTORTIONS}
    ms, brisque_ms = [], []
    scorer.score([next(iter(photos.values()))])  # warm-up (first-call allocations)
    for i, (name, photo) in enumerate(photos.items()):
        for dist in DISTORTIONS:
            kwargs = {"angle_deg": MOTION_ANGLES[i % len(MOTION_ANGLES)]} if dist == "motion_blur" else {}
            images = ladder(photo, dist, **kwargs)
            bad = []
            for im in images:
                t = time.perf_counter()
                q = scorer.score([im])[0].quality
                ms.append((time.perf_counter() - t) * 1000)
                bad.append(-q)
            ours[dist].append(srcc(bad))
            if brisque is not None:
                bb = []
                for im in images:
                    t = time.perf_counter()
                    bb.append(float(brisque.score(im)))
                    brisque_ms.append((time.perf_counter() - t) * 1000)
                peer[dist].append(srcc(bb))
        if "+" not in name:
            print(f"  {name}: done", flush=True)

    print(f"\n{len(photos)} photos x {len(DISTORTIONS)} distortions x {len(LEVELS)} levels, 512x512")
    print(f"{'distortion':16s} {'QFix mean':>9s} {'QFix min':>9s} {'BRISQUE mean':>13s} {'BRISQUE min':>12s}")
    for d in DISTORTIONS:
        o = ours[d]
        p = peer[d] or [float("nan")]
        print(f"{d:16s} {np.mean(o):9.3f} {np.min(o):9.3f} {np.mean(p):13.3f} {np.min(p):12.3f}")
    per_dist = [float(np.mean(ours[d])) for d in DISTORTIONS]
    mean_srcc = float(np.mean(per_dist))
    peer_mean = float(np.mean([np.mean(peer[d]) for d in DISTORTIONS])) if brisque else float("nan")
    med = statistics.median(ms)
    bmed = statistics.median(brisque_ms) if brisque_ms else float("nan")
    print(f"{'all':16s} {mean_srcc:9.3f} {'':9s} {peer_mean:13.3f}")
    worst = [f"{d}:{n}={v:.2f}" for d in DISTORTIONS for n, v in zip(photos, ours[d], strict=True) if v < 0.85]
    if worst:
        print(f"QFix SRCC < 0.85 ({len(worst)}): " + ", ".join(worst))
    print(f"median ms per image: QFix {med:.1f}, BRISQUE {bmed:.1f} (BRISQUE / QFix = {bmed / med:.1f}x)")
    print(f"ladder: mean_srcc={mean_srcc:.3f} min_distortion_srcc={min(per_dist):.3f} "
          f"ms={med:.1f} brisque_ms={bmed:.1f}")


if __name__ == "__main__":
    main()
