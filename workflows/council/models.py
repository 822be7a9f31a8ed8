"""Council sessions and secret-ballot tallies, and the emulation blocs' scoring and votes.

Secret ballots store attendance, each member's has-voted flag and the tallies: no column here
(or anywhere) links a member to a choice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase


class CouncilSession(DomainBase):
    """One sitting of a council; it votes on many nominations (items)."""

    __tablename__ = "council_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    council_id: Mapped[str] = mapped_column(ForeignKey("council.id"), index=True)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # planned | held | no_quorum
    rule_set_id: Mapped[str] = mapped_column(ForeignKey("rule_set.id"))


class SessionAttendance(DomainBase):
    __tablename__ = "session_attendance"

    session_id: Mapped[str] = mapped_column(ForeignKey("council_session.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    present: Mapped[bool] = mapped_column()


class SessionItem(DomainBase):
    """A nomination on a session's agenda, with its tally once voted."""

    __tablename__ = "session_item"
    __table_args__ = (UniqueConstraint("session_id", "nomination_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("council_session.id"), index=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), index=True)
    yes: Mapped[int | None] = mapped_column(Integer)
    no: Mapped[int | None] = mapped_column(Integer)
    abstain: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[str | None] = mapped_column(String(20))  # the rule applied, e.g. "0.9"
    denominator: Mapped[str | None] = mapped_column(String(10))  # ALL | PRESENT
    passed: Mapped[bool | None] = mapped_column()


class ItemVoter(DomainBase):
    """Per member and item: recused or not, has voted or not. Never the choice."""

    __tablename__ = "item_voter"

    item_id: Mapped[int] = mapped_column(ForeignKey("session_item.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    recused: Mapped[bool] = mapped_column(default=False)
    has_voted: Mapped[bool] = mapped_column(default=False)


class BlocCriterion(DomainBase):
    """A line of a bloc's own scoring table for a year (blocs write their own criteria)."""

    __tablename__ = "bloc_criterion"

    bloc_id: Mapped[str] = mapped_column(ForeignKey("bloc.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    max_score: Mapped[int] = mapped_column(Integer)


class BlocScore(DomainBase):
    """One member unit's score of another (or of itself: self-scores are cross-checked)."""

    __tablename__ = "bloc_score"

    bloc_id: Mapped[str] = mapped_column(ForeignKey("bloc.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    scorer_unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    scored_unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    criterion_code: Mapped[str] = mapped_column(String(50), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)


class BlocVoteTally(DomainBase):
    """Votes a unit received in its bloc's secret vote for the leading unit (suy tôn)."""

    __tablename__ = "bloc_vote_tally"

    bloc_id: Mapped[str] = mapped_column(ForeignKey("bloc.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    votes: Mapped[int] = mapped_column(Integer)
