"""A unit's lineage inside the caller's session: the unit and every unit it succeeds, directly or
through earlier mergers and splits. Awards and members' counts of a unit follow its lineage."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import UnitSuccession


def lineage(session: Session, unit_id: str) -> set[str]:
    """`unit_id` and all its predecessors."""
    found, frontier = {unit_id}, {unit_id}
    while frontier:
        earlier = set(
            session.scalars(select(UnitSuccession.predecessor_id).where(UnitSuccession.successor_id.in_(frontier)))
        )
        frontier = earlier - found
        found |= frontier
    return found
