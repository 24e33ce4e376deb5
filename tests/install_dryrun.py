"""Resolve install.py's pip commands against a recorded WebUI venv, without installing anything.

For each step of ``install.plan(freeze, python_version)`` this runs exactly the arguments install.py
gives pip (``step.pip_args(constraints)`` plus the ``--prefer-binary`` that A1111's ``run_pip``
adds), with ``--dry-run --report --ignore-installed`` and the target Python/platform, then adds
what pip would install to the simulated venv before the next step. Talks to the package index.

    .venv/bin/python tests/install_dryrun.py [HOST ...]   # prints what install.py would add

HOSTs are in ``HOSTS`` (freeze files in ``tests/data/hosts``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
HOST_DIR = Path(__file__).resolve().parent / "data" / "hosts"
#: name -> (freeze file, Python (major, minor), distributions removed from it). A1111 1.10.1 pins
#: the same versions on 3.11 (its recorded 3.10 venv resolves unchanged for 3.11); the Forge venv is
#: derived, see its header; "nocv2" is A1111's venv without its opencv-python (no cv2 at all).
HOSTS: dict[str, tuple[str, tuple[int, int], tuple[str, ...]]] = {
    "a1111-1.10.1-py310": ("a1111-1.10.1-py310.txt", (3, 10), ()),
    "a1111-1.10.1-py311": ("a1111-1.10.1-py310.txt", (3, 11), ()),
    "forge-f2.0.1-py310": ("forge-f2.0.1-py310.txt", (3, 10), ()),
    "a1111-1.10.1-py310-nocv2": ("a1111-1.10.1-py310.txt", (3, 10), ("opencv-python",)),
}
#: wheels a Linux x86_64 WebUI with glibc >= 2.28 can install (pip does not widen --platform itself)
PLATFORMS = [f"manylinux_2_{i}_x86_64" for i in range(28, 4, -1)] + \
    ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
PIP_TIMEOUT_S = 240


def load_install() -> ModuleType:
    """The repository's install.py as a module (it is not part of the lib_qfix package)."""
    spec = importlib.util.spec_from_file_location("qfix_install", ROOT / "install.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


install = load_install()


def read_freeze(path: Path) -> dict[str, str]:
    """{canonical name: version} from ``pip freeze`` lines (comments skipped)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[install.canonical(name)] = version.strip()
    return out


def marker_env(python_version: tuple[int, int]) -> dict[str, str]:
    """PEP 508 marker values of a CPython ``python_version`` on Linux x86_64."""
    v = f"{python_version[0]}.{python_version[1]}"
    return {"python_version": v, "python_full_version": f"{v}.0", "sys_platform": "linux",
            "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


@dataclass
class Resolved:
    """What pip would install for one command: {name: (version, requires_dist)}; ``error`` on failure."""

    args: list[str]
    packages: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    error: str | None = None
    new: dict[str, str] = field(default_factory=dict)  # packages not in the venv the step ran in


def dry_run(args: Sequence[str], python_version: tuple[int, int]) -> Resolved:
    """``python -m pip ARGS --prefer-binary`` as a dry run for Linux x86_64 CPython ``python_version``."""
    with tempfile.TemporaryDirectory(prefix="qfix-dryrun-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", *args, "--prefer-binary", "--dry-run", "--quiet",
               "--report", str(report), "--ignore-installed", "--disable-pip-version-check",
               "--python-version", f"{python_version[0]}.{python_version[1]}", "--only-binary=:all:"]
        for p in PLATFORMS:
            cmd += ["--platform", p]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        if r.returncode != 0:
            errors = [ln for ln in (r.stderr + r.stdout).splitlines() if "ERROR" in ln]
            return Resolved(list(args), error=" | ".join(errors) or r.stderr[-500:])
        items = json.loads(report.read_text(encoding="utf-8"))["install"]
    return Resolved(list(args), {install.canonical(i["metadata"]["name"]):
                                 (i["metadata"]["version"], i["metadata"].get("requires_dist") or [])
                                 for i in items})


@dataclass
class HostRun:
    """install.py's plan on one host, step by step, and the venv it would leave."""

    host: str
    python_version: tuple[int, int]
    before: dict[str, str]
    plan: Any  # install.Plan
    steps: list[Resolved] = field(default_factory=list)
    after: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # changes() of every step against the venv it ran in

    def added(self) -> dict[str, str]:
        return {n: v for n, v in self.after.items() if n not in self.before}


def simulate(host: str, groups: Sequence[str] | None = None) -> HostRun:
    """Resolve each of install.py's steps on ``host`` (only those of ``groups`` if given), feeding
    each step's result to the next."""
    freeze, python_version, drop = HOSTS[host]
    before = {n: v for n, v in read_freeze(HOST_DIR / freeze).items() if n not in drop}
    venv = dict(before)
    the_plan = install.plan(before, python_version)
    run = HostRun(host, python_version, before, the_plan)
    with tempfile.TemporaryDirectory(prefix="qfix-constraints-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        for step in the_plan.steps:
            if groups is not None and step.group not in groups:
                continue
            constraints.write_text(install.constraints_text(venv), encoding="utf-8")
            res = dry_run(step.pip_args(str(constraints)), python_version)
            run.steps.append(res)
            resolved = {name: version for name, (version, _) in res.packages.items()}
            run.changed += changes(venv, resolved)
            res.new = {n: v for n, v in resolved.items() if n not in venv}
            venv.update(resolved)
    run.after = venv
    return run


def changes(before: Mapping[str, str], resolved: Mapping[str, str]) -> list[str]:
    """Every installed version ``resolved`` would change, and any second cv2 distribution."""
    problems = [f"{name} would change from {before[name]} to {version}"
                for name, version in sorted(resolved.items())
                if name in before and Version(before[name]) != Version(version)]
    had = [d for d in install.CV2_DISTS if d in before]
    new = [d for d in install.CV2_DISTS if d in resolved and d not in before]
    if new and (had or len(new) > 1):
        problems.append(f"a second cv2 distribution would appear: {', '.join(new)} besides {', '.join(had or new[:1])}")
    return problems


def unmet(run: HostRun) -> list[str]:
    """What ``pip check`` would newly report: requirements of the added packages that the final venv
    does not meet, less those install.py leaves out on purpose (a cv2 when one is there)."""
    omit = {install.canonical(n.dist): {install.canonical(o) for o in n.omit} for n in install.needs(run.python_version)}
    has_cv2 = any(d in run.after for d in install.CV2_DISTS)
    env = marker_env(run.python_version)
    problems = []
    for res in run.steps:
        for name, (version, requires) in res.packages.items():
            if name in run.before:
                continue
            for text in requires:
                req = Requirement(text)
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
                dep = install.canonical(req.name)
                have = run.after.get(dep)
                if have is not None and req.specifier.contains(have, prereleases=True):
                    continue
                if dep in omit.get(name, ()) and (dep not in install.CV2_DISTS or has_cv2):
                    continue
                problems.append(f"{name} {version} requires {text}, but the venv has {dep} {have or '(none)'}")
    return problems


def main(argv: list[str]) -> int:
    for host in argv or list(HOSTS):
        run = simulate(host)
        print(f"{host} (Python {run.python_version[0]}.{run.python_version[1]}):")
        for note in run.plan.notes:
            print(f"  note: {note}")
        for res in run.steps:
            print(f"  pip {' '.join(res.args)}  ->  " +
                  (f"FAILS: {res.error}" if res.error else
                   ", ".join(f"{n}=={v}" for n, v in res.new.items()) or "nothing"))
        for problem in run.changed + unmet(run):
            print(f"  PROBLEM: {problem}")
        print(f"  adds: {', '.join(f'{n}=={v}' for n, v in sorted(run.added().items())) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
