"""The QFix panel on an A1111-like page, served by gradio 3.41 and looked at with headless Chromium.

The page is built the way A1111 1.10.1 builds its txt2img tab, reduced to what QFix touches: the
prompt and negative prompt boxes (``#txt2img_prompt``, ``#txt2img_neg_prompt``), the QFix panel
from ``QFixScript().ui()`` (fake host from :mod:`testkit.fake_a1111`), the result gallery
(``#txt2img_gallery``) and the hidden generation info box (``#generation_info_txt2img``) holding
two images' infotexts with QFix's scores and suggested negative. As A1111 does, ``qfix.js`` goes
into ``<head>`` after a stand-in for A1111's ``gradioApp()`` / ``onAfterUiUpdate()`` /
``updateInput()``, and ``style.css`` after the page (A1111 links extension stylesheets at the end of
``<body>``).

:func:`page` serves it (``state="open"`` expands the QFix accordion and its General and Inpaint
sections; ``collapsed`` is what A1111 shows first); :func:`chromium` runs the browser on it.
:func:`run_probe` (used by tests/test_a1111_page.py) loads the collapsed page, checks where the
"append negative" button is and whether it shows, opens the accordion, presses the button twice and
reports what the page did. ``bench/screenshot_panel.py`` takes screenshots with it.
Needs Debian's ``chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from testkit.fake_a1111 import install
from testkit.fake_a1111.host_infotext import quote

ROOT = Path(__file__).resolve().parents[1]

SUGGESTED = "(extra fingers:1.4), (malformed hands:1.3), watermark"
NEGATIVE = "lowres, "
BUTTON_ID = "qfix-txt2img-append-negative"
PANEL_ID = "qfix-txt2img-panel"

# What A1111 1.10.1 gives extension scripts (script.js, javascript/ui.js), reduced: gradioApp(), the
# update callbacks (a MutationObserver; after-update callbacks 200 ms after the last change) and
# updateInput() (an "input" event gradio listens to).
A1111_SHIM = r"""<script>
function gradioApp() {
    var elems = document.getElementsByTagName("gradio-app");
    var elem = elems.length === 0 ? document : elems[0];
    return elem.shadowRoot ? elem.shadowRoot : elem;
}
var uiUpdateCallbacks = [], uiAfterUpdateCallbacks = [], uiAfterUpdateTimeout = null;
function onUiUpdate(cb) { uiUpdateCallbacks.push(cb); }
function onAfterUiUpdate(cb) { uiAfterUpdateCallbacks.push(cb); }
function executeCallbacks(queue, arg) {
    queue.forEach(function (cb) { try { cb(arg); } catch (e) { console.error(e); } });
}
function updateInput(target) {
    var e = new Event("input", {bubbles: true});
    Object.defineProperty(e, "target", {value: target});
    target.dispatchEvent(e);
}
document.addEventListener("DOMContentLoaded", function () {
    new MutationObserver(function (m) {
        executeCallbacks(uiUpdateCallbacks, m);
        clearTimeout(uiAfterUpdateTimeout);
        uiAfterUpdateTimeout = setTimeout(function () { executeCallbacks(uiAfterUpdateCallbacks); }, 200);
    }).observe(gradioApp(), {childList: true, subtree: true});
});
</script>"""

# Runs in the page: waits for qfix.js to have drawn the badges, then reports (into <pre id=qfix-probe>,
# read back from Chromium's --dump-dom) where the button is and whether it shows, collapsed and open,
# and what pressing it twice did to the negative prompt.
PROBE = r"""<script>
(function () {
    var ID = "BUTTON_ID", PANEL = "PANEL_ID", LABEL = "Append QFix's suggested negative";
    var t0 = Date.now();
    function q(s) { return gradioApp().querySelector(s); }
    function shown(el) { return !!el && el.getClientRects().length > 0; }
    function report(r) {
        var pre = document.createElement("pre");
        pre.id = "qfix-probe";
        pre.textContent = JSON.stringify(r);
        document.body.appendChild(pre);
    }
    function look() {
        var b = q("#" + ID), panel = q("#" + PANEL);
        var same = Array.from(gradioApp().querySelectorAll("button")).filter(function (e) {
            return e.textContent.trim() === LABEL;
        });
        var r = {
            exists: !!b, shown: shown(b), in_panel: !!(b && panel && panel.contains(b)),
            with_label: same.length, with_label_shown: same.filter(shown).length,
            panel_shown: shown(panel)
        };
        if (b) {
            var cs = getComputedStyle(b), br = b.getBoundingClientRect(), pr = panel.getBoundingClientRect();
            r.tag = b.tagName.toLowerCase();
            r.classes = b.className;
            r.text = b.textContent.trim();
            r.title = b.title;
            r.background = cs.backgroundColor;
            r.background_image = cs.backgroundImage;
            r.border_width = cs.borderTopWidth;
            r.text_align = cs.textAlign;
            r.display = cs.display;
            r.font_size = cs.fontSize;
            r.width = br.width; r.height = br.height; r.panel_width = pr.width;
            r.inside_box = shown(b) ? (br.left >= pr.left && br.right <= pr.right &&
                                        br.top >= pr.top && br.bottom <= pr.bottom) : null;
        }
        return r;
    }
    function negative() { return q("#txt2img_neg_prompt textarea").value; }
    function start() {
        var badges = gradioApp().querySelectorAll("#txt2img_gallery .qfix-badge");
        if ((badges.length < 2 || !q("#" + PANEL)) && Date.now() - t0 < 20000) return setTimeout(start, 100);
        var out = {badges: Array.from(badges).map(function (e) { return e.textContent; }),
                   collapsed: look()};
        q("#" + PANEL + " .label-wrap").click();
        setTimeout(function () {
            out.open = look();
            var b = q("#" + ID);
            if (b) { b.click(); b.click(); }
            setTimeout(function () {
                out.negative = negative();
                // gradio 4's accordion header is itself a <button class="label-wrap"> child of the panel
                var stray = q("#" + PANEL + " > .qfix-negative-button, #" + PANEL + " > button:not(.label-wrap)");
                out.stray_in_panel_root = !!stray;
                report(out);
            }, 500);
        }, 500);
    }
    document.addEventListener("DOMContentLoaded", function () { setTimeout(start, 100); });
})();
</script>""".replace("BUTTON_ID", BUTTON_ID).replace("PANEL_ID", PANEL_ID)


def infotext(**qfix: str) -> str:
    """An infotext as A1111 writes it (values with , : or newlines JSON-quoted)."""
    pairs = ", ".join(f"{k}: {quote(v)}" for k, v in {"Steps": "20", "Seed": "42", **qfix}.items())
    return f"a portrait of a violinist\nNegative prompt: {NEGATIVE.strip(', ')}\n{pairs}, Version: v1.10.1"


INFOTEXTS = [
    infotext(**{"QFix score before": "0.41", "QFix score after": "0.77", "QFix suggested negative": SUGGESTED}),
    infotext(**{"QFix score before": "0.9"}),
]


def browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _images() -> list[Any]:
    import numpy as np

    yy, xx = np.mgrid[0:96, 0:96]
    a = np.stack([xx * 2, yy * 2, np.full_like(xx, 160)], axis=-1).astype(np.uint8)
    return [a, a[:, ::-1, ::-1].copy()]


@contextlib.contextmanager
def page(state: str = "collapsed", probe: bool = False, port: int | None = None) -> Iterator[str]:
    """Serve the page on 127.0.0.1; yields its URL. ``state``: ``open`` or ``collapsed``."""
    import gradio as gr
    import pytest

    mp = pytest.MonkeyPatch()
    try:
        install(mp, Path(tempfile.mkdtemp(prefix="qfix-shot-")))
        from lib_qfix.a1111.script import QFixScript

        if state == "open":
            real = gr.Accordion

            def opened(label, open=False, **kw):
                return real(label, open=label in ("QFix", "General", "Inpaint"), **kw)

            mp.setattr(gr, "Accordion", opened)
        # as A1111's modules/ui_gradio_extensions.reload_javascript: scripts into <head>, css after <body>
        head = A1111_SHIM + f"<script>{(ROOT / 'javascript' / 'qfix.js').read_text()}</script>"
        if probe:
            head += PROBE
        tail = f"<style>{(ROOT / 'style.css').read_text()}</style>"
        original = gr.routes.templates.TemplateResponse

        def template_response(*args: Any, **kwargs: Any) -> Any:
            res = original(*args, **kwargs)
            res.body = res.body.replace(b"</head>", head.encode() + b"</head>")
            res.body = res.body.replace(b"</body>", tail.encode() + b"</body>")
            res.init_headers()
            return res

        mp.setattr(gr.routes.templates, "TemplateResponse", template_response)
        with gr.Blocks(title="QFix panel", analytics_enabled=False) as demo:
            gr.Textbox(label="Prompt", value="a portrait of a violinist", lines=2, elem_id="txt2img_prompt")
            gr.Textbox(label="Negative prompt", value=NEGATIVE, lines=2, elem_id="txt2img_neg_prompt")
            QFixScript().ui(False)
            gr.Gallery(value=_images(), label="Output", columns=4, elem_id="txt2img_gallery")
            gr.Textbox(value=json.dumps({"infotexts": INFOTEXTS}), visible=False,
                       elem_id="generation_info_txt2img")
        port = port or free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, show_api=False,
                    quiet=True)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            demo.close()
    finally:
        mp.undo()


def chromium(url: str, *args: str, budget_ms: int = 8000, timeout: float = 120) -> subprocess.CompletedProcess:
    exe = browser()
    if not exe:
        raise FileNotFoundError("chromium not found; apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="qfix-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--hide-scrollbars", f"--virtual-time-budget={budget_ms}",
               # only the local server resolves: no request leaves the machine, and gradio 4's web
               # fonts fail at once (left to time out offline, a screenshot still showed "Loading...")
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def run_probe(attempts: int = 3) -> dict[str, Any]:
    """Load the collapsed page with the probe; returns its report (see PROBE).

    Under Chromium's virtual time, gradio 4.40's own app sometimes never leaves its "Loading..."
    screen (measured: about 1 run in 4 on a busy machine, whether or not fonts resolve; more virtual
    time does not help). Only that case, the panel never rendered, is retried, up to ``attempts``
    loads; a rendered panel without a report fails at once."""
    for _ in range(attempts):
        with page("collapsed", probe=True) as url:
            r = chromium(url, "--dump-dom", "--window-size=1000,1400")
        m = re.search(r'<pre id="qfix-probe">(.*?)</pre>', r.stdout, re.S)
        if m:
            return json.loads(html.unescape(m.group(1)))
        if f'id="{PANEL_ID}" class=' in r.stdout:  # the panel rendered: a real failure
            break
    raise RuntimeError(f"no probe report (chromium rc {r.returncode}): {r.stderr[-800:]}")

