"""Learned quality prompts for a frozen CLIP (CoOp-style context vectors, GRMP-IQA regularisation).

- :mod:`.soft_prompt`: text features from templates whose "X" tokens are learnable vectors;
- :mod:`.train`: few-shot training on a user's scored images;
- :mod:`.io`: the small safetensors file (no pickle) and finding it by name or path.
"""
