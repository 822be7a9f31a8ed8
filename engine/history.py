"""The append-only, hash-chained history of every instance: event types, how an event is
hashed and linked to the one before it, and the check of one instance's chain. The hash-chained
record of what retention removed (engine.retention writes it) is hashed here too.
engine.digests chains all instances day by day; engine.verification checks everything."""

from __future__ import annotations

import hashlib
import json
import json.scanner
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, Iterable, Mapping

from sqlalchemy import insert
from sqlalchemy.orm import Session

from .models import HistoryDigest, HistoryEvent, HistoryRemoval, ProcessInstance

GENESIS_HASH = "0" * 64
EVENTS, INSTANCES = HistoryEvent.__table__, ProcessInstance.__table__
DIGESTS, REMOVALS = HistoryDigest.__table__, HistoryRemoval.__table__
_INSERT = insert(EVENTS)

# Event types, past tense. Each carries in `data` what replay needs.
INSTANCE_STARTED = "InstanceStarted"
TASK_CLAIMED = "TaskClaimed"
TASK_UNCLAIMED = "TaskUnclaimed"
TASK_DELEGATED = "TaskDelegated"
TASK_COMPLETED = "TaskCompleted"
TIMER_FIRED = "TimerFired"
# The escalation ladder of a task with a deadline: reminded, overdue, reassigned.
TASK_REMINDED = "TaskReminded"
TASK_OVERDUE = "TaskOverdue"
TASK_ESCALATED = "TaskEscalated"
INSTANCE_SUSPENDED = "InstanceSuspended"
INSTANCE_RESUMED = "InstanceResumed"
INSTANCE_TERMINATED = "InstanceTerminated"
INSTANCE_COMPLETED = "InstanceCompleted"
# Moved to another version of its process: data holds both versions ({"from": ..., "to": ...}).
INSTANCE_MIGRATED = "InstanceMigrated"


@dataclass(frozen=True)
class NewEvent:
    type: str
    actor: str | None
    occurred_at: datetime
    data: dict[str, Any]
    task_id: str | None = None
    element_id: str | None = None
    reason: str | None = None


# Canonical JSON: sorted keys, no spaces, UTF-8 as is. The event's fixed keys are written by
# hand, in sorted order, which gives the text json.dumps(payload, sort_keys=True, ...) gives at
# about half the cost: verification hashes every event.
canonical_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode


def _json(value: Any) -> str:
    if value is None:
        return "null"
    kind = value.__class__
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return str(value)
    return canonical_json(value)


def event_digest(
    instance_id, seq, type_, actor, task_id, element_id, data_json: str, reason, occurred_at: str, prev_hash
) -> str:
    # Inline for the usual types (text fields are text or None, seq an int): this runs per event.
    q, j = encode_basestring, _json
    text = (
        f'{{"actor":{q(actor) if actor.__class__ is str else j(actor)},"data":{data_json},'
        f'"element_id":{q(element_id) if element_id.__class__ is str else j(element_id)},'
        f'"instance_id":{q(instance_id) if instance_id.__class__ is str else j(instance_id)},'
        f'"occurred_at":{q(occurred_at)},"prev_hash":{q(prev_hash) if prev_hash.__class__ is str else j(prev_hash)},'
        f'"reason":{q(reason) if reason.__class__ is str else j(reason)},'
        f'"seq":{seq if seq.__class__ is int else j(seq)},'
        f'"task_id":{q(task_id) if task_id.__class__ is str else j(task_id)},'
        f'"type":{q(type_) if type_.__class__ is str else j(type_)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(instance_id: str, seq: int, event: NewEvent | HistoryEvent, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of the event's fields and the previous event's hash."""
    return event_digest(
        instance_id,
        seq,
        event.type,
        event.actor,
        event.task_id,
        event.element_id,
        canonical_json(event.data),
        event.reason,
        event.occurred_at.isoformat(timespec="microseconds"),
        prev_hash,
    )


def canonical_hash(payload: dict) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def link_events(
    instance_id: str, head: tuple[int, str], events: Iterable[NewEvent]
) -> tuple[list[dict], tuple[int, str]]:
    """Number and hash events after the chain head (seq, hash); returns the rows and the new head."""
    seq, prev_hash = head
    rows = []
    for event in events:
        seq += 1
        digest = event_hash(instance_id, seq, event, prev_hash)
        rows.append(
            dict(
                instance_id=instance_id,
                seq=seq,
                type=event.type,
                actor=event.actor,
                task_id=event.task_id,
                element_id=event.element_id,
                data=event.data,
                reason=event.reason,
                occurred_at=event.occurred_at,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    return rows, (seq, prev_hash)


def append_events(session: Session, rows: list[dict]) -> None:
    """Insert linked events. Callers hold the instance row's new version, so no one else can
    append after the same head."""
    session.connection().execute(_INSERT, rows)


@dataclass(frozen=True)
class BrokenLink:
    instance_id: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"instance {self.instance_id}, event {self.seq}: {self.reason}"


def verify_chain(instance_id: str, events: Iterable[HistoryEvent], head: tuple[int, str]) -> BrokenLink | None:
    """Return the first broken link of one instance's chain (events in stored order), or None.
    `head` is the (seq, hash) the instance row records as its last event."""
    prev_hash, expected_seq = GENESIS_HASH, 1
    for event in events:
        if event.seq != expected_seq:
            return BrokenLink(instance_id, event.seq, f"expected event {expected_seq} here (deleted or reordered)")
        if event.prev_hash != prev_hash:
            return BrokenLink(instance_id, event.seq, "does not link to the previous event's hash")
        if event_hash(instance_id, event.seq, event, prev_hash) != event.hash:
            return BrokenLink(instance_id, event.seq, "content does not match its hash (edited)")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    if head != (expected_seq - 1, prev_hash):
        return BrokenLink(instance_id, expected_seq, f"chain ends before the instance's last event {head[0]} (deleted)")
    return None


# The removal records' chain.
REMOVAL_FIELDS = (
    "instance_id",
    "process_id",
    "version",
    "business_key",
    "last_seq",
    "last_hash",
    "events",
    "ended_at",
    "removed_at",
    "removed_by",
    "policy_days",
    "prev_hash",
)


def removal_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 over a canonical JSON of a removal record's fields (its id and hash excepted)."""
    payload = {name: record[name] for name in REMOVAL_FIELDS}
    for name in ("ended_at", "removed_at"):
        payload[name] = payload[name].isoformat(timespec="microseconds")
    return canonical_hash(payload)
