"""Fake ``modules.scripts`` (Script, AlwaysVisible, PostprocessImageArgs, a runner) and
``modules.script_callbacks``. The runner calls each always-on script's hook with
``*p.script_args[args_from:args_to]`` inside a try/except that only logs, as the real one does."""

from __future__ import annotations

import traceback
import types
from dataclasses import dataclass
from typing import Any

AlwaysVisible = object()


class Script:
    name = None
    filename = None
    args_from = None
    args_to = None
    alwayson = False
    is_txt2img = False
    is_img2img = False
    group = None
    create_group = True
    sorting_priority = 0
    infotext_fields = None
    paste_field_names = None
    api_info = None
    section = None

    def title(self):
        raise NotImplementedError

    def ui(self, is_img2img):
        pass

    def show(self, is_img2img):
        return True

    def describe(self):
        return ""


@dataclass
class PostprocessImageArgs:
    image: Any


HOOKS = ("setup", "before_process", "process", "before_process_batch", "after_extra_networks_activate",
         "process_batch", "process_before_every_sampling", "post_sample", "postprocess_batch",
         "postprocess_batch_list", "postprocess_image", "postprocess_maskoverlay",
         "postprocess_image_after_composite", "postprocess")


class ScriptRunner:
    """Holds always-on scripts with their arg ranges; ``call(hook, p, *extra)``."""

    def __init__(self, host: Any, scripts: list[Any], is_img2img: bool):
        self.host, self.alwayson_scripts, self.is_img2img = host, [], is_img2img
        self.scripts = []
        pos = 1  # position 0 belongs to the selectable-script index
        for s in scripts:
            s.is_img2img, s.is_txt2img = is_img2img, not is_img2img
            if s.show(is_img2img) is AlwaysVisible:
                s.alwayson = True
                self.alwayson_scripts.append(s)
            self.scripts.append(s)
            s.args_from = pos
            s.args_to = pos  # set by the UI build (number of ui() components)

    def call(self, hook: str, p: Any, *extra: Any) -> None:
        for s in self.alwayson_scripts:
            fn = getattr(type(s), hook, None)
            if fn is None or fn is getattr(Script, hook, None):
                continue  # only overridden hooks are called
            self.host.calls.append((hook, s.title()))
            try:
                fn(s, p, *extra, *p.script_args[s.args_from:s.args_to])
            except Exception:
                self.host.errors.append(traceback.format_exc())


def build(host: Any) -> types.ModuleType:
    m = types.ModuleType("modules.scripts")
    m.Script, m.AlwaysVisible, m.PostprocessImageArgs = Script, AlwaysVisible, PostprocessImageArgs
    m.ScriptRunner = lambda scripts, is_img2img=False: ScriptRunner(host, scripts, is_img2img)
    return m


def build_callbacks(host: Any) -> types.ModuleType:
    m = types.ModuleType("modules.script_callbacks")
    m.registered = {"ui_settings": [], "app_started": [], "ui_tabs": [], "infotext_pasted": []}

    def adder(kind: str):
        return lambda fn: m.registered[kind].append(fn)

    m.on_ui_settings = adder("ui_settings")
    m.on_app_started = adder("app_started")
    m.on_ui_tabs = adder("ui_tabs")
    m.on_infotext_pasted = adder("infotext_pasted")

    def infotext_pasted_callback(infotext: str, params: dict) -> None:
        for fn in m.registered["infotext_pasted"]:
            fn(infotext, params)

    m.infotext_pasted_callback = infotext_pasted_callback
    return m
