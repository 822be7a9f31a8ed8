"""The operation log: one row per administrative act (reassign, suspend, migrate, a calendar
override, a rule change, a role granted...), with who, why and the values before and after.
Rows are numbered 1, 2, 3... without gaps and hash-chained like an instance's history; the
database refuses to change or delete them, and `operation_log_head` holds the last number and
hash, so that removing the newest rows shows too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import JSONType, UTCDateTime

from ..models import DomainBase

HEAD_ID = 1  # operation_log_head has this one row


class OperationEntry(DomainBase):
    __tablename__ = "operation_log"
    __table_args__ = (
        CheckConstraint("length(trim(reason)) > 0", name="ck_operation_log_reason"),
        Index("ix_operation_log_subject", "subject_type", "subject_id"),
        Index("ix_operation_log_actor", "actor"),
        Index("ix_operation_log_at", "at"),
    )

    # Assigned by workflows.operations.log.record: the previous entry's id plus one.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    old: Mapped[dict | None] = mapped_column(JSONType)
    new: Mapped[dict | None] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OperationLogHead(DomainBase):
    """The chain's head; the database lets it only move forward one entry at a time."""

    __tablename__ = "operation_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
