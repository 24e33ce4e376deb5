"""Screenshots of the QFix panel on an A1111-like page (gradio 3.41, headless Chromium).

    python bench/screenshot_panel.py [--state open|collapsed|both] [--out /tmp/panel.png] [--port 7863]
                                     [--docs docs/panel.jpg] [--probe]

The page and the browser are :mod:`testkit.page`. ``--state open`` expands the QFix accordion (and its
General and Inpaint sections) for the picture; ``collapsed`` is what A1111 shows first. ``--probe``
prints what :func:`testkit.page.run_probe` (used by tests/test_a1111_page.py) reports.
Needs Debian's ``chromium`` (``apt-get install -y chromium``). Run it with a gradio 4.40 venv's python
(``bash testkit/gradio4_venv.sh``) for Forge's page.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/screenshot_panel.py` from anywhere

from testkit.page import browser, chromium, page, run_probe  # noqa: E402


def screenshot(state: str, out: str, port: int | None = None) -> bool:
    with page(state, port=port) as url:
        time.sleep(0.5)
        size = "900,2200" if state == "open" else "900,720"
        r = chromium(url, f"--screenshot={out}", f"--window-size={size}")
    ok = Path(out).is_file()
    print(f"{state}: {out} ({'written' if ok else 'FAILED: ' + r.stderr[-500:]})")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", choices=["open", "collapsed", "both"], default="open")
    ap.add_argument("--out", default="/tmp/panel.png", help="with --state both: -open/-collapsed are added")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--docs", default=None, help="also write the open screenshot as this JPEG (800 px wide)")
    ap.add_argument("--probe", action="store_true", help="print the in-page probe's report")
    a = ap.parse_args()
    if not browser():
        print("chromium not found; apt-get install -y chromium", file=sys.stderr)
        return 2
    states = ["open", "collapsed"] if a.state == "both" else [a.state]
    ok = True
    for state in states:
        out = a.out if len(states) == 1 else str(Path(a.out).with_stem(Path(a.out).stem + "-" + state))
        ok = screenshot(state, out, a.port) and ok
        if ok and a.docs and state == "open":
            from PIL import Image

            im = Image.open(out).convert("RGB")
            im.resize((800, round(im.height * 800 / im.width)), Image.LANCZOS).save(a.docs, quality=85)
            print(f"docs: {a.docs}")
    if a.probe:
        print(json.dumps(run_probe(), indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
