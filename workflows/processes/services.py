"""Running processes, each in one transaction: deploy a bundle, start an instance, suspend, resume
or terminate one (recorded in the operation log), the scheduler's heartbeat over the timer job
table, and an incident retried."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import select

import engine
from engine import DeployedDefinition, StepResult, UnitOfWork
from engine.models import ProcessInstance, TimerJob
from engine.timers import LOCK_SECONDS

from .. import escalation
from ..operations import log
from ..uow import Services

logger = logging.getLogger(__name__)


def deploy(services: Services, paths: Iterable[str | Path], actor: str) -> list[DeployedDefinition]:
    """Deploy the bundle made of `paths` (files or directories). Raises DefinitionError."""
    files = engine.read_bundle(paths)

    def operation(uow: UnitOfWork) -> list[DeployedDefinition]:
        return engine.deploy_bundle(uow, files, services.runtime.evaluator, actor)

    return services.in_transaction(operation)


def start_process(
    services: Services, process_id: str, actor: str, data: dict[str, Any] | None = None, business_key: str | None = None
) -> StepResult:
    """Start the newest version of a process as `actor` (the command line's `thidua start`)."""
    return services.in_transaction(engine.start_instance, process_id, actor, data, business_key=business_key)


def suspend(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _change_instance(services, log.SUSPEND, engine.suspend_instance, instance_id, actor, reason)


def resume(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _change_instance(services, log.RESUME, engine.resume_instance, instance_id, actor, reason)


def terminate(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _change_instance(services, log.TERMINATE, engine.terminate_instance, instance_id, actor, reason)


def _change_instance(
    services: Services, action: str, operation: Callable[..., StepResult], instance_id: str, actor: str, reason: str
) -> StepResult:
    """Suspend, resume or terminate, with its operation log entry. Raises DomainError
    reason_required (before anything changes) and the engine's errors."""
    reason = log.require_reason(reason, action)
    with services.uow() as uow:
        status = uow.session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
        result = operation(uow, instance_id, actor, reason)
        log.record(
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


def retry_incident(services: Services, job_id: int, actor: str, reason: str) -> None:
    """Make an incident due again now; recorded in the operation log. Raises JobNotFoundError,
    DomainError reason_required."""
    reason = log.require_reason(reason, log.INCIDENT_RETRY)
    with services.uow() as uow:
        job = uow.session.get(TimerJob, job_id)
        old = job and _job_state(job) | {"last_error": job.last_error}
        job = engine.retry_incident(uow, job_id)
        log.record(
            uow.session,
            actor=actor,
            action=log.INCIDENT_RETRY,
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
