"""Build an offline HF cache entry for openai/clip-vit-large-patch14 (config + tokenizer only; no weights).

A1111 1.10.1 builds the SD1 text encoder with CLIPTextModel.from_pretrained(None, config=...) and
CLIPTokenizer.from_pretrained(...) (local_files_only first), so only these JSON/text files are needed.
vocab.json / merges.txt are derived from the CLIP BPE file by testkit.clip_vocab (CLIP's own construction).
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for testkit
from testkit.clip_vocab import write_vocab  # noqa: E402

bpe_path = sys.argv[1]
hub = os.path.expanduser(sys.argv[2] if len(sys.argv) > 2 else "~/.cache/huggingface/hub")
rev = "32bd64288804d66eefd0ccbe215aa642df71cc41"
root = os.path.join(hub, "models--openai--clip-vit-large-patch14")
snap = os.path.join(root, "snapshots", rev)
os.makedirs(snap, exist_ok=True)
os.makedirs(os.path.join(root, "refs"), exist_ok=True)
open(os.path.join(root, "refs", "main"), "w").write(rev)


size = write_vocab(bpe_path, snap)
assert size == 49408, size
special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}
json.dump(special, open(os.path.join(snap, "special_tokens_map.json"), "w"))
json.dump({**special, "add_prefix_space": False, "errors": "replace", "do_lower_case": True, "model_max_length": 77,
           "name_or_path": "openai/clip-vit-large-patch14", "tokenizer_class": "CLIPTokenizer"},
          open(os.path.join(snap, "tokenizer_config.json"), "w"))
config = {
    "_name_or_path": "openai/clip-vit-large-patch14", "architectures": ["CLIPModel"], "model_type": "clip",
    "projection_dim": 768, "logit_scale_init_value": 2.6592, "initializer_factor": 1.0,
    "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12,
                    "max_position_embeddings": 77, "vocab_size": 49408, "hidden_act": "quick_gelu", "projection_dim": 768,
                    "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1, "layer_norm_eps": 1e-05, "model_type": "clip_text_model"},
    "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16, "num_hidden_layers": 24,
                      "patch_size": 14, "image_size": 224, "projection_dim": 768, "hidden_act": "quick_gelu",
                      "layer_norm_eps": 1e-05, "model_type": "clip_vision_model"},
}
json.dump(config, open(os.path.join(snap, "config.json"), "w"), indent=1)
print("wrote", snap)
