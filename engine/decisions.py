"""Decision tables (DMN) evaluated outside a process, for rules the domain asks about directly
(eligibility criteria, council vote rules). Files get the same hardened parsing and the same
deploy-time expression checks as a deployed bundle."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.specs.model import HitPolicy
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .definitions import BundleFile, check_decision_table, parse_errors, parse_xml
from .errors import DefinitionError
from .expressions import Evaluator, SafeScriptEngine
from .runtime import process_errors


@dataclass(frozen=True)
class _DecisionTask:
    """The little of a SpiffWorkflow task that its DMN engine (and its error reports) read."""

    data: dict[str, Any]
    workflow: Any
    task_spec: Any

    @classmethod
    def of(cls, data: dict[str, Any], script_engine: SafeScriptEngine, decision_id: str, engine) -> "_DecisionTask":
        workflow = SimpleNamespace(script_engine=script_engine, spec=SimpleNamespace(file=decision_id))
        workflow.top_workflow = workflow
        task_spec = SimpleNamespace(dmnEngine=engine, name=decision_id, bpmn_id=decision_id, bpmn_name=decision_id)
        return cls(dict(data), workflow, task_spec)


class DecisionTables:
    """The decisions of some .dmn files, by decision id. Raises DefinitionError when a file does
    not parse or a cell is refused by the safe evaluator (naming the file and the cell)."""

    def __init__(self, files: list[BundleFile], evaluator: Evaluator):
        parser = SpiffBpmnParser(validator=VALIDATOR)
        self._script_engine = SafeScriptEngine(evaluator)
        self._engines = {}
        for file in files:
            root = parse_xml(file)
            with parse_errors(file.name, root):
                parser.add_dmn_xml(root, filename=file.name)
            for element in root.iter():
                if isinstance(element.tag, str) and element.tag.endswith("}decision"):
                    decision_id = element.get("id")
                    with parse_errors(file.name, element):
                        engine = parser.get_engine(decision_id, element)
                    check_decision_table(engine.decision_table, evaluator, lambda _id, name=file.name: name)
                    self._engines[decision_id] = engine

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._engines)

    def decide(self, decision_id: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The outputs of the matching rules, one dict per rule, in table order (one rule at most
        for FIRST and UNIQUE tables). Raises ProcessError when a cell fails on this data."""
        engine = self._engines.get(decision_id)
        if engine is None:
            raise DefinitionError(f"no decision {decision_id!r}")
        task = _DecisionTask.of(data, self._script_engine, decision_id, engine)
        with process_errors(decision_id):
            result = engine.result(task)
        if engine.decision_table.hit_policy != HitPolicy.COLLECT.value:
            return [result] if result else []
        keys = list(result)
        return [dict(zip(keys, values, strict=True)) for values in zip(*(result[k] for k in keys), strict=True)]
