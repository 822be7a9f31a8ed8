"""People inside the caller's unit of work: a person enters with their first employment."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from .models import Employment, Person


def add_person(
    session: Session, *, person_id: str, full_name: str, unit_id: str, recruited_on: date, position: str | None = None
) -> Person:
    """A person working in `unit_id` since `recruited_on` (their first period of employment)."""
    person = Person(id=person_id, full_name=full_name, unit_id=unit_id, recruited_on=recruited_on)
    session.add(person)
    session.flush()
    session.add(Employment(person_id=person_id, unit_id=unit_id, position=position, started_on=recruited_on))
    return person
