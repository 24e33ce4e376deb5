"""install.py never breaks the WebUI it installs into: its exact pip commands, resolved with
``pip install --dry-run`` against recorded A1111 1.10.1 (Python 3.10 and 3.11) and Forge venvs,
change no installed version, add no second cv2 distribution and leave no new unmet requirement.

Talks to the package index (pip in subprocesses, the hosts in parallel: 25-70 s in all on 2 cores).
Deselect with ``-m "not network"`` when offline.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import install_dryrun as D

pytestmark = [pytest.mark.network, pytest.mark.slow]
OLD_COMMAND = ["install", "mediapipe==0.10.9"]  # what install.py ran before: broke A1111's numpy
NO_CV2 = "a1111-1.10.1-py310-nocv2"
FULL = [h for h in D.HOSTS if h != NO_CV2]


@pytest.fixture(scope="module")
def runs() -> dict:
    with ThreadPoolExecutor(max_workers=len(D.HOSTS) + 1) as pool:
        futures = {host: pool.submit(D.simulate, host) for host in FULL}
        futures[NO_CV2] = pool.submit(D.simulate, NO_CV2, ("opencv",))  # the rest is as on A1111
        futures["old"] = pool.submit(D.dry_run, OLD_COMMAND, (3, 10))
        return {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("host", FULL)
def test_install_plan_changes_nothing_installed(runs, host):
    run = runs[host]
    problems = [f"pip {' '.join(r.args)} would fail: {r.error}" for r in run.steps if r.error]
    problems += run.changed + [f"pip check: {p}" for p in D.unmet(run)]
    assert not problems, f"{host}: install.py would break the WebUI's venv:\n" + "\n".join(problems)
    cv2 = [d for d in D.install.CV2_DISTS if d in run.after]
    assert len(cv2) == 1, f"{host}: cv2 distributions after install: {cv2}"
    added = run.added()
    assert added.get("mediapipe") == "0.10.9", f"{host}: mediapipe {added.get('mediapipe')}"
    assert {"onnxruntime", "rapidocr", "brisque", "absl-py", "sounddevice"} <= set(added)
    assert "libsvm-official" not in added and not run.plan.notes


def test_no_cv2_host_gets_one_opencv_that_keeps_numpy_1(runs):
    run = runs[NO_CV2]
    assert [r.args[-1] for r in run.steps] == [D.install.CV2_WHEN_NONE] and not run.steps[0].error
    added = run.added()
    assert set(added) == {"opencv-contrib-python"} and added["opencv-contrib-python"].startswith("4.11.")  # 4.12+: numpy 2
    assert not run.changed and not D.unmet(run)


def test_forge_builtin_installer_then_keeps_legacy_mediapipe(runs):
    """QFix runs first on Forge; its forge_legacy_preprocessors then installs ``mediapipe`` unpinned
    only if ``launch.is_installed("mediapipe")`` is False, and opencv-python/onnxruntime if missing."""
    after = runs["forge-f2.0.1-py310"].after
    assert {"mediapipe", "onnxruntime", "opencv-python"} <= set(after)  # so Forge installs none of them
    assert after["mediapipe"] == "0.10.9" and after["numpy"] == "1.26.2" and after["protobuf"] == "3.20.0"


def test_checker_catches_the_old_install(runs):
    """Negative control: the old ``pip install mediapipe==0.10.9`` (no constraints, with deps)."""
    old = runs["old"]
    assert old.error is None, old.error
    before = D.read_freeze(D.HOST_DIR / "a1111-1.10.1-py310.txt")
    problems = D.changes(before, {n: v for n, (v, _) in old.packages.items()})
    assert any(p.startswith("numpy would change from 1.26.2 to 2.") for p in problems), problems
    assert any("second cv2 distribution would appear: opencv-contrib-python besides opencv-python" in p
               for p in problems), problems
