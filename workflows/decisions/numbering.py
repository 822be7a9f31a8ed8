"""Numbered decisions inside the caller's unit of work: a signed award decision gets the next
number of its jurisdiction and year ("15/QĐ-UBND"); a revocation (hủy bỏ) names its ground and
marks the decision it revokes."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from engine import UnitOfWork

from ..errors import DomainError
from ..org.models import Jurisdiction, User
from .models import REVOCATION_GROUNDS, Decision, DecisionCounter

logger = logging.getLogger(__name__)

AWARD, REVOCATION = "award", "revocation"
DECISION_KINDS = (AWARD, REVOCATION)


def _next_number(uow: UnitOfWork, jurisdiction_id: str, year: int) -> int:
    """Take the next decision number of a jurisdiction and year. The counter row's UPDATE
    holds its lock until commit, so concurrent issuers get consecutive numbers and a rollback
    leaves no gap."""
    increment = (
        update(DecisionCounter)
        .where(DecisionCounter.jurisdiction_id == jurisdiction_id, DecisionCounter.year == year)
        .values(last_number=DecisionCounter.last_number + 1)
        .returning(DecisionCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = uow.session.execute(increment).scalar_one_or_none()
    if number is not None:
        return number
    try:
        with uow.session.begin_nested():
            uow.session.execute(
                insert(DecisionCounter).values(jurisdiction_id=jurisdiction_id, year=year, last_number=1)
            )
        return 1
    except IntegrityError:
        # Another transaction issued the year's first decision meanwhile; its row is committed now.
        return uow.session.execute(increment).scalar_one()


def _issue(
    uow: UnitOfWork, jurisdiction_id: str, kind: str, signed_by: str, signed_on: date, note: str | None
) -> Decision:
    jurisdiction = uow.session.get(Jurisdiction, jurisdiction_id)
    if jurisdiction is None:
        raise DomainError("jurisdiction_not_found", f"no jurisdiction {jurisdiction_id}")
    if uow.session.get(User, signed_by) is None:
        raise DomainError("user_not_found", f"no user {signed_by}")
    number = _next_number(uow, jurisdiction_id, signed_on.year)
    code = f"{number}/{jurisdiction.decision_suffix}"
    decision = Decision(
        jurisdiction_id=jurisdiction_id,
        year=signed_on.year,
        number=number,
        code=code,
        kind=kind,
        signed_by=signed_by,
        signed_on=signed_on,
        note=note,
    )
    uow.session.add(decision)
    uow.session.flush()
    logger.info("decision %s issued as %s in jurisdiction %s", decision.id, code, jurisdiction_id)
    return decision


def issue_decision(
    uow: UnitOfWork, jurisdiction_id: str, kind: str, signed_by: str, signed_on: date, note: str | None = None
) -> Decision:
    """Number and record a signed decision, e.g. "15/QĐ-UBND": numbers run per jurisdiction and
    restart each year. Revocations go through revoke_decision. Raises DomainError."""
    if kind not in DECISION_KINDS:
        raise DomainError("unknown_decision_kind", f"decision kind {kind!r} is not one of {', '.join(DECISION_KINDS)}")
    if kind == REVOCATION:
        raise DomainError("revocation_needs_original", "a revocation is issued with revoke_decision")
    return _issue(uow, jurisdiction_id, kind, signed_by, signed_on, note)


def revoke_decision(
    uow: UnitOfWork, decision_id: int, ground: str, signed_by: str, signed_on: date, note: str | None
) -> Decision:
    """Issue a revocation decision (hủy bỏ) of `decision_id` on a legal ground and mark the
    original revoked. Returns the revocation. Raises DomainError."""
    # Law 06/2022 Art. 94(2): the grounds for revoking an award.
    if ground not in REVOCATION_GROUNDS:
        raise DomainError("unknown_revocation_ground", f"{ground!r} is not one of {', '.join(REVOCATION_GROUNDS)}")
    original = uow.session.scalars(
        select(Decision).where(Decision.id == decision_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if original is None:
        raise DomainError("decision_not_found", f"no decision {decision_id}")
    if original.kind == REVOCATION:
        raise DomainError("revocation_not_revocable", f"decision {original.code} is itself a revocation")
    if original.revoked_by_id is not None:
        raise DomainError("decision_already_revoked", f"decision {original.code} is already revoked")
    if signed_on < original.signed_on:
        raise DomainError("revocation_before_decision", f"a revocation cannot predate decision {original.code}")
    revocation = _issue(uow, original.jurisdiction_id, REVOCATION, signed_by, signed_on, note)
    original.revoked_by_id = revocation.id
    original.revocation_ground = ground
    uow.session.flush()
    logger.info("decision %s revoked by decision %s", original.id, revocation.id)
    return revocation
