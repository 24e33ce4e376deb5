"""QFix's UI under gradio 4.40 (Forge's gradio), checked with the real gradio 4 and pydantic 2.

Run with the python of a venv that has Forge's UI pins (``bash testkit/gradio4_venv.sh`` builds one;
the main venv pins gradio 3.41.2 for A1111 and must stay so):

    /tmp/qfix-gradio4/bin/python -m testkit.gradio4_check [--shot DIR]

Prints one JSON line (read by tests/test_forge_gradio4.py): the versions; what ``gr.update()``
returns; the panel built by ``QFixScript().ui()`` on the fake host (every component's class and
``.value`` type against its option's kind and preset value, the facts
:mod:`testkit.fake_a1111.forge_api` fakes for the main suite); the panel's preset and save events run
through gradio 4's ``process_api``; the "QFix" tab built and its config
rendered; the annotations pydantic 2 keeps for the request fields the fake declares; and, when
Chromium is installed, :func:`testkit.page.run_probe` (badges, the "append negative" button, the
accordion). ``--shot DIR`` also writes ``panel-open.png``, ``panel-collapsed.png`` and ``tab.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = {"bool": "bool", "int": "int", "float": "float", "str": "str", "choice": "str"}


def _panel() -> dict[str, Any]:
    import gradio as gr
    import pytest

    from lib_qfix.options import DEFAULTS, FIELDS
    from testkit.fake_a1111 import install

    mp = pytest.MonkeyPatch()
    try:
        install(mp, Path(tempfile.mkdtemp(prefix="qfix-g4-")))
        from lib_qfix.a1111.script import QFixScript

        script = QFixScript()
        with gr.Blocks() as demo:
            comps = script.ui(False)
        cfg = demo.get_config_file()
        wrong = []
        for f, c in zip(FIELDS, comps, strict=True):
            expect = False if f.key == "enable" else getattr(DEFAULTS, f.key)
            if type(c.value).__name__ != KINDS[f.kind] or c.value != expect:
                wrong.append([f.key, type(c).__name__, repr(c.value)])
        return {"components": len(comps), "fields": len(FIELDS), "wrong_values": wrong,
                "classes": sorted({type(c).__name__ for c in comps}),
                "infotext_keys_callable": all(callable(k) for _, k in script.infotext_fields),
                "panel_in_config": any(x.get("props", {}).get("elem_id") == "qfix-txt2img-panel"
                                       for x in cfg["components"])}
    finally:
        mp.undo()


def _events() -> dict[str, Any]:
    """The panel's events run through gradio 4's own ``process_api`` (pre/postprocessing included):
    choosing preset "hands" and saving the panel's values as preset "mine"."""
    import asyncio

    import gradio as gr
    import pytest

    from lib_qfix.options import PRESET_FIELDS
    from testkit.fake_a1111 import install

    mp = pytest.MonkeyPatch()
    try:
        install(mp, Path(tempfile.mkdtemp(prefix="qfix-g4-")))
        from lib_qfix.a1111.script import QFixScript

        with gr.Blocks(analytics_enabled=False) as demo:
            comps = QFixScript().ui(False)
        fns = {bf.name: bf for bf in demo.fns.values()}

        async def run() -> dict[str, Any]:
            loaded = (await demo.process_api(block_fn=fns["on_preset"], inputs=["hands"], state=None))["data"]
            by_key = {f.key: v for f, v in zip(PRESET_FIELDS, loaded, strict=False)}
            saved = (await demo.process_api(block_fn=fns["on_save"], inputs=["mine"] + [c.value for c in comps],
                                            state=None))["data"]
            return {"loaded_status": loaded[-1], "loaded_denoise": by_key["denoise"],
                    "saved_dropdown": saved[0], "saved_status": saved[1]}

        return asyncio.run(run())
    finally:
        mp.undo()


def _tab(shot: Path | None) -> dict[str, Any]:
    import pytest

    from testkit.fake_a1111 import install

    mp = pytest.MonkeyPatch()
    try:
        install(mp, Path(tempfile.mkdtemp(prefix="qfix-g4-")))
        from lib_qfix.a1111 import tab

        (demo, title, elem_id), = tab.on_ui_tabs()
        cfg = demo.get_config_file()
        out = {"title": title, "elem_id": elem_id, "components": len(cfg["components"]),
               "gallery": any(x.get("props", {}).get("elem_id") == "qfix_tab_gallery" for x in cfg["components"])}
        if shot is not None:
            from testkit.page import chromium, free_port

            port = free_port()
            demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, show_api=False,
                        quiet=True)
            try:
                time.sleep(0.5)
                chromium(f"http://127.0.0.1:{port}", f"--screenshot={shot / 'tab.png'}", "--window-size=1200,900")
            finally:
                demo.close()
        return out
    finally:
        mp.undo()


def _pydantic() -> dict[str, Any]:
    from typing import Optional, Union, get_origin

    import pydantic

    from testkit.fake_a1111 import forge_api as F

    if not pydantic.VERSION.startswith("2"):
        return {"version": pydantic.VERSION}
    spec = {n: (a if get_origin(a) is Union else Optional[a], pydantic.Field(default=d, alias=n))
            for n, a, d in F._request_fields(F.FORGE)}
    model = pydantic.create_model("StableDiffusionProcessingTxt2Img", **spec)  # type: ignore[call-overload]
    fake = F.ForgeRequest()
    differ = [n for n, info in model.model_fields.items() if info.annotation != fake.model_fields[n].annotation]
    return {"version": pydantic.VERSION, "annotations_differ": differ,
            "styles": repr(model.model_fields["styles"].annotation)}


def _guard(fn: Any, *a: Any) -> Any:
    try:
        return fn(*a)
    except Exception:
        return {"error": traceback.format_exc()[-1500:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shot", default=None, help="folder for panel-open.png, panel-collapsed.png, tab.png")
    a = ap.parse_args()
    import gradio as gr

    from testkit import page

    shot = Path(a.shot) if a.shot else None
    if shot is not None:
        shot.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"gradio": gr.__version__, "update": gr.update(), "panel": _guard(_panel),
                           "events": _guard(_events), "tab": _guard(_tab, shot), "pydantic": _guard(_pydantic)}
    if page.browser():
        out["probe"] = _guard(page.run_probe)
        if shot is not None:
            for state in ("open", "collapsed"):
                with page.page(state) as url:
                    time.sleep(0.5)
                    size = "900,2200" if state == "open" else "900,720"
                    page.chromium(url, f"--screenshot={shot / f'panel-{state}.png'}", f"--window-size={size}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
