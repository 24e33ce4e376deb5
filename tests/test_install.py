"""install.py's decisions, without pip or the network: what it plans for a venv, skip flags,
idempotence (a second start installs nothing), one line per package, and that a failure never
stops the WebUI (``main`` never raises)."""

from __future__ import annotations

import shlex
import sys
import types
from pathlib import Path

import pytest

from tests.install_dryrun import HOST_DIR, load_install, read_freeze

inst = load_install()
A1111 = read_freeze(HOST_DIR / "a1111-1.10.1-py310.txt")
FAKE_VERSIONS = {"absl-py": "2.1.0", "flatbuffers": "24.3.25", "sounddevice": "0.4.7", "cffi": "1.17.1",
                 "onnxruntime": "1.20.1", "pyclipper": "1.3.0", "shapely": "2.0.6", "colorlog": "6.9.0",
                 "opencv-contrib-python": "4.11.0.86"}


class FakeHost:
    """A WebUI venv ({name: version}) and ``launch.run_pip``, which "installs" each requirement
    (its ``==`` version, else FAKE_VERSIONS) unless it is in ``fail``."""

    def __init__(self, venv: dict[str, str], fail: tuple[str, ...] = (), skip_install: bool = False):
        self.venv = dict(venv)
        self.fail = fail
        self.calls: list[str] = []
        self.constraints_seen: list[str] = []
        self.args = types.SimpleNamespace(skip_install=skip_install)

    def run_pip(self, command: str, desc: str) -> None:
        self.calls.append(command)
        argv = shlex.split(command)
        self.constraints_seen.append(Path(argv[argv.index("-c") + 1]).read_text())
        reqs = [a for i, a in enumerate(argv[1:], 1) if not a.startswith("-") and argv[i - 1] != "-c"]
        for req in reqs:
            name = inst.canonical(req.split("==")[0].split("<")[0].split(">")[0].split("!")[0])
            if name in self.fail:
                raise RuntimeError(f"Couldn't install {desc}.\nCommand: pip {command}\nError code: 1\n"
                                   f"stdout: Collecting {req}\nstderr: ERROR: Cannot install {req} because "
                                   "these package versions have conflicting dependencies.\nERROR: ResolutionImpossible")
        for req in reqs:
            name = inst.canonical(req.split("==")[0].split("<")[0].split(">")[0].split("!")[0])
            self.venv.setdefault(name, req.split("==")[1] if "==" in req else FAKE_VERSIONS.get(name, "1.0"))

    def installed(self) -> dict[str, str]:
        return dict(self.venv)


def run_main(host: FakeHost, argv=(), env=None, python_version=(3, 10)) -> list[str]:
    return inst.main(host, argv=list(argv), env=env or {}, installed=host.installed, python_version=python_version)


def test_plan_on_a1111_keeps_one_cv2_and_installs_mediapipe_without_deps():
    plan = inst.plan(A1111, (3, 10))
    assert plan.notes == ()
    assert [(s.requirements, s.no_deps) for s in plan.steps] == [
        (("absl-py", "flatbuffers>=2.0", "sounddevice>=0.4.4"), False),
        (("mediapipe==0.10.9",), True),
        (("onnxruntime>=1.16,<1.21",), False),
        (("pyclipper>=1.2.0", "shapely!=2.0.4,>=1.7.1", "colorlog"), False),
        (("rapidocr==3.10.0",), True),
        (("brisque==0.2.0",), True),
    ]
    assert not any("opencv" in r or "numpy" in r or "protobuf" in r for s in plan.steps for r in s.requirements)


def test_plan_without_any_cv2_adds_one_opencv_below_4_12():
    plan = inst.plan({k: v for k, v in A1111.items() if k != "opencv-python"}, (3, 11))
    assert plan.steps[0].requirements == ("opencv-contrib-python<4.12",)
    assert sum("opencv" in r for s in plan.steps for r in s.requirements) == 1


@pytest.mark.parametrize("cv2", ["opencv-python-headless", "opencv-contrib-python", "opencv_contrib_python_headless"])
def test_any_cv2_distribution_counts(cv2):
    venv = {k: v for k, v in A1111.items() if k != "opencv-python"} | {cv2: "4.10.0.84"}
    assert not any("opencv" in r for s in inst.plan(venv, (3, 10)).steps for r in s.requirements)


def test_solutions_less_mediapipe_is_left_alone_with_one_line():
    plan = inst.plan(A1111 | {"mediapipe": "1.2.3"}, (3, 10))
    assert not any(s.group == "mediapipe" for s in plan.steps)
    assert plan.notes == ("mediapipe 1.2.3 is installed (no legacy `solutions` API): left as it is; QFix's "
                          "detectors use its Tasks API and fetch their model files (~12.5 MB, checksummed) on "
                          "first use into models/qfix/mediapipe",)


def test_numpy_2_blocks_mediapipe_instead_of_moving_numpy():
    plan = inst.plan(A1111 | {"numpy": "2.2.6"}, (3, 10))
    assert not any(s.group == "mediapipe" for s in plan.steps)
    assert any("mediapipe==0.10.9 not installed: it needs numpy<2 (numpy 2.2.6 is installed)" in n for n in plan.notes)


def test_python_312_mediapipe_needs_protobuf_4_so_it_is_skipped_on_a1111_pins():
    plan = inst.plan(A1111, (3, 12))
    assert not any(s.group == "mediapipe" for s in plan.steps)
    assert any(n.startswith("mediapipe==0.10.21 not installed: it needs protobuf<5,>=4.25.3 (protobuf 3.20.0")
               for n in plan.notes)


def test_installed_mediapipe_missing_a_dependency_is_repaired_without_reinstalling_it():
    venv = A1111 | {"mediapipe": "0.10.9", "flatbuffers": "24.3.25", "sounddevice": "0.4.7"}
    steps = [s for s in inst.plan(venv, (3, 10)).steps if s.group == "mediapipe"]
    assert [s.requirements for s in steps] == [("absl-py",)]


def test_other_accepted_versions_count_as_installed_and_others_are_left_alone():
    venv = A1111 | {"onnxruntime": "1.22.0", "rapidocr": "3.11.0", "brisque": "0.2.0", "pyclipper": "1.3.0",
                    "shapely": "2.0.6", "colorlog": "6.9.0"}
    plan = inst.plan(venv, (3, 10))
    assert {s.group for s in plan.steps} == {"mediapipe"} and plan.notes == ()
    plan = inst.plan(A1111 | {"onnxruntime": "1.15.1", "rapidocr": "3.4.1"}, (3, 10))
    assert {s.group for s in plan.steps} == {"mediapipe", "brisque"}
    assert plan.notes == ("onnxruntime 1.15.1 is installed; QFix expects onnxruntime>=1.16; left as it is",
                          "rapidocr 3.4.1 is installed; QFix expects rapidocr>=3.10,<4; left as it is")


def test_constraints_pin_every_installed_version():
    text = inst.constraints_text({"NumPy": "1.26.2", "torch": "2.1.2+cu121", "weird": "not a version"})
    assert text.splitlines()[1:] == ["numpy==1.26.2", "torch==2.1.2+cu121"]


def test_installs_what_is_missing_with_constraints_one_line_each(capsys):
    host = FakeHost(A1111)
    done = run_main(host)
    assert done == ["absl-py", "flatbuffers>=2.0", "sounddevice>=0.4.4", "mediapipe==0.10.9",
                    "onnxruntime>=1.16,<1.21", "pyclipper>=1.2.0", "shapely!=2.0.4,>=1.7.1", "colorlog",
                    "rapidocr==3.10.0", "brisque==0.2.0"]
    for call in host.calls:
        assert call.startswith("install ") and " -c " in call
    assert host.calls[1].startswith('install --no-deps -c ') and host.calls[1].endswith(" mediapipe==0.10.9")
    assert '"onnxruntime>=1.16,<1.21"' in host.calls[2]  # quoted: '<' and '>' are shell redirections
    assert all("numpy==1.26.2\n" in c and "opencv-python==4.11.0.86\n" in c for c in host.constraints_seen)
    assert "absl-py==2.1.0\n" in host.constraints_seen[1]  # rebuilt before each call
    out = capsys.readouterr().out.splitlines()
    assert "QFix: installed absl-py 2.1.0" in out and "QFix: installed mediapipe 0.10.9" in out
    assert sum(line.startswith("QFix: installed ") for line in out) == 10 + 1  # 10 packages + the summary
    assert out[-1].startswith("QFix: installed 10 package(s): absl-py 2.1.0, ")
    assert {k: host.venv[k] for k in A1111} == A1111


def test_second_start_installs_nothing(capsys):
    host = FakeHost(A1111)
    run_main(host)
    calls = len(host.calls)
    capsys.readouterr()
    assert run_main(host) == [] and len(host.calls) == calls
    assert capsys.readouterr().out == "QFix: all requirements present, nothing installed\n"


def test_one_failed_package_is_one_line_and_the_rest_still_installs(capsys):
    host = FakeHost(A1111, fail=("sounddevice", "onnxruntime"))
    done = run_main(host)
    assert "mediapipe==0.10.9" not in done and "onnxruntime>=1.16,<1.21" not in done  # deps failed: skipped
    assert done[-2:] == ["rapidocr==3.10.0", "brisque==0.2.0"] and "mediapipe" not in host.venv
    out = capsys.readouterr().out.splitlines()
    assert ("QFix: could not install onnxruntime>=1.16,<1.21: Cannot install onnxruntime>=1.16,<1.21 because these "
            "package versions have conflicting dependencies. (left out; the WebUI still starts)") in out
    assert "QFix: skipped mediapipe==0.10.9: an earlier step for mediapipe failed" in out
    assert out[-1].endswith("; failed: mediapipe, onnxruntime")


def test_main_never_raises(capsys):
    def broken() -> dict[str, str]:
        raise OSError("site-packages unreadable")

    assert inst.main(FakeHost(A1111), argv=[], env={}, installed=broken) == []
    assert capsys.readouterr().out == ("QFix: installer stopped (OSError: site-packages unreadable); "
                                       "the WebUI starts without it\n")


@pytest.mark.parametrize("argv, env, host_flag", [
    (["--skip-install"], {}, False), ([], {"QFIX_SKIP_INSTALL": "1"}, False),
    ([], {"QFIX_SKIP_INSTALL": " True "}, False), ([], {"QFIX_SKIP_INSTALL": "yes"}, False), ([], {}, True)])
def test_skip_flags(argv, env, host_flag, capsys):
    host = FakeHost(A1111, skip_install=host_flag)
    assert run_main(host, argv, env) == [] and host.calls == []
    assert capsys.readouterr().out == "QFix: install skipped (--skip-install or QFIX_SKIP_INSTALL)\n"


def test_no_skip_for_other_values():
    host = FakeHost(A1111)
    assert run_main(host, [], {"QFIX_SKIP_INSTALL": "0"}) and host.calls


def test_without_launch_it_runs_pip_in_this_interpreter_like_run_pip(monkeypatch, capsys):
    seen = []

    def fake_run(cmd, **kw):
        seen.append(cmd)
        return types.SimpleNamespace(returncode=1 if "onnxruntime>=1.16,<1.21" in cmd else 0, stdout="",
                                     stderr="ERROR: No matching distribution found for onnxruntime")

    monkeypatch.setattr(inst.subprocess, "run", fake_run)
    monkeypatch.setitem(sys.modules, "launch", None)  # `import launch` fails: not inside a WebUI
    venv = dict(A1111)
    inst.main(None, argv=[], env={}, installed=lambda: venv, python_version=(3, 10))
    assert seen[0][:3] == [sys.executable, "-m", "pip"] and seen[0][-1] == "--prefer-binary"
    assert seen[1][3:6] == ["install", "--no-deps", "-c"] and seen[1][-2] == "mediapipe==0.10.9"
    assert "QFix: could not install onnxruntime>=1.16,<1.21: No matching distribution found for onnxruntime " \
           "(left out; the WebUI still starts)" in capsys.readouterr().out


def test_shell_join_quotes_what_a_shell_would_split_or_redirect():
    assert inst.shell_join(["install", "--no-deps", "-c", "/tmp/a b/c.txt", "protobuf<4,>=3.11", "absl-py"]) == \
        'install --no-deps -c "/tmp/a b/c.txt" "protobuf<4,>=3.11" absl-py'
