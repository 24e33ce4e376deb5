// QFix: a score badge on gallery images, and the click of the panel's "Append QFix's suggested
// negative" button (a gradio component; this file creates no button). Reads only what A1111
// already shows: the generation info JSON.
(function () {
    "use strict";
    var TABS = ["txt2img", "img2img"];

    function app() {
        return typeof gradioApp === "function" ? gradioApp() : document;
    }

    // Value of an infotext key (JSON-quoted values are unquoted), or null.
    function infotextValue(text, key) {
        if (!text) return null;
        var at = text.lastIndexOf(key + ": ");
        if (at < 0) return null;
        var rest = text.slice(at + key.length + 2);
        if (rest.charAt(0) === '"') {
            var m = rest.match(/^"(?:\\.|[^\\"])*"/);
            try { return m ? JSON.parse(m[0]) : null; } catch (e) { return null; }
        }
        var end = rest.search(/,|\n/);
        return end < 0 ? rest : rest.slice(0, end);
    }

    function infotexts(tab) {
        var box = app().querySelector("#generation_info_" + tab + " textarea");
        if (!box || !box.value) return [];
        try { return JSON.parse(box.value).infotexts || []; } catch (e) { return []; }
    }

    function updateBadges(tab) {
        var texts = infotexts(tab);
        var thumbs = app().querySelectorAll("#" + tab + "_gallery .thumbnail-item, #" + tab + "_gallery .thumbnail-small");
        thumbs.forEach(function (thumb, i) {
            var before = infotextValue(texts[i], "QFix score before");
            var after = infotextValue(texts[i], "QFix score after");
            var badge = thumb.querySelector(".qfix-badge");
            if (before === null) { if (badge) badge.remove(); return; }
            if (!badge) {
                badge = document.createElement("span");
                badge.className = "qfix-badge";
                thumb.appendChild(badge);
            }
            badge.textContent = after !== null ? before + "\u2192" + after : before;
            badge.title = "QFix quality (0..1)" + (after !== null ? ": before \u2192 after fixing" : "");
            badge.classList.toggle("qfix-badge-fixed", after !== null);
        });
    }

    function selectedIndex(tab) {
        var thumbs = Array.from(app().querySelectorAll("#" + tab + "_gallery .thumbnail-item"));
        var i = thumbs.findIndex(function (t) { return t.classList.contains("selected"); });
        return i < 0 ? 0 : i;
    }

    function appendNegative(tab) {
        var text = infotexts(tab)[selectedIndex(tab)];
        var neg = infotextValue(text, "QFix suggested negative");
        var box = app().querySelector("#" + tab + "_neg_prompt textarea");
        if (!neg || !box) return;
        var cur = box.value.trim();
        if (cur.indexOf(neg) >= 0) return;
        box.value = cur ? cur.replace(/,\s*$/, "") + ", " + neg : neg;
        if (typeof updateInput === "function") updateInput(box);
        else box.dispatchEvent(new Event("input", {bubbles: true}));
    }

    // The button is a gr.Button inside the QFix accordion (lib_qfix/a1111/ui.py, negative_button):
    // only its click is wired here, once per element (gradio may re-render it).
    function wireButton(tab) {
        var b = app().querySelector("#qfix-" + tab + "-append-negative");
        if (!b || b.qfixWired) return;
        b.qfixWired = true;
        if (!b.title) b.title = "Adds the weighted negative QFix suggested for the selected image to the negative prompt";
        b.addEventListener("click", function () { appendNegative(tab); });
    }

    function refresh() {
        TABS.forEach(function (tab) { wireButton(tab); updateBadges(tab); });
    }

    if (typeof onAfterUiUpdate === "function") onAfterUiUpdate(refresh);
    else if (typeof onUiUpdate === "function") onUiUpdate(refresh);
    window.qfixInfotextValue = infotextValue;  // for tests from the browser console
})();
