"""The core never imports a host: only lib_qfix.a1111 may touch modules/gradio/fastapi/launch, and only
lib_qfix.diffusers_host diffusers/transformers."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap

import lib_qfix

BANNED = ("modules", "gradio", "fastapi", "launch", "starlette", "diffusers", "transformers")
#: the host adapters: the only packages allowed to import the host libraries
ADAPTERS = ("lib_qfix.a1111", "lib_qfix.diffusers_host")


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(lib_qfix.__path__, "lib_qfix."):
        if info.name.startswith(ADAPTERS) or info.name == "lib_qfix.__main__":
            continue
        names.append(info.name)
    return names


def test_core_module_list_is_not_empty():
    mods = core_modules()
    assert "lib_qfix.options.schema" in mods and "lib_qfix.diagnose" in mods


def test_core_imports_no_host_module():
    # A fresh interpreter with a meta-path hook that refuses the host packages.
    code = textwrap.dedent(f"""
        import importlib, sys
        BANNED = {BANNED!r}
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in BANNED:
                    raise ImportError('core imported host module ' + name)
                return None
        sys.meta_path.insert(0, Refuse())
        failed = []
        for name in {core_modules()!r}:
            try:
                importlib.import_module(name)
            except Exception as e:  # a host import, or any other reason a core module cannot load
                failed.append((name, type(e).__name__, str(e)))
        print(failed)
        sys.exit(1 if failed else 0)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hook_itself_refuses(tmp_path):
    # the check above can fail: a module importing gradio is caught
    bad = tmp_path / "badmod.py"
    bad.write_text("import gradio\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in {BANNED!r}:
                    raise ImportError('core imported host module ' + name)
        sys.meta_path.insert(0, Refuse())
        import badmod
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "core imported host module gradio" in r.stderr
