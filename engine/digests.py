"""The daily digest: every complete UTC day's instance heads, chained day by day, so that a
deleted or edited day shows as a broken link (engine.verification checks it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from sqlalchemy import and_, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .history import DIGESTS, EVENTS, GENESIS_HASH, REMOVALS, canonical_hash
from .uow import UnitOfWork

# A day is digested once it has been over for this long: an event stamped just before midnight
# may commit a moment after it.
SETTLE = timedelta(minutes=10)


@dataclass(frozen=True)
class DailyDigest:
    day: date
    instances: int
    events: int
    hash: str


def digest_hash(day: date, heads: list, events: int, removal: list | None, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of a day's heads ([instance_id, seq, hash], sorted), its count of
    events, its last removal record ([id, hash] or None) and the previous day's hash."""
    payload = {"day": day.isoformat(), "heads": heads, "events": events, "removal": removal, "prev_hash": prev_hash}
    return canonical_hash(payload)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), timezone.utc)


def build_digests(uow: UnitOfWork, *, actor: str) -> list[DailyDigest]:
    """Digest every complete UTC day not yet digested, from the first day with history on, empty
    days included (so a deleted day shows as a gap). Never commits. Safe when several
    schedulers race: the days are inserted together in a savepoint, and the one that loses on
    the unique day inserts nothing and returns []."""
    session = uow.session
    connection = session.connection()
    now = uow.clock().astimezone(timezone.utc)
    last_day = (now - SETTLE).date() - timedelta(days=1)
    last = connection.execute(select(DIGESTS.c.day, DIGESTS.c.hash).order_by(DIGESTS.c.day.desc()).limit(1)).first()
    if last is not None:
        day, prev_hash = last.day + timedelta(days=1), last.hash
    else:
        firsts = [
            connection.scalar(select(func.min(EVENTS.c.occurred_at))),
            connection.scalar(select(func.min(REMOVALS.c.removed_at))),
        ]
        firsts = [first for first in firsts if first is not None]
        if not firsts:
            return []
        day, prev_hash = min(firsts).date(), GENESIS_HASH
    rows, built = [], []
    while day <= last_day:
        heads, events = _day_heads(connection, day)
        removal = _day_removal(connection, day)
        digest = digest_hash(day, heads, events, removal, prev_hash)
        rows.append(
            dict(
                day=day,
                heads=heads,
                instances=len(heads),
                events=events,
                removal=removal,
                prev_hash=prev_hash,
                hash=digest,
                built_at=now,
                built_by=actor,
            )
        )
        built.append(DailyDigest(day, len(heads), events, digest))
        day, prev_hash = day + timedelta(days=1), digest
    if not rows:
        return []
    try:
        with session.begin_nested():
            session.connection().execute(insert(DIGESTS), rows)
    except IntegrityError:
        return []  # another scheduler digested these days first
    return built


def _day_heads(connection: Connection, day: date) -> tuple[list, int]:
    """The last event of the day of each instance with events that day, and the day's count of events."""
    start = _day_start(day)
    last = (
        select(EVENTS.c.instance_id, func.max(EVENTS.c.seq).label("seq"), func.count().label("events"))
        .where(EVENTS.c.occurred_at >= start, EVENTS.c.occurred_at < start + timedelta(days=1))
        .group_by(EVENTS.c.instance_id)
        .subquery()
    )
    rows = connection.execute(
        select(last.c.instance_id, last.c.seq, last.c.events, EVENTS.c.hash).join(
            EVENTS, and_(EVENTS.c.instance_id == last.c.instance_id, EVENTS.c.seq == last.c.seq)
        )
    ).all()
    heads = sorted([row.instance_id, row.seq, row.hash] for row in rows)
    return heads, sum(row.events for row in rows)


def _day_removal(connection: Connection, day: date) -> list | None:
    start = _day_start(day)
    row = connection.execute(
        select(REMOVALS.c.id, REMOVALS.c.hash)
        .where(REMOVALS.c.removed_at >= start, REMOVALS.c.removed_at < start + timedelta(days=1))
        .order_by(REMOVALS.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else [row.id, row.hash]


_DIGEST_FIELDS = ("day", "instances", "events", "heads", "removal", "prev_hash", "hash")


def digest_record(row) -> dict:
    """A digest as exported: one JSON object per day (the day as YYYY-MM-DD)."""
    record = {name: getattr(row, name) for name in _DIGEST_FIELDS}
    record["day"] = row.day.isoformat()
    return record


def export_digests(session: Session, since: date | None = None) -> Iterator[dict]:
    """The digests from `since` on (all of them by default), oldest first, as `digest_record`s."""
    query = select(*(DIGESTS.c[name] for name in _DIGEST_FIELDS)).order_by(DIGESTS.c.day)
    if since is not None:
        query = query.where(DIGESTS.c.day >= since)
    for row in session.connection().execution_options(yield_per=100).execute(query):
        yield digest_record(row)
