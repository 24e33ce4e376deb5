"""The type check in ``bash dev.sh test`` is strict enough to matter: with the project's mypy
settings (``[tool.mypy]`` in pyproject.toml) a tiny snippet that plugs a wrong adapter into the fix
loop, leaves an adapter unannotated, or misspells an option is reported; a right one is not."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEADER = """
import numpy as np

from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.options import DEFAULTS, Options
from lib_qfix.protocols import InpaintParams, RestoreParams
from lib_qfix.types import ImageReport


def diag(image: np.ndarray) -> ImageReport:
    return ImageReport(None, 8, 8, 0.5, "fake")


IMAGE = np.zeros((8, 8, 3), np.uint8)
"""

INPAINTER = """
class Inpainter:
    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, negative: str, seed: int,
                params: InpaintParams) -> np.ndarray:
        return image
"""

GOOD = INPAINTER + """

class Restorer:
    def restore(self, image: np.ndarray, mask: np.ndarray, params: RestoreParams) -> np.ndarray:
        return image


run_fix_loop(IMAGE, DEFAULTS, diagnose=diag, inpainter=Inpainter(), restorer=Restorer())
threshold: float = DEFAULTS.quality_threshold
"""

CASES = {
    "adapter without the negative prompt": ("""
class Inpainter:
    def inpaint(self, image: np.ndarray, mask: np.ndarray, prompt: str, seed: int,
                params: InpaintParams) -> np.ndarray:
        return image


run_fix_loop(IMAGE, DEFAULTS, diagnose=diag, inpainter=Inpainter())
""", 'Argument "inpainter" to "run_fix_loop" has incompatible type'),
    "restorer handed the whole options": (INPAINTER + """

class Restorer:
    def restore(self, image: np.ndarray, mask: np.ndarray, params: Options) -> np.ndarray:
        return image


run_fix_loop(IMAGE, DEFAULTS, diagnose=diag, inpainter=Inpainter(), restorer=Restorer())
""", 'Argument "restorer" to "run_fix_loop" has incompatible type'),
    "unannotated adapter": ("""
class Inpainter:
    def inpaint(self, image, mask, prompt, negative, seed, params):
        return image
""", "Function is missing a type annotation"),
    "misspelt option": ("""
x = DEFAULTS.hand_confidense
""", '"Options" has no attribute "hand_confidense"'),
    "option of the wrong type": ("""
rounds: str = DEFAULTS.rounds
""", 'Incompatible types in assignment (expression has type "int", variable has type "str")'),
    "options as a plain dict": (INPAINTER + """

run_fix_loop(IMAGE, {"rounds": 1}, diagnose=diag, inpainter=Inpainter())
""", 'Argument 2 to "run_fix_loop" has incompatible type "dict[str, int]"; expected "Options"'),
}


def mypy(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is needed (requirements/dev.txt)")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(HEADER + body))
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                           "--no-error-summary", str(snippet)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_right_adapters_type_check(tmp_path):
    r = mypy(tmp_path, GOOD)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_mypy_reports(tmp_path, case):
    body, message = CASES[case]
    r = mypy(tmp_path, body)
    assert r.returncode == 1 and message in r.stdout, r.stdout + r.stderr
