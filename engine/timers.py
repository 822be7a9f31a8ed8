"""The timer job table: claim due jobs atomically, run each in its own transaction, retry with
backoff, raise an incident when attempts run out. APScheduler only calls `run_due_jobs`."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import and_, or_, select, update

from .instances import JOB_BPMN_TIMER, JOB_PENDING, fire_timer
from .models import TimerJob
from .uow import UnitOfWork

logger = logging.getLogger(__name__)

JOB_RUNNING, JOB_DONE, JOB_INCIDENT = "running", "done", "incident"
LOCK_SECONDS = 60
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30

JobHandler = Callable[[UnitOfWork, TimerJob], object]
HANDLERS: dict[str, JobHandler] = {JOB_BPMN_TIMER: fire_timer}


@dataclass(frozen=True)
class RunSummary:
    claimed: int
    done: int
    failed: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due_jobs(uow: UnitOfWork, owner: str, limit: int = 100) -> list[int]:
    """Lock up to `limit` due jobs for `owner` and commit the claim. A job whose holder died is
    claimable again once its lock has expired."""
    now = uow.clock()
    session = uow.session
    claimable = and_(
        TimerJob.due_at <= now,
        or_(
            TimerJob.status == JOB_PENDING,
            and_(TimerJob.status == JOB_RUNNING, TimerJob.lock_expires_at < now),
        ),
    )
    query = select(TimerJob.id).where(claimable).order_by(TimerJob.due_at).limit(limit)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        uow.rollback()
        return []
    # The conditional UPDATE is the claim on SQLite (the write lock serialises claimers) and a
    # second guard on PostgreSQL: only rows still claimable are taken.
    result = session.execute(
        update(TimerJob)
        .where(TimerJob.id.in_(ids), claimable)
        .values(status=JOB_RUNNING, lock_owner=owner, lock_expires_at=now + timedelta(seconds=LOCK_SECONDS))
        .returning(TimerJob.id)
    )
    claimed = [row.id for row in result]
    uow.commit()
    return claimed


def run_job(uow: UnitOfWork, job_id: int, owner: str) -> bool:
    """Run one claimed job in its own transaction; True when it is done. On failure the attempt
    is counted in a separate transaction and the job is retried later or becomes an incident."""
    try:
        with uow:
            job = uow.session.get(TimerJob, job_id)
            if job is None or job.status != JOB_RUNNING or job.lock_owner != owner:
                return False
            HANDLERS[job.kind](uow, job)
            job.status, job.lock_owner, job.lock_expires_at = JOB_DONE, None, None
            job.attempts += 1
            uow.commit()
            return True
    except Exception as exc:  # noqa: BLE001 - the one broad except: top of a scheduler job
        logger.exception("timer job %s failed", job_id)
        _record_failure(uow, job_id, owner, exc)
        return False


def _record_failure(uow: UnitOfWork, job_id: int, owner: str, exc: Exception) -> None:
    with uow:
        job = uow.session.get(TimerJob, job_id)
        if job is None or job.lock_owner != owner:
            return
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
        uow.commit()


def run_due_jobs(make_uow: Callable[[], UnitOfWork], owner: str | None = None, limit: int = 100) -> RunSummary:
    """One heartbeat: claim due jobs and run each. Safe to call from any number of processes."""
    owner = owner or worker_name()
    with make_uow() as uow:
        ids = claim_due_jobs(uow, owner, limit)
    done = sum(1 for job_id in ids if run_job(make_uow(), job_id, owner))
    return RunSummary(len(ids), done, len(ids) - done)
