"""The timer job table: claim due jobs atomically, run each exactly once (a batch commits once,
each job in its own savepoint), retry with backoff, raise an incident when attempts run out.
APScheduler only calls `run_due_jobs`."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .errors import JobNotFoundError
from .escalation import escalate_task
from .instances import fire_timer
from .models import TimerJob
from .states import JOB_BPMN_TIMER, JOB_DUE, JOB_ESCALATE, JOB_PENDING, JOB_REMINDER
from .uow import UnitOfWork

logger = logging.getLogger(__name__)

JOB_RUNNING, JOB_DONE, JOB_INCIDENT = "running", "done", "incident"
LOCK_SECONDS = 60
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30

JobHandler = Callable[[UnitOfWork, TimerJob], object]
# What each kind of job does; the domain adds to an escalation what it tells whom.
HANDLERS: dict[str, JobHandler] = {
    JOB_BPMN_TIMER: fire_timer,
    JOB_REMINDER: escalate_task,
    JOB_DUE: escalate_task,
    JOB_ESCALATE: escalate_task,
}


@dataclass(frozen=True)
class RunSummary:
    claimed: int
    done: int
    failed: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due_jobs(uow: UnitOfWork, owner: str, limit: int = 100, lock_seconds: float = LOCK_SECONDS) -> list[int]:
    """Lock up to `limit` due jobs for `owner` and commit the claim. A job whose holder died is
    claimable again once its lock has expired."""
    now = uow.clock()
    claimable = and_(
        TimerJob.due_at <= now,
        or_(
            TimerJob.status == JOB_PENDING,
            and_(TimerJob.status == JOB_RUNNING, TimerJob.lock_expires_at < now),
        ),
    )
    return claim_rows(
        uow,
        TimerJob,
        claimable,
        (TimerJob.due_at,),
        limit,
        status=JOB_RUNNING,
        lock_owner=owner,
        lock_expires_at=now + timedelta(seconds=lock_seconds),
    )


def claim_rows(uow: UnitOfWork, model, claimable, order_by: tuple, limit: int, **values) -> list[int]:
    """Set `values` (the claim: status, owner, lock expiry) on up to `limit` rows of `model` that
    match `claimable`, in `order_by` order, and commit; returns the ids taken. Claimers never
    take the same row: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite."""
    session = uow.session
    query = select(model.id).where(claimable).order_by(*order_by).limit(limit)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        uow.rollback()
        return []
    # The conditional UPDATE is the claim on SQLite (the write lock serialises claimers) and a
    # second guard on PostgreSQL: only rows still claimable are taken.
    result = session.execute(update(model).where(model.id.in_(ids), claimable).values(**values).returning(model.id))
    claimed = {row.id for row in result}
    uow.commit()
    return [job_id for job_id in ids if job_id in claimed]  # in due order: a task's rungs run in turn


def run_job(uow: UnitOfWork, job_id: int, owner: str, handlers: dict[str, JobHandler] = HANDLERS) -> bool:
    """Run one claimed job in its own transaction; True when it is done."""
    with uow:
        done = _run_claimed(uow, job_id, owner, handlers)
        uow.commit()
    return done


def _run_claimed(uow: UnitOfWork, job_id: int, owner: str, handlers: dict[str, JobHandler]) -> bool:
    """Run a job `owner` holds in a savepoint of the open transaction: its effect and its being
    done land together. On failure the savepoint is undone and the attempt counted instead: the
    job is retried after a backoff or, its attempts spent, becomes an incident."""
    session = uow.session
    job = session.get(TimerJob, job_id)
    if job is None or job.status != JOB_RUNNING or job.lock_owner != owner:
        return False
    try:
        with session.begin_nested():
            handlers[job.kind](uow, job)
            job.status, job.lock_owner, job.lock_expires_at, job.done_at = JOB_DONE, None, None, uow.clock()
            job.attempts += 1
        return True
    except Exception as exc:  # noqa: BLE001 - the one broad except: a job's failure is recorded, not raised
        logger.exception("timer job %s failed", job_id)
        _record_failure(uow, job, exc)
        return False


def _record_failure(uow: UnitOfWork, job: TimerJob, exc: Exception) -> None:
    job.attempts += 1
    job.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    job.lock_owner, job.lock_expires_at = None, None
    if job.attempts >= MAX_ATTEMPTS:
        job.status = JOB_INCIDENT
        logger.error(
            "timer job %s of instance %s is an incident after %s attempts", job.id, job.instance_id, job.attempts
        )
    else:
        job.status = JOB_PENDING
        job.due_at = uow.clock() + timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** (job.attempts - 1))


def run_due_jobs(
    make_uow: Callable[[], UnitOfWork],
    owner: str | None = None,
    limit: int = 100,
    *,
    handlers: dict[str, JobHandler] = HANDLERS,
    lock_seconds: float = LOCK_SECONDS,
) -> RunSummary:
    """One heartbeat: claim due jobs and run each, in due order, in one transaction that commits
    once (each job in its own savepoint: a failing job is undone alone). A holder that dies
    before the commit leaves its claims to expire; nothing of the batch has landed, so each job
    still runs exactly once. Safe to call from any number of processes."""
    owner = owner or worker_name()
    with make_uow() as uow:
        ids = claim_due_jobs(uow, owner, limit, lock_seconds)
    if not ids:
        return RunSummary(0, 0, 0)
    with make_uow() as uow:
        done = sum(_run_claimed(uow, job_id, owner, handlers) for job_id in ids)
        uow.commit()
    return RunSummary(len(ids), done, len(ids) - done)


def incidents(session: Session, limit: int = 100) -> list[TimerJob]:
    """Jobs whose attempts ran out, oldest first: an admin looks at each and retries it."""
    query = select(TimerJob).where(TimerJob.status == JOB_INCIDENT).order_by(TimerJob.due_at).limit(limit)
    return list(session.scalars(query))


def retry_incident(uow: UnitOfWork, job_id: int) -> TimerJob:
    """Make an incident due again now with a fresh count of attempts; its last error stays
    visible until it runs. Raises JobNotFoundError when there is no such incident."""
    job = uow.session.get(TimerJob, job_id)
    if job is None or job.status != JOB_INCIDENT:
        raise JobNotFoundError(job_id)
    job.status, job.attempts, job.due_at = JOB_PENDING, 0, uow.clock()
    return job
