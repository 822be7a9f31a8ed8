"""Campaigns, nominations and public-notice comments. A nomination is one proposal of one award
for one nominee; its engine instance carries it up the ladder."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase

# DOMAIN.md "Nomination states".
STATES = (
    "DRAFT",
    "SUBMITTED",
    "BLOC_REVIEW",
    "RECEIVED",
    "RETURNED",
    "RESUBMITTED",
    "APPRAISED",
    "PUBLIC_NOTICE",
    "COUNCIL_VOTED",
    "DECIDED",
    "PUBLISHED",
    "REJECTED",
    "REVOKED",
)


class Campaign(DomainBase):
    """An emulation movement or review round (phong trào thi đua / đợt xét)."""

    __tablename__ = "campaign"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    theme: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    registration_deadline: Mapped[date] = mapped_column(Date)
    submission_deadline: Mapped[date | None] = mapped_column(Date)


# A nomination is closed when rejected or revoked; any other (a decided one too) is the subject's
# one nomination for that award and year (the partial unique indexes of Nomination).
CLOSED_STATUSES = ("REJECTED", "REVOKED")
_OPEN = "status NOT IN ('REJECTED', 'REVOKED')"


class Nomination(DomainBase):
    __tablename__ = "nomination"
    __table_args__ = (
        Index(
            "uq_nomination_open_person",
            "person_id",
            "award_code",
            "achievement_year",
            unique=True,
            sqlite_where=text(f"person_id IS NOT NULL AND {_OPEN}"),
            postgresql_where=text(f"person_id IS NOT NULL AND {_OPEN}"),
        ),
        Index(
            "uq_nomination_open_unit",
            "nominee_unit_id",
            "award_code",
            "achievement_year",
            unique=True,
            sqlite_where=text(f"person_id IS NULL AND {_OPEN}"),
            postgresql_where=text(f"person_id IS NULL AND {_OPEN}"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaign.id"), index=True)
    rule_set_id: Mapped[str] = mapped_column(ForeignKey("rule_set.id"))
    award_code: Mapped[str] = mapped_column(String(30))
    route: Mapped[str] = mapped_column(String(20))  # merit | ad_hoc
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    nominee_unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    nominating_unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    # The bloc the nominating unit belonged to in the achievement year (None: no bloc).
    bloc_id: Mapped[str | None] = mapped_column(ForeignKey("bloc.id"), index=True)
    achievement_year: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instance.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)  # "nominations I started"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeComment(DomainBase):
    """A comment received during public notice; all must be resolved before the council votes
    [Decree 98/2023, Art. 46]."""

    __tablename__ = "notice_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))


class NominationWatch(DomainBase):
    """A user follows a nomination: it appears among "nominations I watch" in their inbox."""

    __tablename__ = "nomination_watch"

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewComment(DomainBase):
    """A reviewer's remark on a nomination, shown on its task pages (not a public-notice comment)."""

    __tablename__ = "review_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
