"""Fake ``modules.scripts`` (Script, AlwaysVisible, PostprocessImageArgs, a runner) and
``modules.script_callbacks``. The runner calls each always-on script's hook with
``*p.script_args[args_from:args_to]`` inside a try/except that only logs, as the real one does,
in the order it was given the scripts; :func:`load_order` gives that order as the host's
``list_scripts`` does (extension folders and their ``metadata.ini``)."""

from __future__ import annotations

import configparser
import re
import traceback
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
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
        self.selectable_scripts: list[Any] = []
        self.callback_map: dict[str, tuple[int, list[Any]]] = {}  # ordered_callbacks' cache, as the host's
        pos = 1  # position 0 belongs to the selectable-script index
        for s in scripts:
            s.is_img2img, s.is_txt2img = is_img2img, not is_img2img
            if s.show(is_img2img) is AlwaysVisible:
                s.alwayson = True
                self.alwayson_scripts.append(s)
            self.scripts.append(s)
            s.args_from = pos
            s.args_to = pos  # set by the UI build (number of ui() components)

    def ordered_scripts(self, hook: str) -> list[Any]:
        """The scripts overriding ``hook``, cached in ``callback_map`` and rebuilt only when the
        number of always-on scripts changes (the host's ``ordered_callbacks``)."""
        count, cached = self.callback_map.get(f"script_{hook}", (-1, None))
        if cached is None or count != len(self.alwayson_scripts):
            cached = [s for s in self.alwayson_scripts
                      if getattr(type(s), hook, None) not in (None, getattr(Script, hook, None))]
            self.callback_map[f"script_{hook}"] = len(self.alwayson_scripts), cached
        return cached

    def call(self, hook: str, p: Any, *extra: Any) -> None:
        for s in self.ordered_scripts(hook):
            fn = getattr(type(s), hook)  # only overridden hooks are called
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


def _listed(config: configparser.ConfigParser, field: str, sections: Sequence[str],
            installed: Sequence[str]) -> list[str]:
    """Names in ``field`` of ``sections`` (lower-cased, split on commas and spaces); of ``a|b``
    alternatives the first installed one (none installed: ``a|b`` as written, which names nothing)."""
    text = " ".join(config.get(s, field, fallback="") for s in sections).lower()
    names = [n for n in re.split(r"[,\s]+", text) if n]
    return [next((alt for alt in n.split("|") if alt in installed), n) for n in names]


def load_order(extensions: Sequence[tuple[str, Path]]) -> list[str]:
    """Script names ``"<extension>/<file>"`` in the order A1111 1.10.1 loads them, which is the
    order its runner calls their hooks in (with no callback-order sections and no user setting).

    ``extensions``: (folder name, folder) in the host's listing order (it sorts folder names). Each
    extension's ``scripts/*.py`` are listed by file name; its ``metadata.ini`` ``[scripts/<file>]``
    and ``[scripts]`` sections may say ``Before``/``After`` = script names or extension names (an
    extension name stands for all its scripts; names not installed are ignored). The order is a
    depth-first sort that puts what a script comes after first and otherwise keeps the listing
    order (cycles are broken where they are found, as the host does)."""
    folders = {name.lower(): Path(path) for name, path in extensions}
    files = {ext: sorted(p.name for p in (path / "scripts").glob("*.py")) for ext, path in folders.items()}
    after: dict[str, list[str]] = {f"{ext}/{f}": [] for ext in folders for f in files[ext]}
    installed = list(folders)

    def expand(name: str) -> list[str]:
        return [f"{name}/{f}" for f in files[name]] if name in files else [name]

    for ext, path in folders.items():
        config = configparser.ConfigParser()
        config.read(path / "metadata.ini")
        for f in files[ext]:
            me, sections = f"{ext}/{f}", (f"scripts/{f}", "scripts")
            for target in _listed(config, "After", sections, installed):
                after[me] += [t for t in expand(target) if t in after]
            for target in _listed(config, "Before", sections, installed):
                for t in expand(target):
                    if t in after:
                        after[t].append(me)
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for dep in after[name]:
            if dep not in seen:
                visit(dep)
        order.append(name)

    for name in after:
        if name not in seen:
            visit(name)
    return order
