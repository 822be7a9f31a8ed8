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
    """A civil servant or worker who can be nominated (not necessarily a user of thidua)."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    recruited_on: Mapped[date] = mapped_column(Date)


class AchievementRecord(DomainBase):
    """A title or commendation a person or unit received in a year. Ad hoc and thematic awards
    do not count towards merit awards [Decree 98/2023, Art. 4]."""

    __tablename__ = "achievement_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(10))  # person | unit
    subject_id: Mapped[str] = mapped_column(String(50), index=True)
    year: Mapped[int] = mapped_column(Integer)
    award_code: Mapped[str] = mapped_column(String(30))
    counts_for_merit: Mapped[bool] = mapped_column(default=True)


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
