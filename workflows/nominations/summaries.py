"""The nomination read model every screen and message shows: a nomination with its award's title,
its nominee's and units' names, its campaign and its decision number."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from ..awards.models import Award
from ..decisions.models import Decision
from ..nominees.models import Person
from ..org.models import Unit
from .models import Campaign, Nomination


@dataclass(frozen=True)
class NominationSummary:
    id: str
    status: str
    award_code: str
    award_title: str
    nominee_name: str
    nominating_unit_id: str
    nominating_unit_name: str
    bloc_id: str | None
    campaign_id: str
    campaign_name: str
    achievement_year: int
    route: str
    summary: str
    created_by: str
    created_at: datetime
    instance_id: str | None
    rejection_reason: str | None
    decision_code: str | None


@functools.cache
def summary_query() -> Select:
    """Built once: a Select is immutable, and building this one costs more than running it."""
    nominee, nominee_unit, nominating_unit = aliased(Person), aliased(Unit), aliased(Unit)
    return (
        select(
            Nomination,
            Award.title,
            func.coalesce(nominee.full_name, nominee_unit.name),
            nominating_unit.name,
            Campaign.name,
            Decision.code,
        )
        .join(
            Award,
            and_(Award.rule_set_id == Nomination.rule_set_id, Award.code == Nomination.award_code),
        )
        .outerjoin(nominee, nominee.id == Nomination.person_id)
        .join(nominee_unit, nominee_unit.id == Nomination.nominee_unit_id)
        .join(nominating_unit, nominating_unit.id == Nomination.nominating_unit_id)
        .join(Campaign, Campaign.id == Nomination.campaign_id)
        .outerjoin(Decision, Decision.id == Nomination.decision_id)
    )


def summary_from(row) -> NominationSummary:
    nomination, award_title, nominee_name, unit_name, campaign_name, decision_code = row
    return NominationSummary(
        id=nomination.id,
        status=nomination.status,
        award_code=nomination.award_code,
        award_title=award_title,
        nominee_name=nominee_name,
        nominating_unit_id=nomination.nominating_unit_id,
        nominating_unit_name=unit_name,
        bloc_id=nomination.bloc_id,
        campaign_id=nomination.campaign_id,
        campaign_name=campaign_name,
        achievement_year=nomination.achievement_year,
        route=nomination.route,
        summary=nomination.summary,
        created_by=nomination.created_by,
        created_at=nomination.created_at,
        instance_id=nomination.instance_id,
        rejection_reason=nomination.rejection_reason,
        decision_code=decision_code,
    )


def summaries_of(session: Session, ids: set[str]) -> dict[str, NominationSummary]:
    if not ids:
        return {}
    return {row[0].id: summary_from(row) for row in session.execute(summary_query().where(Nomination.id.in_(ids)))}
