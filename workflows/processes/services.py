"""Service functions over process definitions and instances. Each owns one transaction."""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from sqlalchemy import func, select

import engine
from engine import DeployedDefinition, StepResult, TaskView, UnitOfWork, VerificationReport, queries
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TimerJob
from engine.timers import LOCK_SECONDS

from .. import escalation
from ..audit import operations
from ..bootstrap import Services

T = TypeVar("T")
logger = logging.getLogger(__name__)


def _in_transaction(services: Services, operation: Callable[..., T], *args, **kwargs) -> T:
    """Run one engine operation in its own unit of work and commit it."""
    with services.uow() as uow:
        result = operation(uow, *args, **kwargs)
        uow.commit()
    return result


def deploy(services: Services, paths: Iterable[str | Path], actor: str) -> list[DeployedDefinition]:
    """Deploy the bundle made of `paths` (files or directories). Raises DefinitionError."""
    files = engine.read_bundle(paths)

    def operation(uow: UnitOfWork) -> list[DeployedDefinition]:
        return engine.deploy_bundle(uow, files, services.runtime.evaluator, actor)

    return _in_transaction(services, operation)


def start_process(
    services: Services, process_id: str, actor: str, data: dict[str, Any] | None = None, business_key: str | None = None
) -> StepResult:
    return _in_transaction(services, engine.start_instance, process_id, actor, data, business_key=business_key)


def complete_task(services: Services, task_id: str, actor: str, data: dict[str, Any] | None = None) -> StepResult:
    return _in_transaction(services, engine.complete_task, task_id, actor, data)


def claim_task(services: Services, task_id: str, actor: str) -> TaskView:
    return _in_transaction(services, engine.claim_task, task_id, actor)


def unclaim_task(services: Services, task_id: str, actor: str) -> TaskView:
    return _in_transaction(services, engine.unclaim_task, task_id, actor)


def delegate_task(services: Services, task_id: str, actor: str, delegate: str, reason: str) -> TaskView:
    """Hand a task to another candidate; recorded in the operation log. Raises DomainError
    reason_required and the engine's errors."""
    reason = operations.require_reason(reason, operations.REASSIGN)
    with services.uow() as uow:
        claimed_by = uow.session.scalar(select(HumanTask.claimed_by).where(HumanTask.id == task_id))
        view = engine.delegate_task(uow, task_id, actor, delegate, reason)
        record_reassignment(uow, actor, view, claimed_by, reason)
        uow.commit()
    return view


def record_reassignment(uow: UnitOfWork, actor: str, task: TaskView, claimed_by: str | None, reason: str) -> None:
    """The operation log's entry for a task handed from its claimer (or its candidates) to `task.claimed_by`."""
    operations.record(
        uow.session,
        actor=actor,
        action=operations.REASSIGN,
        subject_type="instance",
        subject_id=task.instance_id,
        reason=reason,
        old={"task_id": task.id, "task": task.element_id, "claimed_by": claimed_by},
        new={"task_id": task.id, "task": task.element_id, "claimed_by": task.claimed_by},
        at=uow.clock(),
    )


def suspend(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _change_instance(services, operations.SUSPEND, engine.suspend_instance, instance_id, actor, reason)


def resume(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _change_instance(services, operations.RESUME, engine.resume_instance, instance_id, actor, reason)


def terminate(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _change_instance(services, operations.TERMINATE, engine.terminate_instance, instance_id, actor, reason)


def _change_instance(
    services: Services, action: str, operation: Callable[..., StepResult], instance_id: str, actor: str, reason: str
) -> StepResult:
    """Suspend, resume or terminate, with its operation log entry. Raises DomainError
    reason_required (before anything changes) and the engine's errors."""
    reason = operations.require_reason(reason, action)
    with services.uow() as uow:
        status = uow.session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
        result = operation(uow, instance_id, actor, reason)
        operations.record(
            uow.session,
            actor=actor,
            action=action,
            subject_type="instance",
            subject_id=instance_id,
            reason=reason,
            old={"status": status},
            new={"status": result.status},
            at=uow.clock(),
        )
        uow.commit()
    return result


def run_timers(services: Services, lock_seconds: float = LOCK_SECONDS, batch: int = 100) -> engine.RunSummary:
    """One scheduler heartbeat: run the due timer jobs (BPMN timers, escalation ladders), each in
    its own transaction, claiming `batch` at a time until none is left. A claim expires after
    `lock_seconds` if its holder dies, so a batch must run well within it."""
    claimed = done = 0
    while True:
        summary = engine.run_due_jobs(
            services.uow, limit=batch, handlers=escalation.HANDLERS, lock_seconds=lock_seconds
        )
        claimed, done = claimed + summary.claimed, done + summary.done
        if summary.claimed < batch:
            return engine.RunSummary(claimed, done, claimed - done)


def incidents(services: Services) -> list[engine.models.TimerJob]:
    """Jobs whose attempts ran out, for the admins' incident list."""
    with services.session_factory() as session:
        return engine.incidents(session)


def retry_incident(services: Services, job_id: int, actor: str, reason: str) -> None:
    """Make an incident due again now; recorded in the operation log. Raises JobNotFoundError,
    DomainError reason_required."""
    reason = operations.require_reason(reason, operations.INCIDENT_RETRY)
    with services.uow() as uow:
        job = uow.session.get(TimerJob, job_id)
        old = job and _job_state(job) | {"last_error": job.last_error}
        job = engine.retry_incident(uow, job_id)
        operations.record(
            uow.session,
            actor=actor,
            action=operations.INCIDENT_RETRY,
            subject_type="timer_job",
            subject_id=str(job_id),
            reason=reason,
            old=old,
            new=_job_state(job),
            at=uow.clock(),
        )
        uow.commit()
    logger.info("incident %s retried by %s", job_id, actor)


def _job_state(job: TimerJob) -> dict:
    return {
        "kind": job.kind,
        "instance_id": job.instance_id,
        "status": job.status,
        "attempts": job.attempts,
        "due_at": job.due_at.isoformat(),
    }


# From about this many events verify_history splits the work across processes (one per core,
# two at most is what a core pair gives): starting them costs about a second.
PARALLEL_FROM_EVENTS = 200_000


def verify_history(
    services: Services, exported: Iterable[Any] | None = None, workers: int | None = None
) -> VerificationReport:
    """Verify every instance chain, the daily digests and the removal records (engine.verify_all),
    and the lines of an exported digest file when given. `workers` defaults to 2 processes on
    a large history, 1 otherwise."""
    with services.session_factory() as session:
        if workers is None:
            last_id = session.scalar(select(func.max(HistoryEvent.id))) or 0
            workers = min(2, os.cpu_count() or 1) if last_id >= PARALLEL_FROM_EVENTS else 1
            session.rollback()
        return engine.verify_all(session, exported=exported, workers=workers)


def export_digests(services: Services, since: date | None = None) -> Iterator[dict]:
    """The daily digests from `since` on, oldest first, as JSON objects to keep elsewhere."""
    with services.session_factory() as session:
        yield from engine.export_digests(session, since)


def replay(services: Services, instance_id: str, at: int | None = None) -> engine.Replay:
    """Rebuild an instance from its history up to event `at` and check each event; never writes.
    Raises InstanceNotFoundError, ReplayRangeError."""
    with services.uow() as uow:
        return engine.replay_instance(uow, instance_id, at)


def definition_summaries(services: Services) -> list[queries.DefinitionSummary]:
    with services.session_factory() as session:
        return queries.definition_summaries(session)


def check_database(services: Services) -> None:
    with services.session_factory() as session:
        queries.ping(session)
