"""CLIP-IQA throughput and memory: batched QFix scorer vs a naive one-image-at-a-time loop.

Models: RN50 and ViT-B-32 with random weights (the same compute as the real ones; no downloads).
Sizes: 224 px and 512 px images. RN50 scores at native resolution (a 512 px image is encoded at
512 px, as CLIP-IQA does); ViT-B-32 runs at its own 224 px input, so 512 px images are resized.
Naive = what a user would write: per image, preprocess (open_clip's transform at 224 px; tensor +
normalise at native size for RN50 at 512 px), encode that one image, tokenise and encode the ten
prompt texts (five pairs), softmax; under ``torch.no_grad``. Both run in the same process, on the same
images, after one warm-up call each; medians over ``--repeats`` runs.

Memory: resident set size (VmRSS) after 50 warm-up scores and after 500 consecutive scores of one image
each with a different prompt every time (exercises the bounded prompt cache), on a small ResNet
CLIP (width 16, one block per stage, 128 px images) so that 500 scores take seconds; growth in %.

Precision: QFix's default ``clip_precision`` "auto" (bfloat16 image encoder on a CPU that computes it
natively, see lib_qfix/scoring/clip_model.cpu_autocast) against "fp32" on ``--check`` (default 100)
varied 512 px photos (random crops of the bundled public-domain photos), RN50 native: both rates and
the largest score difference. Random weights give every image nearly the same score, so the logit
scale is set to a trained CLIP's (100, the clamp real checkpoints sit at), which makes the scores as
sensitive to feature errors as a real model's, and every residual block's last BatchNorm weight gets
a random value (open_clip starts them at 0, which would leave the residual branches out of the
features); ``--pretrained PATH`` runs the same check on real weights.
"int8" (opt-in: static int8 ResNet trunk, see lib_qfix/scoring/clip_int8.py) is checked the same way,
its build time (load + calibration) reported too.

Last line: ``clip: rn50_img_per_s=… naive_img_per_s=… ratio=… fp32_img_per_s=… max_abs_err=…
precision=… rss_growth_pct=… int8_img_per_s=… int8_max_abs_err=… int8_build_s=…`` where the first three are RN50 at 512 px native (QFix's default mode,
default precision) and the naive loop runs in fp32.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL_RN = {"embed_dim": 64, "vision_cfg": {"image_size": 128, "layers": [1, 1, 1, 1], "width": 16,
                                            "patch_size": None},
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def photos(n: int, size: int) -> list[np.ndarray]:
    import cv2

    from lib_qfix.samples import skimage_photo

    names = ("astronaut", "coffee", "chelsea", "rocket", "camera")
    out = []
    for i in range(n):
        im = skimage_photo(names[i % len(names)])
        out.append(np.ascontiguousarray(cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA)))
    return out


def naive_scorer(scorer):
    """A straightforward per-image loop with the same model and prompts."""
    import torch
    from PIL import Image

    from lib_qfix.scoring.clip_image import resnet_native_features, to_tensor
    from lib_qfix.scoring.clip_model import open_clip_module

    clip, pairs = scorer.clip, scorer.pairs
    open_clip = open_clip_module()
    preprocess = open_clip.image_transform(clip.image_size[0], is_train=False, mean=clip.mean, std=clip.std)

    def run(images, native):
        out = []
        with torch.no_grad():
            for im in images:
                if native:
                    x = to_tensor([im], clip.mean, clip.std, clip.device, clip.dtype)
                    f = resnet_native_features(clip.model.visual, x, "drop")
                else:
                    x = preprocess(Image.fromarray(im)).unsqueeze(0).to(clip.device, clip.dtype)
                    f = clip.model.encode_image(x)
                f = f / f.norm(dim=-1, keepdim=True)
                texts = [t for p in pairs for t in (p.positive, p.negative)]
                t = clip.model.encode_text(clip.tokenizer(texts).to(clip.device))
                t = (t / t.norm(dim=-1, keepdim=True)).view(len(pairs), 2, -1)
                probs = (clip.model.logit_scale.exp() * torch.einsum("d,pkd->pk", f[0], t)).softmax(-1)[:, 0]
                out.append(float(probs.mean()))
        return out

    return run


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def throughput(model: str, device: str, n: int, repeats: int, batch_size: int) -> list[dict]:
    import torch

    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.clip_model import load_clip
    from lib_qfix.scoring.prompt_pairs import resolve_pairs

    torch.manual_seed(0)
    scorer = ClipIQA(load_clip(model, "random", device), resolve_pairs("quality5"), batch_size=batch_size)
    naive = naive_scorer(scorer)
    rows = []
    for size in (224, 512):
        images = photos(n, size)
        native = scorer.native
        scorer.score(images[:1])
        naive(images[:1], native)
        sync = torch.cuda.synchronize if scorer.clip.device.type == "cuda" else (lambda: None)
        tq = timed(lambda ims=images, s=sync: (scorer.score(ims), s()), repeats)
        tn = timed(lambda ims=images, s=sync, nat=native: (naive(ims, nat), s()), repeats)
        q = [r.quality for r in scorer.score(images)]
        agree = max(abs(a - b) for a, b in zip(q, naive(images, native), strict=True))
        rows.append({"model": model, "size": size, "native": native, "qfix_img_per_s": n / tq,
                     "naive_img_per_s": n / tn, "ratio": tn / tq, "max_abs_diff": agree})
        print(f"{model:9s} {size:4d}px {'native' if native else 'resized':8s} qfix {n / tq:7.2f} img/s   "
              f"naive {n / tn:7.2f} img/s   ratio {tn / tq:5.2f}x   |dq| {agree:.1e}", flush=True)
    return rows


def varied_photos(n: int, size: int = 512, seed: int = 0) -> list[np.ndarray]:
    """``n`` square crops (50-100 % of the short side, random place) of the bundled photos at ``size``."""
    import cv2

    from lib_qfix.samples import all_photos

    rng = np.random.default_rng(seed)
    pool = list(all_photos().values())
    out = []
    for i in range(n):
        p = pool[i % len(pool)]
        h, w = p.shape[:2]
        side = int(min(h, w) * rng.uniform(0.5, 1.0))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out.append(np.ascontiguousarray(cv2.resize(p[y:y + side, x:x + side], (size, size),
                                                   interpolation=cv2.INTER_AREA)))
    return out


def live_residual_branches() -> None:
    """Random RN50s as the precision check builds them get non-zero last BatchNorm weights in every
    residual block: open_clip initialises them to 0, which would leave every residual branch out of
    the features (and out of the error measured) while a trained model uses them all."""
    import torch

    from lib_qfix.scoring import clip_model

    create = clip_model._create

    def with_live_branches(open_clip, name):
        net = create(open_clip, name)
        gen = torch.Generator().manual_seed(1)
        for key, module in net.visual.named_modules():
            if key.startswith("layer") and key.endswith(".bn3"):
                module.weight.data.uniform_(0.1, 0.4, generator=gen)
        return net

    clip_model._create = with_live_branches


def precision_check(n: int, pretrained: str, batch_size: int) -> tuple[float, float, float, str, dict]:
    """(auto img/s, fp32 img/s, largest |score difference|, the auto precision's name, int8 figures)
    on ``n`` photos."""
    import math

    import torch

    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.clip_model import load_clip
    from lib_qfix.scoring.prompt_pairs import resolve_pairs

    images = varied_photos(n)
    runs = {}
    build = {}
    if pretrained == "random":
        live_residual_branches()
    for precision in ("auto", "fp32", "int8"):
        torch.manual_seed(0)
        t = time.perf_counter()
        clip = load_clip("RN50", pretrained, "cpu", precision=precision)
        build[precision] = time.perf_counter() - t
        if pretrained == "random":
            clip.model.logit_scale.data.fill_(math.log(100.0))
        scorer = ClipIQA(clip, resolve_pairs("quality5"), batch_size=batch_size)
        scorer.score(images[:1])
        t = time.perf_counter()
        q = [r.quality for r in scorer.score(images)]
        runs[precision] = (n / (time.perf_counter() - t), q, str(clip.autocast or clip.dtype).replace("torch.", ""))
    err, err8 = (max(abs(a - b) for a, b in zip(runs[p][1], runs["fp32"][1], strict=True)) for p in ("auto", "int8"))
    spread = max(runs["fp32"][1]) - min(runs["fp32"][1])
    print(f"precision: RN50 512px native, {n} photos: auto ({runs['auto'][2]}) {runs['auto'][0]:.2f} img/s, "
          f"fp32 {runs['fp32'][0]:.2f} img/s (x{runs['auto'][0] / runs['fp32'][0]:.2f}); largest score difference "
          f"{err:.4f} (scores spread {spread:.3f}; weights {pretrained})", flush=True)
    print(f"precision: int8 trunk {runs['int8'][0]:.2f} img/s (x{runs['int8'][0] / runs['auto'][0]:.2f} of auto), "
          f"largest score difference {err8:.4f}, load + calibration {build['int8']:.1f} s "
          f"(fp32 load {build['fp32']:.1f} s)", flush=True)
    int8 = {"img_per_s": runs["int8"][0], "max_abs_err": err8, "build_s": build["int8"]}
    return runs["auto"][0], runs["fp32"][0], err, runs["auto"][2], int8


def rss_growth(count: int) -> tuple[float, float, float]:
    import torch

    from lib_qfix.scoring.clip_iqa import ClipIQA
    from lib_qfix.scoring.clip_model import load_clip, open_clip_module
    from lib_qfix.scoring.prompt_pairs import resolve_pairs

    folder = Path(tempfile.mkdtemp(prefix="qfix-bench-"))
    (folder / "qfix-bench-rn-small.json").write_text(json.dumps(SMALL_RN))
    open_clip_module().add_model_config(folder)
    torch.manual_seed(0)
    scorer = ClipIQA(load_clip("qfix-bench-rn-small", "random", "cpu"), resolve_pairs("quality5"))
    images = photos(8, 128)
    for i in range(50):
        scorer.score([images[i % 8]], [f"warm-up prompt {i}"])
    before = rss_mb()
    for i in range(count):
        scorer.score([images[i % 8]], [f"a photo of thing number {i}"])
    after = rss_mb()
    return before, after, 100.0 * (after - before) / before


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps", "auto"))
    ap.add_argument("--n", type=int, default=8, help="images per timed run (default 8)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--scores", type=int, default=500, help="consecutive scores for the memory check")
    ap.add_argument("--check", type=int, default=100, help="photos for the precision check (default 100)")
    ap.add_argument("--pretrained", default="random", help="RN50 weights for the precision check (a path or tag)")
    args = ap.parse_args(argv)
    import torch

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, "
          f"{args.n} images per run, median of {args.repeats}", flush=True)
    rows = throughput("RN50", args.device, args.n, args.repeats, args.batch_size)
    rows += throughput("ViT-B-32", args.device, args.n, args.repeats, args.batch_size)
    auto_rate, fp32_rate, err, precision, int8 = precision_check(args.check, args.pretrained, args.batch_size)
    before, after, growth = rss_growth(args.scores)
    print(f"memory: small RN CLIP, {args.scores} consecutive scores: RSS {before:.0f} -> {after:.0f} MiB "
          f"({growth:+.2f}%)")
    rn = next(r for r in rows if r["model"] == "RN50" and r["size"] == 512)
    print(f"clip: rn50_img_per_s={rn['qfix_img_per_s']:.2f} naive_img_per_s={rn['naive_img_per_s']:.2f} "
          f"ratio={rn['ratio']:.2f} fp32_img_per_s={fp32_rate:.2f} max_abs_err={err:.4f} precision={precision} "
          f"rss_growth_pct={growth:.2f} int8_img_per_s={int8['img_per_s']:.2f} "
          f"int8_max_abs_err={int8['max_abs_err']:.4f} int8_build_s={int8['build_s']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
