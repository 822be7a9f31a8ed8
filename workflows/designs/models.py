"""Drafts: a working copy of a process bundle (its .bpmn and form .json files) or of a rule set's
decision tables (.dmn), shared by the designers who edit it. One draft per process or rule set;
each save bumps `revision`, and a save that names an older revision is refused (optimistic)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase

PROCESS, RULES = "process", "rules"
DRAFT_KINDS = (PROCESS, RULES)


class Draft(DomainBase):
    __tablename__ = "design_draft"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The process id, or the rule set id.
    subject: Mapped[str] = mapped_column(String(200))
    # The process version or rule set revision the draft was opened from (None: a new process).
    base_version: Mapped[int | None] = mapped_column(Integer)
    # File name -> content (text), the whole bundle.
    files: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
