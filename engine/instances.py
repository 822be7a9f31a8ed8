"""Engine operations on instances and tasks. Each takes an open UnitOfWork and never commits:
the calling service owns the transaction, so snapshot, projection, history and timer jobs land
together or not at all.

Reads go through the ORM; the writes of a step are Core statements in a fixed order (the ORM's
unit of work costs more than the SQL here). The first is `UPDATE process_instance ... WHERE
id = ? AND version = ?`: the optimistic lock that makes the loser of a race fail before it
writes anything else."""

from __future__ import annotations

import functools
import logging
import uuid
from collections import namedtuple
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from . import history
from .definitions import LoadedDefinition, latest_definition, load_definition
from .errors import (
    ConcurrentUpdateError,
    ExpressionError,
    InstanceNotFoundError,
    InvalidStateError,
    ProcessError,
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from .history import NewEvent
from .models import HumanTask, ProcessInstance, TimerJob
from .ports import TimeLimit
from .runtime import SERIALIZER_VERSION, ReadyTask, WaitingTimer
from .uow import UnitOfWork

logger = logging.getLogger(__name__)

RUNNING, SUSPENDED, COMPLETED, TERMINATED = "running", "suspended", "completed", "terminated"
TASK_OPEN, TASK_COMPLETED, TASK_CANCELLED = "open", "completed", "cancelled"
JOB_PENDING, JOB_CANCELLED, JOB_SUSPENDED = "pending", "cancelled", "suspended"
JOB_BPMN_TIMER = "bpmn_timer"
# The rungs of a task's escalation ladder, each a timer job, and the stage each leaves it in.
JOB_REMINDER, JOB_DUE, JOB_ESCALATE = "task_reminder", "task_due", "task_escalate"
ESCALATION_STAGE = {JOB_REMINDER: "reminded", JOB_DUE: "overdue", JOB_ESCALATE: "escalated"}
_LADDER_EVENT = {
    JOB_REMINDER: history.TASK_REMINDED,
    JOB_DUE: history.TASK_OVERDUE,
    JOB_ESCALATE: history.TASK_ESCALATED,
}
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


@dataclass(frozen=True)
class _Waits:
    """What a workflow waits on: ready user tasks and timers. The open human_task rows and the
    pending timer jobs of an instance always mirror this, so a step's changes to both are the
    difference between the waits before and after it (no query needed)."""

    tasks: dict[str, ReadyTask]
    timers: dict[str, WaitingTimer]

    @classmethod
    def of(cls, uow: UnitOfWork, workflow) -> "_Waits":
        ready, timers = uow.runtime.waits(workflow)
        return cls({t.id: t for t in ready}, {t.task_id: t for t in timers})


_NOTHING = _Waits({}, {})


def start_instance(
    uow: UnitOfWork,
    process_id: str,
    actor: str,
    data: dict[str, Any] | None = None,
    *,
    business_key: str | None = None,
    version: int | None = None,
) -> StepResult:
    """Start the latest (or the given) version of a process with `data` as its input.

    Raises DefinitionNotFoundError, ProcessError, ExpressionError.
    """
    data = dict(data or {})
    definition = latest_definition(uow, process_id, version)
    now = uow.clock()
    workflow = uow.runtime.new_workflow(definition.content_hash, definition.spec, data)
    instance_id = str(uuid.uuid4())
    _write(
        uow.session,
        insert(INSTANCES).values(
            id=instance_id,
            definition_id=definition.id,
            business_key=business_key,
            status=RUNNING,
            snapshot={},
            serializer_version=SERIALIZER_VERSION,
            version=0,
            history_seq=0,
            history_hash=history.GENESIS_HASH,
            started_by=actor,
            started_at=now,
            updated_at=now,
        ),
    )
    instance = _Head(instance_id, RUNNING, 0, 0, history.GENESIS_HASH, business_key)
    started = NewEvent(
        history.INSTANCE_STARTED,
        actor,
        now,
        {
            "definition_id": definition.id,
            "process_id": definition.process_id,
            "version": definition.version,
            "business_key": business_key,
            "data": data,
        },
    )
    result = _save(uow, instance, definition, workflow, _NOTHING, [started], actor)
    logger.info("started instance %s of %s v%s", instance_id, definition.process_id, definition.version)
    return result


def complete_task(
    uow: UnitOfWork,
    task_id: str,
    actor: str,
    data: dict[str, Any] | None = None,
    *,
    facts: dict[str, Any] | None = None,
) -> StepResult:
    """Complete an open user task with form `data` and run the process to its next wait.

    `facts` are values the calling service established itself (an eligibility report, a vote
    result): they are not checked against the form, may not be supplied by the user, and are
    recorded apart from the user's input in history.

    Raises TaskNotFoundError, TaskNotAllowedError, TaskDataError, InvalidStateError,
    ConcurrentUpdateError (someone completed it first), ProcessError.
    """
    data = dict(data or {})
    task, instance = _open_task(uow.session, task_id)
    _require_status(instance, RUNNING, "complete a task of")
    definition = load_definition(uow, instance.definition_id)
    _check_actor(uow, task, actor, definition)
    if task.claimed_by and task.claimed_by != actor:
        raise TaskNotAllowedError(task_id, actor, f"claimed by {task.claimed_by}")
    _validate_form(definition, task, data)

    workflow = _load(uow, instance, definition)
    waits = _Waits.of(uow, workflow)
    facts = dict(facts or {})
    current = uow.runtime.task_data(workflow, task_id)
    before = {key: current.get(key) for key in data | facts}
    try:
        uow.runtime.complete_user_task(workflow, task_id, data | facts)
    except LookupError:
        raise ConcurrentUpdateError(f"task {task_id}") from None
    now = uow.clock()
    recorded = {"input": data, "before": before} | ({"facts": facts} if facts else {})
    completed = NewEvent(
        history.TASK_COMPLETED,
        actor,
        now,
        recorded,
        task_id=task_id,
        element_id=task.element_id,
    )
    result = _save(
        uow,
        _Head.of(instance),
        definition,
        workflow,
        waits,
        [completed],
        actor,
        completed_by=actor,
        completed_task=task_id,
        completed_due=task.due_at,
    )
    logger.info("task %s of instance %s completed", task_id, instance.id)
    return result


def claim_task(uow: UnitOfWork, task_id: str, actor: str) -> TaskView:
    """Claim an open task for `actor`. Raises TaskNotFoundError, TaskNotAllowedError."""
    task, instance = _open_task(uow.session, task_id)
    _require_status(instance, RUNNING, "claim a task of")
    _check_actor(uow, task, actor, load_definition(uow, instance.definition_id))
    if task.claimed_by == actor:
        return TaskView.of(task)
    if task.claimed_by:
        raise TaskNotAllowedError(task_id, actor, f"already claimed by {task.claimed_by}")
    claimed = NewEvent(history.TASK_CLAIMED, actor, uow.clock(), {}, task_id=task_id, element_id=task.element_id)
    _write_instance(uow, _Head.of(instance), [claimed], instance.status)
    _set_task(uow.session, task_id, claimed_by=actor)
    return TaskView.of(task, claimed_by=actor)


def unclaim_task(uow: UnitOfWork, task_id: str, actor: str) -> TaskView:
    """Give a claimed task back to its candidates. Only the claimer may do this."""
    task, instance = _open_task(uow.session, task_id)
    if task.claimed_by != actor:
        raise TaskNotAllowedError(task_id, actor, "only the claimer can unclaim")
    unclaimed = NewEvent(history.TASK_UNCLAIMED, actor, uow.clock(), {}, task_id=task_id, element_id=task.element_id)
    _write_instance(uow, _Head.of(instance), [unclaimed], instance.status)
    _set_task(uow.session, task_id, claimed_by=None)
    return TaskView.of(task, claimed_by=None)


def delegate_task(uow: UnitOfWork, task_id: str, actor: str, delegate: str, reason: str) -> TaskView:
    """Hand an open task to `delegate`, who must be a candidate of it (same role and scope); the
    task becomes claimed by them. The actor is its claimer or, when unclaimed, a candidate.
    Raises TaskNotFoundError, TaskNotAllowedError, InvalidStateError."""
    task, instance = _open_task(uow.session, task_id)
    _require_status(instance, RUNNING, "delegate a task of")
    definition = load_definition(uow, instance.definition_id)
    if task.claimed_by not in (None, actor):
        raise TaskNotAllowedError(task_id, actor, f"claimed by {task.claimed_by}")
    _check_actor(uow, task, actor, definition)
    if delegate == actor:
        raise TaskNotAllowedError(task_id, actor, "cannot delegate a task to oneself")
    if not uow.directory.is_candidate(uow.session, delegate, task.candidate_role, task.org_scope):
        raise TaskNotAllowedError(task_id, delegate, f"not a {task.candidate_role} of scope {task.org_scope or 'any'}")
    delegated = NewEvent(
        history.TASK_DELEGATED,
        actor,
        uow.clock(),
        {"from": task.claimed_by, "to": delegate},
        task_id=task_id,
        element_id=task.element_id,
        reason=reason,
    )
    _write_instance(uow, _Head.of(instance), [delegated], instance.status)
    _set_task(uow.session, task_id, claimed_by=delegate)
    return TaskView.of(task, claimed_by=delegate)


def suspend_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> StepResult:
    """Stop a running instance from progressing: its tasks cannot be completed and its timers
    do not fire until it is resumed."""
    return _change_status(uow, instance_id, actor, reason, RUNNING, SUSPENDED, history.INSTANCE_SUSPENDED)


def resume_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> StepResult:
    """Let a suspended instance go on; its parked timers become due again."""
    return _change_status(uow, instance_id, actor, reason, SUSPENDED, RUNNING, history.INSTANCE_RESUMED)


def terminate_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> StepResult:
    """End an instance for good: open tasks are cancelled and timer jobs dropped."""
    instance = _instance(uow.session, instance_id)
    if instance.status in (COMPLETED, TERMINATED):
        raise InvalidStateError(instance_id, instance.status, "terminate")
    definition = load_definition(uow, instance.definition_id)
    workflow = _load(uow, instance, definition)
    waits = _Waits.of(uow, workflow)
    uow.runtime.cancel(workflow)
    terminated = NewEvent(history.INSTANCE_TERMINATED, actor, uow.clock(), {}, reason=reason)
    head = _Head.of(instance, status=TERMINATED)
    result = _save(uow, head, definition, workflow, waits, [terminated], actor)
    _set_jobs(uow.session, instance_id, JOB_SUSPENDED, JOB_CANCELLED)
    return result


def fire_timer(uow: UnitOfWork, job: TimerJob) -> StepResult | None:
    """Fire the BPMN timer a job stands for. Returns None when the timer is no longer waiting
    (its task ended first) or the instance has ended. Jobs of suspended instances are parked
    (status suspended) and never claimed."""
    instance = _instance(uow.session, job.instance_id)
    if instance.status != RUNNING:
        return None
    definition = load_definition(uow, instance.definition_id)
    workflow = _load(uow, instance, definition)
    waits = _Waits.of(uow, workflow)
    if not uow.runtime.fire_timer(workflow, job.task_id):
        return None
    fired = NewEvent(
        history.TIMER_FIRED,
        None,
        uow.clock(),
        {"job_id": job.id, "due_at": job.due_at.isoformat()},
        task_id=job.task_id,
        element_id=job.element_id,
    )
    return _save(uow, _Head.of(instance), definition, workflow, waits, [fired], None)


@dataclass(frozen=True)
class Escalation:
    """One rung of a task's escalation ladder, as recorded: the task as it was before it, who
    supervises it (to be told at the due time) and, when it was reassigned, to whom."""

    kind: str
    task: TaskView
    business_key: str | None
    supervisor: tuple[str, str | None] | None = None
    reassigned_to: tuple[str, str | None] | None = None


def escalate_task(uow: UnitOfWork, job: TimerJob) -> Escalation | None:
    """Take the rung of the escalation ladder a job stands for: record it in history and on the
    task (its stage; for the last rung its new candidates, unclaimed). Returns None when the
    task has ended or its instance is not running; the caller tells the people concerned."""
    row = uow.session.connection().execute(_TASK_WITH_INSTANCE, {"task_id": job.task_id}).first()
    if row is None or row.state != TASK_OPEN or row.instance__status != RUNNING:
        return None
    task, instance = TaskView.of(row), _instance_of(row)
    meta = load_definition(uow, instance.definition_id).task_meta[task.element_id]
    directory, session = uow.directory, uow.session
    data = {"job_id": job.id, "due_at": task.due_at.isoformat() if task.due_at else None}
    supervisor = reassigned_to = None
    if job.kind == JOB_DUE:
        supervisor = directory.supervisor(session, task.candidate_role, task.org_scope, "supervisor")
    elif job.kind == JOB_ESCALATE:
        target = (meta.get("escalation") or {}).get("reassign")
        reassigned_to = directory.supervisor(session, task.candidate_role, task.org_scope, target) if target else None
        data |= {"from": [task.candidate_role, task.org_scope, task.claimed_by], "to": reassigned_to}
    event = NewEvent(_LADDER_EVENT[job.kind], None, uow.clock(), data, task_id=task.id, element_id=task.element_id)
    _write_instance(uow, _Head.of(instance), [event], instance.status)
    changes = {"escalation": ESCALATION_STAGE[job.kind]}
    if reassigned_to:
        changes |= {"candidate_role": reassigned_to[0], "org_scope": reassigned_to[1], "claimed_by": None}
    _set_task(session, task.id, **changes)
    return Escalation(job.kind, task, instance.business_key, supervisor, reassigned_to)


@dataclass(frozen=True)
class _Head:
    """The instance row's concurrency and chain state as this transaction read it."""

    id: str
    status: str
    version: int
    history_seq: int
    history_hash: str
    business_key: str | None

    @classmethod
    def of(cls, instance: Row, **changes) -> "_Head":
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


def _write_instance(
    uow: UnitOfWork,
    head: _Head,
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
        result = _write(uow.session, _BUMP, params)
    else:
        params.update(b_snapshot=snapshot, b_serializer_version=SERIALIZER_VERSION, b_ended_at=ended_at)
        result = _write(uow.session, _BUMP_WITH_SNAPSHOT, params)
    if result.rowcount != 1:
        raise ConcurrentUpdateError(f"instance {head.id}")
    history.append_events(uow.session, rows)


def _load(uow: UnitOfWork, instance: Row, definition: LoadedDefinition):
    return uow.runtime.load(definition.content_hash, definition.spec, instance.snapshot)


def _save(
    uow,
    head: _Head,
    definition,
    workflow,
    before: _Waits,
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
    after = _NOTHING if ended else _Waits.of(uow, workflow)

    _write_instance(uow, head, events, status, runtime.dump(workflow), now if ended else None)

    if completed_task:
        _set_task(session, completed_task, state=TASK_COMPLETED, completed_by=completed_by, ended_at=now)
    cancelled = [task_id for task_id in before.tasks if task_id not in after.tasks and task_id != completed_task]
    if cancelled:
        _set_task(session, cancelled, state=TASK_CANCELLED, ended_at=now)
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
        _write(session, insert(TASKS), opened)

    # Jobs of ended tasks and of timers no longer waiting (their task ended first) are cancelled;
    # only a task with a deadline has jobs (cancelled ones may have: their due time is not at hand).
    gone = [task_id for task_id in before.timers if task_id not in after.timers] + cancelled
    if completed_task and completed_due:
        gone.append(completed_task)
    if gone:
        _write(
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
        _write(session, insert(JOBS), new_jobs)

    views = tuple(TaskView(**{f.name: row.get(f.name) for f in fields(TaskView)}) for row in opened)
    return StepResult(head.id, status, views, tuple(closed), ended)


def _new_task(uow: UnitOfWork, head: _Head, meta: dict, ready: ReadyTask, now: datetime) -> tuple[dict, list]:
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
        org_scope=_org_scope(uow, meta, ready),
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


def _write(session: Session, statement, rows: dict | list[dict] | None = None):
    """Run a Core write statement on the session's connection (inside its transaction)."""
    return session.connection().execute(statement, rows)


def _set_task(session: Session, task_ids: str | list[str], **values) -> None:
    where = TASKS.c.id == task_ids if isinstance(task_ids, str) else TASKS.c.id.in_(task_ids)
    _write(session, update(TASKS).where(where).values(**values))


def _set_jobs(session: Session, instance_id: str, old: str, new: str) -> None:
    _write(session, update(JOBS).where(JOBS.c.instance_id == instance_id, JOBS.c.status == old).values(status=new))


def _change_status(uow, instance_id, actor, reason, expected, new, event_type) -> StepResult:
    instance = _instance(uow.session, instance_id)
    _require_status(instance, expected, {SUSPENDED: "suspend", RUNNING: "resume"}[new])
    _write_instance(uow, _Head.of(instance), [NewEvent(event_type, actor, uow.clock(), {}, reason=reason)], new)
    # Timers of a suspended instance are parked, not cancelled: they come back on resume.
    old_jobs, new_jobs = (JOB_PENDING, JOB_SUSPENDED) if new == SUSPENDED else (JOB_SUSPENDED, JOB_PENDING)
    _set_jobs(uow.session, instance_id, old_jobs, new_jobs)
    return StepResult(instance_id, new)


def _org_scope(uow: UnitOfWork, meta: dict, task: ReadyTask) -> str | None:
    if not meta["org_scope"]:
        return None
    try:
        value = uow.runtime.evaluator.evaluate(meta["org_scope"], task.data)
    except ExpressionError as exc:
        raise ProcessError(task.element_id, f"orgScope {meta['org_scope']!r}: {exc.reason}") from exc
    return None if value is None else str(value)


_TASK_WITH_INSTANCE = (
    select(TASKS, *(column.label(f"instance__{column.name}") for column in INSTANCES.c))
    .join_from(TASKS, INSTANCES, TASKS.c.instance_id == INSTANCES.c.id)
    .where(TASKS.c.id == bindparam("task_id"))
)
_INSTANCE_FIELDS = [column.name for column in INSTANCES.c]
_InstanceRow = namedtuple("_InstanceRow", _INSTANCE_FIELDS)


def _open_task(session: Session, task_id: str) -> tuple[Row, _InstanceRow]:
    """The open task and its instance (read-only rows), in one query."""
    task = session.connection().execute(_TASK_WITH_INSTANCE, {"task_id": task_id}).first()
    if task is None:
        raise TaskNotFoundError(task_id)
    if task.state != TASK_OPEN:
        raise ConcurrentUpdateError(f"task {task_id}")
    return task, _instance_of(task)


def _instance_of(row: Row) -> _InstanceRow:
    return _InstanceRow(*(getattr(row, f"instance__{name}") for name in _INSTANCE_FIELDS))


def _instance(session: Session, instance_id: str) -> Row:
    instance = session.connection().execute(select(INSTANCES).where(INSTANCES.c.id == instance_id)).first()
    if instance is None:
        raise InstanceNotFoundError(instance_id)
    return instance


def _require_status(instance: Row, status: str, operation: str) -> None:
    if instance.status != status:
        raise InvalidStateError(instance.id, instance.status, operation)


def _check_actor(uow: UnitOfWork, task: Row, actor: str, definition: LoadedDefinition) -> None:
    if not uow.directory.is_candidate(uow.session, actor, task.candidate_role, task.org_scope):
        raise TaskNotAllowedError(task.id, actor, f"not a {task.candidate_role} of scope {task.org_scope or 'any'}")
    four_eyes = definition.task_meta[task.element_id]["four_eyes"]
    if four_eyes:
        earlier = (
            uow.session.connection()
            .scalars(
                select(TASKS.c.completed_by).where(
                    TASKS.c.instance_id == task.instance_id,
                    TASKS.c.element_id == four_eyes,
                    TASKS.c.state == TASK_COMPLETED,
                )
            )
            .all()
        )
        if actor in earlier:
            raise TaskNotAllowedError(task.id, actor, f"four eyes: the actor of {four_eyes} may not do this step")


def _validate_form(definition: LoadedDefinition, task: Row, data: dict) -> None:
    """A task's data must match its form; a task without a form takes none (otherwise a user
    could overwrite any process variable, a scope or a routing flag, through it)."""
    if not task.form:
        if data:
            fields = {name: "this step has no form and takes no data" for name in data}
            raise TaskDataError(task.id, fields, {name: "additionalProperties" for name in data})
        return
    validator = Draft202012Validator(definition.forms[task.form])
    errors, kinds = {}, {}
    for error in validator.iter_errors(data):
        path = "/".join(str(p) for p in error.absolute_path) or _missing_field(error) or "(form)"
        errors.setdefault(path, error.message)
        kinds.setdefault(path, error.validator)
    if errors:
        raise TaskDataError(task.id, errors, kinds)


def _missing_field(error) -> str | None:
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return missing[0] if missing else None
    return None
