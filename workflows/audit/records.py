"""A nomination's council votes (tallies and attendance, never a member's choice) and its decision,
as auditors read them, inside the caller's session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..council.models import CouncilSession, ItemVoter, SessionAttendance, SessionItem
from ..decisions.models import Decision
from ..nominations.models import Nomination
from ..org.models import Council, User


@dataclass(frozen=True)
class CouncilVote:
    """A council's tally on the nomination with the session's attendance. Secret ballots keep
    only counts and who was present or recused: no member is linked to a choice."""

    session_id: str
    council_name: str
    scheduled_for: datetime
    session_status: str
    yes: int | None
    no: int | None
    abstain: int | None
    threshold: str | None
    denominator: str | None
    passed: bool | None
    ballots_cast: int
    present: tuple[str, ...]
    absent: tuple[str, ...]
    recused: tuple[str, ...]


@dataclass(frozen=True)
class DecisionInfo:
    id: int
    code: str
    kind: str
    year: int
    signed_by: str
    signed_by_name: str
    signed_on: date
    note: str | None
    revoked_by_code: str | None
    revocation_ground: str | None


def council_votes(session: Session, nomination_id: str) -> list[CouncilVote]:
    """Every council session that had the nomination on its agenda, oldest first."""
    rows = session.execute(
        select(SessionItem, CouncilSession, Council.name)
        .join(CouncilSession, CouncilSession.id == SessionItem.session_id)
        .join(Council, Council.id == CouncilSession.council_id)
        .where(SessionItem.nomination_id == nomination_id)
        .order_by(CouncilSession.scheduled_for)
    ).all()
    votes = []
    for item, council_session, council_name in rows:
        attendance = session.execute(
            select(SessionAttendance.present, User.full_name)
            .join(User, User.id == SessionAttendance.user_id)
            .where(SessionAttendance.session_id == council_session.id)
            .order_by(User.full_name)
        ).all()
        voters = session.execute(
            select(ItemVoter.recused, ItemVoter.has_voted, User.full_name)
            .join(User, User.id == ItemVoter.user_id)
            .where(ItemVoter.item_id == item.id)
            .order_by(User.full_name)
        ).all()
        votes.append(
            CouncilVote(
                session_id=council_session.id,
                council_name=council_name,
                scheduled_for=council_session.scheduled_for,
                session_status=council_session.status,
                yes=item.yes,
                no=item.no,
                abstain=item.abstain,
                threshold=item.threshold,
                denominator=item.denominator,
                passed=item.passed,
                ballots_cast=sum(1 for _, has_voted, _ in voters if has_voted),
                present=tuple(name for present, name in attendance if present),
                absent=tuple(name for present, name in attendance if not present),
                recused=tuple(name for recused, _, name in voters if recused),
            )
        )
    return votes


def decision_of(session: Session, nomination_id: str) -> DecisionInfo | None:
    signer, revocation = aliased(User), aliased(Decision)
    row = session.execute(
        select(Decision, signer.full_name, revocation.code)
        .join(Nomination, Nomination.decision_id == Decision.id)
        .join(signer, signer.id == Decision.signed_by)
        .outerjoin(revocation, revocation.id == Decision.revoked_by_id)
        .where(Nomination.id == nomination_id)
    ).one_or_none()
    if row is None:
        return None
    decision, signer_name, revoked_by = row
    return DecisionInfo(
        decision.id,
        decision.code,
        decision.kind,
        decision.year,
        decision.signed_by,
        signer_name,
        decision.signed_on,
        decision.note,
        revoked_by,
        decision.revocation_ground,
    )
