"""diffusers, ready to use: every module of this host imports it from here.

transformers (which diffusers' pipelines import) imports torchvision, and on a CPU-only torch with
the CUDA torchvision wheel that fails unless the two op schemas are defined first
(:mod:`lib_qfix.compat.torchvision_ops`; a no-op where torchvision works, as inside A1111).
"""

from lib_qfix.compat.torchvision_ops import ensure_torchvision

ensure_torchvision()

import diffusers  # noqa: E402  (after the fix above)

__all__ = ["diffusers"]
