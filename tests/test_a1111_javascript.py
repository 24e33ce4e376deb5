"""javascript/qfix.js under node: it reads QFix's values back out of infotext as A1111 writes it
(JSON-quoted when a value holds ``,`` ``:`` or a newline), draws score badges and wires the panel's
"append suggested negative" button (a gr.Button that ui.py puts inside the QFix accordion; the
script creates no button of its own), which appends the negative without duplicating it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fake_a1111.host_infotext import quote

JS = Path(__file__).resolve().parents[1] / "javascript" / "qfix.js"

# A minimal page: the gallery with two thumbnails, the generation info box, the negative prompt box,
# QFix's panel and, inside it, the button gradio rendered (id qfix-txt2img-append-negative). Runs
# qfix.js, fires A1111's after-UI-update callback twice (A1111 fires it after every DOM change), then
# reports what it did.
HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const [infotexts, negative] = JSON.parse(process.argv[2]);
function el(cls) {
  return { className: cls || "", children: [], classList: {
      contains: (c) => (" " + this.className + " ").includes(" " + c + " "),
      toggle(c, on) { this.owner.flag = on; } },
    appendChild(c) { this.children.push(c); c.parent = this; },
    querySelector(sel) { return this.children.find((c) => sel.includes(c.className.split(" ")[0])) || null; },
    remove() { this.parent.children = this.parent.children.filter((c) => c !== this); },
    addEventListener(ev, fn) { this.listeners.push([ev, fn]); },
    listeners: [] };
}
function click(e) { e.listeners.filter((l) => l[0] === "click").forEach((l) => l[1]()); }
const thumbs = [el("thumbnail-item selected"), el("thumbnail-item")];
thumbs.forEach((t) => { t.classList.owner = t; t.classList.contains = (c) => t.className.split(" ").includes(c); });
const info = { value: JSON.stringify({ infotexts }) };
const neg = { value: negative, dispatched: 0, dispatchEvent() { this.dispatched++; } };
const panel = el("qfix-panel");
const button = el("sm secondary qfix-negative-button");  // what gr.Button(size="sm") renders
button.title = "";
panel.appendChild(button);
const created = [];
const doc = {
  querySelector(sel) {
    if (sel === "#generation_info_txt2img textarea") return info;
    if (sel === "#txt2img_neg_prompt textarea") return neg;
    if (sel === "#qfix-txt2img-panel") return panel;
    if (sel === "#qfix-txt2img-append-negative") return button;
    return null;
  },
  querySelectorAll(sel) { return sel.includes("#txt2img_gallery") ? thumbs : []; },
  createElement(tag) { created.push(tag); const e = el(""); e.tag = tag; e.classList.owner = e; return e; },
};
let refresh = null;
const ctx = { window: {}, document: doc, Event: function (n) { this.name = n; },
              onAfterUiUpdate: (fn) => { refresh = fn; } };
ctx.window.document = doc;
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), ctx);
refresh(); refresh();
click(button); click(button);  // twice: the second must not duplicate
console.log(JSON.stringify({
  created: created, panel_children: panel.children.length,
  click_listeners: button.listeners.filter((l) => l[0] === "click").length, title: button.title,
  badges: thumbs.map((t) => (t.children[0] ? t.children[0].textContent : null)),
  fixed: thumbs.map((t) => !!t.children[0] && !!t.children[0].flag),
  negative: neg.value, dispatched: neg.dispatched,
  parsed: ctx.window.qfixInfotextValue(infotexts[0], "QFix suggested negative"),
}));
"""


def infotext(**qfix: str) -> str:
    pairs = ", ".join(f"{k}: {quote(v)}" for k, v in {"Steps": "20", "Seed": "42", **qfix}.items())
    return f"a portrait of a violinist\nNegative prompt: blurry\n{pairs}, Version: v1.10.1"


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is needed to test javascript/qfix.js (Debian package nodejs)")
    return path


def run(node: str, infotexts: list[str], negative: str) -> dict:
    r = subprocess.run([node, "-e", HARNESS, str(JS), json.dumps([infotexts, negative])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_badges_and_append_negative(node):
    suggested = "(extra fingers:1.4), (malformed hands:1.3), watermark"
    texts = [infotext(**{"QFix score before": "0.41", "QFix score after": "0.77",
                         "QFix suggested negative": suggested}),
             infotext(**{"QFix score before": "0.9"})]
    out = run(node, texts, "lowres, ")
    assert out["parsed"] == suggested  # the JSON-quoted value, with its commas and colons
    assert out["badges"] == ["0.41\u21920.77", "0.9"]
    assert out["fixed"] == [True, False]
    assert out["negative"] == "lowres, " + suggested  # appended once, trailing comma tidied
    assert out["dispatched"] == 1


def test_wires_the_gradio_button_and_creates_none(node):
    # The button is ui.py's gr.Button inside the accordion: the script only adds its click, once,
    # however often A1111 fires the update callback; it builds no free-floating element (only badges).
    texts = [infotext(**{"QFix score before": "0.41", "QFix suggested negative": "watermark"}), infotext()]
    out = run(node, texts, "")
    assert out["created"] == ["span"]  # the one badge
    assert out["panel_children"] == 1  # just the gradio button; nothing appended to the panel
    assert out["click_listeners"] == 1
    assert out["title"].startswith("Adds the weighted negative")
    assert out["negative"] == "watermark" and out["dispatched"] == 1


def test_images_without_qfix_get_no_badge_and_nothing_is_appended(node):
    out = run(node, [infotext(), infotext()], "lowres")
    assert out["badges"] == [None, None] and out["parsed"] is None
    assert out["negative"] == "lowres" and out["dispatched"] == 0
