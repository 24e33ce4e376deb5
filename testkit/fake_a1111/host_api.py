"""How the host turns UI values, API requests and pasted infotext into script args.

- ``ui_defaults``: ``ui()`` built inside ``gr.Blocks``; each component's ``.value`` (as
  ``init_default_script_args`` does for the API).
- ``api_args``: ``alwayson_scripts[title]["args"]`` overwrite the defaults by position from the
  start; extra args beyond the script's count are dropped; unknown title -> 422.
- ``paste_args``: the UI paste (``infotext_utils.connect_paste``): infotext parsed, then the
  ``on_infotext_pasted`` callbacks, then for each ``(component, key)`` in ``infotext_fields`` the
  value ``key(params)`` when ``key`` is callable, else ``params[key]``; None (or a raising key)
  leaves the current value, a ``gr.update`` dict sets its ``value``; otherwise converted to the
  component value's type (bool: ``"False"`` -> False; int: ``float(v)``; a failing conversion
  leaves the value). The API's ``infotext`` field is :mod:`testkit.fake_a1111.forge_api`.
"""

from __future__ import annotations

from typing import Any


class HTTP422(Exception):
    pass


def ui_defaults(script: Any, is_img2img: bool = False) -> list[Any]:
    import gradio as gr

    with gr.Blocks():
        comps = script.ui(is_img2img)
    return [c.value for c in comps]


def make_runner(host: Any, script: Any, is_img2img: bool = False) -> tuple[Any, list[Any]]:
    """A runner holding ``script`` with its arg range set; returns (runner, default args)."""
    scripts = host.modules["modules.scripts"]
    runner = scripts.ScriptRunner([script], is_img2img)
    defaults = ui_defaults(script, is_img2img)
    script.args_from, script.args_to = 1, 1 + len(defaults)
    return runner, [0] + defaults


def api_args(runner: Any, defaults: list[Any], alwayson_scripts: dict[str, Any]) -> list[Any]:
    args = list(defaults)
    for title, body in alwayson_scripts.items():
        found = [s for s in runner.alwayson_scripts if s.title().lower() == title.lower()]
        if not found:
            raise HTTP422(f"always on script {title} not found")
        s = found[0]
        given = body.get("args", [])
        for i in range(min(s.args_to - s.args_from, len(given))):
            args[s.args_from + i] = given[i]
    return args


def txt2img(host: Any, runner: Any, script_args: list[Any], *, is_api: bool = False, **kw: Any) -> Any:
    return _generate(host, "StableDiffusionProcessingTxt2Img", runner, script_args, is_api, kw)


def img2img(host: Any, runner: Any, script_args: list[Any], *, is_api: bool = False, **kw: Any) -> Any:
    """An outer img2img pass (``init_images`` as PIL images; ``mask`` makes it an inpainting)."""
    return _generate(host, "StableDiffusionProcessingImg2Img", runner, script_args, is_api, kw)


def _generate(host: Any, kind: str, runner: Any, script_args: list[Any], is_api: bool, kw: dict[str, Any]) -> Any:
    """(p, processed) of one outer generation: ``modules.processing.<kind>(**kw)`` run by ``runner``."""
    processing = host.modules["modules.processing"]
    kw.setdefault("prompt", "a portrait photo")
    kw.setdefault("negative_prompt", "lowres")
    kw.setdefault("seed", 1234)
    p = getattr(processing, kind)(**kw)
    p.scripts, p.script_args, p.is_api = runner, list(script_args), is_api
    return p, processing.process_images(p)


def paste_args(host: Any, script: Any, infotext: str, current: list[Any]) -> list[Any]:
    params = host.modules["modules.infotext_utils"].parse_generation_parameters(infotext)
    host.modules["modules.script_callbacks"].infotext_pasted_callback(infotext, params)
    out = list(current)
    for i, (comp, key) in enumerate(script.infotext_fields):
        if callable(key):
            try:
                v = key(params)
            except Exception:  # the host reports it and leaves the component
                v = None
        else:
            v = params.get(key)
        if v is None:
            continue
        if isinstance(v, dict):  # a gr.update
            if "value" in v:
                out[i] = v["value"]
            continue
        valtype = type(comp.value)
        try:
            if valtype is bool and v == "False":
                out[i] = False
            elif valtype is int:
                out[i] = float(v)
            else:
                out[i] = valtype(v)
        except Exception:
            pass
    return out
