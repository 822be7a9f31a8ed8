"""Moving running instances to another deployed version of their process: a dry run that says
which instances can move and why the others cannot, and the move itself.

A move does not run the process forward: the instance waits where it waited (only what the move
itself makes ready runs), its open tasks keep their ids, claims and deadlines, its waiting timers
keep their jobs. What the target version changes for a task takes effect now where the inbox
shows it (name, form, candidates) and otherwise the next time the task opens (its time limit and
escalation ladder)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import Row, bindparam, select, update

from . import history
from .definitions import LoadedDefinition, load_definition
from .errors import ConcurrentUpdateError, MigrationError, ProcessError
from .history import NewEvent
from .runtime import MISFIT_PROCESS, MISFIT_REMOVED, Misfit, ReadyTask
from .states import JOB_PENDING, JOB_SUSPENDED, RUNNING, SUSPENDED, TASK_OPEN
from .steps import (
    INSTANCES,
    JOBS,
    TASKS,
    Head,
    StepResult,
    Waits,
    load_workflow,
    org_scope,
    read_instance,
    save_step,
    set_jobs,
    set_task,
    write,
)
from .uow import UnitOfWork

logger = logging.getLogger(__name__)

# The settings of a task the inbox shows, refreshed from the target when the instance moves.
_SHOWN = {
    "element_id": "element",
    "name": "name",
    "lane": "lane",
    "form": "form",
    "candidate_role": "candidate role",
    "org_scope": "org scope",
}
# Settings read when a task opens: the target's apply the next time it does.
_ON_OPENING = {"due_working_days": "due working days", "escalation": "escalation ladder"}
_VERBS = {
    "completed": "was completed at",
    "waiting": "is waiting at",
    "running": "is running at",
    "expected": "is expected at",
    "cancelled": "was cancelled at",
    "failed": "failed at",
}
# The move's own optimistic lock: the definition changes only on the version this transaction read.
_MOVE = (
    update(INSTANCES)
    .where(INSTANCES.c.id == bindparam("m_id"), INSTANCES.c.version == bindparam("m_version"))
    .values(definition_id=bindparam("m_definition_id"))
)


@dataclass(frozen=True)
class MigrationCheck:
    """Whether an instance can move to a target version: `reasons` say why not, naming the
    elements and versions; `changes` say what a move would change for it."""

    instance_id: str
    business_key: str | None
    status: str
    from_definition_id: int
    from_version: int
    to_definition_id: int
    to_version: int
    movable: bool
    reasons: tuple[str, ...]
    changes: tuple[str, ...] = ()


def check_migration(uow: UnitOfWork, instance_ids: Sequence[str], target_definition_id: int) -> list[MigrationCheck]:
    """The dry run: whether each instance can move to the target version, and why not. Writes
    nothing. Raises InstanceNotFoundError, DefinitionNotFoundError."""
    target = load_definition(uow, target_definition_id)
    return [_plan(uow, read_instance(uow.session, instance_id), target).check for instance_id in instance_ids]


def migrate_instance(
    uow: UnitOfWork, instance_id: str, target_definition_id: int, actor: str, reason: str
) -> StepResult:
    """Move a running or suspended instance to another deployed version of its process, in the
    caller's transaction: the snapshot on the target's spec, its definition, an InstanceMigrated
    history event, the open tasks' settings; tasks and timers the move itself starts or ends are
    opened or cancelled as in any step. Nothing is written when the move is refused.

    Raises MigrationError, InstanceNotFoundError, DefinitionNotFoundError, ConcurrentUpdateError
    (the instance changed since this transaction read it), ProcessError."""
    instance = read_instance(uow.session, instance_id)
    target = load_definition(uow, target_definition_id)
    plan = _plan(uow, instance, target)
    if not plan.check.movable:
        raise MigrationError(instance_id, plan.check.reasons)
    session = uow.session
    moved = write(session, _MOVE, {"m_id": instance_id, "m_version": instance.version, "m_definition_id": target.id})
    if moved.rowcount != 1:
        raise ConcurrentUpdateError(f"instance {instance_id}")
    # A suspended instance's jobs are parked: unpark them while the step cancels and adds jobs.
    suspended = instance.status == SUSPENDED
    if suspended:
        set_jobs(session, instance_id, JOB_SUSPENDED, JOB_PENDING)
    migrated = NewEvent(
        history.INSTANCE_MIGRATED,
        actor,
        uow.clock(),
        {"from": _version_of(plan.source), "to": _version_of(target)},
        reason=reason,
    )
    result = save_step(uow, Head.of(instance), target, plan.workflow, plan.before, [migrated], actor)
    for task_id, values in plan.refreshed.items():
        set_task(session, task_id, **values)
        if "element_id" in values:
            write(
                session,
                update(JOBS).where(JOBS.c.task_id == task_id).values(element_id=values["element_id"]),
            )
    if suspended:
        set_jobs(session, instance_id, JOB_PENDING, JOB_SUSPENDED)
    logger.info(
        "instance %s migrated from %s v%s to v%s by %s",
        instance_id,
        target.process_id,
        plan.source.version,
        target.version,
        actor,
    )
    return result


@dataclass(frozen=True)
class _Plan:
    """A move worked out in memory: the check and, when movable, what to write."""

    check: MigrationCheck
    source: LoadedDefinition
    workflow: Any = None
    before: Waits | None = None
    refreshed: dict[str, dict] = field(default_factory=dict)  # open task id -> changed projection values


def _plan(uow: UnitOfWork, instance: Row, target: LoadedDefinition) -> _Plan:
    """Work the move out in memory (nothing is written): check it, and when it can be made, what
    it writes besides the step itself."""
    source = load_definition(uow, instance.definition_id)
    reasons = _version_reasons(instance, source, target)
    if reasons:
        return _Plan(_check(instance, source, target, reasons), source)
    workflow = load_workflow(uow, instance, source)
    before = Waits.of(uow, workflow)
    try:
        misfits = uow.runtime.migrate(workflow, target.content_hash, target.spec)
    except ProcessError as exc:
        reason = f"the move fails at element {exc.element_id or '?'} of version {target.version}: {exc.reason}"
        return _Plan(_check(instance, source, target, [reason]), source)
    if misfits:
        return _Plan(_check(instance, source, target, [_misfit_reason(m, target.version) for m in misfits]), source)
    after = Waits.of(uow, workflow)
    refreshed, changes = {}, []
    open_tasks = uow.session.connection().execute(
        select(TASKS).where(TASKS.c.instance_id == instance.id, TASKS.c.state == TASK_OPEN).order_by(TASKS.c.id)
    )
    for task in open_tasks:
        ready = after.tasks.get(task.id)
        if ready is None:
            continue  # the move ended it: the step cancels it
        meta = target.task_meta.get(ready.element_id)
        if meta is None:
            reasons.append(f"task {task.element_id} (userTask) has no task settings in version {target.version}")
            continue
        try:
            values, said = _refresh(uow, task, ready, source.task_meta.get(task.element_id, {}), meta)
        except ProcessError as exc:
            reasons.append(f"task {task.element_id} (userTask): {exc.reason} in version {target.version}")
            continue
        if values:
            refreshed[task.id] = values
        changes += said
    if reasons:
        return _Plan(_check(instance, source, target, reasons), source)
    changes += _wait_changes(before, after, uow.runtime.is_completed(workflow))
    return _Plan(_check(instance, source, target, [], changes), source, workflow, before, refreshed)


def _check(instance: Row, source, target, reasons: list[str], changes: Sequence[str] = ()) -> MigrationCheck:
    return MigrationCheck(
        instance.id,
        instance.business_key,
        instance.status,
        source.id,
        source.version,
        target.id,
        target.version,
        not reasons,
        tuple(reasons),
        tuple(changes),
    )


def _version_reasons(instance: Row, source: LoadedDefinition, target: LoadedDefinition) -> list[str]:
    """What keeps an instance from moving before its tasks are looked at."""
    if target.process_id != source.process_id:
        return [
            f"the target is version {target.version} of process {target.process_id}, "
            f"not a version of process {source.process_id}"
        ]
    if target.id == source.id:
        return [f"the instance is already on version {target.version} of process {target.process_id}"]
    if instance.status not in (RUNNING, SUSPENDED):
        return [f"the instance is {instance.status}: only running or suspended instances can move"]
    return []


def _misfit_reason(misfit: Misfit, version: int) -> str:
    element = f"{misfit.element_id} ({misfit.element_type})"
    if misfit.kind == MISFIT_PROCESS:
        return f"subprocess {element} runs process {misfit.detail}, which version {version} does not have there"
    if misfit.kind == MISFIT_REMOVED:
        return f"task {element} {_VERBS[misfit.state]} an element that version {version} removed"
    return f"task {element} {_VERBS[misfit.state]} an element that version {version} makes a {misfit.detail}"


def _refresh(uow: UnitOfWork, task: Row, ready: ReadyTask, old: dict, new: dict) -> tuple[dict, list[str]]:
    """An open task's projection values that the target's task settings (`new`, the source's
    `old`) change, and what that means in words. The candidates change only where the target
    changed them (an escalation may have handed the task to someone else); a claim is dropped
    when they do. Raises ProcessError (the org scope cannot be worked out)."""
    role, scope = task.candidate_role, task.org_scope
    if new["candidate_role"] != old.get("candidate_role"):
        role = new["candidate_role"]
    if new["org_scope"] != old.get("org_scope"):
        scope = org_scope(uow, new, ready)
    wanted = {
        "element_id": ready.element_id,
        "name": new["name"],
        "lane": new["lane"],
        "form": new["form"],
        "candidate_role": role,
        "org_scope": scope,
    }
    values = {key: value for key, value in wanted.items() if value != getattr(task, key)}
    element = f"task {task.element_id} (userTask)"
    said = [
        f"{element}: {_SHOWN[key]} {_shown(getattr(task, key))} becomes {_shown(value)}"
        for key, value in values.items()
    ]
    if task.claimed_by and ("candidate_role" in values or "org_scope" in values):
        values["claimed_by"] = None
        said.append(f"{element}: the claim by {task.claimed_by} is dropped, its candidates change")
    said += [
        f"{element}: {label} {_shown(old.get(key))} becomes {_shown(new[key])} the next time it opens; "
        "its deadline stays"
        for key, label in _ON_OPENING.items()
        if new[key] != old.get(key)
    ]
    if new["four_eyes"] != old.get("four_eyes"):
        said.append(f"{element}: four eyes with {_shown(old.get('four_eyes'))} becomes {_shown(new['four_eyes'])}")
    return values, said


def _wait_changes(before: Waits, after: Waits, completed: bool) -> list[str]:
    """Tasks and timers the move itself starts or ends (the target's flow around a waiting step)."""
    said = [
        f"task {ready.element_id} (userTask) opens with the move"
        for i, ready in after.tasks.items()
        if i not in before.tasks
    ]
    said += [
        f"task {ready.element_id} (userTask) is cancelled by the move"
        for i, ready in before.tasks.items()
        if i not in after.tasks
    ]
    said += [
        f"timer {timer.element_id} starts waiting with the move"
        for i, timer in after.timers.items()
        if i not in before.timers
    ]
    said += [
        f"timer {timer.element_id} stops waiting with the move"
        for i, timer in before.timers.items()
        if i not in after.timers
    ]
    return said + (["the instance completes with the move"] if completed else [])


def _shown(value) -> str:
    if isinstance(value, dict):
        return "(" + ", ".join(f"{key} {_shown(item)}" for key, item in value.items()) + ")"
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else repr(value)


def _version_of(definition: LoadedDefinition) -> dict:
    return {"definition_id": definition.id, "version": definition.version, "content_hash": definition.content_hash}
