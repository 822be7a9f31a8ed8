"""Creating a nomination inside the caller's unit of work: the draft row and its process,
started in the same transaction."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

import engine
from engine import UnitOfWork

from ..awards import eligibility
from ..errors import DomainError, DuplicateNominationError
from ..nominees.models import Employment, Person
from ..org.models import BlocMember, bloc_scope, jurisdiction_scope, unit_scope
from .models import CLOSED_STATUSES, Campaign, Nomination

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
    nominee_unit_id = _nominee_unit(uow, award.subject, person_id, unit_id, nominating_unit_id, year)
    _require_no_open_nomination(uow, award_code, year, person_id, nominee_unit_id)
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
    try:
        with session.begin_nested():  # two racing drafts: the unique index refuses the second
            session.add(nomination)
            session.flush()
    except IntegrityError:
        _require_no_open_nomination(uow, award_code, year, person_id, nominee_unit_id)
        raise
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


def _nominee_unit(
    uow: UnitOfWork, subject: str, person_id: str | None, unit_id: str | None, nominating_unit_id: str, year: int
) -> str:
    """The nominee's unit, which must be the nominating unit: a person it employed during the
    achievement year, or the unit itself for a collective award."""
    if subject == "individual":
        person = uow.session.get(Person, person_id) if person_id else None
        if person is None or unit_id:
            raise DomainError("wrong_subject", "an individual award needs a person (and no unit) as nominee")
        if not _employed(uow, person_id, nominating_unit_id, year):
            raise DomainError(
                "nominee_outside_unit", f"{person.full_name} did not work in {nominating_unit_id} during {year}"
            )
        return nominating_unit_id
    if not unit_id or person_id:
        raise DomainError("wrong_subject", "a collective award needs a unit (and no person) as nominee")
    if unit_id != nominating_unit_id:
        raise DomainError("nominee_outside_unit", f"{nominating_unit_id} cannot nominate the collective {unit_id}")
    return unit_id


def _employed(uow: UnitOfWork, person_id: str, unit_id: str, year: int) -> bool:
    """Whether the person worked in the unit on some day of the year."""
    return (
        uow.session.scalar(
            select(Employment.id).where(
                Employment.person_id == person_id,
                Employment.unit_id == unit_id,
                Employment.started_on <= date(year, 12, 31),
                or_(Employment.ended_on.is_(None), Employment.ended_on >= date(year, 1, 1)),
            )
        )
        is not None
    )


def _require_no_open_nomination(
    uow: UnitOfWork, award_code: str, year: int, person_id: str | None, unit_id: str
) -> None:
    """One open nomination per subject, award and achievement year (a decided one stays open)."""
    if person_id:
        subject = Nomination.person_id == person_id
    else:
        subject = and_(Nomination.person_id.is_(None), Nomination.nominee_unit_id == unit_id)
    query = select(Nomination.id).where(
        subject,
        Nomination.award_code == award_code,
        Nomination.achievement_year == year,
        Nomination.status.not_in(CLOSED_STATUSES),
    )
    existing = uow.session.scalar(query.limit(1))
    if existing is not None:
        raise DuplicateNominationError(existing)
