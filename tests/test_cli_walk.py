"""One walker: ``qfix score``, ``qfix diagnose`` and ``qfix filter`` find the same files in a folder.

The rule (:func:`lib_qfix.imageio.walk_images`): inside a folder symlinks are never followed (a
symlinked folder is not entered, a symlinked file is skipped even when it points inside the folder),
files with an image suffix that are not regular files (a FIFO) are skipped, and every skip is one
``qfix CMD: skipped PATH: why`` line on stderr. A file or folder named on the command line is used
even when it is a symlink: it was named explicitly.
"""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from lib_qfix.cli import main
from lib_qfix.imageio import find_images

FAST = ["--set", "detect_faces=false", "--set", "detect_hands=false", "--set", "detect_text=false",
        "--no-progress"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks and FIFOs as on POSIX")


@pytest.fixture()
def tree(tmp_path, astronaut, coffee):
    """root/{a.jpg, sub/b.png} are real; every other image-named entry is a link or a FIFO."""
    base = tmp_path.resolve()
    root = base / "root"
    (root / "sub").mkdir(parents=True)
    Image.fromarray(astronaut).save(root / "a.jpg")
    Image.fromarray(coffee).save(root / "sub" / "b.png")
    outside = base / "outside"
    outside.mkdir()
    Image.fromarray(coffee).save(outside / "c.jpg")
    (root / "linked_dir").symlink_to(outside)  # a folder elsewhere
    (root / "link.jpg").symlink_to(outside / "c.jpg")  # a file elsewhere
    (root / "inner_link.jpg").symlink_to(root / "a.jpg")  # a file inside: still a link, skipped
    (root / "sub" / "loop").symlink_to(root)  # a loop
    os.mkfifo(root / "pipe.jpg")  # reading it would block
    return root


def expected_skips(root) -> set[tuple[str, str]]:
    return {(str(root / "linked_dir"), "symlink to a folder, not followed"),
            (str(root / "sub" / "loop"), "symlink to a folder, not followed"),
            (str(root / "link.jpg"), "symlink, not followed"),
            (str(root / "inner_link.jpg"), "symlink, not followed"),
            (str(root / "pipe.jpg"), "not a regular file")}


def skips(err: str, command: str) -> set[tuple[str, str]]:
    prefix = f"qfix {command}: skipped "
    return {tuple(line[len(prefix):].rsplit(": ", 1)) for line in err.splitlines() if line.startswith(prefix)}


def test_the_walker_finds_regular_files_and_reports_the_rest(tree):
    found = find_images([tree])
    assert [(p, rel) for p, rel in found.entries] == [(tree / "a.jpg", "a.jpg"), (tree / "sub" / "b.png", "sub/b.png")]
    assert set(found.skipped) == expected_skips(tree)


@pytest.mark.parametrize("command", ["score", "diagnose"])
def test_score_and_diagnose_walk_like_filter(tree, tmp_path, capsys, command):
    out = tmp_path / f"{command}.json"
    assert main([command, str(tree), "--json", str(out), *FAST]) == 0
    names = sorted(os.path.relpath(r["path"], tree) for r in json.loads(out.read_text()))
    assert names == ["a.jpg", os.path.join("sub", "b.png")]
    assert skips(capsys.readouterr().err, command) == expected_skips(tree)


def test_filter_walks_the_same_way(tree, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["filter", str(tree), "--out", str(out), "--no-cache", "--no-progress"]) == 0
    rels = sorted(d["rel"] for d in json.loads((out / "decisions.json").read_text())["decisions"])
    assert rels == ["a.jpg", "sub/b.png"]
    assert skips(capsys.readouterr().err, "filter") == expected_skips(tree)


def test_symlinks_named_on_the_command_line_are_used(tree, tmp_path, capsys):
    link_root = tmp_path / "root_link"
    link_root.symlink_to(tree)
    out = tmp_path / "s.json"
    assert main(["score", str(tree / "link.jpg"), str(link_root), "--json", str(out), *FAST]) == 0
    paths = [r["path"] for r in json.loads(out.read_text())]
    assert paths == [str(tree / "link.jpg"), str(link_root / "a.jpg"), str(link_root / "sub" / "b.png")]
    assert main(["filter", str(link_root), "--out", str(tmp_path / "out"), "--no-cache", "--no-progress"]) == 0
    decisions = json.loads((tmp_path / "out" / "decisions.json").read_text())["decisions"]
    assert sorted(d["rel"] for d in decisions) == ["a.jpg", "sub/b.png"]


def test_only_links_is_no_images_for_every_command(tmp_path, capsys):
    base = tmp_path.resolve()
    (base / "real").mkdir()
    Image.new("RGB", (32, 32)).save(base / "real" / "x.png")
    (base / "links").mkdir()
    (base / "links" / "x.png").symlink_to(base / "real" / "x.png")
    assert main(["score", str(base / "links"), *FAST]) == 2
    assert "no image files found" in capsys.readouterr().err
    assert main(["filter", str(base / "links"), "--out", str(base / "out"), "--no-cache", "--no-progress"]) == 2
    assert "no images found" in capsys.readouterr().err



def test_a_folder_that_cannot_be_listed_is_reported(tree, monkeypatch):
    import lib_qfix.imageio as imageio

    locked = tree / "locked"
    locked.mkdir()
    real = os.scandir

    def scandir(path):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(imageio.os, "scandir", scandir)
    found = find_images([tree])
    assert [rel for _, rel in found.entries] == ["a.jpg", "sub/b.png"]
    assert (str(locked), "cannot list folder (Permission denied)") in found.skipped
