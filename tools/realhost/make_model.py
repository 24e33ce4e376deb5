"""Random-weight SD 1.5-architecture checkpoint for offline tests (A1111 loads it with v1-inference.yaml).

Run with the webui venv, HF_HOME pointing at the cache made by make_hf_clip_cache.py:
  HF_HOME=/work/realhost/hf-home HF_HUB_OFFLINE=1 venv/bin/python tools/make_model.py webui OUT.safetensors
Zero-initialised tensors get small noise: ldm zero_module output convs (else the UNet predicts eps=0), and the CLIP
final_layer_norm bias (else the empty prompt encodes to mean exactly 0 and A1111's emphasis renormalisation
(original_mean / new_mean) gives 0/0 = NaN in the uncond: "A tensor with NaNs was produced in Unet").
"""
import os
import sys
import time

webui, out = sys.argv[1], sys.argv[2]
sys.path[:0] = [os.path.join(webui, "repositories/stable-diffusion-stability-ai")]
import ldm.modules.encoders.modules as enc
import torch
import transformers
from ldm.util import instantiate_from_config
from omegaconf import OmegaConf
from safetensors.torch import save_file

enc.CLIPTextModel.from_pretrained = classmethod(lambda cls, v, **k: cls(transformers.CLIPTextConfig.from_pretrained(v)))
t = time.time()
torch.manual_seed(0)
cfg = OmegaConf.load(sys.argv[3] if len(sys.argv) > 3 else os.path.join(webui, "configs/v1-inference.yaml"))
model = instantiate_from_config(cfg.model)
sd = {}
g = torch.Generator().manual_seed(1)
for k, v in model.state_dict().items():
    v = v.detach().clone()
    if v.is_floating_point() and v.numel() > 1 and not v.any():
        v = torch.randn(v.shape, generator=g) * 0.01
    sd[k] = v.half().contiguous() if v.is_floating_point() else v.contiguous()
save_file(sd, out)
print(f"saved {out}: {len(sd)} tensors, {os.path.getsize(out)/1e9:.2f} GB in {time.time()-t:.0f}s")
