"""Public-domain sample photos that ship inside installed packages (scikit-image, matplotlib).

``python -m lib_qfix.samples DIR`` writes them as PNG/JPEG files into DIR for demos.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "stereo_motorcycle", "clock_motion")


def skimage_photo(name: str) -> np.ndarray:
    """A scikit-image bundled photo as (H, W, 3) uint8 RGB."""
    from skimage import data

    img = getattr(data, name)()
    if isinstance(img, tuple):  # stereo_motorcycle returns (left, right, disparity)
        img = img[0]
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3].astype(np.uint8))


def grace_hopper() -> np.ndarray:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return np.asarray(Image.open(path).convert("RGB"))


def all_photos() -> dict[str, np.ndarray]:
    """Every bundled photo that loads offline, by name."""
    out = {}
    for name in SKIMAGE_PHOTOS:
        try:
            out[name] = skimage_photo(name)
        except Exception:  # a photo this scikit-image lacks or would download
            continue
    try:
        out["grace_hopper"] = grace_hopper()
    except Exception:
        pass
    return out


def write_samples(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, img in all_photos().items():
        path = folder / f"{name}.png"
        Image.fromarray(img).save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    paths = write_samples(sys.argv[1] if len(sys.argv) > 1 else "samples")
    print(f"wrote {len(paths)} sample photos to {paths[0].parent if paths else '?'}")
