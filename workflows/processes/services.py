"""Service functions over process definitions and instances. Each owns one transaction."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import engine
from engine import DeployedDefinition, StepResult, TaskView, UnitOfWork, VerificationReport, queries
from engine.timers import LOCK_SECONDS

from .. import escalation
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
    return _in_transaction(services, engine.delegate_task, task_id, actor, delegate, reason)


def suspend(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _in_transaction(services, engine.suspend_instance, instance_id, actor, reason)


def resume(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _in_transaction(services, engine.resume_instance, instance_id, actor, reason)


def terminate(services: Services, instance_id: str, actor: str, reason: str) -> StepResult:
    return _in_transaction(services, engine.terminate_instance, instance_id, actor, reason)


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


def retry_incident(services: Services, job_id: int, actor: str) -> None:
    """Make an incident due again now. Raises JobNotFoundError."""
    _in_transaction(services, engine.retry_incident, job_id)
    logger.info("incident %s retried by %s", job_id, actor)


def verify_history(services: Services) -> VerificationReport:
    with services.session_factory() as session:
        return engine.verify_all(session)


def definition_summaries(services: Services) -> list[queries.DefinitionSummary]:
    with services.session_factory() as session:
        return queries.definition_summaries(session)


def check_database(services: Services) -> None:
    with services.session_factory() as session:
        queries.ping(session)
