"""The award catalogue as versioned data: a rule set is in force for achievement periods from
`valid_from` to `valid_to` in a jurisdiction; it holds the awards and the decision tables
(eligibility, council vote rules, step deadlines) as DMN files, which designers edit: each change
is a new revision of the rule set, in force from then on (no process deploy needed)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase

SUBJECTS = ("individual", "collective")
DECIDER_LEVELS = ("unit_head", "commune_chair", "province_chair", "prime_minister")


class RuleSet(DomainBase):
    __tablename__ = "rule_set"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "valid_from"),)

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Award(DomainBase):
    """One award of a rule set. `eligibility_decision` names a decision of the rule set's DMN
    files; `bloc_vote` marks awards chosen by a bloc's vote (CO_TINH)."""

    __tablename__ = "award"

    rule_set_id: Mapped[str] = mapped_column(ForeignKey("rule_set.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(20))
    decider_level: Mapped[str] = mapped_column(String(30))
    documents: Mapped[list] = mapped_column(JSON)
    reward_multiple: Mapped[float] = mapped_column(Float)
    public_notice: Mapped[bool] = mapped_column(default=False)
    bloc_vote: Mapped[bool] = mapped_column(default=False)
    eligibility_decision: Mapped[str] = mapped_column(String(100))


class RuleFile(DomainBase):
    """A DMN file of a rule set (eligibility tables, the council's vote rules)."""

    __tablename__ = "rule_file"

    rule_set_id: Mapped[str] = mapped_column(ForeignKey("rule_set.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[str] = mapped_column(Text)


class RuleSetRevision(DomainBase):
    """Every deployed state of a rule set's files, kept whole and never changed: revision 1 is
    the set as installed, each designer's deploy adds one. `rule_file` holds the newest."""

    __tablename__ = "rule_set_revision"

    rule_set_id: Mapped[str] = mapped_column(ForeignKey("rule_set.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    # File name -> content.
    files: Mapped[dict] = mapped_column(JSON)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(200))
