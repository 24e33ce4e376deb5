"""QFix's installer, run by A1111/Forge (in the WebUI's venv) while it prepares the environment.

Not run with ``--skip-install``/``--skip-prepare-environment``, nor when ``QFIX_SKIP_INSTALL=1``.
Rules:

* It never changes a package that is already installed: before every pip call it writes the
  versions installed in the running venv (``importlib.metadata``) to a constraints file and passes
  it with ``-c``. If pip cannot resolve within them, that package is skipped with one line.
* It never adds a second ``cv2`` distribution: mediapipe (which declares opencv-contrib-python)
  and rapidocr (opencv-python-headless) are installed ``--no-deps`` after their other requirements;
  only a venv without any cv2 gets ``opencv-contrib-python<4.12`` (4.12+ needs numpy 2).
* "Installed" means the distribution is there with a version QFix accepts, so a second start
  installs nothing. A version QFix does not accept is left as it is, with one line.
* ``main()`` never raises: one failed package never stops the WebUI.

``plan(installed, python_version)`` is pure; the tests resolve its pip commands against recorded
WebUI venvs (``tests/data/hosts``) with ``pip install --dry-run``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from typing import NamedTuple

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version
except ImportError:  # every venv with pip has a copy
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.version import InvalidVersion, Version

#: the distributions that install the ``cv2`` module (into the same folder: never two of them)
CV2_DISTS = ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless")
CV2_WHEN_NONE = "opencv-contrib-python<4.12"


class Need(NamedTuple):
    """A distribution QFix needs. ``accept``: installed versions that do (PEP 440, "" = any);
    ``pin``: what pip gets when it is missing; ``deps``: with ``no_deps``, its own requirements,
    installed first (each only if missing); ``omit``: requirements it declares that are left out
    on purpose (a second cv2; what QFix never imports); ``other``: the line printed when another
    version is installed."""

    dist: str
    accept: str
    pin: str
    no_deps: bool = False
    deps: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()
    other: str = ""


class Step(NamedTuple):
    """One pip call. ``group``: the Need it serves (a failed step skips the rest of its group)."""

    group: str
    requirements: tuple[str, ...]
    no_deps: bool = False

    def pip_args(self, constraints: str) -> list[str]:
        """The arguments after ``python -m pip`` (A1111's ``run_pip`` then adds ``--prefer-binary``)."""
        return ["install", *(["--no-deps"] if self.no_deps else []), "-c", constraints, *self.requirements]


class Plan(NamedTuple):
    """What to run (``steps``, in order) and what is left as it is (``notes``, one line each)."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...]


_MP_OTHER = ("mediapipe {version} is installed (no legacy `solutions` API): left as it is; QFix's detectors "
             "use its Tasks API and fetch their model files (~12.5 MB, checksummed) on first use into "
             "models/qfix/mediapipe")
_MP_COMMON = ("absl-py", "attrs>=19.1.0", "flatbuffers>=2.0", "matplotlib", "sounddevice>=0.4.4")


def needs(python_version: tuple[int, int]) -> tuple[Need, ...]:
    """What QFix needs on this Python, in install order. mediapipe 0.10.9 is the newest with
    bundled models that takes A1111's protobuf 3.20 without jax; it has no wheel for 3.12+, where
    0.10.21 (protobuf 4, jax) is the newest that still has ``solutions``."""
    if tuple(python_version) < (3, 12):
        mp_pin, mp_deps = "mediapipe==0.10.9", (*_MP_COMMON, "numpy<2", "protobuf<4,>=3.11")
    else:
        mp_pin = "mediapipe==0.10.21"
        mp_deps = (*_MP_COMMON, "jax", "jaxlib", "numpy<2", "protobuf<5,>=4.25.3", "sentencepiece")
    return (
        Need("mediapipe", "<=0.10.21", mp_pin, True, mp_deps, CV2_DISTS, _MP_OTHER),
        Need("scikit-image", ">=0.21", "scikit-image>=0.21,<0.25"),
        Need("onnxruntime", ">=1.16", "onnxruntime>=1.16,<1.21"),
        # the OCR model package; its own requirements but not its opencv-python-headless
        Need("rapidocr", ">=3.10,<4", "rapidocr==3.10.0", True,
             ("pyclipper>=1.2.0", "shapely!=2.0.4,>=1.7.1", "omegaconf!=2.2.1", "colorlog", "numpy<3,>=1.19.5",
              "six>=1.15.0", "PyYAML", "Pillow", "tqdm", "requests"), CV2_DISTS),
        # QFix reads only the SVR model files inside brisque (never imports it nor libsvm, which
        # has no wheels and would need a C++ compiler)
        Need("brisque", "==0.2.0", "brisque==0.2.0", True,
             ("numpy>=1.20", "scikit-image>=0.19", "scipy>=1.7", "requests>=2.25"), ("libsvm-official",)),
    )


def canonical(name: str) -> str:
    """PEP 503 name: ``Pillow`` -> ``pillow``, ``scikit_image`` -> ``scikit-image``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def accepts(spec: str, version: str) -> bool:
    """True if ``version`` is in ``spec``; a version pip cannot parse counts as accepted (left alone)."""
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True


def plan(installed: Mapping[str, str], python_version: tuple[int, int]) -> Plan:
    """The pip calls that bring what QFix needs into a venv holding ``installed`` ({name: version})
    on Python ``python_version`` (major, minor), without moving any installed package."""
    have = {canonical(k): v for k, v in installed.items()}
    steps: list[Step] = []
    notes: list[str] = []
    if not any(d in have for d in CV2_DISTS):
        steps.append(Step("opencv", (CV2_WHEN_NONE,)))
    for need in needs(python_version):
        version = have.get(canonical(need.dist))
        if version is not None and not accepts(need.accept, version):
            notes.append((need.other or "{dist} {version} is installed; QFix expects {dist}{accept}; left as it is")
                         .format(dist=need.dist, version=version, accept=need.accept))
            continue
        missing, blocked = [], []
        for dep in need.deps:
            req = Requirement(dep)
            have_version = have.get(canonical(req.name))
            if have_version is None:
                missing.append(dep)
            elif not accepts(str(req.specifier), have_version):
                blocked.append(f"{dep} ({req.name} {have_version} is installed)")
        if blocked:
            if version is None:
                notes.append(f"{need.pin} not installed: it needs {', '.join(blocked)}, "
                             "and QFix never changes installed packages")
            continue
        if missing:
            steps.append(Step(need.dist, tuple(missing)))
        if version is None:
            steps.append(Step(need.dist, (need.pin,), need.no_deps))
    return Plan(tuple(steps), tuple(notes))


def installed_versions() -> dict[str, str]:
    """{canonical name: version} of the distributions the running interpreter sees (first wins)."""
    importlib.invalidate_caches()
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and dist.version:
            out.setdefault(canonical(name), dist.version)
    return out


def constraints_text(installed: Mapping[str, str]) -> str:
    """A pip constraints file pinning every installed distribution to its version."""
    lines = []
    for name, version in sorted(installed.items()):
        try:
            Version(version)
        except InvalidVersion:
            continue
        lines.append(f"{canonical(name)}=={version}")
    return "# QFix: every installed distribution stays as it is\n" + "\n".join(lines) + "\n"


def skip_requested(argv: list[str] | None = None, env: Mapping[str, str] | None = None, launch=None) -> bool:
    """True with ``--skip-install`` (ours or the WebUI's) or ``QFIX_SKIP_INSTALL=1|true|yes``."""
    argv = sys.argv if argv is None else argv
    env = os.environ if env is None else env
    host_skip = bool(getattr(getattr(launch, "args", None), "skip_install", False))
    return host_skip or "--skip-install" in argv or \
        env.get("QFIX_SKIP_INSTALL", "").strip().lower() in ("1", "true", "yes")


def shell_join(args: list[str]) -> str:
    """``args`` as one command line for A1111's ``run`` (``shell=True``, POSIX sh or cmd.exe)."""
    return " ".join(a if re.fullmatch(r"[A-Za-z0-9_./:=+-]+", a) else f'"{a}"' for a in args)


def one_line(error: BaseException) -> str:
    """pip's first ``ERROR:`` line from a failure (A1111 puts all of pip's output in the message)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    line = next((ln for ln in lines if "ERROR:" in ln), lines[-1] if lines else type(error).__name__)
    line = line[line.find("ERROR:") + 6:].strip() if "ERROR:" in line else line
    return line[:300]


def _pip_runner(launch) -> Callable[[list[str], str], None]:
    if launch is not None and hasattr(launch, "run_pip"):
        return lambda args, desc: launch.run_pip(shell_join(args), f"QFix requirement: {desc}")

    def run(args: list[str], desc: str) -> None:
        print(f"Installing QFix requirement: {desc}")
        r = subprocess.run([sys.executable, "-m", "pip", *args, "--prefer-binary"],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise RuntimeError(r.stdout + "\n" + r.stderr)
    return run


def _host_launch():
    try:
        import launch  # A1111/Forge: run_pip(args, desc), args.skip_install
        return launch
    except Exception:  # run by hand: plain `python -m pip` in this interpreter
        return None


def main(launch=None, argv: list[str] | None = None, env: Mapping[str, str] | None = None,
         installed: Callable[[], dict[str, str]] = installed_versions,
         python_version: tuple[int, int] | None = None) -> list[str]:
    """Install what is missing; returns the pip requirements that installed. Never raises."""
    try:
        launch = launch if launch is not None else _host_launch()
        if skip_requested(argv, env, launch):
            print("QFix: install skipped (--skip-install or QFIX_SKIP_INSTALL)")
            return []
        return _install(_pip_runner(launch), installed, python_version or sys.version_info[:2])
    except Exception as e:  # the WebUI must start whatever happened here
        print(f"QFix: installer stopped ({type(e).__name__}: {one_line(e)}); the WebUI starts without it")
        return []


def _install(pip: Callable[[list[str], str], None], installed: Callable[[], dict[str, str]],
             python_version: tuple[int, int]) -> list[str]:
    todo = plan(installed(), python_version)
    for note in todo.notes:
        print(f"QFix: {note}")
    if not todo.steps:
        print("QFix: all requirements present, nothing installed")
        return []
    done: list[str] = []
    added: list[str] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qfix-install-") as tmp:
        constraints = os.path.join(tmp, "constraints.txt")
        for step in todo.steps:
            what = " ".join(step.requirements)
            if step.group in failed:
                print(f"QFix: skipped {what}: an earlier step for {step.group} failed")
                continue
            before = installed()
            with open(constraints, "w", encoding="utf-8") as f:
                f.write(constraints_text(before))
            try:
                pip(step.pip_args(constraints), what)
            except Exception as e:  # one package never stops the WebUI
                failed.append(step.group)
                print(f"QFix: could not install {what}: {one_line(e)} (left out; the WebUI still starts)")
                continue
            after = installed()
            for name in sorted(set(after) - set(before)):
                print(f"QFix: installed {name} {after[name]}")
                added.append(f"{name} {after[name]}")
            for name in sorted(n for n in before if after.get(n) != before[n]):
                print(f"QFix: warning: {name} changed from {before[name]} to {after.get(name, 'removed')}")
            done.extend(step.requirements)
    print(f"QFix: installed {len(added)} package(s)" + (f": {', '.join(added)}" if added else "")
          + (f"; failed: {', '.join(dict.fromkeys(failed))}" if failed else ""))
    return done


if __name__ == "__main__":
    main()
