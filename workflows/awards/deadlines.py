"""The engine's Deadlines port, answered from the rule set of a nomination: its `step_deadline`
table (step_deadlines.dmn) gives each step's time limit per award; a step it does not list
keeps the diagram's own `dueWorkingDays`."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine import BundleFile, DecisionTables, Evaluator, TimeLimit

from ..errors import DomainError
from .models import RuleFile

DEADLINES_FILE = "step_deadlines.dmn"
DEADLINE_DECISION = "step_deadline"
COUNTS = ("working", "calendar")
ON_RESUBMIT = ("resume", "restart")

_CONTENT = select(RuleFile.content).where(
    RuleFile.rule_set_id == bindparam("rule_set_id"), RuleFile.name == DEADLINES_FILE
)


class RuleSetDeadlines:
    """Runs on every task that opens, so the table is parsed once per content and each
    (step, award) answer is kept: a step costs one primary-key read of the file."""

    def __init__(self, evaluator: Evaluator):
        self._evaluator = evaluator
        self._tables: dict[str, DecisionTables] = {}
        self._limits: dict[tuple[str, str, str | None], TimeLimit | None] = {}

    def time_limit(self, session: Session, element_id: str, data: dict, default_days: float | None):
        diagram = None if default_days is None else TimeLimit(default_days)
        rule_set_id = data.get("rule_set_id")
        content = rule_set_id and session.connection().scalar(_CONTENT, {"rule_set_id": rule_set_id})
        if not content:
            return diagram
        key = (content, element_id, data.get("award_code"))
        if key not in self._limits:
            self._limits[key] = self._decide(rule_set_id, content, element_id, data.get("award_code"))
        return self._limits[key] or diagram

    def _decide(self, rule_set_id: str, content: str, element_id: str, award_code: str | None) -> TimeLimit | None:
        tables = self._tables.get(content)
        if tables is None:
            tables = DecisionTables([BundleFile(DEADLINES_FILE, content.encode("utf-8"))], self._evaluator)
            self._tables[content] = tables
        rows = tables.decide(DEADLINE_DECISION, {"step": element_id, "award_code": award_code})
        if not rows:
            return None
        row = rows[0]
        days, count, on_resubmit = row.get("days"), row.get("count") or "working", row.get("on_resubmit") or "restart"
        if not isinstance(days, (int, float)) or days < 0 or count not in COUNTS or on_resubmit not in ON_RESUBMIT:
            raise DomainError(
                "invalid_rule_set",
                f"{DEADLINES_FILE} of rule set {rule_set_id}: step {element_id}, award {award_code}: days must be a "
                f"number from 0, count one of {COUNTS}, on_resubmit one of {ON_RESUBMIT}; got {dict(row)}",
            )
        return TimeLimit(float(days), calendar_days=count == "calendar", resume=on_resubmit == "resume")
