"""Face restoration with A1111's own GFPGAN / CodeFormer, restricted to the masked faces."""

from __future__ import annotations

from typing import Any

import numpy as np

from lib_qfix.protocols import RestoreParams


def find_restorer(name: str) -> Any:
    """The loaded A1111 face restorer called ``name`` (case-insensitive)."""
    from modules import shared

    known = list(getattr(shared, "face_restorers", []) or [])
    for r in known:
        if r.name().lower() == name.lower():
            return r
    names = ", ".join(repr(r.name()) for r in known) or "none loaded"
    raise ValueError(f"face_restorer: {name!r} is not available in A1111; allowed: {names}")


def blend(image: np.ndarray, restored: np.ndarray, mask: np.ndarray, visibility: float) -> np.ndarray:
    """``restored`` over ``image`` where ``mask`` (0..255) is set, at ``visibility`` (0..1)."""
    a = (mask.astype(np.float32) / 255.0 * float(visibility))[..., None]
    out = image.astype(np.float32) * (1.0 - a) + restored.astype(np.float32) * a
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class A1111FaceRestorer:
    """:class:`~lib_qfix.protocols.FaceRestorer`: the whole image goes through A1111's restorer
    (it finds and aligns the faces itself); only the masked pixels of its output are kept."""

    def restore(self, image: np.ndarray, mask: np.ndarray, params: RestoreParams) -> np.ndarray:
        if not params.enabled:
            return image
        r = find_restorer(params.restorer)
        if r.name().lower() == "codeformer":
            restored = r.restore(image, w=params.codeformer_weight)
        else:
            restored = r.restore(image)
        restored = np.asarray(restored, dtype=np.uint8)
        if restored.shape != image.shape:
            raise RuntimeError(f"face restorer returned shape {restored.shape}, expected {image.shape}")
        return blend(image, restored, mask, params.visibility)
