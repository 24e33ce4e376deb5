"""Run by A1111 (in its venv) while preparing the environment; not with --skip-install or
--skip-prepare-environment, nor when QFIX_SKIP_INSTALL=1. Installs only what is missing, with
versions that keep A1111 1.10's pins (numpy 1.26, protobuf 3.20, opencv) untouched, and says what
it did.
"""

from __future__ import annotations

import os
import sys

#: (import name, pip requirement, extra pip args). Order matters: --no-deps packages last.
REQUIREMENTS = (
    # legacy `mediapipe.solutions` with bundled models (<= 0.10.21). 0.10.9 is the newest that takes
    # A1111's protobuf 3.20 without jax; 0.10.14+ would move protobuf to 4.x. It has no wheel for
    # Python 3.12, where the oldest release with one that keeps the bundled models is used instead.
    ("mediapipe", "mediapipe==0.10.9" if sys.version_info < (3, 12) else "mediapipe>=0.10.14,<=0.10.21", ()),
    ("skimage", "scikit-image>=0.21,<0.25", ()),
    ("onnxruntime", "onnxruntime>=1.16,<1.21", ()),
    # rapidocr's own small deps, then rapidocr itself without its opencv-python-headless requirement
    ("pyclipper", "pyclipper", ()),
    ("shapely", "shapely>=2,<3", ()),
    ("omegaconf", "omegaconf", ()),
    ("colorlog", "colorlog", ()),
    ("rapidocr", "rapidocr==3.10.0", ("--no-deps",)),
    # brisque's metadata pulls libsvm/opencv builds that would move pins: its model ships inside
    ("brisque", "brisque==0.2.0", ("--no-deps",)),
    ("libsvm", "libsvm-official", ()),
)


def skip_requested(argv: list[str] | None = None, env: dict[str, str] | None = None) -> bool:
    argv = sys.argv if argv is None else argv
    env = os.environ if env is None else env
    return "--skip-install" in argv or env.get("QFIX_SKIP_INSTALL", "").strip().lower() in ("1", "true", "yes")


def missing(launch, requirements=REQUIREMENTS) -> list[tuple[str, str, tuple[str, ...]]]:
    return [r for r in requirements if not launch.is_installed(r[0])]


def main(launch=None, argv: list[str] | None = None, env: dict[str, str] | None = None) -> list[str]:
    """Install what is missing; returns the pip requirement strings installed (for the log/tests)."""
    if skip_requested(argv, env):
        print("QFix: install skipped (--skip-install or QFIX_SKIP_INSTALL)")
        return []
    if launch is None:
        import launch  # A1111's helpers: is_installed(name), run_pip(args, desc)
    todo = missing(launch)
    if not todo:
        print("QFix: all requirements present, nothing installed")
        return []
    done = []
    for _name, req, extra in todo:
        args = " ".join(("install", *extra, f'"{req}"'))
        try:
            launch.run_pip(args, f"QFix requirement: {req}")
            done.append(req)
        except Exception as e:  # one failed package must not stop A1111 from starting
            print(f"QFix: could not install {req}: {e}", file=sys.stderr)
    print(f"QFix: installed {', '.join(done) or 'nothing'}")
    return done


if __name__ == "__main__":
    main()
