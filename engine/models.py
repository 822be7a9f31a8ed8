"""Engine tables: definitions, instances (one snapshot row each), the human-task projection,
the append-only history, its daily digests and removal records, retention and the timer job table."""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

# Plain JSON, not JSONB: PostgreSQL keeps the text verbatim (key order included), which
# SpiffWorkflow's snapshots rely on, and no step pays for JSONB's parsing.
JSONType = JSON()


class SnapshotJSON(TypeDecorator):
    """A workflow snapshot. PostgreSQL keeps it as JSON text and compresses it itself (TOAST);
    SQLite compresses nothing, so there the JSON is stored zlib-compressed in the same column
    (about a quarter of its size; compressing and expanding take tens of microseconds)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(_CompressedJSON() if dialect.name == "sqlite" else JSON())

    def process_bind_param(self, value, dialect):
        if dialect.name != "sqlite" or value is None:
            return value
        # Level 1: a third of level 6's time for 5% more bytes.
        return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 1)

    def process_result_value(self, value, dialect):
        if dialect.name != "sqlite" or value is None:
            return value
        return json.loads(zlib.decompress(value))


class _CompressedJSON(UserDefinedType):
    """SQLite's column for SnapshotJSON: declared JSON, as the migrations made it, holding bytes."""

    cache_ok = True

    def get_col_spec(self, **_kw) -> str:
        return "JSON"


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and returns them aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class EngineBase(DeclarativeBase):
    pass


class ProcessDefinition(EngineBase):
    """One immutable deployed version of a process, with the bundle it came from."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    # SpiffWorkflow's serialized spec and subprocess specs: loaded once per definition, not per step.
    # Deferred: the runtime caches these by content hash instead of reading them every step.
    spec: Mapped[dict] = mapped_column(JSONType, deferred=True)
    # Per user-task element: candidate role, scope expression, due days, four-eyes, form.
    task_meta: Mapped[dict] = mapped_column(JSONType, deferred=True)
    forms: Mapped[dict] = mapped_column(JSONType, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(200))


class DefinitionFile(EngineBase):
    """A source file of a deployed bundle, kept verbatim (designer, replay and audit read it)."""

    __tablename__ = "definition_file"

    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


class ProcessInstance(EngineBase):
    """One running or ended instance: one row, one snapshot, one optimistic `version` (every
    write is `UPDATE ... WHERE id = ? AND version = ?`, see engine.steps)."""

    __tablename__ = "process_instance"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    snapshot: Mapped[dict] = mapped_column(SnapshotJSON)
    serializer_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Head of the history chain: a deleted last event shows as a mismatch with these.
    history_seq: Mapped[int] = mapped_column(Integer, default=0)
    history_hash: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HumanTask(EngineBase):
    """Inbox projection of a user task; refreshed in the same transaction as the snapshot."""

    __tablename__ = "human_task"
    __table_args__ = (
        # claimed_by: "claimable" (unclaimed) and the inbox counts are read from the index alone.
        Index("ix_human_task_candidates", "state", "candidate_role", "org_scope", "claimed_by", "due_at"),
        Index("ix_human_task_claimed", "state", "claimed_by", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    # The instance's business key, copied: an inbox filtered or sorted by the business record
    # (a nomination's award or status) joins it from the task without reading the instance.
    business_key: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_role: Mapped[str | None] = mapped_column(String(100))
    org_scope: Mapped[str | None] = mapped_column(String(200))
    form: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    # How far up its escalation ladder an open task has gone: reminded, overdue or escalated.
    escalation: Mapped[str | None] = mapped_column(String(20))


class HistoryEvent(EngineBase):
    """Append-only, hash-chained per instance; the database refuses UPDATE and DELETE."""

    __tablename__ = "history_event"
    # occurred_at: the daily digest reads one day's events at a time.
    __table_args__ = (UniqueConstraint("instance_id", "seq"), Index("ix_history_event_occurred_at", "occurred_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class HistoryDigest(EngineBase):
    """One UTC day of every chain, append-only: the head each instance's chain reached that day
    ([instance_id, seq, hash], sorted), the last removal record of the day, and the previous
    day's hash. Days follow each other without gaps from the first day with history."""

    __tablename__ = "history_digest"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    heads: Mapped[list] = mapped_column(JSONType)
    instances: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    removal: Mapped[list | None] = mapped_column(JSONType)  # [id, hash] of the day's last removal record
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    built_by: Mapped[str] = mapped_column(String(200))


class HistoryRemoval(EngineBase):
    """What retention removed of one instance, append-only and hash-chained in id order. Its row
    is what lets the database delete the instance's history events (see migration 0007); the
    unique prev_hash keeps the chain a line when two cleanups race."""

    __tablename__ = "history_removal"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(36), unique=True)
    process_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_by: Mapped[str] = mapped_column(String(200))
    policy_days: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class RetentionPolicy(EngineBase):
    """How many days the history of an ended instance of a process is kept after it ended. Rows
    are never changed: the newest row of a process is its policy, older ones are its record.
    A process without a row is kept for ever."""

    __tablename__ = "retention_policy"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegalHold(EngineBase):
    """A legal hold keeps an instance from retention while `released_at` is empty. Rows are never
    deleted: a release is recorded on the row, so every hold and release stays on record."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(Text)
    held_by: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(Text)


class TimerJob(EngineBase):
    """A due action (a BPMN timer, a step of a task's escalation ladder); claimed atomically by
    any scheduler process, run once. `done_at` shows how late it ran."""

    __tablename__ = "timer_job"
    __table_args__ = (Index("ix_timer_job_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(50))
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    lock_owner: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
