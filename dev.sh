#!/usr/bin/env bash
# QFix developer entry point. On a fresh machine:
#   bash dev.sh demo   # set up .venv, diagnose the bundled public-domain photos, write out/report.html
#   bash dev.sh test   # set up .venv, lint (ruff: style and the import boundary), type-check (mypy: the fix
#                      # loop, ports, adapters, options), run the whole test suite
# `bash dev.sh setup` only installs. Needs python3 (3.10 or 3.11) with venv and pip. The suite's
# installer check (tests/test_install_pins.py) has pip read the package index (offline: -m "not network").
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
  if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -r requirements/dev.txt 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q --no-deps -r requirements/ocr-nodeps.txt 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q --no-deps -r requirements/bench-nodeps.txt 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "from lib_qfix.compat.torchvision_ops import ensure_torchvision as e; e(); import torch, cv2, mediapipe, open_clip, rapidocr" \
    || { echo "dev.sh: setup failed (see pip output above)" >&2; exit 1; }
}

case "${1:-}" in
  setup) setup ;;
  demo)
    setup
    mkdir -p out
    .venv/bin/python -m lib_qfix.samples out/samples
    .venv/bin/qfix diagnose out/samples --json out/report.json --html out/report.html --overlays out/overlays
    echo "dev.sh: open out/report.html"
    ;;
  test)
    setup
    shift
    lint=0
    .venv/bin/ruff check . || lint=$?
    types=0
    .venv/bin/mypy || types=$?  # what it checks, and how strictly: [tool.mypy] in pyproject.toml
    tests=0
    .venv/bin/python -m pytest "$@" || tests=$?
    if [ "$lint" -ne 0 ]; then echo "dev.sh: ruff check failed (see above)" >&2; exit "$lint"; fi
    if [ "$types" -ne 0 ]; then echo "dev.sh: mypy failed (see above)" >&2; exit "$types"; fi
    exit "$tests"
    ;;
  *) echo "usage: bash dev.sh setup|demo|test [pytest args]" >&2; exit 2 ;;
esac
