"""Presets: named, partial option sets stored as JSON files.

File format (``<name>.json``)::

    {"schema_version": 1, "name": "portrait", "description": "…", "options": {"denoise": 0.35}}

``options`` holds only the options the preset changes (validated by the options schema; the fix
strategy overrides may be written as an object, ``"strategies": {"blur": "regenerate_keywords"}``);
``enable`` and ``preset`` are never stored in a preset (whether QFix runs, and which preset is
chosen, belong to the caller). The file name is the preset's name; the ``name`` field is
informative.

Bundled presets are package data, ``lib_qfix/data/presets/*.json``, found through
``importlib.resources`` (the same in a wheel, an editable install and the A1111 extension folder),
and are read-only. User presets live in ``$QFIX_HOME/presets`` (default ``~/.config/qfix/presets``; the A1111 adapter passes its own
``user_dir``); a user preset shadows a bundled one of the same name, but saving under a bundled
name is refused. Resolution: built-in defaults < preset < explicit options.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_qfix.fileio import atomic_write_text, sweep_stale_temps
from lib_qfix.fix.strategy import OPTION as STRATEGIES_KEY
from lib_qfix.fix.strategy import format_strategies
from lib_qfix.lru import LRU
from lib_qfix.options import (
    DEFAULTS,
    META_KEYS,
    SCHEMA_VERSION,
    OptionError,
    Options,
    coerce_values,
    diff,
    validate,
)

#: the bundled presets' folder (a real folder: QFix is never imported from a zip)
BUNDLED_DIR = Path(str(importlib.resources.files("lib_qfix") / "data" / "presets"))
#: the meta fields (``enable``, ``preset``): chosen by the caller, never stored in a preset
NOT_IN_PRESETS = META_KEYS
TOP_LEVEL_KEYS = ("schema_version", "name", "description", "options")
MAX_NAME = 64
MAX_DESCRIPTION = 500  # characters
#: always used with fullmatch: ``$``/``match`` would let a trailing newline through
_NAME = re.compile(r"[A-Za-z0-9_-](?:[A-Za-z0-9_. -]*[A-Za-z0-9_-])?")


def _is_name(text: str) -> bool:
    return _NAME.fullmatch(text) is not None and ".." not in text


class PresetError(ValueError):
    """A preset that cannot be used. ``path`` is the file (or None), ``field`` the offending
    key (``"options.denoise"``, ``"schema_version"``, ``"name"``…) or None for the whole file."""

    def __init__(self, message: str, path: str | Path | None = None, field: str | None = None):
        self.path = str(path) if path is not None else None
        self.field = field
        self.reason = message
        where = f"{self.path}: " if self.path else ""
        what = f"{field}: " if field else ""
        super().__init__(f"{where}{what}{message}")


@dataclass(frozen=True)
class PresetInfo:
    """One preset as listed: ``source`` is "bundled" or "user"; ``shadows`` is True for a user
    preset hiding a bundled one; ``error`` says why a broken file cannot be loaded (else None)."""

    name: str
    description: str
    path: str
    source: str
    error: str | None = None
    shadows: bool = False


def user_presets_dir() -> Path:
    """``$QFIX_HOME/presets``, else ``~/.config/qfix/presets`` (not created here)."""
    home = os.environ.get("QFIX_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".config" / "qfix"
    return base / "presets"


def check_name(name: Any) -> str:
    """``name`` if it is a safe preset name: letters, digits, ``_`` and ``-``, with spaces and
    dots allowed inside, at most 64 characters, no ``..``; else :class:`PresetError`."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or not _is_name(name):
        raise PresetError(f"{name!r} is not allowed; allowed: 1-{MAX_NAME} characters of letters, digits, "
                          "'_' and '-', with spaces and single dots inside (no '/', '..', or path)",
                          field="name")
    return name


def _user_dir(user_dir: str | Path | None) -> Path:
    return Path(user_dir) if user_dir is not None else user_presets_dir()


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.json")) if p.is_file() and _is_name(p.stem)}


def check_data(data: Any, source: str) -> tuple[list[PresetError], dict[str, Any]]:
    """Every problem in a preset's parsed JSON (not just the first) and the valid options found."""
    errors: list[PresetError] = []
    if not isinstance(data, dict):
        return [PresetError(f"top level is a {type(data).__name__}; allowed: a JSON object", source)], {}
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            errors.append(PresetError(f"unknown key; allowed: {', '.join(TOP_LEVEL_KEYS)}", source, str(key)))
    version = data.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        errors.append(PresetError(f"{version!r} is not allowed; allowed: {SCHEMA_VERSION}", source, "schema_version"))
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            errors.append(PresetError(f"{data[key]!r} is not allowed; allowed: text", source, key))
    if isinstance(data.get("description"), str) and len(data["description"]) > MAX_DESCRIPTION:
        errors.append(PresetError(f"{len(data['description'])} characters is too long; allowed: at most "
                                  f"{MAX_DESCRIPTION} characters", source, "description"))
    options = data.get("options", {})
    if not isinstance(options, dict):
        errors.append(PresetError(f"{options!r} is not allowed; allowed: a JSON object", source, "options"))
        return errors, {}
    valid: dict[str, Any] = {}
    for key, value in options.items():
        if key in NOT_IN_PRESETS:
            errors.append(PresetError(f"{value!r} is not allowed; '{key}' is chosen by the caller, "
                                      "never stored in a preset", source, f"options.{key}"))
            continue
        try:
            if key == STRATEGIES_KEY:  # a preset may write {"defect": "strategy"}: the option's text
                value = format_strategies(value)
            valid.update(coerce_values({key: value}, source=source))
        except OptionError as e:
            errors.append(PresetError(f"{e.value!r} is not allowed; {e.allowed}", source, f"options.{e.field}"))
    return errors, valid


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PresetError("no such file", path) from None
    except UnicodeDecodeError as e:
        raise PresetError(f"not UTF-8 text ({e.reason})", path) from None
    except json.JSONDecodeError as e:
        raise PresetError(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}", path) from None
    except OSError as e:
        raise PresetError(f"cannot read: {e.strerror or e}", path) from None


#: parsed preset files by path, valid while the file's (mtime, size) is unchanged: a preset is read
#: from disk once, not once per image and again on paste-back
_read_cache = LRU(64)


def read_file(path: str | Path) -> dict[str, Any]:
    """A preset file's parsed and validated content (``options`` normalised); raises
    :class:`PresetError` naming the file and the first bad field. Cached by path, mtime and size."""
    path = Path(path)
    try:
        st = path.stat()
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None  # _load_json says why
    hit = _read_cache.get(str(path)) if stamp is not None else None
    if hit is not None and hit[0] == stamp:
        return {**hit[1], "options": dict(hit[1]["options"])}
    data = _load_json(path)
    errors, options = check_data(data, str(path))
    if errors:
        raise errors[0]
    doc = {"schema_version": SCHEMA_VERSION, "name": data.get("name", path.stem),
           "description": data.get("description", ""), "options": options}
    if stamp is not None:
        _read_cache.put(str(path), (stamp, doc))
    return {**doc, "options": dict(options)}


def validate_file(path: str | Path) -> list[PresetError]:
    """All problems of one preset file ([] when it is valid)."""
    try:
        data = _load_json(Path(path))
    except PresetError as e:
        return [e]
    errors = check_data(data, str(path))[0]
    if not _is_name(Path(path).stem):
        errors.append(PresetError(f"file name {Path(path).name!r} is not a valid preset name; allowed: "
                                  "letters, digits, '_', '-', inner spaces and dots, then '.json'", path, "name"))
    return errors


def list_presets(user_dir: str | Path | None = None) -> list[PresetInfo]:
    """Bundled and user presets by name (user shadows bundled); broken ones are listed with
    ``error`` set instead of raising, so one bad file never hides the others."""
    sweep_stale_temps(_user_dir(user_dir))
    bundled, user = _files(BUNDLED_DIR), _files(_user_dir(user_dir))
    out = []
    for name in sorted(set(bundled) | set(user), key=str.lower):
        path, source = (user[name], "user") if name in user else (bundled[name], "bundled")
        try:
            desc, error = read_file(path)["description"], None
        except PresetError as e:
            desc, error = "", str(e)
        out.append(PresetInfo(name, desc, str(path), source, error, source == "user" and name in bundled))
    return out


def names(user_dir: str | Path | None = None) -> list[str]:
    """The names of every usable preset, bundled and user (broken files left out): the one list
    for the panel, the settings page and the filter tab."""
    return [i.name for i in list_presets(user_dir) if i.error is None]


def find_preset(name: str, user_dir: str | Path | None = None) -> tuple[Path, str]:
    """(path, "user" | "bundled") of the preset ``name``; :class:`PresetError` lists the known ones."""
    check_name(name)
    for source, folder in (("user", _user_dir(user_dir)), ("bundled", BUNDLED_DIR)):
        path = folder / f"{name}.json"
        if path.is_file():
            return path, source
    known = sorted(set(_files(BUNDLED_DIR)) | set(_files(_user_dir(user_dir))), key=str.lower)
    raise PresetError(f"{name!r} is not a preset; allowed: {', '.join(known) or 'none found'}", field="preset")


def load_preset(name: str, user_dir: str | Path | None = None) -> dict[str, Any]:
    """The partial, validated options of the preset ``name`` (user folder first, then bundled)."""
    return read_file(find_preset(name, user_dir)[0])["options"]


@dataclass(frozen=True)
class Resolved:
    """``options`` = defaults < preset < explicit; ``baseline`` = defaults < preset (what the
    infotext's recorded differences are relative to). Both name the preset in ``preset``."""

    options: Options
    baseline: Options


def resolve(preset: str | None, explicit: Mapping[str, Any] | None = None,
            user_dir: str | Path | None = None) -> Resolved:
    """The one preset resolver: reads preset ``preset`` once (``None`` or "" means "default") and
    lays the partial, validated ``explicit`` dict over it. Raises :class:`PresetError` for a
    missing or broken preset and :class:`OptionError` for a bad explicit value."""
    name = preset or "default"
    baseline = validate({**load_preset(name, user_dir), "preset": name})
    explicit = dict(explicit or {})
    explicit.pop("preset", None)
    return Resolved(validate(explicit, base=baseline, source="options"), baseline)


def resolve_options(preset: str | None, explicit: Mapping[str, Any] | None = None,
                    user_dir: str | Path | None = None) -> Options:
    """``resolve(...).options``: defaults < preset < explicit."""
    return resolve(preset, explicit, user_dir).options


def is_bundled(name: str) -> bool:
    """True if a bundled preset has this name (case-insensitive: safe on any file system)."""
    return name.lower() in {n.lower() for n in _files(BUNDLED_DIR)}


def save_preset(name: str, options: Options | Mapping[str, Any], user_dir: str | Path | None = None, description: str = "") -> Path:
    """Write the user preset ``name`` atomically (temp file in the same folder, fsync, rename;
    stale temp files of killed saves are swept) and return its path. ``description``: at most
    :data:`MAX_DESCRIPTION` characters. ``options``: an Options record (stored as its difference from the defaults)
    or a partial dict. ``enable``/``preset`` are dropped. Bundled names are refused."""
    check_name(name)
    if is_bundled(name):
        raise PresetError(f"{name!r} is a bundled preset and cannot be overwritten; allowed: another name",
                          field="name")
    data = diff(options, DEFAULTS) if not isinstance(options, Mapping) else dict(options)
    for key in NOT_IN_PRESETS:
        data.pop(key, None)
    errors, data = check_data({"schema_version": SCHEMA_VERSION, "description": description, "options": data},
                              f"preset {name!r}")
    if errors:
        raise errors[0]
    folder = _user_dir(user_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(folder)
    path = folder / f"{name}.json"
    doc = {"schema_version": SCHEMA_VERSION, "name": name, "description": description, "options": data}
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return path


def delete_preset(name: str, user_dir: str | Path | None = None) -> bool:
    """Delete the user preset ``name``; False if there is none. Bundled presets cannot be deleted
    (deleting a user preset that shadows one makes the bundled one visible again)."""
    check_name(name)
    path = _user_dir(user_dir) / f"{name}.json"
    if not path.is_file():
        if is_bundled(name):
            raise PresetError(f"{name!r} is a bundled preset and cannot be deleted", field="name")
        return False
    path.unlink()
    return True
