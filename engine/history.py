"""Append-only, hash-chained history of every instance, and its verification."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import HistoryEvent, ProcessInstance

GENESIS_HASH = "0" * 64
_INSERT = insert(HistoryEvent.__table__)

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


def event_hash(instance_id: str, seq: int, event: NewEvent | HistoryEvent, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of the event's fields and the previous event's hash."""
    payload = {
        "instance_id": instance_id,
        "seq": seq,
        "type": event.type,
        "actor": event.actor,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "data": event.data,
        "reason": event.reason,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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


@dataclass(frozen=True)
class VerificationReport:
    instances: int
    events: int
    broken: tuple[BrokenLink, ...]

    @property
    def ok(self) -> bool:
        return not self.broken


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


def verify_all(session: Session) -> VerificationReport:
    """Re-check every instance's chain against its events and its recorded head."""
    broken: list[BrokenLink] = []
    events = 0
    heads = {
        row.id: (row.history_seq, row.history_hash)
        for row in session.execute(
            select(ProcessInstance.id, ProcessInstance.history_seq, ProcessInstance.history_hash)
        )
    }
    for instance_id in sorted(heads):
        # Stored (id) order is the order of appending: a reordered chain shows up as a seq jump.
        chain = session.scalars(
            select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id)
        ).all()
        events += len(chain)
        link = verify_chain(instance_id, chain, heads[instance_id])
        if link:
            broken.append(link)
    return VerificationReport(len(heads), events, tuple(broken))
