"""javascript/qfix.js under node: it reads QFix's values back out of infotext as A1111 writes it
(JSON-quoted when a value holds ``,`` ``:`` or a newline), draws score badges and wires the panel's
"append suggested negative" button (a gr.Button that ui.py puts inside the QFix accordion; the
script creates no button of its own), which appends the negative without duplicating it.

The ids, classes and infotext keys the script reads are a generated block of constants; it must be
what :mod:`lib_qfix.a1111.elements` generates, and the page below is built from the same names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lib_qfix.a1111 import elements as E
from lib_qfix.fix.infotext import NEGATIVE, RESULT_KEYS, SCORE_AFTER, SCORE_BEFORE
from lib_qfix.options import FIELDS
from testkit.fake_a1111.host_infotext import quote

JS = Path(__file__).resolve().parents[1] / "javascript" / "qfix.js"
TAB = "txt2img"
#: the selectors the page answers, from the names Python gives the page
SELECTORS = {
    "info": f"#{E.element_id(E.HOST_GENERATION_INFO, TAB)} textarea",
    "neg": f"#{E.element_id(E.HOST_NEGATIVE_PROMPT, TAB)} textarea",
    "panel": f"#{E.element_id(E.PANEL, TAB)}",
    "button": f"#{E.element_id(E.APPEND_NEGATIVE, TAB)}",
    "gallery": f"#{E.element_id(E.HOST_GALLERY, TAB)}",
    "panel_class": E.PANEL_CLASS,
    "button_class": E.NEGATIVE_BUTTON_CLASS,
}

# A minimal page: the gallery with two thumbnails, the generation info box, the negative prompt box,
# QFix's panel and, inside it, the button gradio rendered (id qfix-txt2img-append-negative). Runs
# qfix.js, fires A1111's after-UI-update callback twice (A1111 fires it after every DOM change), then
# reports what it did.
HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const [infotexts, negative, S] = JSON.parse(process.argv[2]);
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
const panel = el(S.panel_class);
const button = el("sm secondary " + S.button_class);  // what gr.Button(size="sm") renders
button.title = "";
panel.appendChild(button);
const created = [];
const doc = {
  querySelector(sel) {
    if (sel === S.info) return info;
    if (sel === S.neg) return neg;
    if (sel === S.panel) return panel;
    if (sel === S.button) return button;
    return null;
  },
  querySelectorAll(sel) { return sel.includes(S.gallery + " ") ? thumbs : []; },
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
  parsed: ctx.window.qfixInfotextValue(infotexts[0], S.negative_key),
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
    selectors = {**SELECTORS, "negative_key": NEGATIVE}
    r = subprocess.run([node, "-e", HARNESS, str(JS), json.dumps([infotexts, negative, selectors])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_badges_and_append_negative(node):
    suggested = "(extra fingers:1.4), (malformed hands:1.3), watermark"
    texts = [infotext(**{SCORE_BEFORE: "0.41", SCORE_AFTER: "0.77", NEGATIVE: suggested}),
             infotext(**{SCORE_BEFORE: "0.9"})]
    out = run(node, texts, "lowres, ")
    assert out["parsed"] == suggested  # the JSON-quoted value, with its commas and colons
    assert out["badges"] == ["0.41\u21920.77", "0.9"]
    assert out["fixed"] == [True, False]
    assert out["negative"] == "lowres, " + suggested  # appended once, trailing comma tidied
    assert out["dispatched"] == 1


def test_wires_the_gradio_button_and_creates_none(node):
    # The button is ui.py's gr.Button inside the accordion: the script only adds its click, once,
    # however often A1111 fires the update callback; it builds no free-floating element (only badges).
    texts = [infotext(**{SCORE_BEFORE: "0.41", NEGATIVE: "watermark"}), infotext()]
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


def test_the_scripts_constants_are_generated_from_python():
    """The block between the markers is what ``python -m lib_qfix.a1111.elements`` writes: ids from
    the elements module, infotext keys from lib_qfix/fix/infotext.py. Rewrite it with that command."""
    text = JS.read_text(encoding="utf-8")
    block = E.written_js_block(text)
    assert block == E.js_block(), "javascript/qfix.js is stale: run python -m lib_qfix.a1111.elements"
    written = json.loads(block[block.index("{"): block.rindex("}") + 1])
    assert written == E.js_names()
    assert written["SCORE_BEFORE"] == SCORE_BEFORE and written["NEGATIVE"] == NEGATIVE
    assert written["APPEND_NEGATIVE"] == E.APPEND_NEGATIVE and written["TABS"] == list(E.TABS)


def test_the_script_spells_no_name_outside_the_generated_block():
    rest = JS.read_text(encoding="utf-8").replace(E.js_block(), "")
    spelled = [v for v in E.js_names().values() if isinstance(v, str)] + list(E.TABS)
    assert [v for v in spelled if f'"{v}"' in rest] == []
    keys = [*RESULT_KEYS, *(f.infotext_key for f in FIELDS)]
    assert [k for k in keys if f'"{k}"' in rest] == []
    assert not re.search(r'"(qfix-|#[\w-])', rest)  # no id or class of QFix's written out
