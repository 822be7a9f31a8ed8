"""Who commits is told by the module's name (workflows/uow.py): a services.py holds the front doors
that change something, a queries.py (and the auditors' search, reports and exports) the front
doors that only read; every other module of workflows/ runs inside its caller's unit of work."""

from __future__ import annotations

import ast
from pathlib import Path

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
READERS = ("queries.py", "audit/search.py", "audit/reports.py", "audit/exports.py")


def _modules():
    for path in sorted(WORKFLOWS.rglob("*.py")):
        yield path.relative_to(WORKFLOWS).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _is_services(name: str) -> bool:
    return name == "services.py" or name.endswith("/services.py")


def _is_reader(name: str) -> bool:
    return any(name == reader or name.endswith("/" + reader) for reader in READERS)


def _first_argument(function: ast.FunctionDef) -> ast.arg | None:
    arguments = function.args.posonlyargs + function.args.args
    return arguments[0] if arguments else None


def _takes_services(function: ast.FunctionDef) -> bool:
    first = _first_argument(function)
    return first is not None and first.annotation is not None and ast.unparse(first.annotation) == "Services"


def test_only_a_services_module_commits():
    commits = [
        f"workflows/{name}:{node.lineno}"
        for name, tree in _modules()
        if not _is_services(name) and name != "uow.py"  # Services.in_transaction, which front doors use
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]
    assert commits == [], "commit() outside a services.py: " + ", ".join(commits)


def test_only_front_doors_take_services():
    misplaced = [
        f"workflows/{name}:{node.lineno} {node.name}"
        for name, tree in _modules()
        if not (_is_services(name) or _is_reader(name))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and _takes_services(node)
    ]
    assert misplaced == [], "a function taking Services outside the front-door modules: " + ", ".join(misplaced)


def test_front_door_modules_offer_nothing_that_runs_in_a_callers_transaction():
    """Their public functions open their own transaction (or need none: a pure function)."""
    inside = [
        f"workflows/{name}:{node.lineno} {node.name}"
        for name, tree in _modules()
        if _is_services(name) or _is_reader(name)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith("_")
        and getattr(_first_argument(node), "arg", None) in ("uow", "session", "connection")
    ]
    assert inside == [], "a front-door module's function that runs in its caller's transaction: " + ", ".join(inside)
