"""Render the QFix panel with gradio 3.41 on 127.0.0.1 and screenshot it with headless Chromium.

    python bench/screenshot_panel.py [--out /tmp/panel.png] [--port 7863]

Uses the fake A1111 host (tests/fake_a1111) for ``modules.*``; the panel is opened (accordion
expanded: ``open=True`` is forced on a few accordions for the screenshot only).
Needs Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/panel.png")
    ap.add_argument("--port", type=int, default=7863)
    a = ap.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("chromium not found; apt-get install -y chromium", file=sys.stderr)
        return 2

    import gradio as gr  # noqa: TID251 - a dev tool that renders the adapter's panel
    import pytest

    from tests.fake_a1111 import install

    mp = pytest.MonkeyPatch()
    install(mp, Path(tempfile.mkdtemp(prefix="qfix-shot-")))
    from lib_qfix.a1111 import ui
    from lib_qfix.a1111.script import QFixScript

    real = gr.Accordion

    def opened(label, open=False, **kw):
        return real(label, open=label in ("QFix", "General", "Inpaint"), **kw)

    mp.setattr(ui.gr, "Accordion", opened)
    css = (ROOT / "style.css").read_text()
    with gr.Blocks(css=css, title="QFix panel") as demo:
        QFixScript().ui(False)
    demo.launch(server_name="127.0.0.1", server_port=a.port, prevent_thread_lock=True, show_api=False)
    try:
        time.sleep(2)
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               "--virtual-time-budget=8000", f"--screenshot={a.out}", "--window-size=1200,1600",
               f"http://127.0.0.1:{a.port}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        ok = Path(a.out).is_file()
        print(f"screenshot: {a.out} ({'written' if ok else 'FAILED: ' + r.stderr[-500:]})")
        return 0 if ok else 1
    finally:
        demo.close()
        mp.undo()


if __name__ == "__main__":
    raise SystemExit(main())
