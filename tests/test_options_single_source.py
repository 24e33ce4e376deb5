"""Every option fact has one source, the ``Options`` declaration (lib_qfix/options/fields.py), and
the detector table (``lib_qfix.registry.DETECTORS``). Each list other modules need is recomputed
here from the declarations and compared with what those modules use; a scan of the sources fails
when a module writes a fact out again (a tuple of detector switches, an infotext key, a widget label,
an element id, a CLI default that repeats a constant).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import pickle
import re
import typing
from pathlib import Path

import pytest

from lib_qfix import options as O
from lib_qfix import registry
from lib_qfix.options import DEFAULTS, FIELD_BY_KEY, FIELDS, Options
from lib_qfix.options.field import KIND_NEGATIVE, KIND_PROMPT, META, STAGES
from lib_qfix.types import LOCAL_KINDS

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "lib_qfix"


# ---------------------------------------------------------------- the record itself

def test_options_is_a_typed_frozen_dataclass_and_fields_come_from_it():
    assert dataclasses.is_dataclass(Options) and Options.__dataclass_params__.frozen
    hints = typing.get_type_hints(Options)
    declared = dataclasses.fields(Options)
    assert [f.key for f in FIELDS] == [d.name for d in declared]  # one declaration per option, same order
    kinds = {bool: "bool", int: "int", float: "float", str: "str"}
    for f, d in zip(FIELDS, declared, strict=True):
        assert f.default == d.default, f.key
        assert f.kind == ("choice" if f.choices is not None else kinds[hints[f.key]]), f.key
        assert type(f.default) is hints[f.key], f.key  # the default has the declared type
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.rounds = 3  # type: ignore[misc]
    o = DEFAULTS.replace(rounds=3, hand_confidence="0.7")
    assert o.rounds == 3 and o.hand_confidence == 0.7 and isinstance(o, Options)
    assert pickle.loads(pickle.dumps(o)) == o and o.to_dict()["rounds"] == 3
    assert O.validate(o.to_dict()) == o


def test_every_field_says_who_reads_it():
    readers = set(STAGES) | {d.name for d in registry.DETECTORS}
    for f in FIELDS:
        assert f.read_by and set(f.read_by) <= readers, f.key


# ---------------------------------------------------------------- meta fields

def test_meta_fields_are_derived_from_the_role():
    from lib_qfix import presets
    from lib_qfix.options import schema

    meta = tuple(f.key for f in FIELDS if f.role == META)
    assert meta == O.META_KEYS == ("enable", "preset")
    assert presets.NOT_IN_PRESETS == meta
    assert inspect.signature(schema.to_infotext).parameters["always"].default == meta
    assert set(schema.to_infotext(DEFAULTS)) == {FIELD_BY_KEY[k].infotext_key for k in meta}
    assert O.PRESET_KEYS == tuple(f.key for f in FIELDS if f.key not in meta)
    assert O.PRESET_INFOTEXT_KEY == FIELD_BY_KEY["preset"].infotext_key


def test_panel_puts_the_meta_fields_first_and_loads_presets_into_the_rest(monkeypatch, tmp_path):
    """The UI's positional order is FIELDS order; the top row is the meta fields, whatever their
    position; loading a preset updates exactly the preset fields."""
    from testkit.fake_a1111 import install

    install(monkeypatch, tmp_path)
    from lib_qfix.a1111 import ui

    out = ui.on_preset("default")
    assert len(out) == len(O.PRESET_FIELDS) + 1
    assert [u["value"] for u in out[:-1]] == [getattr(DEFAULTS, k) for k in O.PRESET_KEYS]


# ---------------------------------------------------------------- per-kind prompt tables

def test_per_kind_prompt_and_negative_fields_come_from_serves():
    from lib_qfix.fix import plan
    from lib_qfix.prompts import negatives

    prompt = {k: f.key for f in FIELDS if f.role == KIND_PROMPT for k in f.serves}
    negative = {k: f.key for f in FIELDS if f.role == KIND_NEGATIVE for k in f.serves}
    assert O.PROMPT_FIELD == prompt and O.NEGATIVE_FIELD == negative
    assert set(prompt) == set(negative) == set(LOCAL_KINDS)  # every region kind QFix repaints
    assert plan.PROMPT_FIELD is O.PROMPT_FIELD and plan.NEGATIVE_FIELD is O.NEGATIVE_FIELD
    assert negatives.NEGATIVE_FIELD is O.NEGATIVE_FIELD


# ---------------------------------------------------------------- detectors

def _options_read(tree: ast.AST, name: str = "options") -> set[str]:
    """Attributes read off a variable ``options`` (``options.x``, ``getattr(options, "x"[, d])``),
    methods of Options left out."""
    methods = {m for m, _ in inspect.getmembers(Options, callable)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
            found.add(node.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == name
              and isinstance(node.args[1], ast.Constant)):
            found.add(node.args[1].value)
    return found - methods


def _reads(rel: str, qualname: str | None = None) -> set[str]:
    tree: ast.AST = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    for part in (qualname.split(".") if qualname else ()):
        tree = next(n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == part)
    return _options_read(tree)


#: reader -> (module, optional class.function) whose ``options.x`` reads it must declare
READERS = {
    "face": ("lib_qfix/detect/faces.py", None),
    "hand": ("lib_qfix/detect/hands.py", None),
    "text": ("lib_qfix/detect/text.py", None),
    "logo": ("lib_qfix/detect/logo.py", None),
    "composition": ("lib_qfix/detect/composition.py", None),
    "lighting": ("lib_qfix/detect/lighting.py", None),
    "anatomy": ("lib_qfix/detect/anatomy.py", None),
    "scorer": ("lib_qfix/scoring/__init__.py", None),
    "diagnose": ("lib_qfix/diagnose.py", None),
    "plan": ("lib_qfix/fix/plan.py", None),
    "prompts": ("lib_qfix/prompts/negatives.py", None),
    "masks": ("lib_qfix/masks.py", None),
    "fidelity": ("lib_qfix/fix/fidelity.py", None),
    "loop": ("lib_qfix/fix/loop.py", None),
    "inpaint": ("lib_qfix/protocols.py", "InpaintParams.from_options"),
    "restore": ("lib_qfix/protocols.py", "RestoreParams.from_options"),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_read_by_lists_every_option_a_component_reads(reader):
    """A detector's readers are part of the filter cache key: an option a detector reads but does
    not declare would let the cache serve stale results. The same for every stage."""
    rel, qualname = READERS[reader]
    reads = _reads(rel, qualname)
    declared = set(O.read_by(reader))
    assert reads <= declared, f"{rel} reads {sorted(reads - declared)}: add {reader!r} to their read_by"
    if reader in {d.name for d in registry.DETECTORS} | {"scorer", "inpaint", "restore"}:
        assert declared <= reads, f"{sorted(declared - reads)} say {reader!r} reads them; {rel} does not"


def test_one_detector_table():
    from lib_qfix import diagnose
    from lib_qfix.filter import job

    table = registry.DETECTORS
    assert registry.detector_names()[: len(table)] == tuple(d.name for d in table)
    for d in table:
        assert FIELD_BY_KEY[d.switch].kind == "bool" and d.switch == "detect_" + d.choice
        assert registry._DETECTORS[d.name] == d.factory
    assert O.DETECT_CHOICES == tuple(d.choice for d in table)
    assert O.DETECT_FLAGS == {d.choice: d.switch for d in table}
    assert O.DETECT_KEYS == {d.choice: O.read_by(d.name) for d in table}
    assert O.DETECTORS_OFF == {d.switch: False for d in table}
    assert diagnose.BACKGROUND_DETECTORS == tuple(d.name for d in table if d.background)
    assert diagnose.enabled_detectors(DEFAULTS.replace(**O.DETECTORS_OFF)) == []
    # slow or weak detectors are off by default (the overhead goal); the rest are on
    assert diagnose.enabled_detectors(DEFAULTS) == [d.name for d in table if FIELD_BY_KEY[d.switch].default]
    # the filter: its --detect names, its switches and its cache key
    assert job.check_detect(list(O.DETECT_CHOICES)) == O.DETECT_CHOICES
    for d in table:
        only = job.filter_options(DEFAULTS, (d.choice,))
        assert diagnose.enabled_detectors(only) == [d.name]
        settings = job.score_settings(only, job.RunConfig(detect=(d.choice,)))
        assert set(O.read_by(d.name)) <= set(settings), d.name


# ---------------------------------------------------------------- other copies

def test_choices_come_from_their_owners():
    from lib_qfix.scoring.clip_model import DEVICES
    from lib_qfix.scoring.prompt_pairs import PAIR_SETS

    assert FIELD_BY_KEY["prompt_pairs"].choice_list() == tuple(PAIR_SETS)
    assert FIELD_BY_KEY["device"].choice_list() == DEVICES
    assert FIELD_BY_KEY["scorer"].choice_list() == registry.scorer_names()
    assert O.choices_help("scorer") == ", ".join(
        n + (" (default)" if n == DEFAULTS.scorer else "") for n in registry.scorer_names())


def test_server_settings_default_to_the_option_defaults():
    from lib_qfix.a1111 import settings

    assert (settings.CLIP_MODELS, settings.CLIP_WEIGHTS) == (DEFAULTS.clip_model, DEFAULTS.clip_pretrained)


def test_cli_defaults_are_the_constants():
    from lib_qfix.cli import build_parser
    from lib_qfix.filter.bursts import MAX_DISTANCE
    from lib_qfix.filter.decode import WORK_SIDE
    from lib_qfix.imageio import MAX_PIXELS

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    flt = {a.option_strings[0]: a for a in sub.choices["filter"]._actions if a.option_strings}
    assert flt["--work-size"].default == WORK_SIDE and flt["--max-pixels"].default == MAX_PIXELS
    assert flt["--burst-distance"].default == MAX_DISTANCE


# ---------------------------------------------------------------- the source scan

SWITCHES = {d.switch for d in registry.DETECTORS}
CHOICES = set(O.DETECT_CHOICES)
SCORERS = set(registry.scorer_names())
INFOTEXT_KEYS = {f.infotext_key for f in FIELDS}
LABELS = {f.label for f in FIELDS}
#: sets of option facts: a literal collection holding >= n of one set is a second copy
FACT_SETS = {
    "meta fields": (set(O.META_KEYS), 2),
    "path-like fields": ({f.key for f in FIELDS if f.path_like}, 2),
    "resource fields": ({f.key for f in FIELDS if f.resource}, 2),
    "detector switches": (SWITCHES, 2),
    "detector names": (CHOICES, 2),
    "per-kind prompt fields": ({f.key for f in FIELDS if f.role in (KIND_PROMPT, KIND_NEGATIVE)}, 2),
    "scorer names": (SCORERS, 2),
    "device choices": (set(FIELD_BY_KEY["device"].choice_list()), 3),
    "prompt pair sets": (set(FIELD_BY_KEY["prompt_pairs"].choice_list()), 2),
    **{f"{d.name} detector options": (set(O.read_by(d.name)), 2) for d in registry.DETECTORS},
}
#: modules that own a fact (they may spell it)
OWNERS = {
    "scorer names": {"lib_qfix/registry.py"},
    "detector switches": {"lib_qfix/registry.py"},
    "prompt pair sets": {"lib_qfix/scoring/prompt_pairs.py"},
    "device choices": {"lib_qfix/scoring/clip_model.py"},
}
_SCORER_WORD = re.compile("|".join(rf"(?<![\w+-]){re.escape(n)}(?![\w+-])" for n in sorted(SCORERS, key=len)[::-1]))
_CLI_CONSTANT_DEFAULTS = {"--work-size", "--max-pixels", "--burst-distance", "--model", "--pretrained", "--device"}


def _strings(node: ast.AST) -> list[str]:
    elts: list[ast.AST | None] = []
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        elts = list(node.elts)
    elif isinstance(node, ast.Dict):
        elts = [*node.keys, *node.values]
    return [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def copies_in(rel: str, tree: ast.AST) -> set[tuple[str, int, str]]:
    """(file, line, what) for every option fact ``tree`` writes out again."""
    found: set[tuple[str, int, str]] = set()
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        strings = _strings(node)
        for what, (facts, n) in FACT_SETS.items():
            if rel not in OWNERS.get(what, set()) and len(facts & set(strings)) >= n:
                found.add((rel, line, what))
        if isinstance(node, ast.Call):
            if len(SWITCHES & {k.arg for k in node.keywords}) >= 2:
                found.add((rel, line, "detector switches"))
            label = next((k.value for k in node.keywords if k.arg == "label"), None)
            if rel.startswith("lib_qfix/a1111/") and isinstance(label, ast.Constant) and label.value in LABELS:
                found.add((rel, line, f"label {label.value!r}"))
            flag = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            if flag in _CLI_CONSTANT_DEFAULTS and isinstance(default, ast.Constant):
                found.add((rel, line, f"{flag} default"))
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "FIELDS":
            found.add((rel, line, "a field by position"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = node.value
            if text in INFOTEXT_KEYS:
                found.add((rel, line, f"infotext key {text!r}"))
            if rel not in OWNERS["scorer names"] and len(set(_SCORER_WORD.findall(text))) >= 2:
                found.add((rel, line, "scorer names"))
            if re.search(r"\bfaces,hands\b", text):
                found.add((rel, line, "detector names"))
            if rel.startswith("lib_qfix/a1111/") and rel != "lib_qfix/a1111/elements.py" \
                    and text.startswith(("qfix-", "qfix_tab")):
                found.add((rel, line, "element id"))
    return found


def scan() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("lib_qfix/options/"):
            continue
        found |= {(f, what) for f, _, what in copies_in(rel, ast.parse(path.read_text(encoding="utf-8")))}
    return found


#: copies in modules other engineers are editing now; the lead wires them to lib_qfix.options and
#: removes the entry (the test fails on an entry that is no longer a copy, so this list cannot rot)
PENDING: set[tuple[str, str]] = set()


def test_no_module_writes_an_option_fact_again():
    found = scan()
    assert not found - PENDING, "second copies of option facts (derive them from lib_qfix.options): " + \
        ", ".join(f"{f}: {w}" for f, w in sorted(found - PENDING))
    assert not PENDING - found, "no longer copies, remove from PENDING: " + \
        ", ".join(f"{f}: {w}" for f, w in sorted(PENDING - found))


@pytest.mark.parametrize("source, what", [
    ("x = ('detect_faces', 'detect_hands')", "detector switches"),
    ("o.replace(detect_faces=False, detect_text=False)", "detector switches"),
    ("K = {'faces': 1, 'hands': 2}", "detector names"),
    ("NOT_IN = ('enable', 'preset')", "meta fields"),
    ("P = {'face': 'face_prompt', 'hand': 'hand_prompt'}", "per-kind prompt fields"),
    ("k = ('face_confidence', 'face_min_area')", "face detector options"),
    ("h = 'scorer: offline, clip-iqa'", "scorer names"),
    ("c = ('auto', 'cpu', 'cuda', 'mps')", "device choices"),
    ("s = ('paper', 'quality5')", "prompt pair sets"),
    ("params.get('QFix preset')", "infotext key 'QFix preset'"),
    ("FIELDS[2:]", "a field by position"),
    ("p.add_argument('--work-size', default=1024)", "--work-size default"),
])
def test_the_scan_finds_each_kind_of_copy(source, what):
    assert what in {w for _, _, w in copies_in("lib_qfix/x.py", ast.parse(source))}


def test_the_scan_finds_element_ids_and_labels_in_the_adapter():
    src = "gr.Slider(0, 1, label='Quality threshold', elem_id='qfix_tab_threshold')"
    found = {w for _, _, w in copies_in("lib_qfix/a1111/x.py", ast.parse(src))}
    assert {"label 'Quality threshold'", "element id"} <= found


# ---------------------------------------------------------------- element ids

def test_style_css_styles_only_qfix_names_from_the_elements_module():
    from lib_qfix.a1111 import elements as E

    css = (ROOT / "style.css").read_text(encoding="utf-8")
    used = set(re.findall(r"\.(qfix-[\w-]+)", css))
    known = {v for k, v in vars(E).items() if k.endswith("_CLASS") and isinstance(v, str)}
    assert used and used <= known, sorted(used - known)


def test_panel_ids_come_from_the_elements_module(monkeypatch, tmp_path):
    import gradio as gr

    from lib_qfix.a1111 import elements as E
    from lib_qfix.a1111.ui import build_panel
    from testkit.fake_a1111 import install

    install(monkeypatch, tmp_path)
    with gr.Blocks() as demo:
        comps, _ = build_panel(False)
    assert [c.elem_id for c in comps] == [E.element_id(E.FIELD, "txt2img", key=f.key) for f in FIELDS]
    ids = {c.get("props", {}).get("elem_id") for c in demo.get_config_file()["components"]}
    for template in (E.PANEL, E.REFRESH, E.SAVE_NAME, E.SAVE, E.STATUS, E.APPEND_NEGATIVE):
        assert E.element_id(template, "txt2img") in ids, template
