"""What eligibility rules read: people, and the history of people and units (titles won,
performance ratings, initiatives, discipline)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models import DomainBase

SUBJECT_PERSON, SUBJECT_UNIT = "person", "unit"
RATINGS = ("HTXSNV", "HTTNV", "HTNV", "KHT")  # excellent, good, completed, not completed
INITIATIVE_SCOPES = ("unit", "province", "national")
RESTRICTION_KINDS = ("discipline", "investigation", "inspection", "complaint")


class Person(DomainBase):
    """A civil servant or worker who can be nominated (not necessarily a user of thidua).
    `unit_id` is where they work now; where they worked when is their Employment."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    recruited_on: Mapped[date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(10))  # female | male: reports count women
    born_on: Mapped[date | None] = mapped_column(Date)


class Employment(DomainBase):
    """A period a person worked in a unit (`ended_on` None: still there). A unit nominates the
    people it employed during the achievement year."""

    __tablename__ = "employment"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(200))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class AchievementRecord(DomainBase):
    """The award register (sổ khen thưởng): a title or commendation a person or unit received for
    a year. A signed decision writes one per awardee (with its number, date and decider level);
    older awards are imported (no decision here); a revoked decision's records stay, marked
    revoked, and count for nothing. Ad hoc and thematic awards do not count towards merit awards
    [Law 06/2022 and its decrees; see the rule set]."""

    __tablename__ = "achievement_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(10))  # person | unit
    subject_id: Mapped[str] = mapped_column(String(50), index=True)
    year: Mapped[int] = mapped_column(Integer)
    award_code: Mapped[str] = mapped_column(String(30))
    counts_for_merit: Mapped[bool] = mapped_column(default=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), index=True)
    decision_code: Mapped[str | None] = mapped_column(String(60))
    decided_on: Mapped[date | None] = mapped_column(Date)
    decider_level: Mapped[str | None] = mapped_column(String(30))
    nomination_id: Mapped[str | None] = mapped_column(ForeignKey("nomination.id"))
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoked_by: Mapped[str | None] = mapped_column(String(60))  # the revoking decision's code


class PerformanceRating(DomainBase):
    """A person's yearly performance rating (xếp loại chất lượng)."""

    __tablename__ = "performance_rating"

    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[str] = mapped_column(String(10))


class Initiative(DomainBase):
    """A recognised initiative (sáng kiến) and the scope of its effect."""

    __tablename__ = "initiative"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    # The document that recognised it (quyết định công nhận): number, date and who issued it.
    document_number: Mapped[str | None] = mapped_column(String(60))
    document_date: Mapped[date | None] = mapped_column(Date)
    issued_by: Mapped[str | None] = mapped_column(String(200))


class Restriction(DomainBase):
    """Discipline, investigation, inspection or complaint verification: while one is open the
    subject is neither proposed nor awarded [Decree 98/2023, Art. 4]."""

    __tablename__ = "restriction"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[str] = mapped_column(String(50), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    severity: Mapped[str | None] = mapped_column(String(30))  # e.g. khiển trách, cảnh cáo
    source: Mapped[str | None] = mapped_column(String(200))  # the decision or report that imposed it
