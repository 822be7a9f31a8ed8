"""Engine operations on instances and tasks. Each takes an open UnitOfWork and never commits:
the calling service owns the transaction (snapshot, projection, history and timer jobs land
together or not at all)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import history
from .definitions import LoadedDefinition, latest_definition, load_definition
from .errors import (
    ConcurrentUpdateError,
    InstanceNotFoundError,
    InvalidStateError,
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from .history import NewEvent
from .models import HumanTask, ProcessInstance, TimerJob
from .runtime import SERIALIZER_VERSION
from .uow import UnitOfWork

logger = logging.getLogger(__name__)

RUNNING, SUSPENDED, COMPLETED, TERMINATED = "running", "suspended", "completed", "terminated"
TASK_OPEN, TASK_COMPLETED, TASK_CANCELLED = "open", "completed", "cancelled"
JOB_PENDING, JOB_CANCELLED, JOB_SUSPENDED = "pending", "cancelled", "suspended"
JOB_BPMN_TIMER = "bpmn_timer"


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

    @classmethod
    def of(cls, row: HumanTask) -> "TaskView":
        return cls(
            row.id, row.instance_id, row.element_id, row.name, row.lane, row.candidate_role, row.org_scope,
            row.form, row.state, row.claimed_by, row.created_at, row.due_at,
        )


@dataclass(frozen=True)
class StepResult:
    """What one operation changed: the domain follows the engine through this."""

    instance_id: str
    status: str
    opened: tuple[TaskView, ...] = ()
    closed: tuple[str, ...] = ()
    ended: bool = False


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
    session = uow.session
    definition = latest_definition(uow, process_id, version)
    now = uow.clock()
    workflow = uow.runtime.new_workflow(definition.spec, data)
    instance = ProcessInstance(
        id=str(uuid.uuid4()),
        definition_id=definition.id,
        business_key=business_key,
        status=RUNNING,
        snapshot={},
        serializer_version=SERIALIZER_VERSION,
        started_by=actor,
        started_at=now,
        updated_at=now,
        history_seq=0,
        history_hash=history.GENESIS_HASH,
    )
    session.add(instance)
    events = [
        NewEvent(
            history.INSTANCE_STARTED, actor, now,
            {"definition_id": definition.id, "process_id": definition.process_id,
             "version": definition.version, "business_key": business_key, "data": data},
        )
    ]
    result = _save(uow, instance, definition, workflow, events, actor)
    logger.info("started instance %s of %s v%s", instance.id, definition.process_id, definition.version)
    return result


def complete_task(uow: UnitOfWork, task_id: str, actor: str, data: dict[str, Any] | None = None) -> StepResult:
    """Complete an open user task with form `data` and run the process to its next wait.

    Raises TaskNotFoundError, TaskNotAllowedError, TaskDataError, InvalidStateError,
    ConcurrentUpdateError (someone completed it first), ProcessError.
    """
    data = dict(data or {})
    task = _open_task(uow.session, task_id)
    instance = _instance(uow.session, task.instance_id)
    _require_status(instance, RUNNING, "complete a task of")
    definition = load_definition(uow, instance.definition_id)
    _check_actor(uow, task, actor, definition)
    if task.claimed_by and task.claimed_by != actor:
        raise TaskNotAllowedError(task_id, actor, f"claimed by {task.claimed_by}")
    _validate_form(definition, task, data)

    workflow = uow.runtime.load(definition.spec, instance.snapshot)
    current = uow.runtime.task_data(workflow, task_id)
    before = {key: current.get(key) for key in data}
    try:
        uow.runtime.complete_user_task(workflow, task_id, data)
    except LookupError:
        raise ConcurrentUpdateError(f"task {task_id}") from None
    now = uow.clock()
    task.state, task.completed_by, task.ended_at = TASK_COMPLETED, actor, now
    events = [
        NewEvent(history.TASK_COMPLETED, actor, now, {"input": data, "before": before},
                 task_id=task_id, element_id=task.element_id)
    ]
    result = _save(uow, instance, definition, workflow, events, actor, closed_by_actor=task_id)
    logger.info("task %s of instance %s completed", task_id, instance.id)
    return result


def claim_task(uow: UnitOfWork, task_id: str, actor: str) -> TaskView:
    """Claim an open task for `actor`. Raises TaskNotFoundError, TaskNotAllowedError."""
    task = _open_task(uow.session, task_id)
    instance = _instance(uow.session, task.instance_id)
    _require_status(instance, RUNNING, "claim a task of")
    _check_actor(uow, task, actor, load_definition(uow, instance.definition_id))
    if task.claimed_by == actor:
        return TaskView.of(task)
    if task.claimed_by:
        raise TaskNotAllowedError(task_id, actor, f"already claimed by {task.claimed_by}")
    task.claimed_by = actor
    _touch(uow, instance, [NewEvent(history.TASK_CLAIMED, actor, uow.clock(), {}, task_id=task_id, element_id=task.element_id)])
    return TaskView.of(task)


def unclaim_task(uow: UnitOfWork, task_id: str, actor: str) -> TaskView:
    """Give a claimed task back to its candidates. Only the claimer may do this."""
    task = _open_task(uow.session, task_id)
    instance = _instance(uow.session, task.instance_id)
    if task.claimed_by != actor:
        raise TaskNotAllowedError(task_id, actor, "only the claimer can unclaim")
    task.claimed_by = None
    _touch(uow, instance, [NewEvent(history.TASK_UNCLAIMED, actor, uow.clock(), {}, task_id=task_id, element_id=task.element_id)])
    return TaskView.of(task)


def suspend_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> StepResult:
    """Stop a running instance from progressing: its tasks cannot be completed and its timers
    do not fire until it is resumed."""
    instance = _instance(uow.session, instance_id)
    _require_status(instance, RUNNING, "suspend")
    instance.status = SUSPENDED
    _set_job_status(uow, instance.id, JOB_PENDING, JOB_SUSPENDED)
    _touch(uow, instance, [NewEvent(history.INSTANCE_SUSPENDED, actor, uow.clock(), {}, reason=reason)])
    return StepResult(instance.id, instance.status)


def resume_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> StepResult:
    instance = _instance(uow.session, instance_id)
    _require_status(instance, SUSPENDED, "resume")
    instance.status = RUNNING
    _set_job_status(uow, instance.id, JOB_SUSPENDED, JOB_PENDING)
    _touch(uow, instance, [NewEvent(history.INSTANCE_RESUMED, actor, uow.clock(), {}, reason=reason)])
    return StepResult(instance.id, instance.status)


def terminate_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> StepResult:
    """End an instance for good: open tasks are cancelled and timer jobs dropped."""
    instance = _instance(uow.session, instance_id)
    if instance.status in (COMPLETED, TERMINATED):
        raise InvalidStateError(instance_id, instance.status, "terminate")
    _set_job_status(uow, instance.id, JOB_SUSPENDED, JOB_PENDING)
    definition = load_definition(uow, instance.definition_id)
    workflow = uow.runtime.load(definition.spec, instance.snapshot)
    uow.runtime.cancel(workflow)
    instance.status = TERMINATED
    events = [NewEvent(history.INSTANCE_TERMINATED, actor, uow.clock(), {}, reason=reason)]
    return _save(uow, instance, definition, workflow, events, actor)


def fire_timer(uow: UnitOfWork, job: TimerJob) -> StepResult | None:
    """Fire the BPMN timer a job stands for. Returns None when the timer is no longer waiting
    (its task ended first) or the instance has ended. Jobs of suspended instances are parked
    (status suspended) and never claimed."""
    instance = _instance(uow.session, job.instance_id)
    if instance.status != RUNNING:
        return None
    definition = load_definition(uow, instance.definition_id)
    workflow = uow.runtime.load(definition.spec, instance.snapshot)
    if not uow.runtime.fire_timer(workflow, job.task_id):
        return None
    events = [NewEvent(history.TIMER_FIRED, None, uow.clock(), {"job_id": job.id, "due_at": job.due_at.isoformat()},
                       task_id=job.task_id, element_id=job.element_id)]
    return _save(uow, instance, definition, workflow, events, None)


def _save(uow, instance, definition, workflow, events, actor, closed_by_actor=None) -> StepResult:
    """Write snapshot, projection, timer jobs and history in the caller's transaction."""
    session: Session = uow.session
    now = uow.clock()
    runtime = uow.runtime
    ended = instance.status == TERMINATED or runtime.is_completed(workflow)
    if runtime.is_completed(workflow) and instance.status != TERMINATED:
        instance.status = COMPLETED
        events.append(NewEvent(history.INSTANCE_COMPLETED, actor, now, {}))
    if ended:
        instance.ended_at = now

    ready = {t.id: t for t in ([] if ended else runtime.ready_user_tasks(workflow))}
    open_rows = {row.id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TASK_OPEN)
    )} if instance.version else {}
    closed = [closed_by_actor] if closed_by_actor else []
    for task_id, row in open_rows.items():
        if task_id not in ready:
            row.state, row.ended_at = TASK_CANCELLED, now
            closed.append(task_id)
    opened = []
    for task_id, ready_task in ready.items():
        if task_id in open_rows:
            continue
        meta = definition.task_meta[ready_task.element_id]
        row = HumanTask(
            id=task_id,
            instance_id=instance.id,
            element_id=ready_task.element_id,
            name=meta["name"],
            lane=meta["lane"],
            candidate_role=meta["candidate_role"],
            org_scope=_org_scope(uow, meta, ready_task),
            form=meta["form"],
            state=TASK_OPEN,
            created_at=now,
            due_at=uow.calendar.add_working_days(now, meta["due_working_days"])
            if meta["due_working_days"] is not None else None,
        )
        session.add(row)
        opened.append(row)

    _sync_timer_jobs(uow, instance, [] if ended else runtime.waiting_timers(workflow), now)

    instance.snapshot = runtime.dump(workflow)
    instance.serializer_version = SERIALIZER_VERSION
    instance.updated_at = now
    history.append_events(session, instance, events)
    _flush(session)
    return StepResult(instance.id, instance.status, tuple(TaskView.of(r) for r in opened), tuple(closed), ended)


def _sync_timer_jobs(uow, instance, timers, now) -> None:
    session = uow.session
    pending = {
        job.task_id: job
        for job in session.scalars(
            select(TimerJob).where(
                TimerJob.instance_id == instance.id, TimerJob.kind == JOB_BPMN_TIMER, TimerJob.status == JOB_PENDING
            )
        )
    } if instance.version else {}
    waiting = {timer.task_id: timer for timer in timers}
    for task_id, job in pending.items():
        if task_id not in waiting:
            job.status = JOB_CANCELLED
    for task_id, timer in waiting.items():
        if task_id not in pending:
            session.add(TimerJob(
                due_at=timer.due_at, kind=JOB_BPMN_TIMER, instance_id=instance.id, task_id=task_id,
                element_id=timer.element_id, status=JOB_PENDING, attempts=0, created_at=now,
            ))


def _set_job_status(uow: UnitOfWork, instance_id: str, old: str, new: str) -> None:
    uow.session.execute(
        update(TimerJob).where(TimerJob.instance_id == instance_id, TimerJob.status == old).values(status=new)
    )


def _touch(uow: UnitOfWork, instance: ProcessInstance, events: list[NewEvent]) -> None:
    """Record a change that does not step the workflow; bumps the version like any other."""
    instance.updated_at = uow.clock()
    history.append_events(uow.session, instance, events)
    _flush(uow.session)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConcurrentUpdateError("the instance") from exc


def _org_scope(uow: UnitOfWork, meta: dict, task) -> str | None:
    if not meta["org_scope"]:
        return None
    value = uow.runtime.evaluator.evaluate(meta["org_scope"], task.data)
    return None if value is None else str(value)


def _open_task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise TaskNotFoundError(task_id)
    if task.state != TASK_OPEN:
        raise ConcurrentUpdateError(f"task {task_id}")
    return task


def _instance(session: Session, instance_id: str) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise InstanceNotFoundError(instance_id)
    return instance


def _require_status(instance: ProcessInstance, status: str, operation: str) -> None:
    if instance.status != status:
        raise InvalidStateError(instance.id, instance.status, operation)


def _check_actor(uow: UnitOfWork, task: HumanTask, actor: str, definition: LoadedDefinition) -> None:
    if not uow.directory.is_candidate(uow.session, actor, task.candidate_role, task.org_scope):
        raise TaskNotAllowedError(task.id, actor, f"not a {task.candidate_role} of scope {task.org_scope or 'any'}")
    four_eyes = definition.task_meta[task.element_id]["four_eyes"]
    if four_eyes:
        earlier = uow.session.scalars(
            select(HumanTask.completed_by).where(
                HumanTask.instance_id == task.instance_id,
                HumanTask.element_id == four_eyes,
                HumanTask.state == TASK_COMPLETED,
            )
        ).all()
        if actor in earlier:
            raise TaskNotAllowedError(task.id, actor, f"four eyes: the actor of {four_eyes} may not do this step")


def _validate_form(definition: LoadedDefinition, task: HumanTask, data: dict) -> None:
    if not task.form:
        return
    validator = Draft202012Validator(definition.forms[task.form])
    errors = {}
    for error in validator.iter_errors(data):
        path = "/".join(str(p) for p in error.absolute_path) or _missing_field(error) or "(form)"
        errors.setdefault(path, error.message)
    if errors:
        raise TaskDataError(task.id, errors)


def _missing_field(error) -> str | None:
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return missing[0] if missing else None
    return None

