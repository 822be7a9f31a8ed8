"""Every domain error code is in the registry (workflows.errors.ERROR_CODES), every registered
code is raised somewhere, and every code a user can see (the registry's and the engine's) has an
English wording in web.messages.MESSAGES and a Vietnamese translation in the catalogue.

The raise sites are read from the source (AST), so a new `raise DomainError("new_code", ...)`
fails here until the code is registered and worded; a code must be a literal to be found."""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

import engine
from engine import EngineError
from web import messages
from workflows.errors import ERROR_CODES
from workflows.records.imports import PROBLEMS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("workflows", "web")
CATALOG = ROOT / "web" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
BASE = "DomainError"


@dataclass(frozen=True)
class Site:
    """Where a domain error is constructed, and the code it gets (None: not a literal)."""

    where: str
    code: str | None
    expression: str
    node: ast.expr | None


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _sources() -> dict[str, ast.Module]:
    files = sorted(path for folder in SOURCES for path in (ROOT / folder).rglob("*.py"))
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in files}


def _code_rules(trees: dict[str, ast.Module]) -> dict[str, tuple[str, str | int]]:
    """For DomainError and each subclass defined in the code base, how a constructor call gets
    its code: ("literal", code) fixed by the class, or ("arg", i) its i-th positional argument."""
    classes = {node.name: node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    rules: dict[str, tuple[str, str | int]] = {BASE: ("arg", 0)}
    changed = True
    while changed:
        changed = False
        for name, node in classes.items():
            parents = [rules[_name(base)] for base in node.bases if _name(base) in rules]
            if name in rules or not parents:
                continue
            rules[name] = _own_rule(node, parents[0])
            changed = True
    return rules


def _own_rule(node: ast.ClassDef, inherited: tuple[str, str | int]) -> tuple[str, str | int]:
    init = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
    if init is None:
        return inherited
    for call in ast.walk(init):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "__init__"):
            continue
        if not (isinstance(call.func.value, ast.Call) and _name(call.func.value.func) == "super"):
            continue
        if inherited[0] == "literal":
            return inherited
        argument = call.args[inherited[1]] if len(call.args) > inherited[1] else None
        if _literal(argument) is not None:
            return ("literal", _literal(argument))
        parameters = [arg.arg for arg in init.args.args[1:]]
        if isinstance(argument, ast.Name) and argument.id in parameters:
            return ("arg", parameters.index(argument.id))
        raise AssertionError(f"{node.name}.__init__ (line {init.lineno}) passes a code this test cannot follow")
    return inherited


def _sites(trees: dict[str, ast.Module], rules: dict[str, tuple[str, str | int]]) -> list[Site]:
    found: list[Site] = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in rules):
                continue
            kind, value = rules[_name(node.func)]
            where = f"{path}:{node.lineno}"
            if kind == "literal":
                found.append(Site(where, value, f"{_name(node.func)}(...)", None))
            else:
                keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                argument = node.args[value] if len(node.args) > value else keyword
                expression = ast.unparse(argument) if argument is not None else "?"
                found.append(Site(where, _literal(argument), expression, argument))
    return found


def _passes_on(site: Site, trees: dict[str, ast.Module], rules) -> bool:
    """`raise DomainError(error.code, ...)` inside `except DomainError as error`: the code is one
    raised (and collected) elsewhere."""
    node = site.node
    if not (isinstance(node, ast.Attribute) and node.attr == "code" and isinstance(node.value, ast.Name)):
        return False
    path, line = site.where.rsplit(":", 1)
    for handler in ast.walk(trees[path]):
        if isinstance(handler, ast.ExceptHandler) and handler.name == node.value.id:
            caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            inside = handler.lineno <= int(line) <= (handler.end_lineno or handler.lineno)
            if inside and all(_name(t) in rules for t in caught):
                return True
    return False


@functools.cache
def raised_codes() -> tuple[dict[str, list[str]], list[str]]:
    """Each code raised in workflows/ and web/ with where; and the problems found on the way."""
    trees = _sources()
    rules = _code_rules(trees)
    raised: dict[str, list[str]] = {}
    problems: list[str] = []
    for site in _sites(trees, rules):
        if site.code is not None:
            raised.setdefault(site.code, []).append(site.where)
        elif not _passes_on(site, trees, rules):
            problems.append(f"{site.where}: the code {site.expression} is not a literal, so no registry can list it")
    return raised, problems


@functools.cache
def engine_codes() -> dict[str, str]:
    """The `code` of every engine error class (every module of the engine imported), by code."""
    for module in pkgutil.walk_packages(engine.__path__, f"{engine.__name__}."):
        importlib.import_module(module.name)
    found, pending = {}, [EngineError]
    while pending:
        error_type = pending.pop()
        found.setdefault(error_type.code, f"{error_type.__module__}.{error_type.__qualname__}")
        pending += error_type.__subclasses__()
    return found


def wordings() -> dict[str, str]:
    """The English msgid of each code's wording in web/messages.py (each a lazy_gettext of a
    literal, so that pybabel extracts it)."""
    tree = ast.parse((ROOT / "web" / "messages.py").read_text(encoding="utf-8"))
    table = next(
        node.value
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and any(_name(target) == "MESSAGES" for target in getattr(node, "targets", [getattr(node, "target", None)]))
    )
    found, malformed = {}, []
    for key, value in zip(table.keys, table.values, strict=True):
        text = value.args[0] if isinstance(value, ast.Call) and _name(value.func) == "lazy_gettext" else None
        if _literal(key) is None or _literal(text) is None:
            malformed.append(f"web/messages.py:{value.lineno}")
        else:
            found[_literal(key)] = _literal(text)
    assert malformed == [], f"MESSAGES entries that are not 'code': lazy_gettext('literal'): {malformed}"
    return found


def translations() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and not m.fuzzy}


def test_every_raised_code_is_registered():
    raised, problems = raised_codes()
    unregistered = [f"{code} ({', '.join(where)})" for code, where in sorted(raised.items()) if code not in ERROR_CODES]
    report = [*(f"not in workflows.errors.ERROR_CODES: {line}" for line in unregistered), *problems]
    assert report == [], "codes raised but not registered, or not enumerable:\n" + "\n".join(report)


def test_every_registered_code_is_raised():
    raised, _ = raised_codes()
    unused = sorted(set(ERROR_CODES) - set(raised))
    assert unused == [], f"codes in workflows.errors.ERROR_CODES that nothing raises: {unused}"


def test_registry_descriptions_are_one_line():
    bad = sorted(code for code, text in ERROR_CODES.items() if not text.strip() or "\n" in text)
    assert bad == [], f"codes without a one-line description: {bad}"


def test_registry_and_engine_codes_do_not_collide():
    shared = sorted(set(ERROR_CODES) & set(engine_codes()))
    assert shared == [], f"codes used by both a domain error and an engine error: {shared}"


def test_every_code_has_an_english_wording():
    worded = wordings()
    assert set(worded) == set(messages.MESSAGES), "MESSAGES is not one literal table"
    missing = sorted({*ERROR_CODES, *engine_codes()} - set(worded))
    assert missing == [], f"codes without a wording in web.messages.MESSAGES: {missing}"


def test_every_wording_is_of_a_known_code():
    stray = sorted(set(wordings()) - {*ERROR_CODES, *engine_codes()})
    assert stray == [], f"wordings in web.messages.MESSAGES of codes nothing raises: {stray}"


def test_every_wording_has_a_vietnamese_translation():
    translated = translations()
    missing = sorted(
        f"{code}: {text!r}" for code, text in wordings().items() if not (translated.get(text) or "").strip()
    )
    assert missing == [], "wordings without a (non-fuzzy) Vietnamese translation in messages.po:\n" + "\n".join(missing)


def test_every_import_problem_is_worded_for_the_reader():
    assert set(messages.IMPORT_PROBLEMS) == set(PROBLEMS)

