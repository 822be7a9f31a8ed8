"""Read-only queries over the projection and history; they never load workflow snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from .states import TASK_OPEN
from .steps import TaskView


def open_tasks(
    session: Session,
    *,
    assignments: Iterable[tuple[str, str | None]] | None = None,
    claimed_by: str | None = None,
    instance_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TaskView]:
    """Open tasks, soonest due first. `assignments` are (role, scope) pairs of one user (scope
    None: the role anywhere); a task matches when its candidate role and scope match a pair."""
    query = select(HumanTask).where(HumanTask.state == TASK_OPEN)
    if assignments is not None:
        pairs = [
            and_(HumanTask.candidate_role == role, True if scope is None else HumanTask.org_scope == scope)
            for role, scope in assignments
        ]
        if not pairs:
            return []
        query = query.where(or_(*pairs))
    if claimed_by is not None:
        query = query.where(HumanTask.claimed_by == claimed_by)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    query = (
        query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at).limit(limit).offset(offset)
    )
    return [TaskView.of(row) for row in session.scalars(query)]


def instance_history(session: Session, instance_id: str) -> list[HistoryEvent]:
    return list(
        session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq))
    )


@dataclass(frozen=True)
class DefinitionSummary:
    process_id: str
    name: str
    version: int
    instances: int


def definition_summaries(session: Session) -> list[DefinitionSummary]:
    """Every deployed version with the number of instances started on it."""
    rows = session.execute(
        select(
            ProcessDefinition.process_id,
            ProcessDefinition.name,
            ProcessDefinition.version,
            func.count(ProcessInstance.id),
        )
        .outerjoin(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .group_by(ProcessDefinition.id, ProcessDefinition.process_id, ProcessDefinition.name, ProcessDefinition.version)
        .order_by(ProcessDefinition.process_id, ProcessDefinition.version)
    )
    return [DefinitionSummary(*row) for row in rows]


def ping(session: Session) -> None:
    """Raise if the database does not answer."""
    session.execute(select(1))


@dataclass(frozen=True)
class TaskContext:
    """A task with what a service needs to know of its instance."""

    task: TaskView
    business_key: str | None
    process_id: str
    instance_status: str
    definition_id: int
    completed_by: str | None = None

    @classmethod
    def of(cls, row) -> "TaskContext":
        """From the first five columns of a task_context_query row."""
        task, business_key, process_id, status, definition_id = row[:5]
        return cls(TaskView.of(task), business_key, process_id, status, definition_id, task.completed_by)


def task_context_query(*also) -> Select:
    """Tasks (open, completed or cancelled) with their instance's key facts, then the `also`
    columns or entities (which the caller joins); read a row with TaskContext.of."""
    return (
        select(
            HumanTask,
            ProcessInstance.business_key,
            ProcessDefinition.process_id,
            ProcessInstance.status,
            ProcessInstance.definition_id,
            *also,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    )


def find_task(session: Session, task_id: str) -> TaskContext | None:
    row = session.execute(task_context_query().where(HumanTask.id == task_id)).first()
    return None if row is None else TaskContext.of(row)
