"""Make ``import torchvision`` work on a CPU-only torch with the CUDA torchvision wheel.

The only torchvision wheel matching torch 2.13 on the registry is a CUDA build whose ``_C.so``
cannot load without CUDA; its Python side then fails with ``operator torchvision::nms does not
exist``. open_clip and spandrel import torchvision at top level, so before that import we define
the two op schemas it looks up and give them a plain-torch CPU implementation.
Inside A1111 torchvision matches torch and this is never needed (it checks first and does nothing).
"""

from __future__ import annotations

import importlib.util

_done = False
_lib = None


def _nms(dets, scores, iou_threshold: float):
    import torch

    order = scores.argsort(descending=True)
    keep = []
    x0, y0, x1, y1 = dets.unbind(1)
    areas = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    suppressed = torch.zeros(len(dets), dtype=torch.bool)
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        xx0 = torch.maximum(x0[i], x0)
        yy0 = torch.maximum(y0[i], y0)
        xx1 = torch.minimum(x1[i], x1)
        yy1 = torch.minimum(y1[i], y1)
        inter = (xx1 - xx0).clamp(min=0) * (yy1 - yy0).clamp(min=0)
        iou = inter / (areas[i] + areas - inter).clamp(min=1e-12)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.int64)


def ensure_torchvision() -> None:
    """Idempotent: after this, ``import torchvision`` works (or failed for another reason)."""
    global _done, _lib
    if _done or importlib.util.find_spec("torchvision") is None:
        return
    _done = True
    import torch

    try:
        torch.ops.torchvision.nms  # noqa: B018  (already registered by a working build)
        return
    except (AttributeError, RuntimeError):
        pass
    try:
        _lib = torch.library.Library("torchvision", "DEF")
        _lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _lib.impl("nms", _nms, "CPU")
        _lib.impl("qnms", _nms, "CPU")
    except RuntimeError:  # already defined by someone else: fine
        pass
