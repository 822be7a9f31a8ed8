"""Numbered decisions (quyết định khen thưởng) and their revocations, and the counter that numbers
them per jurisdiction and year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import DomainBase

REVOCATION_GROUNDS = ("fraud", "false_documents", "unlawful_review", "later_findings")  # Law 06/2022 Art. 94(2)


class DecisionCounter(DomainBase):
    """The last decision number issued per jurisdiction and year (numbers restart each year)."""

    __tablename__ = "decision_counter"

    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Decision(DomainBase):
    """A signed, numbered decision (quyết định), e.g. "15/QĐ-UBND"."""

    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(60))  # repeats across years: numbering restarts each year
    kind: Mapped[str] = mapped_column(String(20))  # award | revocation
    signed_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    signed_on: Mapped[date] = mapped_column(Date)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    revocation_ground: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
