"""The operation log inside the caller's unit of work: recording administrative acts, reading
them, and verifying the log's hash chain.

`record` is called by the service that performs the act, in the act's own transaction, after
the act's writes: the entry lands with the act or not at all. Entries are numbered without gaps
and each hash covers the previous one's, so an edited, deleted or reordered entry is found by
`verify`; the head row (last id and hash) shows the newest entries removed. On PostgreSQL the
head row is locked for the rest of the transaction, so concurrent acts append one after another
(on SQLite every write transaction holds the database's write lock anyway)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine import ConcurrentUpdateError
from engine.history import GENESIS_HASH

from ..errors import DomainError
from .models import HEAD_ID, OperationEntry, OperationLogHead

MAX_REASON_LENGTH = 2000
# The actor of acts nobody performed by hand (the escalation ladder).
SYSTEM_ACTOR = "system"

# Actions, by the subject they act on.
REASSIGN = "reassign"  # instance (one of its tasks)
SUSPEND, RESUME, TERMINATE, MIGRATE = "suspend", "resume", "terminate", "migrate"  # instance
CALENDAR_OVERRIDE_SET, CALENDAR_OVERRIDE_REMOVE = "calendar_override_set", "calendar_override_remove"  # calendar_day
INCIDENT_RETRY = "incident_retry"  # timer_job
PROCESS_DEPLOY, RULES_DEPLOY = "process_deploy", "rules_deploy"  # process, rule_set
ROLE_GRANT, ROLE_REVOKE, USER_DISABLE, USER_ENABLE = "role_grant", "role_revoke", "user_disable", "user_enable"  # user
USER_CREATE, PASSWORD_RESET = "user_create", "password_reset"  # user
RETENTION_SET = "retention_set"  # process
LEGAL_HOLD, LEGAL_RELEASE = "legal_hold", "legal_release"  # instance
RECORDS_IMPORT = "records_import"  # records (a kind of imported records: people, ratings)
ACTIONS = (
    REASSIGN,
    SUSPEND,
    RESUME,
    TERMINATE,
    MIGRATE,
    CALENDAR_OVERRIDE_SET,
    CALENDAR_OVERRIDE_REMOVE,
    INCIDENT_RETRY,
    PROCESS_DEPLOY,
    RULES_DEPLOY,
    ROLE_GRANT,
    ROLE_REVOKE,
    USER_DISABLE,
    USER_ENABLE,
    USER_CREATE,
    PASSWORD_RESET,
    RETENTION_SET,
    LEGAL_HOLD,
    LEGAL_RELEASE,
    RECORDS_IMPORT,
)
SUBJECT_TYPES = ("instance", "calendar_day", "timer_job", "process", "rule_set", "user", "records")

_LOG, _HEAD = OperationEntry.__table__, OperationLogHead.__table__


@dataclass(frozen=True)
class Operation:
    """One entry of the log as read back."""

    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    reason: str
    old: Any
    new: Any

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, old value, new value) for every field either side names, in name order; a
        value that is not an object shows as the field ''."""
        old, new = self.old, self.new
        if not isinstance(old, dict | None) or not isinstance(new, dict | None):
            return [("", old, new)]
        old, new = old or {}, new or {}
        return [(name, old.get(name), new.get(name)) for name in sorted(old.keys() | new.keys())]


@dataclass(frozen=True)
class LogVerification:
    """`broken` names the first entry that does not verify, None when the whole log does."""

    entries: int
    broken: str | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def require_reason(reason: str | None, action: str) -> str:
    """The reason, stripped. Raises DomainError reason_required (missing or blank) or
    reason_too_long: an administrative act is refused before it changes anything."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", f"reason is required: say why ({action})")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError("reason_too_long", f"reason is {len(reason)} characters; the limit is {MAX_REASON_LENGTH}")
    return reason


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    reason: str | None,
    old: Any = None,
    new: Any = None,
    at: datetime,
) -> int:
    """Append an entry in the caller's transaction (never commits); returns its id. `old` and
    `new` are JSON values (dates and other objects are stored as their text). Raises DomainError
    reason_required or reason_too_long, ConcurrentUpdateError if another transaction appended
    after the head this one read."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if subject_type not in SUBJECT_TYPES:
        raise ValueError(f"unknown subject type {subject_type!r}")
    reason = require_reason(reason, action)
    session.flush()  # the act's own rows first: every transaction locks the head last
    connection = session.connection()
    head = connection.execute(
        select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
    ).first()
    if head is None:  # a schema made without the migration, which adds the row
        connection.execute(insert(_HEAD).values(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH))
        last_id, last_hash = 0, GENESIS_HASH
    else:
        last_id, last_hash = head
    row = dict(
        id=last_id + 1,
        at=at.astimezone(timezone.utc),  # as the database gives it back
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        reason=reason,
        old=_json_value(old),
        new=_json_value(new),
        prev_hash=last_hash,
    )
    row["hash"] = entry_hash(row)
    connection.execute(insert(_LOG).values(**row))
    moved = connection.execute(
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID, _HEAD.c.last_id == last_id)
        .values(last_id=row["id"], last_hash=row["hash"])
    )
    if moved.rowcount != 1:
        raise ConcurrentUpdateError("operation log")
    return row["id"]


def entry_hash(entry: dict | Any) -> str:
    """SHA-256 over a canonical JSON of the entry's fields (a dict, or a row or object with
    them as attributes), the previous entry's hash included."""
    value = entry.get if isinstance(entry, dict) else lambda name: getattr(entry, name)
    payload = {name: value(name) for name in _HASHED}
    payload["at"] = value("at").isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_reassignment(session: Session, *, actor: str, task, reason: str, old: dict, new: dict, at: datetime) -> int:
    """`record` a task handed to others, by a reviewer or the escalation ladder: the subject is its
    instance, `old` and `new` who held it (the task's id and element are added to both)."""
    which = {"task_id": task.id, "task": task.element_id}
    return record(
        session,
        actor=actor,
        action=REASSIGN,
        subject_type="instance",
        subject_id=task.instance_id,
        reason=reason,
        old=which | old,
        new=which | new,
        at=at,
    )


_HASHED = ("id", "at", "actor", "action", "subject_type", "subject_id", "reason", "old", "new", "prev_hash")


@dataclass(frozen=True)
class Filters:
    """Which entries to read: each field given must match; `since` inclusive, `until` exclusive."""

    subject_type: str | None = None
    subject_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query):
        conditions = [
            column == value
            for column, value in (
                (OperationEntry.subject_type, self.subject_type),
                (OperationEntry.subject_id, self.subject_id),
                (OperationEntry.actor, self.actor),
                (OperationEntry.action, self.action),
            )
            if value
        ]
        if self.since is not None:
            conditions.append(OperationEntry.at >= self.since)
        if self.until is not None:
            conditions.append(OperationEntry.at < self.until)
        return query.where(*conditions)


def entries(session: Session, filters: Filters = Filters(), *, limit: int, offset: int = 0) -> list[Operation]:
    """Entries newest first."""
    query = filters.apply(select(OperationEntry)).order_by(OperationEntry.id.desc()).limit(limit).offset(offset)
    return [_operation(row) for row in session.scalars(query)]


def count(session: Session, filters: Filters = Filters()) -> int:
    return session.scalar(filters.apply(select(func.count(OperationEntry.id))))


def verify(session: Session) -> LogVerification:
    """Re-check the chain from the first entry to the head; names the first broken link."""
    expected_id, prev_hash, seen = 1, GENESIS_HASH, 0
    # Plain rows, streamed: the log may be long, and ORM objects would all stay in the session.
    rows = session.execute(select(*_LOG.c).order_by(_LOG.c.id).execution_options(yield_per=1000))
    with rows:
        for entry in rows:
            seen += 1
            if entry.id != expected_id:
                return LogVerification(seen, f"entry {entry.id}: expected entry {expected_id} here (deleted)")
            if entry.prev_hash != prev_hash:
                return LogVerification(seen, f"entry {entry.id}: does not link to the previous entry's hash")
            if entry_hash(entry) != entry.hash:
                return LogVerification(seen, f"entry {entry.id}: content does not match its hash (edited)")
            expected_id, prev_hash = expected_id + 1, entry.hash
    head = session.execute(select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID)).first()
    last = (expected_id - 1, prev_hash)
    if head is None and last != (0, GENESIS_HASH):
        return LogVerification(seen, "the log's head is missing")
    if head is not None and head.last_id > last[0]:
        return LogVerification(
            seen, f"entry {expected_id}: the log ends before its recorded last entry {head.last_id} (deleted)"
        )
    if head is not None and tuple(head) != last:
        return LogVerification(seen, f"entry {last[0]}: does not match the log's recorded head (entry {head.last_id})")
    return LogVerification(seen, None)


# --- internals ---------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """The value as JSON gives it back (what both databases store and return, so that the hash
    computed now is the hash recomputed from the stored row)."""
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _operation(row: OperationEntry) -> Operation:
    return Operation(
        row.id, row.at, row.actor, row.action, row.subject_type, row.subject_id, row.reason, row.old, row.new
    )
