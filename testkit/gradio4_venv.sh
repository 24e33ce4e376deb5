#!/usr/bin/env bash
# A scratch venv with Forge's UI pins (Forge's requirements_versions.txt: gradio 4.40.0, fastapi 0.104.1,
# pydantic 2.8.2, httpx 0.24.1, huggingface-hub 0.26.2, numpy 1.26.2, Pillow 9.5.0), for checking QFix's
# UI under gradio 4. Keep it OUTSIDE the repo: the main .venv pins gradio 3.41.2 for A1111.
#   bash testkit/gradio4_venv.sh [DIR]          # default DIR: /tmp/qfix-gradio4 (needs PyPI, ~250 MB)
#   QFIX_GRADIO4_PYTHON=DIR/bin/python .venv/bin/python -m pytest tests/test_forge_gradio4.py
#   DIR/bin/python -m testkit.gradio4_check --shot /tmp/qfix-g4     # screenshots to look at
#   DIR/bin/python bench/screenshot_panel.py --state both --probe
set -euo pipefail
DIR=${1:-/tmp/qfix-gradio4}
PY=${PYTHON:-python3}
[ -x "$DIR/bin/python" ] || "$PY" -m venv "$DIR"
"$DIR/bin/python" -m pip install -q gradio==4.40.0 fastapi==0.104.1 pydantic==2.8.2 httpx==0.24.1 \
  huggingface-hub==0.26.2 numpy==1.26.2 Pillow==9.5.0 opencv-python-headless==4.11.0.86 pytest
"$DIR/bin/python" -c "import gradio, pydantic; print('gradio', gradio.__version__, 'pydantic', pydantic.VERSION)"
echo "export QFIX_GRADIO4_PYTHON=$DIR/bin/python"
