"""The designer's validator: the deploy checks of a bundle plus lint rules that catch what deploy
allows or reports one at a time (candidate roles, gateway defaults, reachability, expressions, form
schemas, decision inputs). It reports every problem it finds and never raises on well-formed XML."""

from __future__ import annotations

import ast
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from .decisions import DecisionTables
from .definitions import (
    BPMN_NS,
    PROP_CANDIDATE_ROLE,
    PROP_FORM,
    PROP_ORG_SCOPE,
    SPIFF_NS,
    BundleFile,
    dmn_cell_expression,
    extension_properties,
    lanes_by_element,
    parse_bundle,
    parse_xml,
)
from .errors import DefinitionError, ExpressionError
from .expressions import BUILTINS, Evaluator

ERROR = "error"
WARNING = "warning"

_ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)
_SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
_EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
_GATEWAYS = frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
)
_FLOW_NODES = _ACTIVITIES | _EVENTS | _GATEWAYS
_CONDITIONAL_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway"})

# Comparison operators whose results are each other's negation, and their mirror images (a < b is b > a).
_COMPLEMENTS = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.LtE: ast.Gt,
    ast.Gt: ast.LtE,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_MIRRORS = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}

# Deploy refusals that a lint rule reports too (with every occurrence, not only the first), by
# how the engine words them.
_DEPLOY_REASONS = (
    ("expression ", "expression"),
    ("user task has no candidate role", "no_role"),
    (f"{PROP_FORM} names ", "form_missing"),
    ("form schema ", "form_schema"),
    ("Non-default exclusive outgoing sequence flow without condition", "gateway_default"),
)

_BUNDLE_SOURCES = "which no form field, script assignment, data object, decision output or known data name provides"
_DECISION_SOURCES = "which is not one of the data names the decision receives"


@dataclass(frozen=True)
class Problem:
    """A finding of the validator, marked on an element (or a whole file) in the designer.

    `code` names the rule; `severity` is "error" (blocks deploy) or "warning"."""

    code: str
    message: str
    file: str | None
    element_id: str | None
    severity: str


def validate_bundle(
    files: list[BundleFile],
    evaluator: Evaluator,
    *,
    known_roles: Collection[str],
    data_names: Collection[str] = (),
) -> list[Problem]:
    """Every problem of a bundle of .bpmn, .dmn and form .json files, sorted by file and element:
    the engine's deploy checks (which stop at the first refusal) and the lint rules (which report
    all). `known_roles` are the candidate roles user tasks may name; `data_names` are data the
    instances carry besides what forms, scripts, data objects and decisions provide."""
    problems: list[Problem] = []
    documents: dict[str, etree._Element] = {}
    forms: dict[str, dict] = {}
    form_files = {file.name for file in files if file.name.endswith(".json")}
    for file in files:
        if file.name.endswith(".json"):
            schema, form_problems = _read_form(file)
            problems += form_problems
            if schema is not None:
                forms[file.name] = schema
        elif file.name.endswith((".bpmn", ".dmn")):
            try:
                documents[file.name] = parse_xml(file)
            except DefinitionError as exc:
                problems.append(_deploy_problem(exc))
    processes = {name: root for name, root in documents.items() if name.endswith(".bpmn")}
    decisions = {name: root for name, root in documents.items() if name.endswith(".dmn")}
    for name, root in processes.items():
        problems += _role_problems(name, root, known_roles)
        problems += _gateway_problems(name, root)
        problems += _flow_problems(name, root)
        problems += _process_expression_problems(name, root, evaluator)
        problems += _form_reference_problems(name, root, form_files)
    available = (
        set(data_names)
        | {field for schema in forms.values() for field in _form_fields(schema)}
        | {name for root in processes.values() for name in _script_assigned_names(root, evaluator)}
        | {name for root in processes.values() for name in _data_object_names(root)}
        | {name for root in decisions.values() for name in _decision_output_names(root)}
    )
    for name, root in decisions.items():
        problems += _decision_table_problems(name, root)
        problems += _decision_expression_problems(name, root, evaluator)
        problems += _decision_input_problems(name, root, evaluator, available, _BUNDLE_SOURCES)
    problems += _deploy_problems(lambda: parse_bundle(files, evaluator), problems, documents)
    return sorted(problems, key=_position)


def validate_decision_files(
    files: list[BundleFile], evaluator: Evaluator, *, data_names: Collection[str]
) -> list[Problem]:
    """Every problem of standalone .dmn files, sorted by file and element: what loading them as
    DecisionTables refuses, and input expressions reading names that are not in `data_names`."""
    problems: list[Problem] = []
    documents: dict[str, etree._Element] = {}
    for file in files:
        try:
            documents[file.name] = parse_xml(file)
        except DefinitionError as exc:
            problems.append(_deploy_problem(exc))
    for name, root in documents.items():
        problems += _decision_table_problems(name, root)
        problems += _decision_input_problems(name, root, evaluator, set(data_names), _DECISION_SOURCES)
    problems += _deploy_problems(lambda: DecisionTables(files, evaluator), problems, documents)
    return sorted(problems, key=_position)


def _position(problem: Problem) -> tuple[str, str]:
    return problem.file or "", problem.element_id or ""


def _local(element: etree._Element) -> str:
    """The local tag name; "" for comments and processing instructions."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _bpmn(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def _is_bpmn(element: etree._Element, names: Collection[str]) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).namespace == BPMN_NS and _local(element) in names


def _quoted(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f'"{text if len(text) <= limit else text[: limit - 1] + "…"}"'


def _identify(element: etree._Element) -> str:
    """An element's id, or where it is when it has none (for messages)."""
    return element.get("id") or f"the {_local(element)} on line {element.sourceline}"


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


# Deploy checks


def _deploy_problem(exc: DefinitionError) -> Problem:
    reason = exc.reason.rstrip(".")
    return Problem("deploy", f"{reason[:1].upper()}{reason[1:]}.", exc.file, exc.element_id, ERROR)


def _deploy_problems(
    deploy: Callable[[], object], problems: list[Problem], documents: dict[str, etree._Element]
) -> list[Problem]:
    """The engine's own refusal, unless a lint problem already says the same of the same element."""
    try:
        deploy()
    except DefinitionError as exc:
        problem = _deploy_problem(exc)
        if problem in problems or _reported_by_lint(exc, problems, documents):
            return []
        # SpiffWorkflow's DMN parser fails on a missing table or cell without naming it; rule
        # "dmn_table" names the element.
        if exc.reason.startswith("cannot be parsed") and any(p.code == "dmn_table" for p in problems):
            return []
        return [problem]
    return []


def _reported_by_lint(exc: DefinitionError, problems: list[Problem], documents: dict[str, etree._Element]) -> bool:
    code = next((code for prefix, code in _DEPLOY_REASONS if exc.reason.startswith(prefix)), None)
    if code is None:
        return False
    element_id = exc.element_id
    if code == "gateway_default" and exc.file in documents:
        # SpiffWorkflow names the unconditioned flow; the lint rule marks its gateway.
        flow = _by_id(documents[exc.file], element_id)
        element_id = flow.get("sourceRef") if flow is not None else element_id
    return any(p.code == code and p.file == exc.file and p.element_id == element_id for p in problems)


def _by_id(root: etree._Element, element_id: str | None) -> etree._Element | None:
    if element_id is None:
        return None
    return next((el for el in root.iter() if isinstance(el.tag, str) and el.get("id") == element_id), None)


# Rule: candidate roles


def _role_problems(file: str, root: etree._Element, known_roles: Collection[str]) -> Iterator[Problem]:
    lanes = lanes_by_element(root)
    for task in root.iter(_bpmn("userTask")):
        task_id = task.get("id")
        role = extension_properties(task).get(PROP_CANDIDATE_ROLE) or lanes.get(task_id, (None, None))[1]
        if not role:
            yield Problem(
                "no_role",
                f"User task {task_id} has no candidate role: put it in a lane or set {PROP_CANDIDATE_ROLE}.",
                file,
                task_id,
                ERROR,
            )
        elif role not in known_roles:
            known = ", ".join(sorted(known_roles)) or "(none)"
            yield Problem(
                "unknown_role",
                f"User task {task_id} has candidate role {role!r}, which is not a known role: use one of {known}.",
                file,
                task_id,
                ERROR,
            )


# Rule: gateway conditions and defaults


def _scopes(root: etree._Element) -> Iterator[etree._Element]:
    """Processes and (event) subprocesses: the elements whose children are connected by flows."""
    return root.iter(_bpmn("process"), *(_bpmn(name) for name in _SUBPROCESSES))


def _flows(scope: etree._Element) -> list[etree._Element]:
    return list(scope.iterchildren(_bpmn("sequenceFlow")))


def _condition(flow: etree._Element) -> str:
    return _text(flow.find(_bpmn("conditionExpression")))


def _gateway_problems(file: str, root: etree._Element) -> Iterator[Problem]:
    for scope in _scopes(root):
        outgoing = defaultdict(list)
        for flow in _flows(scope):
            outgoing[flow.get("sourceRef")].append(flow)
        for gateway in scope.iterchildren(*(_bpmn(name) for name in _CONDITIONAL_GATEWAYS)):
            yield from _one_gateway_problems(file, gateway, outgoing[gateway.get("id")])


def _one_gateway_problems(file: str, gateway: etree._Element, flows: list[etree._Element]) -> Iterator[Problem]:
    gateway_id, default = gateway.get("id"), gateway.get("default")
    flow_ids = [_identify(flow) for flow in flows]
    if default and default not in flow_ids:
        yield Problem(
            "gateway_default",
            f"Gateway {gateway_id} names {default} as its default flow, which does not leave the gateway: "
            f"choose one of its outgoing flows ({', '.join(flow_ids) or 'none'}) as the default.",
            file,
            gateway_id,
            ERROR,
        )
        default = None
    if len(flows) < 2:
        return
    unconditioned = [_identify(flow) for flow in flows if flow.get("id") != default and not _condition(flow)]
    if unconditioned:
        flows_lack = (
            f"flow {unconditioned[0]} has" if len(unconditioned) == 1 else f"flows {', '.join(unconditioned)} have"
        )
        if default:
            what = f"has default flow {default}, but {flows_lack} no condition"
        else:
            what = f"has no default flow and {flows_lack} no condition"
        yield Problem(
            "gateway_default",
            f"Gateway {gateway_id} {what}: give every outgoing flow a condition except the one made the default.",
            file,
            gateway_id,
            ERROR,
        )
    elif not default and not _covers_every_case([_condition(flow) for flow in flows]):
        yield Problem(
            "gateway_coverage",
            f"The conditions of gateway {gateway_id} may not cover every case: add a default flow.",
            file,
            gateway_id,
            WARNING,
        )


def _parsed_expression(text: str) -> ast.expr | None:
    """The syntax tree of an expression, or None when it does not parse (rule "expression" says why)."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _covers_every_case(conditions: list[str]) -> bool:
    """Whether the conditions visibly cover every case: one is literally True, or two are each
    other's negation (E and not E; a < n and a >= n; a == v and a != v)."""
    trees = [tree for tree in map(_parsed_expression, conditions) if tree is not None]
    if any(isinstance(tree, ast.Constant) and tree.value is True for tree in trees):
        return True
    return any(_complementary(a, b) or _complementary(b, a) for a, b in itertools.combinations(trees, 2))


def _complementary(a: ast.expr, b: ast.expr) -> bool:
    if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.Not):
        return ast.dump(a) == ast.dump(b.operand)
    comparison = _comparison(a)
    if comparison is None:
        return False
    left, op, right = comparison
    opposite = (left, _COMPLEMENTS[op], right)
    return _comparison(b) == opposite or _comparison(b, mirrored=True) == opposite


def _comparison(node: ast.expr, *, mirrored: bool = False) -> tuple[str, type, str] | None:
    """(left, operator, right) of a single comparison; mirrored, `a < b` reads `b > a`."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPLEMENTS):
        return None
    left, op, right = ast.dump(node.left), type(node.ops[0]), ast.dump(node.comparators[0])
    if not mirrored:
        return left, op, right
    return (right, _MIRRORS[op], left) if op in _MIRRORS else None


# Rule: every flow node is reached from a start event and reaches an end event


def _flow_problems(file: str, root: etree._Element) -> Iterator[Problem]:
    for scope in _scopes(root):
        if _local(scope) != "adHocSubProcess":  # an ad hoc subprocess's activities need no flows
            yield from _scope_flow_problems(file, scope)


def _is_event_subprocess(element: etree._Element) -> bool:
    return _local(element) == "subProcess" and element.get("triggeredByEvent") == "true"


def _has_definition(event: etree._Element, definition: str) -> bool:
    return event.find(_bpmn(definition)) is not None


def _link_name(event: etree._Element) -> str | None:
    link = event.find(_bpmn("linkEventDefinition"))
    return link.get("name") if link is not None else None


def _exempt(node: etree._Element) -> bool:
    """Compensation handlers and compensation boundary events are joined by associations, not flows."""
    return node.get("isForCompensation") == "true" or (
        _local(node) == "boundaryEvent" and _has_definition(node, "compensateEventDefinition")
    )


def _scope_flow_problems(file: str, scope: etree._Element) -> Iterator[Problem]:
    nodes = {
        node.get("id"): node
        for node in scope.iterchildren()
        if _is_bpmn(node, _FLOW_NODES) and node.get("id") and not _is_event_subprocess(node) and not _exempt(node)
    }
    if not nodes:
        return
    successors: dict[str, set[str]] = defaultdict(set)
    has_outgoing = set()
    for flow in _flows(scope):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in nodes and target in nodes:
            successors[source].add(target)
            has_outgoing.add(source)
    catches = defaultdict(list)
    for node_id, node in nodes.items():
        kind = _local(node)
        if kind == "boundaryEvent" and node.get("attachedToRef") in nodes:
            successors[node.get("attachedToRef")].add(node_id)
        elif kind == "intermediateCatchEvent" and _link_name(node) is not None:
            catches[_link_name(node)].append(node_id)
    for node_id, node in nodes.items():
        if _local(node) == "intermediateThrowEvent" and catches.get(_link_name(node)):
            successors[node_id].update(catches[_link_name(node)])
            has_outgoing.add(node_id)

    starts = [node_id for node_id, node in nodes.items() if _local(node) == "startEvent"]
    what = "event subprocess" if _is_event_subprocess(scope) else _local(scope).lower()
    if not starts:
        yield Problem(
            "unreachable",
            f"The {what} {scope.get('id')} has no start event, so nothing in it can be checked for reachability: "
            "add a start event.",
            file,
            scope.get("id"),
            WARNING,
        )
    else:
        reached = _closure(starts, successors)
        for node_id in (node_id for node_id in nodes if node_id not in reached):
            yield Problem(
                "unreachable",
                f"{node_id} cannot be reached from a start event of its {what}: give it an incoming sequence flow.",
                file,
                node_id,
                ERROR,
            )
    predecessors: dict[str, set[str]] = defaultdict(set)
    for source, targets in successors.items():
        for target in targets:
            predecessors[target].add(source)
    ends = [node_id for node_id, node in nodes.items() if _local(node) == "endEvent"]
    finishing = _closure(ends, predecessors)
    for node_id in (node_id for node_id in nodes if node_id not in finishing):
        if node_id not in has_outgoing:
            reason = "has no outgoing sequence flow"
        else:
            reason = f"has no path to an end event of its {what}"
        yield Problem(
            "dead_end",
            f"{node_id} {reason}: connect it to a next step or to an end event so every path visibly ends.",
            file,
            node_id,
            ERROR,
        )


def _closure(seeds: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(seeds)
    pending = list(seen)
    while pending:
        for following in edges.get(pending.pop(), ()):
            if following not in seen:
                seen.add(following)
                pending.append(following)
    return seen


# Rule: expressions and scripts pass the safe evaluator


def _refusal(evaluator: Evaluator, text: str, *, script: bool = False) -> str | None:
    """Why the safe evaluator refuses `text`, or None when it accepts it."""
    try:
        (evaluator.check_script if script else evaluator.check_expression)(text)
    except ExpressionError as exc:
        return exc.reason
    return None


def _expression_problem(file: str, element_id: str, what: str, text: str, reason: str) -> Problem:
    return Problem(
        "expression",
        f"The {what} {_quoted(text)} is refused ({reason}): rewrite it with data names, operators and allowed calls.",
        file,
        element_id,
        ERROR,
    )


def _process_expressions(root: etree._Element) -> Iterator[tuple[str, str, str, bool]]:
    """(element id, what, text, is a script) of every expression and script of a BPMN document."""
    for flow in root.iter(_bpmn("sequenceFlow")):
        if _condition(flow):
            yield flow.get("id"), "condition", _condition(flow), False
    for definition_name, tags in (
        ("timerEventDefinition", ("timeDuration", "timeDate", "timeCycle")),
        ("conditionalEventDefinition", ("condition",)),
    ):
        for definition in root.iter(_bpmn(definition_name)):
            for tag in tags:
                text = _text(definition.find(_bpmn(tag)))
                if text:
                    yield _owner_id(definition), "timer" if tag.startswith("time") else "condition", text, False
    for task in root.iter(_bpmn("scriptTask")):
        script = task.find(_bpmn("script"))
        if script is not None and (script.text or "").strip():
            yield task.get("id"), "script", script.text, True
    for extensions in root.iter(_bpmn("extensionElements")):
        for tag, what in (("preScript", "pre-script"), ("postScript", "post-script")):
            script = extensions.find(f"{{{SPIFF_NS}}}{tag}")
            if script is not None and (script.text or "").strip():
                yield _owner_id(extensions), what, script.text, True
    for loop_name, tags in (
        ("standardLoopCharacteristics", ("loopCondition",)),
        ("multiInstanceLoopCharacteristics", ("loopCardinality", "completionCondition")),
    ):
        for loop in root.iter(_bpmn(loop_name)):
            for tag in tags:
                text = _text(loop.find(_bpmn(tag)))
                if text:
                    yield _owner_id(loop), "loop expression", text, False
    for task in root.iter(_bpmn("userTask")):
        scope = extension_properties(task).get(PROP_ORG_SCOPE)
        if scope:
            yield task.get("id"), f"{PROP_ORG_SCOPE} expression", scope, False


def _owner_id(element: etree._Element) -> str | None:
    """The id of the element an event definition, extension or loop belongs to."""
    owner = element.getparent()
    return owner.get("id") if owner is not None else None


def _process_expression_problems(file: str, root: etree._Element, evaluator: Evaluator) -> Iterator[Problem]:
    for element_id, what, text, script in _process_expressions(root):
        reason = _refusal(evaluator, text, script=script)
        if reason:
            yield _expression_problem(file, element_id, what, text, reason)


def _decision_tables(root: etree._Element) -> Iterator[etree._Element]:
    return (element for element in root.iter() if _local(element) == "decisionTable")


def _children(element: etree._Element, local: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == local]


def _entry_text(element: etree._Element) -> str | None:
    """The <text> of a DMN input expression or entry, as SpiffWorkflow reads it (not stripped)."""
    texts = _children(element, "text")
    return texts[0].text if texts else None


def _table_inputs(table: etree._Element) -> list[tuple[etree._Element, str | None]]:
    """(input element, its input expression text) of a decision table, in column order."""
    inputs = []
    for table_input in _children(table, "input"):
        expressions = _children(table_input, "inputExpression")
        inputs.append((table_input, _entry_text(expressions[0]) if expressions else None))
    return inputs


def _decision_table_problems(file: str, root: etree._Element) -> Iterator[Problem]:
    """The shape SpiffWorkflow's DMN parser relies on: a decision with a table, one entry per column."""
    decisions = [element for element in root.iter() if _local(element) == "decision"]
    if not decisions:
        yield Problem("dmn_table", "The file has no decision: add a decision with a decision table.", file, None, ERROR)
    for decision in decisions:
        if not _children(decision, "decisionTable"):
            yield Problem(
                "dmn_table",
                f"Decision {_identify(decision)} has no decision table: add one.",
                file,
                decision.get("id"),
                ERROR,
            )
    for table in _decision_tables(root):
        columns = {"inputEntry": len(_children(table, "input")), "outputEntry": len(_children(table, "output"))}
        for rule in _children(table, "rule"):
            for entry, expected in columns.items():
                count = len(_children(rule, entry))
                if count != expected:
                    yield Problem(
                        "dmn_table",
                        f"Rule {_identify(rule)} has {count} {entry} cells for {expected} columns: "
                        "give it one cell per column.",
                        file,
                        rule.get("id"),
                        ERROR,
                    )


def _decision_expression_problems(file: str, root: etree._Element, evaluator: Evaluator) -> Iterator[Problem]:
    """Input expressions, cells (combined with their input expression as the DMN engine does) and outputs."""
    for table in _decision_tables(root):
        inputs = _table_inputs(table)
        for table_input, expression in inputs:
            if expression and (reason := _refusal(evaluator, expression)):
                yield _expression_problem(file, table_input.get("id"), "input expression", expression, reason)
        for rule in _children(table, "rule"):
            for column, entry in enumerate(_children(rule, "inputEntry")):
                cell = _entry_text(entry)
                if not cell or cell == "-":
                    continue
                expression = inputs[column][1] if column < len(inputs) else None
                if reason := _refusal(evaluator, dmn_cell_expression(expression or "dmninputexpr", cell)):
                    yield _expression_problem(file, entry.get("id"), "input entry", cell, reason)
            for entry in _children(rule, "outputEntry"):
                cell = _entry_text(entry)
                if cell and (reason := _refusal(evaluator, cell)):
                    yield _expression_problem(file, entry.get("id"), "output entry", cell, reason)


# Rule: form schemas


def _read_form(file: BundleFile) -> tuple[dict | None, list[Problem]]:
    """The form's JSON object (None if the file holds none) and what is wrong with it as a JSON Schema."""
    try:
        schema = json.loads(file.content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        problem = Problem(
            "form_schema", f"The form schema is not valid JSON ({exc}): fix its syntax.", file.name, None, ERROR
        )
        return None, [problem]
    if not isinstance(schema, dict):
        problem = Problem(
            "form_schema", "The form schema is not a JSON object: write it as {...}.", file.name, None, ERROR
        )
        return None, [problem]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        problem = Problem(
            "form_schema",
            f"The form schema is not a valid JSON Schema at {exc.json_path}: {exc.message}; correct it there.",
            file.name,
            None,
            ERROR,
        )
        return schema, [problem]
    return schema, []


def _form_reference_problems(file: str, root: etree._Element, form_files: set[str]) -> Iterator[Problem]:
    for task in root.iter(_bpmn("userTask")):
        form = extension_properties(task).get(PROP_FORM)
        if form and form not in form_files:
            yield Problem(
                "form_missing",
                f"User task {task.get('id')} names form {form!r}, which is not a .json file of the bundle: "
                "add the file or correct the name.",
                file,
                task.get("id"),
                ERROR,
            )


# Rule: decision inputs read data that exists


def _form_fields(schema: dict) -> Iterator[str]:
    properties = schema.get("properties")
    if isinstance(properties, dict):
        yield from properties


def _script_assigned_names(root: etree._Element, evaluator: Evaluator) -> Iterator[str]:
    for _element_id, _what, text, script in _process_expressions(root):
        if not script or _refusal(evaluator, text, script=True):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    yield from _bound_names(target)


def _bound_names(target: ast.expr) -> Iterator[str]:
    """Names an assignment target binds: `a`, `a, b`, `[a, *rest]`; not `a["k"]`."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _bound_names(element)
    elif isinstance(target, ast.Starred):
        yield from _bound_names(target.value)


def _data_object_names(root: etree._Element) -> Iterator[str]:
    for data_object in root.iter(_bpmn("dataObject")):
        yield from filter(None, (data_object.get("id"), data_object.get("name")))


def _decision_output_names(root: etree._Element) -> Iterator[str]:
    for table in _decision_tables(root):
        yield from filter(None, (output.get("name") for output in _children(table, "output")))


def _free_names(tree: ast.expr, functions: Collection[str]) -> list[str]:
    """Names an expression reads from the data, in order of appearance: not functions, built-ins
    or comprehension variables."""
    bound = {
        name for node in ast.walk(tree) if isinstance(node, ast.comprehension) for name in _bound_names(node.target)
    }
    names = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)]
    return list(dict.fromkeys(n for n in names if n not in bound and n not in functions and n not in BUILTINS))


def _decision_input_problems(
    file: str, root: etree._Element, evaluator: Evaluator, available: set[str], sources: str
) -> Iterator[Problem]:
    for table in _decision_tables(root):
        for table_input, expression in _table_inputs(table):
            if not expression or _refusal(evaluator, expression):
                continue
            tree = _parsed_expression(expression)
            for name in _free_names(tree, evaluator.function_names) if tree is not None else ():
                if name not in available:
                    yield Problem(
                        "dmn_input",
                        f"Input {table_input.get('id')} reads {name!r}, {sources}: "
                        "correct the name or provide that data.",
                        file,
                        table_input.get("id"),
                        ERROR,
                    )
