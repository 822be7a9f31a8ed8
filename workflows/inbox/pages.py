"""What a reviewer's pages show, read in the caller's unit of work: a task with everything
needed to decide it, a nomination with its files, history and comments. The front doors in
workflows.inbox.queries open the transaction; the task page is also read in the transaction of
a refused step (workflows.tasks.services.complete), so that it shows what the step left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import engine
from engine import TaskView, queries
from engine.models import HistoryEvent, HumanTask, ProcessInstance

from ..accounts.principals import Principal
from ..dossiers.models import DossierFile
from ..errors import DomainError, NotFoundError
from ..nominations import access
from ..nominations.files import FileEntry, file_from, files_query
from ..nominations.models import Nomination, NominationWatch, NoticeComment, ReviewComment
from ..nominations.steps import SYSTEM_STEPS, nominee_eligibility
from ..nominations.summaries import NominationSummary, summaries_of
from ..org.models import RoleAssignment, User


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    type: str
    at: datetime
    actor: str | None
    actor_name: str | None
    element_id: str | None
    task_name: str | None  # the step's name when the event is about a task
    reason: str | None
    data: dict


@dataclass(frozen=True)
class CommentEntry:
    kind: str  # review | notice
    text: str
    author_name: str | None
    at: datetime
    resolution: str | None = None


@dataclass(frozen=True)
class NominationDetail:
    nomination: NominationSummary
    open_tasks: list[TaskView]
    files: list[FileEntry]
    history: list[HistoryEntry]
    comments: list[CommentEntry]
    watching: bool


@dataclass(frozen=True)
class Colleague:
    id: str
    full_name: str


@dataclass(frozen=True)
class TaskDetail:
    task: TaskView
    form_schema: dict | None
    nomination: NominationDetail | None
    eligibility: Any  # awards.EligibilityReport, or None when it cannot be computed
    can_act: bool  # candidate or claimer, and the task is open
    system_step: bool  # completed by the council's tally, not by a form
    colleagues: list[Colleague]  # whom the task can be delegated to
    working_days_left: int | None
    overdue: bool


def task_page(uow, principal: Principal, task_id: str) -> TaskDetail:
    """A task as its page shows it. NotFoundError when the principal may not see it."""
    session = uow.session
    context = _visible_task(uow, principal, task_id)
    task = context.task
    nomination = nomination_page(session, principal, context.business_key) if context.business_key else None
    is_open = task.state == queries.TASK_OPEN and context.instance_status == "running"
    candidate = uow.directory.is_candidate(session, principal.id, task.candidate_role, task.org_scope)
    can_act = is_open and (task.claimed_by == principal.id or (candidate and task.claimed_by is None))
    left, overdue = due_state(uow, task.due_at, uow.clock()) if is_open else (None, False)
    return TaskDetail(
        task=task,
        form_schema=engine.form_schema(uow, context.definition_id, task.form),
        nomination=nomination,
        eligibility=_eligibility(uow, session, context.business_key) if nomination else None,
        can_act=can_act,
        system_step=task.element_id in SYSTEM_STEPS,
        colleagues=_colleagues(session, task, principal.id) if can_act else [],
        working_days_left=left,
        overdue=overdue,
    )


def _visible_task(uow, principal: Principal, task_id: str) -> queries.TaskContext:
    access.require_task_visible(uow.session, principal, task_id)
    context = queries.find_task(uow.session, task_id)
    if context is None:
        raise NotFoundError("task", task_id)
    return context


def due_state(uow, due_at: datetime | None, now: datetime) -> tuple[int | None, bool]:
    if due_at is None:
        return None, False
    return uow.calendar.working_days_left(now, due_at), due_at < now


def nomination_page(session: Session, principal: Principal, nomination_id: str) -> NominationDetail:
    access.require_nomination(session, principal, nomination_id)
    (summary,) = summaries_of(session, {nomination_id}).values()
    instance_ids = session.scalars(
        select(ProcessInstance.id)
        .where(ProcessInstance.business_key == nomination_id)
        .order_by(ProcessInstance.started_at)
    ).all()
    open_tasks = [task for instance_id in instance_ids for task in queries.open_tasks(session, instance_id=instance_id)]
    files = [file_from(row) for row in session.execute(files_query().where(DossierFile.nomination_id == nomination_id))]
    watching = session.get(NominationWatch, (principal.id, nomination_id)) is not None
    return NominationDetail(
        summary, open_tasks, files, history(session, instance_ids), _comments(session, nomination_id), watching
    )


def history(session: Session, instance_ids: list[str]) -> list[HistoryEntry]:
    if not instance_ids:
        return []
    rows = session.execute(
        select(HistoryEvent, User.full_name, HumanTask.name)
        .outerjoin(User, User.id == HistoryEvent.actor)
        .outerjoin(HumanTask, HumanTask.id == HistoryEvent.task_id)
        .where(HistoryEvent.instance_id.in_(instance_ids))
        .order_by(HistoryEvent.occurred_at, HistoryEvent.seq)
    )
    return [
        HistoryEntry(
            event.seq,
            event.type,
            event.occurred_at,
            event.actor,
            actor_name,
            event.element_id,
            task_name,
            event.reason,
            event.data or {},
        )
        for event, actor_name, task_name in rows
    ]


def _comments(session: Session, nomination_id: str) -> list[CommentEntry]:
    review = session.execute(
        select(ReviewComment, User.full_name)
        .join(User, User.id == ReviewComment.author_id)
        .where(ReviewComment.nomination_id == nomination_id)
    )
    notice = session.scalars(select(NoticeComment).where(NoticeComment.nomination_id == nomination_id))
    entries = [CommentEntry("review", c.text, name, c.created_at) for c, name in review]
    entries += [CommentEntry("notice", c.text, None, c.received_at, c.resolution) for c in notice]
    return sorted(entries, key=lambda entry: entry.at)


def _eligibility(uow, session: Session, nomination_id: str):
    nomination = session.get(Nomination, nomination_id)
    try:
        return nominee_eligibility(uow, nomination)
    except (DomainError, engine.EngineError):
        return None  # shown as "cannot be checked"; appraisal refuses with the reason


def _colleagues(session: Session, task: TaskView, actor: str) -> list[Colleague]:
    """Active users holding the task's role in its scope (or everywhere), except the actor."""
    if task.candidate_role is None:
        return []
    rows = session.execute(
        select(User.id, User.full_name)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            User.active.is_(True),
            User.id != actor,
            RoleAssignment.role == task.candidate_role,
            or_(RoleAssignment.scope.is_(None), RoleAssignment.scope == task.org_scope),
        )
        .distinct()
        .order_by(User.full_name)
    )
    return [Colleague(*row) for row in rows]
