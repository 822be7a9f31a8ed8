"""What the council secretary reads: the councils of their jurisdictions, sessions, nominations
waiting for a vote, and a session's sheet (members, attendance, items and their tallies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine import queries
from engine.models import HumanTask, ProcessInstance

from ..accounts.principals import Principal
from ..errors import NotFoundError
from ..nominations.models import Campaign, Nomination
from ..nominations.summaries import NominationSummary, summaries_of
from ..org.models import Council, CouncilMember, User
from ..uow import Services
from . import sessions
from .access import council_of, councils_of
from .models import CouncilSession, ItemVoter, SessionAttendance, SessionItem


@dataclass(frozen=True)
class SessionSummary:
    id: str
    council_id: str
    council_name: str
    scheduled_for: datetime
    status: str
    items: int


@dataclass(frozen=True)
class SheetMember:
    user_id: str
    full_name: str
    position: str
    present: bool | None  # None: attendance not recorded yet


@dataclass(frozen=True)
class SheetItem:
    nomination: NominationSummary
    voters: list[str]  # members who may vote on it (not recused)
    recused: list[str]
    yes: int | None
    no: int | None
    abstain: int | None
    passed: bool | None
    threshold: str | None


@dataclass(frozen=True)
class SessionSheet:
    session: SessionSummary
    jurisdiction_id: str
    members: list[SheetMember]
    items: list[SheetItem]


def councils(services: Services, principal: Principal) -> list[Council]:
    """The councils of the jurisdictions the principal holds a role in."""
    with services.session_factory() as session:
        found = councils_of(session, principal)
        session.expunge_all()
        return found


def council_sessions(services: Services, principal: Principal) -> list[SessionSummary]:
    """Sessions of the councils whose jurisdiction the principal holds a role in."""
    with services.session_factory() as session:
        councils = councils_of(session, principal)
        rows = session.execute(
            select(CouncilSession, Council.name, func.count(SessionItem.id))
            .join(Council, Council.id == CouncilSession.council_id)
            .outerjoin(SessionItem, SessionItem.session_id == CouncilSession.id)
            .where(CouncilSession.council_id.in_([c.id for c in councils]))
            .group_by(CouncilSession.id, Council.name)
            .order_by(CouncilSession.scheduled_for.desc())
        ).all()
        return [_session_summary(s, name, items) for s, name, items in rows]


def awaiting_council(services: Services, principal: Principal, council_id: str) -> list[NominationSummary]:
    """Nominations waiting for this council's vote and on no planned session's agenda."""
    with services.session_factory() as session:
        found = council_of(session, principal, council_id)
        planned = (
            select(SessionItem.nomination_id)
            .join(CouncilSession, CouncilSession.id == SessionItem.session_id)
            .where(CouncilSession.status == sessions.PLANNED)
        )
        ids = session.scalars(
            select(Nomination.id)
            .join(Campaign, Campaign.id == Nomination.campaign_id)
            .join(ProcessInstance, ProcessInstance.business_key == Nomination.id)
            .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
            .where(
                Campaign.jurisdiction_id == found.jurisdiction_id,
                HumanTask.element_id == "council_vote",
                HumanTask.state == queries.TASK_OPEN,
                Nomination.id.not_in(planned),
            )
        ).all()
        return sorted(summaries_of(session, set(ids)).values(), key=lambda s: (s.award_code, s.nominee_name))


def session_sheet(services: Services, principal: Principal, session_id: str) -> SessionSheet:
    with services.session_factory() as session:
        council_session = session.get(CouncilSession, session_id)
        if council_session is None:
            raise NotFoundError("council session", session_id)
        found = council_of(session, principal, council_session.council_id, missing=("council session", session_id))
        attendance = {
            a.user_id: a.present
            for a in session.scalars(select(SessionAttendance).where(SessionAttendance.session_id == session_id))
        }
        members = [
            SheetMember(member.user_id, name, member.position, attendance.get(member.user_id))
            for member, name in session.execute(
                select(CouncilMember, User.full_name)
                .join(User, User.id == CouncilMember.user_id)
                .where(CouncilMember.council_id == found.id)
                .order_by(User.full_name)
            )
        ]
        items = session.scalars(
            select(SessionItem).where(SessionItem.session_id == session_id).order_by(SessionItem.id)
        ).all()
        summaries = summaries_of(session, {item.nomination_id for item in items})
        sheet_items = []
        for item in items:
            voters = session.scalars(select(ItemVoter).where(ItemVoter.item_id == item.id)).all()
            sheet_items.append(
                SheetItem(
                    summaries[item.nomination_id],
                    sorted(v.user_id for v in voters if not v.recused),
                    sorted(v.user_id for v in voters if v.recused),
                    item.yes,
                    item.no,
                    item.abstain,
                    item.passed,
                    item.threshold,
                )
            )
        summary = _session_summary(council_session, found.name, len(items))
        return SessionSheet(summary, found.jurisdiction_id, members, sheet_items)


def _session_summary(council_session: CouncilSession, council_name: str, items: int) -> SessionSummary:
    return SessionSummary(
        council_session.id,
        council_session.council_id,
        council_name,
        council_session.scheduled_for,
        council_session.status,
        items,
    )
