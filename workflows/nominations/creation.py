"""Creating a nomination inside the caller's unit of work: the draft row and its process,
started in the same transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import select

import engine
from engine import UnitOfWork

from ..awards import eligibility
from ..errors import DomainError
from ..nominees.models import Person
from ..org.models import BlocMember, bloc_scope, jurisdiction_scope, unit_scope
from .models import Campaign, Nomination

PROCESS_OF_ROUTE = {"merit": "nomination", "ad_hoc": "ad_hoc_nomination"}


def create_nomination(
    uow: UnitOfWork,
    actor: str,
    *,
    campaign_id: str,
    award_code: str,
    nominating_unit_id: str,
    year: int,
    person_id: str | None = None,
    unit_id: str | None = None,
    route: str = "merit",
) -> Nomination:
    """Create a draft nomination and start its process; the actor drafts it as unit officer."""
    session = uow.session
    if route not in PROCESS_OF_ROUTE:
        raise DomainError("unknown_route", f"route must be one of {sorted(PROCESS_OF_ROUTE)}, not {route!r}")
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise DomainError("unknown_campaign", f"no campaign {campaign_id!r}")
    if not uow.directory.is_candidate(session, actor, "unit_officer", unit_scope(nominating_unit_id)):
        raise DomainError("not_unit_officer", f"{actor} is not a unit officer of {nominating_unit_id}")
    rule_set = eligibility.rule_set_in_force(uow, campaign.jurisdiction_id, year)
    award = eligibility.award_of(uow, rule_set.id, award_code)
    nominee_unit_id = _nominee_unit(uow, award.subject, person_id, unit_id)
    nomination = Nomination(
        id=str(uuid.uuid4()),
        campaign_id=campaign_id,
        rule_set_id=rule_set.id,
        award_code=award_code,
        route=route,
        person_id=person_id,
        nominee_unit_id=nominee_unit_id,
        nominating_unit_id=nominating_unit_id,
        bloc_id=_bloc_of(uow, nominating_unit_id, year),
        achievement_year=year,
        summary="",
        status="DRAFT",
        created_by=actor,
        created_at=uow.clock(),
    )
    session.add(nomination)
    session.flush()
    data = {
        "nomination_id": nomination.id,
        "award_code": award_code,
        "rule_set_id": rule_set.id,  # the step deadlines of the rules in force
        "unit_scope": unit_scope(nominating_unit_id),
        "bloc_scope": bloc_scope(nomination.bloc_id) if nomination.bloc_id else None,
        "jurisdiction_scope": jurisdiction_scope(campaign.jurisdiction_id),
        "public_notice": award.public_notice,
    }
    result = engine.start_instance(uow, PROCESS_OF_ROUTE[route], actor, data, business_key=nomination.id)
    nomination.instance_id = result.instance_id
    session.flush()
    return nomination


def _bloc_of(uow: UnitOfWork, unit_id: str, year: int) -> str | None:
    return uow.session.scalar(select(BlocMember.bloc_id).where(BlocMember.unit_id == unit_id, BlocMember.year == year))


def _nominee_unit(uow: UnitOfWork, subject: str, person_id: str | None, unit_id: str | None) -> str:
    if subject == "individual":
        person = uow.session.get(Person, person_id) if person_id else None
        if person is None or unit_id:
            raise DomainError("wrong_subject", "an individual award needs a person (and no unit) as nominee")
        return person.unit_id
    if not unit_id or person_id:
        raise DomainError("wrong_subject", "a collective award needs a unit (and no person) as nominee")
    return unit_id
