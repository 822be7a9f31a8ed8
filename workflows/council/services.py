"""The council secretary's acts, each in one transaction: put nominations on a session's agenda,
and record a session's sheet (attendance, then the tallies of many nominations at once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..accounts.principals import Principal
from ..errors import DomainError, ForbiddenError, NotFoundError
from ..nominations.models import Nomination
from ..org.models import Council, jurisdiction_scope
from ..uow import Services
from . import sessions
from .access import council_of
from .models import CouncilSession, SessionItem


@dataclass(frozen=True)
class ItemTally:
    yes: int
    no: int
    abstain: int
    voted_user_ids: list[str]


def schedule_council_session(
    services: Services, principal: Principal, council_id: str, scheduled_for: datetime, nomination_ids: list[str]
) -> str:
    with services.uow() as uow:
        found = council_of(uow.session, principal, council_id)
        _require_secretary(uow, principal, found)
        agenda = uow.session.scalars(select(Nomination).where(Nomination.id.in_(nomination_ids))).all()
        rule_sets = {nomination.rule_set_id for nomination in agenda}
        if len(rule_sets) > 1:
            raise DomainError("mixed_rule_sets", "one session votes on nominations under one rule set")
        if not rule_sets:
            raise DomainError("empty_agenda", "a session needs at least one nomination on its agenda")
        session_id = sessions.schedule_session(uow, council_id, scheduled_for, rule_sets.pop(), nomination_ids)
        uow.commit()
    return session_id


def record_session(
    services: Services,
    principal: Principal,
    session_id: str,
    present_user_ids: list[str],
    tallies: dict[str, ItemTally],
) -> dict[str, bool]:
    """Record attendance (on a planned session) and the tallies of many nominations in one
    transaction: all of it lands or none. Returns {nomination_id: passed}."""
    with services.uow() as uow:
        council_session = uow.session.get(CouncilSession, session_id)
        if council_session is None:
            raise NotFoundError("council session", session_id)
        found = council_of(uow.session, principal, council_session.council_id, missing=("council session", session_id))
        _require_secretary(uow, principal, found)
        # Attendance is taken once, when the sheet is first recorded (the page then shows it read-only).
        if council_session.status == sessions.PLANNED:
            quorum = sessions.record_attendance(uow, session_id, present_user_ids)
            if not quorum.has_quorum:
                uow.commit()
                return {}
        results = {}
        for nomination_id, tally in tallies.items():
            try:
                sessions.record_council_vote(
                    uow,
                    principal.id,
                    session_id,
                    nomination_id,
                    yes=tally.yes,
                    no=tally.no,
                    abstain=tally.abstain,
                    voted_user_ids=tally.voted_user_ids,
                )
            except DomainError as error:
                raise DomainError(error.code, f"nomination {nomination_id}: {error.message}") from error
            results[nomination_id] = bool(
                uow.session.scalar(
                    select(SessionItem.passed).where(
                        SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id
                    )
                )
            )
        uow.commit()
    return results


def _require_secretary(uow, principal: Principal, found: Council) -> None:
    if not uow.directory.is_candidate(
        uow.session, principal.id, "council_secretary", jurisdiction_scope(found.jurisdiction_id)
    ):
        raise ForbiddenError(f"only the secretary of {found.name} records its sessions")
