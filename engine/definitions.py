"""Parse, check and deploy bundles of .bpmn, .dmn and form-schema .json files as immutable,
content-hashed, versioned process definitions."""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask
from sqlalchemy import func, select

from .errors import DefinitionError, DefinitionNotFoundError, ExpressionError
from .expressions import Evaluator
from .models import DefinitionFile, ProcessDefinition
from .runtime import SPEC_SERIALIZER
from .uow import UnitOfWork

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_BUNDLE_BYTES = 10 * 1024 * 1024
BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# Extension properties we read from <spiffworkflow:properties> on user tasks.
PROP_CANDIDATE_ROLE = "candidateRole"
PROP_ORG_SCOPE = "orgScope"
PROP_DUE_WORKING_DAYS = "dueWorkingDays"
PROP_FOUR_EYES = "fourEyes"
PROP_FORM = "formSchema"
# The escalation ladder, on the process (its default for every task) or on a user task: remind
# the assignee at this share of the time limit; reassign this many working days after the due
# time; to whom ("supervisor", "board" or "none").
PROP_REMINDER_SHARE = "escalationReminder"
PROP_GRACE_DAYS = "escalationGraceDays"
PROP_REASSIGN = "escalationReassign"
REASSIGN_TARGETS = ("supervisor", "board", "none")
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# SpiffWorkflow raises this without the element (BpmnParser._add_data_stores); the name may span lines.
_NO_DATA_STORE = re.compile(r"Data Store with name (.*) has no implementation$", re.DOTALL)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_SAFE_XML_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


@dataclass(frozen=True)
class BundleFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class ParsedDefinition:
    process_id: str
    name: str
    content_hash: str
    spec: dict
    task_meta: dict
    forms: dict


@dataclass(frozen=True)
class LoadedDefinition:
    """A deployed version as the runtime uses it; immutable, so cached by content hash."""

    id: int
    process_id: str
    version: int
    content_hash: str
    spec: dict
    task_meta: dict
    forms: dict


@dataclass(frozen=True)
class DeployedDefinition:
    id: int
    process_id: str
    version: int
    content_hash: str
    created: bool


def read_bundle(paths: Iterable[str | Path]) -> list[BundleFile]:
    """Read files, and the bundle files found in directories (recursively), as one bundle."""
    files: dict[str, BundleFile] = {}
    for path in map(Path, paths):
        if path.is_dir():
            members = sorted(p for p in path.rglob("*") if p.suffix in BUNDLE_SUFFIXES and p.is_file())
        elif path.is_file():
            members = [path]
        else:
            raise DefinitionError("no such file or directory", file=str(path))
        for member in members:
            if member.stat().st_size > MAX_FILE_BYTES:
                raise DefinitionError(f"file is larger than {MAX_FILE_BYTES} bytes", file=member.name)
            if member.name in files:
                raise DefinitionError("two bundle files have the same name", file=member.name)
            files[member.name] = BundleFile(member.name, member.read_bytes())
    return list(files.values())


def parse_xml(file: BundleFile) -> etree._Element:
    """Parse untrusted XML: no DTDs, entities, network access or oversized documents."""
    if len(file.content) > MAX_FILE_BYTES:
        raise DefinitionError(f"file is larger than {MAX_FILE_BYTES} bytes", file=file.name)
    if _DTD.search(file.content):
        raise DefinitionError("DOCTYPE and ENTITY declarations are not allowed", file=file.name)
    try:
        file.content.decode("utf-8")  # stored verbatim as text, so it must be UTF-8
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"not UTF-8 text (byte {exc.start})", file=file.name) from exc
    try:
        return etree.fromstring(file.content, _SAFE_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(f"not well-formed XML: {exc.msg}", file=file.name) from exc


def parse_bundle(files: list[BundleFile], evaluator: Evaluator) -> list[ParsedDefinition]:
    """Parse and check a bundle; one definition per executable process. Raises DefinitionError."""
    if not files:
        raise DefinitionError("the bundle is empty")
    if sum(len(f.content) for f in files) > MAX_BUNDLE_BYTES:
        raise DefinitionError(f"the bundle is larger than {MAX_BUNDLE_BYTES} bytes")
    for file in files:
        if not file.name.endswith(BUNDLE_SUFFIXES):
            raise DefinitionError("only .bpmn, .dmn and .json files belong in a bundle", file=file.name)

    forms = {f.name: _load_form(f) for f in files if f.name.endswith(".json")}
    parser = SpiffBpmnParser(validator=VALIDATOR)
    documents: dict[str, etree._Element] = {}
    for file in files:
        if file.name.endswith(".json"):
            continue
        root = parse_xml(file)
        documents[file.name] = root
        if file.name.endswith(".bpmn"):
            _check_flow_references(file.name, root)
        with parse_errors(file.name, root):
            if file.name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=file.name)
            else:
                parser.add_bpmn_xml(root, filename=file.name)

    executable = [
        (name, process)
        for name, root in documents.items()
        if name.endswith(".bpmn")
        for process in root.iter(f"{{{BPMN_NS}}}process")
        if process.get("isExecutable") == "true"
    ]
    if not executable:
        raise _not_executable(documents)

    bundle_digest = _bundle_digest(files)
    # Element ids are unique within a file, not across a bundle: everything is looked up per file.
    lanes = {name: lanes_by_element(root) for name, root in documents.items()}
    flows = {
        name: {(f.get("sourceRef"), f.get("targetRef")): f.get("id") for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")}
        for name, root in documents.items()
    }
    dmn_files = {
        el.get("id"): name
        for name, root in documents.items()
        if name.endswith(".dmn")
        for el in root.iter()
        if el.get("id")
    }
    definitions = []
    for file_name, process in executable:
        process_id = process.get("id")
        with parse_errors(file_name, process):
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        all_specs = [spec, *subprocess_specs.values()]
        for each in all_specs:
            file_of = _file_of(each.file, dmn_files)
            _check_expressions(each, evaluator, file_of, flows.get(each.file, {}))
        ladder = extension_properties(process)
        task_meta = _task_meta(all_specs, lanes, forms, evaluator, dmn_files, ladder)
        definitions.append(
            ParsedDefinition(
                process_id=process_id,
                name=process.get("name") or process_id,
                content_hash=hashlib.sha256(f"{process_id}\n{bundle_digest}".encode()).hexdigest(),
                spec={
                    "spec": SPEC_SERIALIZER.to_dict(spec),
                    "subprocess_specs": {k: SPEC_SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
                },
                task_meta=task_meta,
                forms=forms,
            )
        )
    return definitions


def deploy_bundle(
    uow: UnitOfWork, files: list[BundleFile], evaluator: Evaluator, actor: str
) -> list[DeployedDefinition]:
    """Store each executable process of the bundle as a new version; an identical bundle
    deployed again returns the version it already has. Nothing is stored if any check fails."""
    parsed = parse_bundle(files, evaluator)
    session = uow.session
    results = []
    for definition in parsed:
        existing = session.scalar(
            select(ProcessDefinition).where(ProcessDefinition.content_hash == definition.content_hash)
        )
        if existing is not None:
            results.append(
                DeployedDefinition(existing.id, existing.process_id, existing.version, existing.content_hash, False)
            )
            continue
        latest = session.scalar(
            select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == definition.process_id)
        )
        row = ProcessDefinition(
            process_id=definition.process_id,
            version=(latest or 0) + 1,
            content_hash=definition.content_hash,
            name=definition.name,
            spec=definition.spec,
            task_meta=definition.task_meta,
            forms=definition.forms,
            deployed_at=uow.clock(),
            deployed_by=actor,
        )
        session.add(row)
        session.flush()
        session.add_all(
            DefinitionFile(
                definition_id=row.id,
                name=f.name,
                sha256=hashlib.sha256(f.content).hexdigest(),
                content=f.content.decode("utf-8"),
            )
            for f in files
        )
        results.append(DeployedDefinition(row.id, row.process_id, row.version, row.content_hash, True))
    session.flush()
    return results


def load_definition(uow: UnitOfWork, definition_id: int) -> LoadedDefinition:
    """A definition by id; deployed rows never change, so each is read once per runtime."""
    loaded = uow.runtime.definitions.get(definition_id)
    if loaded is not None:
        return loaded
    row = uow.session.get(ProcessDefinition, definition_id)
    if row is None:
        raise DefinitionNotFoundError(str(definition_id))
    return _loaded(uow, row)


def form_schema(uow: UnitOfWork, definition_id: int, form: str | None) -> dict | None:
    """The JSON Schema of a task form of a deployed version (None for a task without a form)."""
    return load_definition(uow, definition_id).forms[form] if form else None


def latest_definition(uow: UnitOfWork, process_id: str, version: int | None = None) -> LoadedDefinition:
    """The given version of a process, or its latest. Raises DefinitionNotFoundError."""
    query = select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
    if version is not None:
        query = query.where(ProcessDefinition.version == version)
    row = uow.session.scalars(query.order_by(ProcessDefinition.version.desc()).limit(1)).first()
    if row is None:
        raise DefinitionNotFoundError(process_id, version)
    return _loaded(uow, row)


def _loaded(uow: UnitOfWork, row: ProcessDefinition) -> LoadedDefinition:
    cache = uow.runtime.definitions
    if row.id not in cache:  # spec, task_meta and forms are deferred columns: read only here
        cache[row.id] = LoadedDefinition(
            row.id, row.process_id, row.version, row.content_hash, row.spec, row.task_meta, row.forms
        )
    return cache[row.id]


def _bundle_digest(files: list[BundleFile]) -> str:
    lines = sorted(f"{f.name}\t{hashlib.sha256(f.content).hexdigest()}" for f in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _load_form(file: BundleFile) -> dict:
    try:
        schema = json.loads(file.content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DefinitionError(f"form schema is not valid JSON: {exc}", file=file.name) from exc
    if not isinstance(schema, dict):
        raise DefinitionError("form schema must be a JSON object", file=file.name)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise DefinitionError(
            f"form schema is not a valid JSON Schema at {path}: {exc.message}", file=file.name
        ) from exc
    return schema


class parse_errors:
    """Turn SpiffWorkflow's parse and validation errors into DefinitionError with the element id."""

    def __init__(self, file_name: str, root: etree._Element):
        self.file_name = file_name
        self.root = root

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, DefinitionError):
            return False
        if isinstance(exc, ValidationException):
            store = self._unimplemented_data_store(exc)
            if store is not None:
                name = " ".join(store.get("name").split())
                raise DefinitionError(
                    f"data store {name!r} has no implementation in this engine",
                    file=self.file_name,
                    element_id=store.get("id"),
                ) from exc
            element_id = getattr(exc, "id", "") or self._element_at_line(getattr(exc, "line_number", None))
            raise DefinitionError(
                _first_line(exc), file=exc.file_name or self.file_name, element_id=element_id or None
            ) from exc
        if isinstance(
            exc, (SpiffWorkflowException, etree.LxmlError, LookupError, ValueError, AttributeError, TypeError)
        ):
            raise DefinitionError(f"cannot be parsed: {_first_line(exc)}", file=self.file_name) from exc
        return False

    def _unimplemented_data_store(self, exc: ValidationException) -> etree._Element | None:
        """The dataStore SpiffWorkflow's "Data Store with name X has no implementation" is about."""
        match = _NO_DATA_STORE.match(str(exc.args[0]) if exc.args else "")
        if match is None:
            return None
        stores = self.root.getroottree().getroot().iter(f"{{{BPMN_NS}}}dataStore")
        return next((s for s in stores if s.get("name") == match.group(1) and s.get("id")), None)

    def _element_at_line(self, line) -> str | None:
        if not line:
            return None
        for element in self.root.iter():
            if element.sourceline == line:
                return element.get("id") or None
        return None


def _not_executable(documents: dict[str, etree._Element]) -> DefinitionError:
    """The refusal of a bundle without an executable process, naming its first process if it has one."""
    processes = [
        (name, process)
        for name, root in documents.items()
        if name.endswith(".bpmn")
        for process in root.iter(f"{{{BPMN_NS}}}process")
        if process.get("id")
    ]
    if not processes:
        return DefinitionError("no executable process in the bundle: it has no process")
    (file_name, process), count = processes[0], len(processes) - 1
    others = {0: "", 1: " (or on the other process)"}.get(count, f" (or on one of the {count} others)")
    return DefinitionError(
        f'no executable process in the bundle: set isExecutable="true" on process {process.get("id")}{others}',
        file=file_name,
        element_id=process.get("id"),
    )


def _first_line(exc: Exception) -> str:
    line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    # XSD messages go on to list every element the schema would accept; the first sentence says it.
    return line.split(" Expected is ", 1)[0]


def _check_flow_references(file_name: str, root: etree._Element) -> None:
    """A sequence flow must join two elements of its own process (SpiffWorkflow's own message
    for a dangling reference names neither the flow nor the missing element)."""
    for process in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess"):
        ids = {el.get("id") for el in process.iterchildren() if el.get("id")}
        for flow in process.iterchildren(f"{{{BPMN_NS}}}sequenceFlow"):
            for attribute in ("sourceRef", "targetRef"):
                if flow.get(attribute) not in ids:
                    raise DefinitionError(
                        f"{attribute} {flow.get(attribute)!r} is not an element of the same process",
                        file=file_name,
                        element_id=flow.get("id"),
                    )


def lanes_by_element(root: etree._Element) -> dict[str, tuple[str, str]]:
    """Element id -> (lane id, candidate role) of the innermost lane holding it (nested lanes come
    later in document order). A lane's role is its candidateRole property, or else its id."""
    lanes = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        role = extension_properties(lane).get(PROP_CANDIDATE_ROLE) or lane.get("id")
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = (lane.get("id"), role)
    return lanes


def _file_of(spec_file: str, dmn_files: dict[str, str]) -> Callable[[str], str]:
    """Element id -> file for messages: DMN ids by their file, any other id the process's file."""
    return lambda element_id: dmn_files.get(element_id, spec_file)


def _check(evaluator: Evaluator, text: str, element_id: str, file_of, *, script: bool = False) -> None:
    try:
        (evaluator.check_script if script else evaluator.check_expression)(text)
    except ExpressionError as exc:
        raise DefinitionError(
            f"expression {text!r} is refused: {exc.reason}", file=file_of(element_id), element_id=element_id
        ) from exc


def _check_expressions(spec, evaluator: Evaluator, file_of, flows: dict) -> None:
    """Every expression and script of a process spec must pass the safe evaluator at deploy time."""
    for task_spec in spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
        if isinstance(task_spec, MultiChoice):
            for condition, target in task_spec.cond_task_specs:
                text = condition.args[0] if condition is not None else None  # SpiffWorkflow's _BpmnCondition
                if text:
                    target_id = getattr(spec.task_specs[target], "bpmn_id", None) or target
                    _check(evaluator, text, flows.get((element_id, target_id), element_id), file_of)
        event_definition = getattr(task_spec, "event_definition", None)
        if isinstance(event_definition, CycleTimerEventDefinition):
            raise DefinitionError(
                "cycle timers are not supported: use a duration or a date",
                file=file_of(element_id),
                element_id=element_id,
            )
        if isinstance(event_definition, (TimerEventDefinition, ConditionalEventDefinition)):
            _check(evaluator, event_definition.expression, element_id, file_of)
        if isinstance(task_spec, ScriptEngineTask) and getattr(task_spec, "script", None):
            _check(evaluator, task_spec.script, element_id, file_of, script=True)
        for attribute in ("prescript", "postscript"):
            if getattr(task_spec, attribute, None):
                _check(evaluator, getattr(task_spec, attribute), element_id, file_of, script=True)
        if isinstance(task_spec, LoopTask) and task_spec.condition:
            _check(evaluator, task_spec.condition, element_id, file_of)
        if isinstance(task_spec, MultiInstanceTask):
            for text in (task_spec.cardinality, task_spec.condition):
                if text:
                    _check(evaluator, text, element_id, file_of)
        if isinstance(task_spec, BusinessRuleTaskMixin):
            check_decision_table(task_spec.dmnEngine.decision_table, evaluator, file_of)
        if isinstance(task_spec, ServiceTask):
            raise DefinitionError(
                f"service task operator {task_spec.operation_name!r} is not a registered service",
                file=file_of(element_id),
                element_id=element_id,
            )


def check_decision_table(table, evaluator: Evaluator, file_of) -> None:
    """Check DMN cells the way SpiffWorkflow's DMN engine combines them with the input expression."""
    for table_input in table.inputs:
        if table_input.expression:
            _check(evaluator, table_input.expression, table_input.id, file_of)
    for rule in table.rules:
        for entry in rule.inputEntries:
            for cell in entry.lhs:
                if cell:
                    _check(
                        evaluator,
                        dmn_cell_expression(entry.input.expression or "dmninputexpr", cell),
                        entry.id,
                        file_of,
                    )
        for entry in rule.outputEntries:
            if entry.text:
                _check(evaluator, entry.text, entry.id, file_of)


def dmn_cell_expression(input_expression: str, cell: str) -> str:
    if "?" in cell:
        return cell.replace("?", "dmninputexpr")
    try:
        ast.parse(cell, mode="eval")
    except SyntaxError:
        return f"{input_expression} {cell}"
    return f"({input_expression}) == ({cell})"


def _refusal(file_of, element_id: str, reason: str) -> DefinitionError:
    return DefinitionError(reason, file=file_of(element_id), element_id=element_id)


def extension_properties(element: etree._Element) -> dict[str, str]:
    """An element's own <spiffworkflow:properties> (not those of elements inside it)."""
    return {
        prop.get("name"): prop.get("value")
        for prop in element.findall(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property")
    }


def _number(properties: dict, name: str, refuse, *, low: float = 0, below: float | None = None) -> float | None:
    value = properties.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        raise refuse(f"{name} must be a number, not {value!r}") from None
    if number < low or (below is not None and number >= below):
        limit = f"below {below:g}" if below is not None else "a number"
        raise refuse(f"{name} must be at least {low:g} and {limit}, not {value!r}")
    return number


def _escalation(properties: dict, defaults: dict, refuse) -> dict:
    """The task's escalation ladder: its own properties over the process's."""
    merged = defaults | {
        k: v for k, v in properties.items() if k in (PROP_REMINDER_SHARE, PROP_GRACE_DAYS, PROP_REASSIGN)
    }
    reassign = merged.get(PROP_REASSIGN) or "none"
    if reassign not in REASSIGN_TARGETS:
        raise refuse(f"{PROP_REASSIGN} must be one of {', '.join(REASSIGN_TARGETS)}, not {reassign!r}")
    grace = _number(merged, PROP_GRACE_DAYS, refuse)
    return {
        "reminder_share": _number(merged, PROP_REMINDER_SHARE, refuse, low=0.01, below=1),
        "grace_days": grace,
        "reassign": None if reassign == "none" or grace is None else reassign,
    }


def _task_meta(
    specs, lanes_by_file: dict, forms: dict, evaluator: Evaluator, dmn_files: dict, ladder: dict[str, str]
) -> dict:
    """What the runtime needs per user task, read once at deploy from lanes and extension properties."""
    user_tasks = {
        task_spec.bpmn_id: (task_spec, spec.file)
        for spec in specs
        for task_spec in spec.task_specs.values()
        if isinstance(task_spec, UserTask)
    }
    meta = {}
    for element_id, (task_spec, file) in user_tasks.items():
        properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
        lanes, file_of = lanes_by_file.get(file, {}), _file_of(file, dmn_files)
        refuse = functools.partial(_refusal, file_of, element_id)
        lane, lane_role = lanes.get(element_id, (None, None))
        role = properties.get(PROP_CANDIDATE_ROLE) or lane_role
        if not role:
            raise refuse(f"user task has no candidate role: put it in a lane or set {PROP_CANDIDATE_ROLE}")
        scope = properties.get(PROP_ORG_SCOPE)
        if scope:
            _check(evaluator, scope, element_id, file_of)
        due_days = _number(properties, PROP_DUE_WORKING_DAYS, refuse)
        four_eyes = properties.get(PROP_FOUR_EYES)
        if four_eyes and four_eyes not in user_tasks:
            raise refuse(f"{PROP_FOUR_EYES} names {four_eyes!r}, which is not a user task of this process")
        form = properties.get(PROP_FORM)
        if form and form not in forms:
            raise refuse(f"{PROP_FORM} names {form!r}, which is not a .json file of the bundle")
        meta[element_id] = {
            "name": task_spec.bpmn_name or element_id,
            "lane": lane,
            "candidate_role": role,
            "org_scope": scope,
            "due_working_days": due_days,
            "four_eyes": four_eyes,
            "form": form,
            "escalation": _escalation(properties, ladder, refuse),
        }
    return meta
