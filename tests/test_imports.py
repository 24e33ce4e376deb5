"""Dependencies you can see: QFix's own modules are imported at the top of a module, where they
show the import graph; a function-level import of a QFix module is allowed only when that module is
heavy (it imports, directly or through QFix modules, a heavy library or the host at its top level)
or for a cycle named below with its reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "lib_qfix"
#: libraries whose import costs seconds or that exist only inside the host
HEAVY = {"torch", "torchvision", "open_clip", "mediapipe", "onnxruntime", "rapidocr", "ray", "gradio",
         "fastapi", "starlette", "modules", "launch", "matplotlib", "brisque", "scipy", "skimage", "diffusers",
         "transformers"}
#: (importing module, imported module): why the import must stay inside a function
CYCLES: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, here: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = here.split(".") if is_pkg else here.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports(path: Path, root: Path = ROOT) -> tuple[set[str], list[tuple[int, list[str]]]]:
    """(top-level imported names, [(line, candidate QFix module names) imported inside functions]);
    for ``from a.b import c`` the candidates are ``a.b.c`` then ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here, is_pkg = module_name(path, root), path.name == "__init__.py"
    top: set[str] = set()
    inner: list[tuple[int, list[str]]] = []

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if isinstance(node, ast.ImportFrom):
            mod = _resolve(node, here, is_pkg)
            return [mod] + [f"{mod}.{a.name}" for a in node.names]
        return []

    def module_level(nodes: list[ast.stmt]) -> None:
        """Imports that run when the module is imported: module statements and ``try``/``if``/
        ``with`` bodies, not functions, classes or ``if TYPE_CHECKING:``."""
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            top.update(names(node))
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            for field in ("body", "orelse", "finalbody"):
                module_level(getattr(node, field, None) or [])
            for handler in getattr(node, "handlers", None) or []:
                module_level(handler.body)

    module_level(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                found = names(sub)
                if found and found[0].startswith("lib_qfix"):
                    inner.append((sub.lineno, found[1:] + found[:1] if isinstance(sub, ast.ImportFrom) else found))
    return top, inner


def _graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, list[tuple[int, list[str]]]]]:
    tops, inners = {}, {}
    for path in root.rglob("*.py"):
        name = module_name(path, root)
        tops[name], inners[name] = imports(path, root)
    return tops, inners


def heavy_modules(tops: dict[str, set[str]]) -> set[str]:
    """QFix modules whose import pulls a heavy library or the host (transitively, top level only)."""
    heavy = {m for m, deps in tops.items() if any(d.split(".")[0] in HEAVY for d in deps)}
    changed = True
    while changed:
        changed = False
        for m, deps in tops.items():
            if m not in heavy and any(d in heavy or d.rsplit(".", 1)[0] in heavy for d in deps):
                heavy.add(m)
                changed = True
    return heavy


def violations(root: Path = ROOT) -> list[str]:
    """Function-level imports of cheap QFix modules outside :data:`CYCLES`."""
    tops, inners = _graph(root)
    heavy = heavy_modules(tops)
    bad = []
    for mod, found in sorted(inners.items()):
        for line, candidates in found:
            t = next((c for c in candidates if c in tops), candidates[-1])
            if t in heavy or (mod, t) in CYCLES:
                continue
            bad.append(f"{mod}:{line} imports {t} inside a function; import it at the top")
    return bad


def test_function_level_imports_of_qfix_modules_are_only_for_heavy_ones_or_named_cycles():
    bad = violations()
    assert not bad, "\n".join(bad)


def test_the_rule_can_fail(tmp_path):
    # a tree where one module imports a cheap sibling inside a function, and a heavy one lazily
    pkg = tmp_path / "lib_qfix"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "cheap.py").write_text("X = 1\n")
    (pkg / "big.py").write_text("import torch\n")
    (pkg / "user.py").write_text("def f():\n    from lib_qfix import cheap\n    from lib_qfix.big import x\n"
                                 "    return cheap, x\n")
    assert violations(pkg) == ["lib_qfix.user:2 imports lib_qfix.cheap inside a function; import it at the top"]
