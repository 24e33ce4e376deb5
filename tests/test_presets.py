"""Presets: bundled files validate, resolution order, user shadowing, broken files, safe names,
atomic saves, and the ``qfix presets`` command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lib_qfix import presets as P
from lib_qfix.cli import main
from lib_qfix.options import DEFAULTS, OptionError

BUNDLED = ("default", "portrait", "hands", "photoreal", "anime")


def write(folder: Path, name: str, options: dict, **top) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"schema_version": 1, "name": name, "options": options, **top}))
    return path


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_preset_validates(name):
    path = P.BUNDLED_DIR / f"{name}.json"
    assert P.validate_file(path) == []
    doc = P.read_file(path)
    assert doc["name"] == name and doc["description"]
    assert not set(doc["options"]) & set(P.NOT_IN_PRESETS)
    assert P.resolve_options(name).preset == name


def test_bundled_presets_say_what_the_brief_says():
    assert P.resolve_options("default") == DEFAULTS.replace(preset="default")
    portrait = P.resolve_options("portrait")
    assert (portrait.detect_faces, portrait.face_mask, portrait.face_restorer) == (True, "hull", "CodeFormer")
    assert portrait.codeformer_weight == 0.7 and portrait.denoise == 0.35
    hands = P.resolve_options("hands")
    assert hands.detect_hands and hands.hand_crops and hands.denoise == 0.45 and hands.rounds == 2
    assert hands.mask_dilation > DEFAULTS.mask_dilation
    photo = P.resolve_options("photoreal")
    assert photo.scorer == "offline" and photo.quality_threshold > DEFAULTS.quality_threshold
    assert "jpeg artifacts" in photo.extra_negative and "noisy" in photo.extra_negative
    anime = P.resolve_options("anime")
    assert anime.ignore_text_in_prompt and anime.quality_threshold < DEFAULTS.quality_threshold
    assert "extra digits" in anime.extra_negative


def test_resolution_order_defaults_preset_explicit(tmp_path):
    write(tmp_path, "mine", {"denoise": 0.3, "rounds": 4})
    o = P.resolve_options("mine", {"rounds": 1, "enable": True}, user_dir=tmp_path)
    assert (o.denoise, o.rounds, o.enable, o.preset) == (0.3, 1, True, "mine")
    assert o.mask_feather == DEFAULTS.mask_feather
    with pytest.raises(OptionError, match="rounds"):
        P.resolve_options("mine", {"rounds": 99}, user_dir=tmp_path)
    assert P.resolve_options(None, {}, user_dir=tmp_path).preset == "default"


def test_user_shadows_bundled_but_cannot_overwrite_it(tmp_path):
    write(tmp_path, "hands", {"denoise": 0.2})  # dropped in by hand: it shadows
    assert P.load_preset("hands", tmp_path) == {"denoise": 0.2}
    info = {i.name: i for i in P.list_presets(tmp_path)}["hands"]
    assert info.source == "user" and info.shadows
    for name in ("hands", "Hands", "DEFAULT"):
        with pytest.raises(P.PresetError, match="bundled preset and cannot be overwritten"):
            P.save_preset(name, {"denoise": 0.5}, tmp_path)
    assert P.delete_preset("hands", tmp_path) and P.load_preset("hands", tmp_path)["denoise"] == 0.45
    with pytest.raises(P.PresetError, match="cannot be deleted"):
        P.delete_preset("hands", tmp_path)


def test_broken_preset_names_file_and_field_and_others_still_load(tmp_path):
    write(tmp_path, "good", {"denoise": 0.5})
    bad = write(tmp_path, "bad", {"denoise": 1.5})
    (tmp_path / "garbled.json").write_text("{not json")
    infos = {i.name: i for i in P.list_presets(tmp_path)}
    assert infos["good"].error is None and set(BUNDLED) <= set(infos)
    assert str(bad) in infos["bad"].error and "options.denoise" in infos["bad"].error
    assert "invalid JSON at line 1" in infos["garbled"].error
    with pytest.raises(P.PresetError) as e:
        P.load_preset("bad", tmp_path)
    assert e.value.path == str(bad) and e.value.field == "options.denoise" and "from 0 to 1" in str(e.value)
    assert P.load_preset("good", tmp_path) == {"denoise": 0.5}


@pytest.mark.parametrize("doc, field", [
    ({"schema_version": 2, "options": {}}, "schema_version"),
    ({"options": {}}, "schema_version"),
    ({"schema_version": True, "options": {}}, "schema_version"),
    ({"schema_version": 1, "options": []}, "options"),
    ({"schema_version": 1, "options": {"enable": True}}, "options.enable"),
    ({"schema_version": 1, "options": {"preset": "x"}}, "options.preset"),
    ({"schema_version": 1, "options": {"mask_dilatoin": 4}}, "options.mask_dilatoin"),
    ({"schema_version": 1, "option": {}}, "option"),
    ({"schema_version": 1, "description": 5, "options": {}}, "description"),
])
def test_validation_errors_name_the_field(tmp_path, doc, field):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    errors = P.validate_file(path)
    assert [e.field for e in errors] == [field] and all(e.path == str(path) for e in errors)


def test_validate_collects_every_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"schema_version": 1, "options": {"denoise": 2, "rounds": -1, "scorer": "clip"}}))
    assert {e.field for e in P.validate_file(path)} == {"options.denoise", "options.rounds", "options.scorer"}


@pytest.mark.parametrize("name", ["", "../evil", "a/b", "/etc/passwd", "..", "a..b", ".hidden", "x" * 65,
                                  "trail.", " lead", "tab\tname", "back\\slash", None, 3,
                                  "ok\n", "a\nb", "ok\r", "\nok"])
def test_unsafe_names_rejected(tmp_path, name):
    with pytest.raises(P.PresetError, match="name: .*not allowed"):
        P.save_preset(name, {"denoise": 0.5}, tmp_path)
    with pytest.raises(P.PresetError):
        P.load_preset(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["my preset", "v1.2", "hands_strong", "A-b_c 2"])
def test_safe_names_round_trip(tmp_path, name):
    path = P.save_preset(name, DEFAULTS.replace(denoise=0.25, enable=True, preset="x"), tmp_path, "desc")
    assert path.parent == tmp_path and path.name == f"{name}.json"
    assert P.load_preset(name, tmp_path) == {"denoise": 0.25}  # a diff from the defaults, no enable/preset
    assert json.loads(path.read_text())["description"] == "desc"


def test_save_is_atomic(tmp_path, monkeypatch):
    path = P.save_preset("mine", {"denoise": 0.3}, tmp_path)
    before = path.read_bytes()

    import lib_qfix.fileio as F

    def broken_fsync(fd):
        os.write(fd, b'{"schema_version": 1, "opt')  # half a file more, then the failure
        raise OSError("disk full")

    monkeypatch.setattr(F.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        P.save_preset("mine", {"denoise": 0.9}, tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.json"]  # no temp file left


def test_file_name_ending_in_a_newline_is_not_a_preset(tmp_path):
    write(tmp_path, "ok\n", {"denoise": 0.5})
    assert "ok\n" not in {i.name for i in P.list_presets(tmp_path)}
    assert [e.field for e in P.validate_file(tmp_path / "ok\n.json")] == ["name"]


def test_description_has_a_size_limit(tmp_path):
    P.save_preset("long", {"denoise": 0.3}, tmp_path, "d" * P.MAX_DESCRIPTION)
    with pytest.raises(P.PresetError, match=r"description: 501 characters is too long; allowed: at most 500") as e:
        P.save_preset("longer", {"denoise": 0.3}, tmp_path, "d" * 501)
    assert e.value.field == "description" and not (tmp_path / "longer.json").exists()
    bad = write(tmp_path, "huge", {}, description="x" * 100_000)
    assert [e.field for e in P.validate_file(bad)] == ["description"]
    assert "description" in {i.name: i for i in P.list_presets(tmp_path)}["huge"].error


def _stale(folder: Path, name: str, age_s: float) -> Path:
    path = folder / name
    path.write_text("{half")
    os.utime(path, (path.stat().st_atime - age_s, path.stat().st_mtime - age_s))
    return path


def test_saving_and_listing_sweep_temp_files_of_killed_saves(tmp_path):
    old = _stale(tmp_path, ".mine.json.k3x9_q2a.tmp", 3600)
    fresh = _stale(tmp_path, ".mine.json.a1b2c3d4.tmp", 5)  # a save in progress right now
    other = _stale(tmp_path, "notes.tmp", 3600)  # not our pattern: never touched
    P.save_preset("mine", {"denoise": 0.3}, tmp_path)
    assert not old.exists() and fresh.exists() and other.exists()
    again = _stale(tmp_path, ".other.json.zzzzzzzz.tmp", 3600)
    P.list_presets(tmp_path)
    assert not again.exists() and fresh.exists()


def test_saved_preset_is_readable_by_others_like_a_plain_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = P.save_preset("shared", {"denoise": 0.3}, tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_bundled_presets_are_package_data():
    assert P.BUNDLED_DIR.parent.name == "data" and P.BUNDLED_DIR.parents[1].name == "lib_qfix"
    assert {p.stem for p in P.BUNDLED_DIR.glob("*.json")} == set(BUNDLED)  # tests/test_wheel.py: in the wheel


def test_save_rejects_bad_options(tmp_path):
    with pytest.raises(P.PresetError, match="options.denoise"):
        P.save_preset("mine", {"denoise": 7}, tmp_path)
    assert not (tmp_path / "mine.json").exists()


def test_default_user_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("QFIX_HOME", str(tmp_path))
    assert P.user_presets_dir() == tmp_path / "presets"
    P.save_preset("envy", {"rounds": 3})
    assert (tmp_path / "presets" / "envy.json").is_file() and P.load_preset("envy") == {"rounds": 3}
    monkeypatch.delenv("QFIX_HOME")
    assert P.user_presets_dir() == Path.home() / ".config" / "qfix" / "presets"


def test_unknown_preset_lists_known(tmp_path):
    with pytest.raises(P.PresetError, match="'nope' is not a preset; allowed: .*hands"):
        P.load_preset("nope", tmp_path)


# --- CLI -----------------------------------------------------------------------------------

def test_cli_list_show_validate(tmp_path, capsys):
    write(tmp_path, "mine", {"denoise": 0.3}, description="my own")
    assert main(["presets", "--user-dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    assert "mine" in out and "my own" in out and "portrait" in out

    assert main(["presets", "--user-dir", str(tmp_path), "show", "mine", "--resolved"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["options"]["denoise"] == 0.3 and shown["options"]["rounds"] == DEFAULTS.rounds
    assert shown["source"] == "user"

    assert main(["presets", "show", "nope"]) == 2
    assert "'nope' is not a preset" in capsys.readouterr().err

    bad = write(tmp_path, "bad", {"denoise": 3, "enable": True})
    good = P.BUNDLED_DIR / "portrait.json"
    assert main(["presets", "validate", str(good)]) == 0
    assert main(["presets", "validate", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "options.denoise" in err and "options.enable" in err and str(bad) in err
    assert main(["presets", "--user-dir", str(tmp_path), "list"]) == 1  # a broken preset is listed
    assert "BROKEN" in capsys.readouterr().out
    assert main(["presets"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["presets", "validate"])
    assert e.value.code == 2


def test_one_resolver_reads_a_preset_once_until_it_changes(tmp_path, monkeypatch):
    write(tmp_path, "mine", {"denoise": 0.3})
    reads = []
    real = P._load_json
    monkeypatch.setattr(P, "_load_json", lambda path: reads.append(path) or real(path))
    first = P.resolve("mine", {"rounds": 3}, tmp_path)
    assert first.options.denoise == 0.3 and first.options.rounds == 3 and first.baseline.rounds == DEFAULTS.rounds
    assert first.options.preset == first.baseline.preset == "mine"
    for _ in range(3):  # per image, and again on paste-back: no new read
        assert P.resolve("mine", {}, tmp_path).baseline == first.baseline
    assert len(reads) == 1
    path = write(tmp_path, "mine", {"denoise": 0.6})
    os.utime(path, ns=(1, 1))  # a changed file (mtime and size) is read again
    assert P.resolve("mine", {}, tmp_path).options.denoise == 0.6 and len(reads) == 2


def test_names_lists_user_and_bundled_presets_without_broken_ones(tmp_path):
    write(tmp_path, "mine", {"denoise": 0.3})
    write(tmp_path, "broken", {"denoise": 7})
    got = P.names(tmp_path)
    assert "mine" in got and "default" in got and "broken" not in got
