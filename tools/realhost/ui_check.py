"""Load the real A1111 page in headless Chromium (CDP over websockets), collect JS errors, open the QFix
accordion on the txt2img tab and screenshot it.

    venv/bin/python ui_check.py [--base http://127.0.0.1:7861] [--out smoke-out/ui-qfix-open.png]

Prints one JSON object: page_loaded, panel_found, opened, js_errors (exceptions and console errors, with
their source URL), qfix_errors (those from QFix's javascript/ or mentioning qfix), screenshot paths.
Exit 0 when the page loaded, the panel opened and no JS error came from QFix.
"""
from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

HERE = os.path.dirname(os.path.abspath(__file__))


class CDP:
    def __init__(self, ws_url: str):
        self.ws = connect(ws_url, max_size=64 * 1024 * 1024)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, timeout: float = 60, **params):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        end = time.time() + timeout
        while time.time() < end:
            msg = json.loads(self.ws.recv(timeout=max(0.1, end - time.time())))
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)
        raise TimeoutError(method)

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        return r.get("result", {}).get("value")

    def pump(self, seconds: float):
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=0.2)))
            except TimeoutError:
                pass


def errors(events: list[dict]) -> list[dict]:
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append({"kind": "exception", "text": (d.get("exception", {}).get("description") or d.get("text", ""))[:400],
                        "url": d.get("url", "")})
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            frames = p.get("stackTrace", {}).get("callFrames", [])
            out.append({"kind": "console." + p["type"], "text": args[:400], "url": frames[0]["url"] if frames else ""})
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append({"kind": "log", "text": p["entry"].get("text", "")[:400], "url": p["entry"].get("url", "")})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:7861")
    ap.add_argument("--out", default=os.path.join(HERE, "smoke-out", "ui-qfix-open.png"))
    ap.add_argument("--port", type=int, default=9229)
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    prof = tempfile.mkdtemp(prefix="rh-chromium-")
    proc = subprocess.Popen([shutil.which("chromium") or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                             f"--remote-debugging-port={a.port}", f"--user-data-dir={prof}", "--window-size=1400,1000",
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report: dict = {}
    try:
        for _ in range(100):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{a.port}/json/list", timeout=2))
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        c = CDP(pages[0]["webSocketDebuggerUrl"])
        for m in ("Runtime.enable", "Log.enable", "Page.enable"):
            c.call(m)
        t0 = time.time()
        c.call("Page.navigate", url=a.base + "/")
        panel = "#qfix-txt2img-panel"
        found = False
        for _ in range(240):  # A1111's page builds slowly on a loaded CPU
            c.pump(0.5)
            if c.js(f"!!document.querySelector('{panel}') && !!document.querySelector('#txt2img_prompt textarea')"):
                found = True
                break
        report["page_loaded_s"] = round(time.time() - t0, 1)
        report["panel_found"] = found
        report["title"] = c.js("document.title")
        report["qfix_js_loaded"] = c.js("Array.from(document.scripts).some(s => (s.src||'').includes('qfix'))")
        report["qfix_css_loaded"] = c.js("Array.from(document.querySelectorAll('link[rel=stylesheet]')).some(l => l.href.includes('qfix'))")
        c.pump(2)
        # the panel is collapsed at first: click its label, as a user does
        report["opened"] = c.js(f"""(async () => {{
            const acc = document.querySelector('{panel}');
            if (!acc) return false;
            const lab = acc.querySelector('.label-wrap');
            lab.scrollIntoView();
            lab.click();
            await new Promise(r => setTimeout(r, 1500));
            return acc.querySelectorAll('input, textarea, select, button').length;
        }})()""")
        c.pump(2)
        rect = c.js(f"""(() => {{ const r = document.querySelector('{panel}').getBoundingClientRect();
                        return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; }})()""")
        report["panel_rect"] = rect
        shot = c.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                      clip={"x": max(0, rect[0] - 10), "y": max(0, rect[1] - 10), "width": min(rect[2] + 20, 1400),
                            "height": min(rect[3] + 20, 4000), "scale": 1})
        with open(a.out, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        full = a.out.replace(".png", "-page.png")
        shot = c.call("Page.captureScreenshot", format="png")
        with open(full, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        report["screenshots"] = [a.out, full]
        # generate from the UI with QFix enabled (the UI's positional args), 64x64, 2 steps
        report["ui_generate"] = c.js("""(async () => {
            const app = document;
            const setNum = (id, v) => { const el = app.querySelector('#' + id + ' input[type=number]');
                el.value = v; updateInput(el); };
            const ta = app.querySelector('#txt2img_prompt textarea'); ta.value = 'a portrait'; updateInput(ta);
            setNum('txt2img_width', 64); setNum('txt2img_height', 64); setNum('txt2img_steps', 2);
            const cb = app.querySelector('#qfix-txt2img-panel input[type=checkbox]');
            if (!cb.checked) cb.click();
            await new Promise(r => setTimeout(r, 500));
            app.querySelector('#txt2img_generate').click();
            for (let i = 0; i < 240; i++) {
                await new Promise(r => setTimeout(r, 500));
                const info = app.querySelector('#html_info_txt2img');
                const t = info ? info.innerText : '';
                if (t.includes('Steps:')) return t;
            }
            return 'TIMEOUT';
        })()""")
        report["append_negative"] = c.js("""(async () => {
            const b = document.querySelector('#qfix-txt2img-append-negative');
            if (!b) return 'no button';
            b.click(); await new Promise(r => setTimeout(r, 800));
            return document.querySelector('#txt2img_neg_prompt textarea').value; })()""")
        report["img2img_panel"] = c.js("!!document.querySelector('#qfix-img2img-panel')")
        c.pump(2)
        shot = c.call("Page.captureScreenshot", format="png")
        gen_shot = a.out.replace(".png", "-generated.png")
        with open(gen_shot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        # the QFix top-level tab
        report["qfix_tab"] = c.js("""(async () => {
            const btn = Array.from(document.querySelectorAll('#tabs > .tab-nav > button')).find(b => b.innerText.trim() == 'QFix');
            if (!btn) return 'no QFix tab button';
            btn.click(); await new Promise(r => setTimeout(r, 1500)); return 'clicked'; })()""")
        c.pump(1)
        shot = c.call("Page.captureScreenshot", format="png")
        tab_shot = a.out.replace(".png", "-tab.png")
        with open(tab_shot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        errs = errors(c.events)
        report["js_errors"] = errs
        report["qfix_errors"] = [e for e in errs if "qfix" in (e["url"] + e["text"]).lower()]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(prof, ignore_errors=True)
    print(json.dumps(report, indent=1))
    ok = report.get("panel_found") and report.get("opened") and not report.get("qfix_errors") and \
        "QFix enable: True" in (report.get("ui_generate") or "") and report.get("img2img_panel") and \
        "(" in (report.get("append_negative") or "")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
