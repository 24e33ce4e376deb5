"""``pip install .`` works: the built wheel, installed into a fresh venv (not editable), runs
``qfix score`` with its bundled presets from outside the source tree.

The fresh venv borrows the heavy dependencies (torch, cv2, ...) from the project's .venv through
a ``.pth`` line; the wheel itself is installed with ``--no-deps`` and no index (~10-20 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from PIL import Image

from lib_qfix.samples import skimage_photo

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
BUNDLED = {"anime", "default", "hands", "photoreal", "portrait"}


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A fresh venv with the qfix wheel installed (not editable); returns its bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    shutil.copytree(ROOT / "lib_qfix", src / "lib_qfix", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp / "dist"),
         str(src)], cwd=tmp)
    wheels = list((tmp / "dist").glob("qfix-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).strip()
    Path(site, "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # .venv's packages
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         str(wheels[0])], cwd=tmp)
    return bindir


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "QFIX_HOME": str(tmp / "home"), "QFIX_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}


def test_wheel_ships_presets_and_qfix_score_runs_from_it(fresh, tmp_path):
    env = clean_env(tmp_path)
    python = fresh / ("python.exe" if os.name == "nt" else "python")
    where = run([str(python), "-c", "import lib_qfix, lib_qfix.presets as p; print(lib_qfix.__file__); "
                 "print(p.BUNDLED_DIR)"], cwd=tmp_path, env=env).split()
    venv = fresh.parent.resolve()
    assert all(Path(w).resolve().is_relative_to(venv) for w in where), f"not imported from the wheel: {where}"
    assert not Path(where[0]).resolve().is_relative_to(ROOT)

    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage_photo("astronaut")).save(photo)
    out = run([str(fresh / "qfix"), "score", "--no-progress", "--json", "-", str(photo)], cwd=tmp_path, env=env)
    rows = json.loads(out)
    assert [Path(r["path"]).name for r in rows] == ["astronaut.png"]
    assert 0 <= rows[0]["quality"] <= 1 and rows[0]["signals"]["brisque"] > 0, rows[0]  # brisque: from the .venv

    listed = run([str(fresh / "qfix"), "presets", "list"], cwd=tmp_path, env=env)
    assert all(name in listed for name in BUNDLED)
    run([str(fresh / "qfix"), "score", "--no-progress", "--preset", "portrait", str(photo)], cwd=tmp_path, env=env)


def test_extension_folder_layout_finds_its_bundled_presets(tmp_path):
    """A1111 imports ``lib_qfix`` from the extension folder (the repository root), not installed."""
    ext = tmp_path / "extensions" / "qfix"
    shutil.copytree(ROOT / "lib_qfix", ext / "lib_qfix", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import lib_qfix, lib_qfix.presets as p; "
            "print(lib_qfix.__file__); print(p.BUNDLED_DIR); print(' '.join(i.name for i in p.list_presets()))")
    file, bundled, names = run([sys.executable, "-c", code, str(ext)], cwd=tmp_path, env=clean_env(tmp_path)).splitlines()
    assert Path(file).parent == ext / "lib_qfix" and Path(bundled) == ext / "lib_qfix" / "data" / "presets"
    assert set(names.split()) == BUNDLED
