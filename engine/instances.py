"""Engine operations on instances and tasks: each checks what the operation may do (state,
candidate, claim, four eyes, form) and hands its changes to the step writer (engine.steps).
Each takes an open UnitOfWork and never commits: the calling service owns the transaction."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from . import history
from .definitions import LoadedDefinition, latest_definition, load_definition
from .errors import (
    ConcurrentUpdateError,
    InvalidStateError,
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from .history import NewEvent
from .models import TimerJob
from .runtime import SERIALIZER_VERSION
from .states import (
    COMPLETED,
    JOB_CANCELLED,
    JOB_PENDING,
    JOB_SUSPENDED,
    RUNNING,
    SUSPENDED,
    TASK_COMPLETED,
    TASK_OPEN,
    TERMINATED,
)
from .steps import (
    INSTANCES,
    NO_WAITS,
    TASK_WITH_INSTANCE,
    TASKS,
    Head,
    InstanceRow,
    StepResult,
    TaskView,
    Waits,
    instance_of,
    load_workflow,
    read_instance,
    save_step,
    set_jobs,
    set_task,
    write,
    write_instance,
)
from .uow import UnitOfWork

logger = logging.getLogger(__name__)


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
    write(
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
    instance = Head(instance_id, RUNNING, 0, 0, history.GENESIS_HASH, business_key)
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
    result = save_step(uow, instance, definition, workflow, NO_WAITS, [started], actor)
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

    workflow = load_workflow(uow, instance, definition)
    waits = Waits.of(uow, workflow)
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
    result = save_step(
        uow,
        Head.of(instance),
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
    return replace(result, completed=TaskView.of(task, state=TASK_COMPLETED))


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
    write_instance(uow, Head.of(instance), [claimed], instance.status)
    set_task(uow.session, task_id, claimed_by=actor)
    return TaskView.of(task, claimed_by=actor)


def unclaim_task(uow: UnitOfWork, task_id: str, actor: str) -> TaskView:
    """Give a claimed task back to its candidates. Only the claimer may do this."""
    task, instance = _open_task(uow.session, task_id)
    if task.claimed_by != actor:
        raise TaskNotAllowedError(task_id, actor, "only the claimer can unclaim")
    unclaimed = NewEvent(history.TASK_UNCLAIMED, actor, uow.clock(), {}, task_id=task_id, element_id=task.element_id)
    write_instance(uow, Head.of(instance), [unclaimed], instance.status)
    set_task(uow.session, task_id, claimed_by=None)
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
    write_instance(uow, Head.of(instance), [delegated], instance.status)
    set_task(uow.session, task_id, claimed_by=delegate)
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
    instance = read_instance(uow.session, instance_id)
    if instance.status in (COMPLETED, TERMINATED):
        raise InvalidStateError(instance_id, instance.status, "terminate")
    definition = load_definition(uow, instance.definition_id)
    workflow = load_workflow(uow, instance, definition)
    waits = Waits.of(uow, workflow)
    uow.runtime.cancel(workflow)
    terminated = NewEvent(history.INSTANCE_TERMINATED, actor, uow.clock(), {}, reason=reason)
    head = Head.of(instance, status=TERMINATED)
    result = save_step(uow, head, definition, workflow, waits, [terminated], actor)
    set_jobs(uow.session, instance_id, JOB_SUSPENDED, JOB_CANCELLED)
    return result


def fire_timer(uow: UnitOfWork, job: TimerJob) -> StepResult | None:
    """Fire the BPMN timer a job stands for. Returns None when the timer is no longer waiting
    (its task ended first) or the instance has ended. Jobs of suspended instances are parked
    (status suspended) and never claimed."""
    instance = read_instance(uow.session, job.instance_id)
    if instance.status != RUNNING:
        return None
    definition = load_definition(uow, instance.definition_id)
    workflow = load_workflow(uow, instance, definition)
    waits = Waits.of(uow, workflow)
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
    return save_step(uow, Head.of(instance), definition, workflow, waits, [fired], None)


def _change_status(uow, instance_id, actor, reason, expected, new, event_type) -> StepResult:
    instance = read_instance(uow.session, instance_id)
    _require_status(instance, expected, {SUSPENDED: "suspend", RUNNING: "resume"}[new])
    write_instance(uow, Head.of(instance), [NewEvent(event_type, actor, uow.clock(), {}, reason=reason)], new)
    # Timers of a suspended instance are parked, not cancelled: they come back on resume.
    old_jobs, new_jobs = (JOB_PENDING, JOB_SUSPENDED) if new == SUSPENDED else (JOB_SUSPENDED, JOB_PENDING)
    set_jobs(uow.session, instance_id, old_jobs, new_jobs)
    return StepResult(instance_id, new)


def _open_task(session: Session, task_id: str) -> tuple[Row, InstanceRow]:
    """The open task and its instance (read-only rows), in one query."""
    task = session.connection().execute(TASK_WITH_INSTANCE, {"task_id": task_id}).first()
    if task is None:
        raise TaskNotFoundError(task_id)
    if task.state != TASK_OPEN:
        raise ConcurrentUpdateError(f"task {task_id}")
    return task, instance_of(task)


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
