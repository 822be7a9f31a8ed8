"""Retention: how long the history of an ended instance is kept (a policy per process id), legal
holds that keep an instance whatever its policy, and the cleanup that removes what has expired,
and only that: ended (completed or terminated) instances whose `ended_at` + days is past and
that are not held, with their history events, human tasks and timer jobs.

Each removal leaves a record (history_removal: the instance's process, version, last event and
hash, count of events) chained by hash to the one before; the database lets history events be
deleted only for an instance with such a record, and the daily digests and `verify_all` check
the heads of removed instances against it. Functions never commit: the caller's service does."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from .errors import DefinitionNotFoundError, EngineError, InstanceNotFoundError, InvalidStateError
from .history import EVENTS, GENESIS_HASH, INSTANCES, REMOVALS, BrokenLink, removal_hash, verify_chain
from .models import HumanTask, LegalHold, ProcessDefinition, RetentionPolicy, TimerJob
from .states import COMPLETED, TERMINATED
from .uow import UnitOfWork

logger = logging.getLogger(__name__)

ENDED = (COMPLETED, TERMINATED)
DEFINITIONS, HOLDS, POLICIES = ProcessDefinition.__table__, LegalHold.__table__, RetentionPolicy.__table__
TASKS, JOBS = HumanTask.__table__, TimerJob.__table__
BATCH = 500


class RetentionError(EngineError):
    """A retention policy or a legal hold asked for with bad values (no reason, days < 1)."""

    code = "invalid_retention"


# Called with the session and the ids of the instances about to be removed, before anything is
# deleted: the domain deletes or detaches its own rows that refer to them (foreign keys).
BeforeRemove = Callable[[Session, list[str]], None]


@dataclass(frozen=True)
class RemovedInstance:
    instance_id: str
    process_id: str
    version: int
    business_key: str | None
    events: int
    removal_id: int


@dataclass(frozen=True)
class RetentionReport:
    """What one cleanup did: the instances removed; the expired ones kept because they are held
    or because their history does not verify (kept as evidence); and whether the batch was full
    (more may have expired: run again)."""

    removed: tuple[RemovedInstance, ...]
    held: tuple[str, ...]
    broken: tuple[BrokenLink, ...]
    more: bool = False

    @property
    def events(self) -> int:
        return sum(removed.events for removed in self.removed)


def set_policy(uow: UnitOfWork, process_id: str, days: int, actor: str, reason: str) -> int | None:
    """Keep the history of ended instances of `process_id` for `days` days after they end; returns
    the days of the policy it replaces (None: kept for ever until now), which stays on record.
    Raises DefinitionNotFoundError when no version of the process is deployed, RetentionError
    when `days` < 1 or the reason is empty."""
    if days < 1:
        raise RetentionError(f"days must be at least 1, not {days}")
    _require_reason(reason)
    connection = uow.session.connection()
    if connection.scalar(select(DEFINITIONS.c.id).where(DEFINITIONS.c.process_id == process_id).limit(1)) is None:
        raise DefinitionNotFoundError(process_id)
    old = current_policies(uow.session).get(process_id)
    connection.execute(
        insert(POLICIES).values(process_id=process_id, days=days, reason=reason, set_by=actor, set_at=uow.clock())
    )
    logger.info("retention of %s set to %s days by %s (was %s)", process_id, days, actor, old and old.days)
    return old.days if old else None


def current_policies(session: Session) -> dict[str, RetentionPolicy]:
    """The policy in force for each process that has one: its newest row."""
    newest = select(func.max(RetentionPolicy.id)).group_by(RetentionPolicy.process_id)
    rows = session.scalars(select(RetentionPolicy).where(RetentionPolicy.id.in_(newest)))
    return {row.process_id: row for row in rows}


def hold_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> LegalHold:
    """Put an instance (running or ended) under legal hold: retention keeps it until released.
    Raises InstanceNotFoundError, InvalidStateError when it is held already, RetentionError for
    an empty reason."""
    _require_reason(reason)
    _lock_instance(uow, instance_id)
    if active_hold(uow.session, instance_id) is not None:
        raise InvalidStateError(instance_id, "held", "hold")
    hold = LegalHold(instance_id=instance_id, reason=reason, held_by=actor, held_at=uow.clock())
    uow.session.add(hold)
    uow.session.flush()
    logger.info("instance %s held by %s", instance_id, actor)
    return hold


def release_instance(uow: UnitOfWork, instance_id: str, actor: str, reason: str) -> LegalHold:
    """Release an instance's legal hold; the hold stays on record with who released it, when and
    why. Raises InvalidStateError when it is not held, RetentionError for an empty reason."""
    _require_reason(reason)
    hold = active_hold(uow.session, instance_id)
    if hold is None:
        raise InvalidStateError(instance_id, "not held", "release")
    hold.released_by, hold.released_at, hold.release_reason = actor, uow.clock(), reason
    uow.session.flush()
    logger.info("instance %s released from hold by %s", instance_id, actor)
    return hold


def active_hold(session: Session, instance_id: str) -> LegalHold | None:
    return session.scalars(
        select(LegalHold).where(LegalHold.instance_id == instance_id, LegalHold.released_at.is_(None))
    ).first()


def apply_retention(
    uow: UnitOfWork,
    now: datetime | None = None,
    *,
    actor: str = "retention",
    limit: int = BATCH,
    before_remove: Sequence[BeforeRemove] = (),
) -> RetentionReport:
    """Remove up to `limit` expired instances (oldest ended first): ended, `ended_at` + their
    process's days before `now`, not held, history intact. For each, in this transaction: the
    `before_remove` callbacks, then the removal record (first: it is what lets the database
    delete the history), then its history events, timer jobs, human tasks and the instance row."""
    now = now or uow.clock()
    connection = uow.session.connection()
    policy_days = {process_id: policy.days for process_id, policy in current_policies(uow.session).items()}
    held_ids = set()
    candidates = []
    for process_id, days in sorted(policy_days.items()):
        expired = (
            DEFINITIONS.c.process_id == process_id,
            INSTANCES.c.status.in_(ENDED),
            INSTANCES.c.ended_at < now - timedelta(days=days),
        )
        held = exists().where(HOLDS.c.instance_id == INSTANCES.c.id, HOLDS.c.released_at.is_(None))
        joined = select(INSTANCES.c.id).join(DEFINITIONS, DEFINITIONS.c.id == INSTANCES.c.definition_id)
        held_ids.update(connection.scalars(joined.where(*expired, held)))
        if len(candidates) > limit:
            continue
        # Locked (PostgreSQL) so that a hold placed meanwhile is seen below; SQLite's write lock
        # already keeps everyone else out.
        candidates += connection.execute(
            select(
                INSTANCES.c.id,
                INSTANCES.c.business_key,
                INSTANCES.c.history_seq,
                INSTANCES.c.history_hash,
                INSTANCES.c.ended_at,
                DEFINITIONS.c.process_id,
                DEFINITIONS.c.version,
            )
            .join(DEFINITIONS, DEFINITIONS.c.id == INSTANCES.c.definition_id)
            .where(*expired, ~held)
            .order_by(INSTANCES.c.ended_at, INSTANCES.c.id)
            .limit(limit + 1 - len(candidates))
            .with_for_update(of=INSTANCES)
        ).all()
    more = len(candidates) > limit
    candidates = candidates[:limit]
    if candidates:
        held_now = set(
            connection.scalars(
                select(HOLDS.c.instance_id).where(
                    HOLDS.c.instance_id.in_([row.id for row in candidates]), HOLDS.c.released_at.is_(None)
                )
            )
        )
        held_ids |= held_now
        candidates = [row for row in candidates if row.id not in held_now]
    chains: dict[str, list] = {row.id: [] for row in candidates}
    if chains:
        for event in connection.execute(
            select(EVENTS).where(EVENTS.c.instance_id.in_(list(chains))).order_by(EVENTS.c.id)
        ):
            chains[event.instance_id].append(event)
    broken, removable = [], []
    for row in candidates:
        link = verify_chain(row.id, chains[row.id], (row.history_seq, row.history_hash))
        if link is None:
            removable.append(row)
        else:
            broken.append(link)
            logger.warning("retention keeps instance %s: its history is broken (%s)", row.id, link)
    if not removable:
        return RetentionReport((), tuple(sorted(held_ids)), tuple(broken), more)

    ids = [row.id for row in removable]
    for callback in before_remove:
        callback(uow.session, ids)
    uow.session.flush()
    prev_hash = connection.scalar(select(REMOVALS.c.hash).order_by(REMOVALS.c.id.desc()).limit(1)) or GENESIS_HASH
    removed = []
    for row in removable:
        record = dict(
            instance_id=row.id,
            process_id=row.process_id,
            version=row.version,
            business_key=row.business_key,
            last_seq=row.history_seq,
            last_hash=row.history_hash,
            events=len(chains[row.id]),
            ended_at=row.ended_at,
            removed_at=now,
            removed_by=actor,
            policy_days=policy_days[row.process_id],
            prev_hash=prev_hash,
        )
        record["hash"] = prev_hash = removal_hash(record)
        (removal_id,) = connection.execute(insert(REMOVALS).values(record)).inserted_primary_key
        removed.append(
            RemovedInstance(row.id, row.process_id, row.version, row.business_key, record["events"], removal_id)
        )
    for table in (EVENTS, JOBS, TASKS):
        connection.execute(delete(table).where(table.c.instance_id.in_(ids)))
    connection.execute(delete(INSTANCES).where(INSTANCES.c.id.in_(ids)))
    logger.info("retention removed %s instances (%s events)", len(removed), sum(r.events for r in removed))
    return RetentionReport(tuple(removed), tuple(sorted(held_ids)), tuple(broken), more)


def _lock_instance(uow: UnitOfWork, instance_id: str) -> None:
    """Lock the instance row (PostgreSQL) so that a cleanup running meanwhile either removes it
    first (and this finds none) or sees the hold."""
    query = select(INSTANCES.c.id).where(INSTANCES.c.id == instance_id).with_for_update()
    if uow.session.connection().scalar(query) is None:
        raise InstanceNotFoundError(instance_id)


def _require_reason(reason: str) -> None:
    if not (reason or "").strip():
        raise RetentionError("a reason is required")
