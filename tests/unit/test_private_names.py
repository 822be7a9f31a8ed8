"""No module uses a private name (one starting with `_`) of another of the project's modules:
what crosses a module boundary is public, so a module's underscored names can change freely."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "workflows", "web", "bench", "tests")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _absolute(name: Path, node: ast.ImportFrom) -> str:
    """The imported module's dotted name, relative imports resolved against the module's `name`."""
    if not node.level:
        return node.module or ""
    package = list(name.with_suffix("").parts)[: -node.level]
    return ".".join(package + ([node.module] if node.module else []))


def private_uses(path: Path, root: Path = ROOT) -> list[str]:
    name = path.relative_to(root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    ours, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(name, node)
            if module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if _is_private(alias.name):
                    found.append(f"{name}:{node.lineno} imports {module}.{alias.name}")
                ours.add(alias.asname or alias.name)  # may be a module: `from . import history`
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    ours.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in ours and base.id not in ("self", "cls"):
                found.append(f"{name}:{node.lineno} uses {ast.unparse(node)}")
    return found


def test_no_module_uses_a_private_name_of_another():
    found = [
        use for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")) for use in private_uses(path)
    ]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_scan_sees_imports_and_attributes(tmp_path):
    module = tmp_path / "engine" / "probe.py"
    module.parent.mkdir()
    module.write_text("from .instances import _hidden\nfrom . import history\nhistory._chain()\n", encoding="utf-8")
    assert private_uses(module, tmp_path) == [
        "engine/probe.py:1 imports engine.instances._hidden",
        "engine/probe.py:3 uses history._chain",
    ]
