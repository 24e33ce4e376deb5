"""Static int8 image trunk for ResNet CLIP on the CPU (``clip_precision`` "int8").

The ResNet trunk (3-conv stem and layer1-4, 95 %+ of RN50's image compute) is quantised after
training with ``torch.ao.quantization`` FX graph mode: BatchNorm folded into the convolutions, int8
weights per output channel, int8 activations per tensor, with ranges recorded (histogram observers)
while :data:`CALIBRATION_PHOTOS` bundled public-domain photos (``lib_qfix.samples``) run through the
float trunk at native size (long side :data:`CALIBRATION_SIDE` px). The attention pool stays fp32.

Measured (bench/clip.py, RN50 random weights, 512 px photos, 2 AVX512-VNNI cores): ~1.9x the bfloat16
autocast rate (~8.5-9.8 img/s), scores within ~0.0004 of fp32, about 10 s to calibrate when the model
loads. The photos are fixed, so the quantised trunk (and the scores) are the same on every load.
"""

from __future__ import annotations

import logging
from typing import Any

from lib_qfix.samples import all_photos
from lib_qfix.scoring.clip_image import fit_native, to_tensor

log = logging.getLogger("qfix")
#: photos whose activations set the int8 ranges (8: ~10 s on 2 cores for RN50; 32 gave no lower error)
CALIBRATION_PHOTOS = 8
#: calibration photos are fitted to this long side in pixels (QFix's typical native scoring size)
CALIBRATION_SIDE = 512
#: the ModifiedResNet modules that form the trunk, in forward order
TRUNK = ("conv1", "bn1", "act1", "conv2", "bn2", "act2", "conv3", "bn3", "act3", "avgpool",
         "layer1", "layer2", "layer3", "layer4")


def calibration_images() -> list[Any]:
    """The bundled photos (at most :data:`CALIBRATION_PHOTOS`), long side :data:`CALIBRATION_SIDE`."""
    photos = list(all_photos().values())[:CALIBRATION_PHOTOS]
    return [fit_native(p, 64, CALIBRATION_SIDE) for p in photos]


def quantize_trunk(visual, mean, std) -> Any | None:
    """An int8 copy of ``visual``'s stem + layer1-4 (input: normalised float (N, 3, H, W), output:
    float (N, C, H/32, W/32)), or None (logged) where this torch cannot quantise or no photo loads."""
    import copy
    import warnings

    import torch

    engine = torch.backends.quantized.engine
    images = calibration_images()
    with warnings.catch_warnings():  # torch marks this API deprecated (moving to torchao); it still works
        warnings.simplefilter("ignore")
        try:
            from torch.ao.quantization import get_default_qconfig_mapping
            from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
        except ImportError:  # a future torch without it
            engine = "none"
        if engine in ("none", "") or not images:
            log.warning("qfix: clip_precision int8 is unavailable here (torch %s, quantised engine %r, %d "
                        "calibration photos); CLIP runs in fp32", torch.__version__, engine, len(images))
            return None
        trunk = copy.deepcopy(torch.nn.Sequential(*(getattr(visual, k) for k in TRUNK))).float().eval()

        def batch(im):
            return to_tensor([im], mean, std, "cpu", torch.float32).contiguous(memory_format=torch.channels_last)

        with torch.no_grad():
            prepared = prepare_fx(trunk, get_default_qconfig_mapping(engine), example_inputs=(batch(images[0]),))
            for im in images:
                prepared(batch(im))
            return convert_fx(prepared)
