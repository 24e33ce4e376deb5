#!/bin/bash
# Start the real A1111 1.10.1 (CPU, offline) with QFix. Log: /work/realhost/webui.log
# Extra args are appended (e.g. --skip-install for a start without extension installers).
cd /work/realhost/webui
export HF_HOME=/work/realhost/hf-home HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_RETRIES=1
export COMMANDLINE_ARGS=""
exec /work/realhost/venv/bin/python -u launch.py --skip-torch-cuda-test --use-cpu all --no-half --api \
  --port 7861 --skip-version-check --no-download-sd-model \
  --ckpt models/Stable-diffusion/tiny-sd15.safetensors "$@"
