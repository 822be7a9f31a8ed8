"""The step writer: how an operation's changes reach the database. Each function runs inside
the caller's UnitOfWork and never commits, so snapshot, projection, history and timer jobs land
together or not at all.

Reads go through the ORM; the writes of a step are Core statements in a fixed order (the ORM's
unit of work costs more than the SQL here). The first is `UPDATE process_instance ... WHERE
id = ? AND version = ?`: the optimistic lock that makes the loser of a race fail before it
writes anything else."""

from __future__ import annotations

import functools
from collections import namedtuple
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from . import history
from .definitions import LoadedDefinition
from .errors import ConcurrentUpdateError, ExpressionError, InstanceNotFoundError, ProcessError
from .history import NewEvent
from .models import HumanTask, ProcessInstance, TimerJob
from .ports import TimeLimit
from .runtime import SERIALIZER_VERSION, ReadyTask, WaitingTimer
from .states import (
    COMPLETED,
    JOB_BPMN_TIMER,
    JOB_CANCELLED,
    JOB_DUE,
    JOB_ESCALATE,
    JOB_PENDING,
    JOB_REMINDER,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_OPEN,
    TERMINATED,
)
from .uow import UnitOfWork

INSTANCES, TASKS, JOBS = ProcessInstance.__table__, HumanTask.__table__, TimerJob.__table__


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: str
    element_id: str
    name: str
    lane: str | None
    candidate_role: str | None
    org_scope: str | None
    form: str | None
    state: str
    claimed_by: str | None
    created_at: datetime
    due_at: datetime | None
    escalation: str | None = None  # how far up its escalation ladder: reminded, overdue, escalated

    @classmethod
    def of(cls, row: Row, **changes) -> "TaskView":
        values = {field.name: getattr(row, field.name) for field in fields(cls)}
        return cls(**(values | changes))


@dataclass(frozen=True)
class StepResult:
    """What one operation changed: the domain follows the engine through this."""

    instance_id: str
    status: str
    opened: tuple[TaskView, ...] = ()
    closed: tuple[str, ...] = ()
    ended: bool = False
    completed: TaskView | None = None  # the user task the operation completed, if it completed one


@dataclass(frozen=True)
class Waits:
    """What a workflow waits on: ready user tasks and timers. The open human_task rows and the
    pending timer jobs of an instance always mirror this, so a step's changes to both are the
    difference between the waits before and after it (no query needed)."""

    tasks: dict[str, ReadyTask]
    timers: dict[str, WaitingTimer]

    @classmethod
    def of(cls, uow: UnitOfWork, workflow) -> "Waits":
        ready, timers = uow.runtime.waits(workflow)
        return cls({t.id: t for t in ready}, {t.task_id: t for t in timers})


NO_WAITS = Waits({}, {})


@dataclass(frozen=True)
class Head:
    """The instance row's concurrency and chain state as this transaction read it."""

    id: str
    status: str
    version: int
    history_seq: int
    history_hash: str
    business_key: str | None

    @classmethod
    def of(cls, instance: Row, **changes) -> "Head":
        return cls(
            instance.id,
            changes.get("status", instance.status),
            instance.version,
            instance.history_seq,
            instance.history_hash,
            instance.business_key,
        )


# The optimistic lock, compiled once: bump the version only if it is still the one we read.
_BUMP = (
    update(INSTANCES)
    .where(INSTANCES.c.id == bindparam("b_id"), INSTANCES.c.version == bindparam("b_version"))
    .values(
        version=bindparam("b_new_version"),
        status=bindparam("b_status"),
        history_seq=bindparam("b_seq"),
        history_hash=bindparam("b_hash"),
        updated_at=bindparam("b_updated_at"),
    )
)
_BUMP_WITH_SNAPSHOT = _BUMP.values(
    snapshot=bindparam("b_snapshot"),
    serializer_version=bindparam("b_serializer_version"),
    ended_at=bindparam("b_ended_at"),
)


def write_instance(
    uow: UnitOfWork,
    head: Head,
    events: list[NewEvent],
    status: str,
    snapshot: dict | None = None,
    ended_at: datetime | None = None,
) -> None:
    """Bump the instance's version if nobody else did first (with the new snapshot, when the
    workflow stepped), then append its history events."""
    rows, (seq, digest) = history.link_events(head.id, (head.history_seq, head.history_hash), events)
    params = dict(
        b_id=head.id,
        b_version=head.version,
        b_new_version=head.version + 1,
        b_status=status,
        b_seq=seq,
        b_hash=digest,
        b_updated_at=uow.clock(),
    )
    if snapshot is None:
        result = write(uow.session, _BUMP, params)
    else:
        params.update(b_snapshot=snapshot, b_serializer_version=SERIALIZER_VERSION, b_ended_at=ended_at)
        result = write(uow.session, _BUMP_WITH_SNAPSHOT, params)
    if result.rowcount != 1:
        raise ConcurrentUpdateError(f"instance {head.id}")
    history.append_events(uow.session, rows)


def load_workflow(uow: UnitOfWork, instance: Row, definition: LoadedDefinition):
    return uow.runtime.load(definition.content_hash, definition.spec, instance.snapshot)


def save_step(
    uow,
    head: Head,
    definition,
    workflow,
    before: Waits,
    events,
    actor,
    *,
    completed_by: str | None = None,
    completed_task: str | None = None,
    completed_due: datetime | None = None,
) -> StepResult:
    """Write the step: instance row first (the optimistic lock), then projection, jobs, history."""
    session: Session = uow.session
    now = uow.clock()
    runtime = uow.runtime
    status = head.status
    if status != TERMINATED and runtime.is_completed(workflow):
        status = COMPLETED
        events.append(NewEvent(history.INSTANCE_COMPLETED, actor, now, {}))
    ended = status in (COMPLETED, TERMINATED)
    after = NO_WAITS if ended else Waits.of(uow, workflow)

    write_instance(uow, head, events, status, runtime.dump(workflow), now if ended else None)

    if completed_task:
        set_task(session, completed_task, state=TASK_COMPLETED, completed_by=completed_by, ended_at=now)
    cancelled = [task_id for task_id in before.tasks if task_id not in after.tasks and task_id != completed_task]
    if cancelled:
        set_task(session, cancelled, state=TASK_CANCELLED, ended_at=now)
    closed = ([completed_task] if completed_task else []) + cancelled
    new_jobs = []
    opened = []
    for task_id, ready in after.tasks.items():
        if task_id not in before.tasks:
            meta = definition.task_meta[ready.element_id]
            task, ladder = _new_task(uow, head, meta, ready, now)
            opened.append(task)
            new_jobs += ladder
    if opened:
        write(session, insert(TASKS), opened)

    # Jobs of ended tasks and of timers no longer waiting (their task ended first) are cancelled;
    # only a task with a deadline has jobs (cancelled ones may have: their due time is not at hand).
    gone = [task_id for task_id in before.timers if task_id not in after.timers] + cancelled
    if completed_task and completed_due:
        gone.append(completed_task)
    if gone:
        write(
            session,
            update(JOBS)
            .where(JOBS.c.instance_id == head.id, JOBS.c.task_id.in_(gone), JOBS.c.status == JOB_PENDING)
            .values(status=JOB_CANCELLED),
        )
    new_jobs += [
        _job(JOB_BPMN_TIMER, runtime.timer_due(workflow, task_id, now), head.id, task_id, timer.element_id, now)
        for task_id, timer in after.timers.items()
        if task_id not in before.timers
    ]
    if new_jobs:
        write(session, insert(JOBS), new_jobs)

    views = tuple(TaskView(**{f.name: row.get(f.name) for f in fields(TaskView)}) for row in opened)
    return StepResult(head.id, status, views, tuple(closed), ended)


def _new_task(uow: UnitOfWork, head: Head, meta: dict, ready: ReadyTask, now: datetime) -> tuple[dict, list]:
    """The projection row of a task that became ready, with its due time, and the timer jobs of
    its escalation ladder."""
    instance_id = head.id
    limit = uow.deadlines.time_limit(uow.session, ready.element_id, ready.data, meta["due_working_days"])
    due_at, ladder = None, []
    if limit is not None:
        add = uow.calendar.add_calendar_days if limit.calendar_days else uow.calendar.add_working_days
        days = limit.days - _days_used(uow, instance_id, ready.element_id, limit) if limit.resume else limit.days
        days = max(days, 0)
        due_at = add(now, days)
        ladder = _ladder(
            meta.get("escalation") or {}, instance_id, ready, now, due_at, lambda extra: add(now, days + extra)
        )
    row = dict(
        id=ready.id,
        instance_id=instance_id,
        business_key=head.business_key,
        element_id=ready.element_id,
        name=meta["name"],
        lane=meta["lane"],
        candidate_role=meta["candidate_role"],
        org_scope=org_scope(uow, meta, ready),
        form=meta["form"],
        state=TASK_OPEN,
        claimed_by=None,
        created_at=now,
        due_at=due_at,
        escalation=None,
    )
    return row, ladder


def _ladder(escalation: dict, instance_id: str, ready: ReadyTask, now: datetime, due_at: datetime, after_due) -> list:
    """Timer jobs for a task's escalation ladder: a reminder at a share of its time, the due
    time itself, and the reassignment a grace period after it."""
    job = functools.partial(_job, instance_id=instance_id, task_id=ready.id, element_id=ready.element_id, now=now)
    jobs = [job(JOB_DUE, due_at)]
    share = escalation.get("reminder_share")
    if share and due_at > now:
        jobs.append(job(JOB_REMINDER, now + (due_at - now) * share))
    if escalation.get("reassign"):
        jobs.append(job(JOB_ESCALATE, after_due(escalation["grace_days"])))
    return jobs


def _job(kind: str, due_at: datetime, instance_id: str, task_id: str, element_id: str, now: datetime) -> dict:
    return dict(
        due_at=due_at,
        kind=kind,
        instance_id=instance_id,
        task_id=task_id,
        element_id=element_id,
        status=JOB_PENDING,
        attempts=0,
        created_at=now,
    )


def _days_used(uow: UnitOfWork, instance_id: str, element_id: str, limit: TimeLimit) -> float:
    """Days the earlier runs of this step took, from opening to ending: a step that comes back
    after a return resumes its clock with what is left. The time in between does not count."""
    runs = uow.session.connection().execute(
        select(TASKS.c.created_at, TASKS.c.ended_at).where(
            TASKS.c.instance_id == instance_id, TASKS.c.element_id == element_id, TASKS.c.ended_at.is_not(None)
        )
    )
    spans = [(run.created_at, run.ended_at) for run in runs]
    if limit.calendar_days:
        return sum((end - start) / timedelta(days=1) for start, end in spans)
    return sum(uow.calendar.working_days_between(start, end) for start, end in spans)


def write(session: Session, statement, rows: dict | list[dict] | None = None):
    """Run a Core write statement on the session's connection (inside its transaction)."""
    return session.connection().execute(statement, rows)


def set_task(session: Session, task_ids: str | list[str], **values) -> None:
    where = TASKS.c.id == task_ids if isinstance(task_ids, str) else TASKS.c.id.in_(task_ids)
    write(session, update(TASKS).where(where).values(**values))


def set_jobs(session: Session, instance_id: str, old: str, new: str) -> None:
    write(session, update(JOBS).where(JOBS.c.instance_id == instance_id, JOBS.c.status == old).values(status=new))


def org_scope(uow: UnitOfWork, meta: dict, task: ReadyTask) -> str | None:
    if not meta["org_scope"]:
        return None
    try:
        value = uow.runtime.evaluator.evaluate(meta["org_scope"], task.data)
    except ExpressionError as exc:
        raise ProcessError(task.element_id, f"orgScope {meta['org_scope']!r}: {exc.reason}") from exc
    return None if value is None else str(value)


TASK_WITH_INSTANCE = (
    select(TASKS, *(column.label(f"instance__{column.name}") for column in INSTANCES.c))
    .join_from(TASKS, INSTANCES, TASKS.c.instance_id == INSTANCES.c.id)
    .where(TASKS.c.id == bindparam("task_id"))
)
_INSTANCE_FIELDS = [column.name for column in INSTANCES.c]
InstanceRow = namedtuple("InstanceRow", _INSTANCE_FIELDS)


def instance_of(row: Row) -> InstanceRow:
    return InstanceRow(*(getattr(row, f"instance__{name}") for name in _INSTANCE_FIELDS))


def read_instance(session: Session, instance_id: str) -> Row:
    instance = session.connection().execute(select(INSTANCES).where(INSTANCES.c.id == instance_id)).first()
    if instance is None:
        raise InstanceNotFoundError(instance_id)
    return instance
