"""Retention and legal holds, and the daily audit step of the scheduler (digest the days just
over, then remove what has expired), each act in its own transaction and, where an
administrator does it, recorded in the operation log.

When retention removes an instance, the domain keeps its nomination (the award decided, its
decision and comments are the board's own records) but detaches it from the instance, and
drops the in-app notifications about the instance's tasks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

import engine
from engine import DailyDigest, RemovedInstance, RetentionReport
from engine.history import BrokenLink

from ..nominations.models import Nomination
from ..notifications.models import Notification
from ..operations import log
from ..uow import Services

logger = logging.getLogger(__name__)

SCHEDULER_ACTOR = "scheduler"


def _forget_instances(session: Session, instance_ids: list[str]) -> None:
    """engine.apply_retention's before_remove callback: the domain's rows referring to the instances."""
    session.execute(update(Nomination).where(Nomination.instance_id.in_(instance_ids)).values(instance_id=None))
    session.execute(delete(Notification).where(Notification.instance_id.in_(instance_ids)))


_BEFORE_REMOVE = (_forget_instances,)


@dataclass(frozen=True)
class RetentionRun:
    """Every batch of one cleanup together."""

    removed: tuple[RemovedInstance, ...]
    held: tuple[str, ...]
    broken: tuple[BrokenLink, ...]
    dry_run: bool = False

    @property
    def events(self) -> int:
        return sum(removed.events for removed in self.removed)


def run_retention(
    services: Services, actor: str, *, dry_run: bool = False, batch: int = engine.retention.BATCH
) -> RetentionRun:
    """Remove every expired instance, `batch` at a time, each batch in its own transaction, once the
    days over are digested (so the digests keep the heads of what goes). A dry run finds and
    checks the first batch and rolls back."""
    build_digests(services)
    removed, held, broken = [], set(), {}
    while True:
        with services.uow() as uow:
            report: RetentionReport = engine.apply_retention(
                uow, actor=actor, limit=batch, before_remove=_BEFORE_REMOVE
            )
            if not dry_run:
                uow.commit()
        removed += report.removed
        held.update(report.held)
        broken.update((link.instance_id, link) for link in report.broken)
        if dry_run or not report.more or not report.removed:
            break
    return RetentionRun(tuple(removed), tuple(sorted(held)), tuple(broken.values()), dry_run)


def set_retention(services: Services, process_id: str, days: int, actor: str, reason: str) -> int | None:
    """Set how many days ended instances of a process are kept; returns the previous days (None: for
    ever). Raises DefinitionNotFoundError, RetentionError."""
    with services.uow() as uow:
        old = engine.set_policy(uow, process_id, days, actor, reason)
        _log(uow, actor, log.RETENTION_SET, "process", process_id, reason, {"days": old}, {"days": days})
        uow.commit()
    return old


def hold(services: Services, instance_id: str, actor: str, reason: str) -> None:
    """Raises InstanceNotFoundError, InvalidStateError (held already), RetentionError (no reason)."""
    with services.uow() as uow:
        engine.hold_instance(uow, instance_id, actor, reason)
        _log(uow, actor, log.LEGAL_HOLD, "instance", instance_id, reason, {"held": False}, {"held": True})
        uow.commit()


def release(services: Services, instance_id: str, actor: str, reason: str) -> None:
    """Raises InvalidStateError (not held), RetentionError (no reason)."""
    with services.uow() as uow:
        engine.release_instance(uow, instance_id, actor, reason)
        _log(uow, actor, log.LEGAL_RELEASE, "instance", instance_id, reason, {"held": True}, {"held": False})
        uow.commit()


def _log(uow, actor: str, action: str, subject_type: str, subject_id: str, reason: str, old, new) -> None:
    log.record(
        uow.session,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        old=old,
        new=new,
        at=uow.clock(),
    )


def build_digests(services: Services, actor: str = SCHEDULER_ACTOR) -> list[DailyDigest]:
    """Digest the days of history just over (none, or nothing when another process did it first)."""
    with services.uow() as uow:
        built = engine.build_digests(uow, actor=actor)
        uow.commit()
    if built:
        logger.info("history digested up to %s (%s days)", built[-1].day, len(built))
    return built


def daily_audit(services: Services, owner: str) -> RetentionRun | None:
    """Scheduler step: once a day, whoever digests the day just over also runs the cleanup (after
    the digest, so removed history has been digested first). None on the other beats."""
    if not build_digests(services, owner):
        return None
    run = run_retention(services, SCHEDULER_ACTOR)
    if run.removed or run.broken:
        logger.info(
            "retention: %s instances removed (%s events), %s held, %s kept with broken history",
            len(run.removed),
            run.events,
            len(run.held),
            len(run.broken),
        )
    return run
