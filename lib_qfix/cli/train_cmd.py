"""``qfix train-prompts``: learn quality prompts for CLIP-IQA from a user's scored images.

The labels file is a CSV with a header; the image column is the first of ``image, file, filename,
path, name`` (or ``--image-column``), the score column the first of ``score, mos, quality, label``
(or ``--score-column``); higher scores mean better images, any scale. Image paths are relative to
``--images``. Writes a small safetensors file (``--out FILE``, or ``--name NAME`` into
``<models folder>/prompts/``) and prints the zero-shot and final-epoch validation correlations.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from lib_qfix.cli import UsageError
from lib_qfix.cli.args import number
from lib_qfix.imageio import ImageLoadError, load_image
from lib_qfix.options import DEFAULTS, FIELD_BY_KEY
from lib_qfix.scoring import WeightsUnavailable
from lib_qfix.scoring.clip_image import encode_images
from lib_qfix.scoring.clip_model import load_clip, models_dirs
from lib_qfix.scoring.learned.io import save_prompts
from lib_qfix.scoring.learned.train import train_prompts

IMAGE_COLUMNS = ("image", "file", "filename", "path", "name")
SCORE_COLUMNS = ("score", "mos", "quality", "label")


def register(sub) -> None:
    p = sub.add_parser("train-prompts", help="learn CLIP-IQA quality prompts from scored images",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--labels", required=True, help="CSV file: image name, score (header required)")
    p.add_argument("--images", required=True, help="folder the image names are relative to")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", help="output file (.safetensors is added when missing)")
    out.add_argument("--name", help="save as <models folder>/prompts/NAME.safetensors")
    p.add_argument("--model", default=DEFAULTS.clip_model,
                   help=f"open_clip model name or config .json (default {DEFAULTS.clip_model})")
    p.add_argument("--pretrained", default=DEFAULTS.clip_pretrained,
                   help=f"pretrained tag or checkpoint file (default {DEFAULTS.clip_pretrained})")
    p.add_argument("--device", default=DEFAULTS.device, choices=FIELD_BY_KEY["device"].choice_list())
    p.add_argument("--models-dir", default=None, help="models folder (default $QFIX_MODELS or ~/.cache/qfix/models)")
    p.add_argument("--epochs", type=number(int, 1, 100_000), default=30)
    p.add_argument("--lr", type=number(float, 0, 10, lo_open=True), default=2e-3,
                   help="Adam learning rate for the context vectors (> 0)")
    p.add_argument("--batch-size", type=number(int, 1, 4096), default=16)
    p.add_argument("--n-ctx", type=number(int, 1, 64), default=4, help="learnable context tokens (1..64, default 4)")
    p.add_argument("--lambda", dest="lam", type=number(float, 0), default=5.0,
                   help="gradient-regularisation strength (0 disables; default 5)")
    p.add_argument("--val-frac", type=number(float, 0, 1, hi_open=True), default=0.2,
                   help="validation share, 0..<1 (default 0.2)")
    p.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    p.add_argument("--image-column", default=None)
    p.add_argument("--score-column", default=None)
    p.add_argument("--json", action="store_true", help="print the training summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _column(header: list[str], explicit: str | None, candidates: tuple[str, ...], what: str, path: Path) -> str:
    lower = {h.strip().lower(): h for h in header}
    if explicit:
        if explicit not in header and explicit.lower() not in lower:
            raise UsageError(f"{path}: no column {explicit!r} for the {what}; columns: {', '.join(header)}")
        return explicit if explicit in header else lower[explicit.lower()]
    for c in candidates:
        if c in lower:
            return lower[c]
    raise UsageError(f"{path}: no {what} column; name one of {', '.join(candidates)} (columns: {', '.join(header)})")


def read_labels(labels: Path, images: Path, image_column: str | None = None,
                score_column: str | None = None) -> tuple[list[Path], list[float]]:
    """(image paths, scores) from the CSV; UsageError naming the file, row and value when wrong."""
    if not labels.is_file():
        raise UsageError(f"--labels {labels}: not a file")
    if not images.is_dir():
        raise UsageError(f"--images {images}: not a folder")
    with open(labels, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        img_col = _column(header, image_column, IMAGE_COLUMNS, "image", labels)
        score_col = _column(header, score_column, SCORE_COLUMNS, "score", labels)
        paths, scores = [], []
        for row_no, row in enumerate(reader, start=2):
            name, raw = (row.get(img_col) or "").strip(), (row.get(score_col) or "").strip()
            try:
                score = float(raw)
            except ValueError:
                raise UsageError(f"{labels}:{row_no}: score {raw!r} is not a number") from None
            if score != score or abs(score) == float("inf"):
                raise UsageError(f"{labels}:{row_no}: score {raw!r} must be a finite number")
            p = images / name
            if not name or not p.is_file():
                raise UsageError(f"{labels}:{row_no}: image {name!r} not found in {images}")
            paths.append(p)
            scores.append(score)
    return paths, scores


def run(args) -> int:
    paths, scores = read_labels(Path(args.labels), Path(args.images), args.image_column, args.score_column)
    try:
        images = [load_image(p) for p in paths]
    except ImageLoadError as e:
        raise UsageError(str(e)) from None
    try:
        clip = load_clip(args.model, args.pretrained, args.device, args.models_dir)
    except WeightsUnavailable as e:
        raise UsageError(str(e)) from None
    features = encode_images(images, clip, native=clip.is_resnet)
    try:
        result = train_prompts(clip, features, scores, n_ctx=args.n_ctx, epochs=args.epochs, lr=args.lr,
                               batch_size=args.batch_size, lam=args.lam, val_frac=args.val_frac, seed=args.seed,
                               progress=not args.no_progress)
    except ValueError as e:
        raise UsageError(str(e)) from None
    out = Path(args.out) if args.out else models_dirs(args.models_dir)[0] / "prompts" / args.name
    extra = {"val_srcc": result.val_srcc, "zero_shot_val_srcc": result.zero_shot_val_srcc,
             "train_srcc": result.train_srcc, "n_train": result.n_train, "n_val": result.n_val,
             "lambda": args.lam, "seed": args.seed, "epochs": args.epochs}
    saved = save_prompts(out, result.ctx, clip.name, args.pretrained, result.template_high, result.template_low,
                         extra)
    summary = {"out": str(saved), "model": clip.name, "n_train": result.n_train, "n_val": result.n_val,
               "zero_shot_val_srcc": result.zero_shot_val_srcc, "val_srcc": result.val_srcc,
               "train_srcc": result.train_srcc, "zero_shot_train_loss": result.zero_shot_train_loss,
               "final_train_loss": result.train_loss, "final_val_loss": result.history[-1].val_loss}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        def f(v):
            return "n/a" if v is None else f"{v:.3f}"

        print(f"saved {saved}")
        print(f"train {result.n_train} images, validation {result.n_val} (fixed split, seed {args.seed})")
        print(f"validation SRCC: zero-shot {f(result.zero_shot_val_srcc)} -> final epoch {f(result.val_srcc)}"
              f" (train SRCC {f(result.train_srcc)})")
        if result.n_val == 0:
            print("note: no validation split, the figures above say nothing about new images", file=sys.stderr)
    return 0
