"""The award register (sổ khen thưởng) inside the caller's unit of work: a signed decision writes
the awardee's record, a revocation marks the records of the decision it revokes. Eligibility reads
only the register (workflows.nominees.features), so a decision signed this year counts next year,
and a revoked one stops counting."""

from __future__ import annotations

from sqlalchemy import update

from engine import UnitOfWork

from ..decisions.models import Decision
from .models import SUBJECT_PERSON, SUBJECT_UNIT, AchievementRecord


def record_decision(uow: UnitOfWork, nomination, decider_level: str, decision: Decision) -> AchievementRecord:
    """The record of a nomination granted by `decision`. Ad hoc awards do not count for merit."""
    record = AchievementRecord(
        subject_kind=SUBJECT_PERSON if nomination.person_id else SUBJECT_UNIT,
        subject_id=nomination.person_id or nomination.nominee_unit_id,
        year=nomination.achievement_year,
        award_code=nomination.award_code,
        counts_for_merit=nomination.route == "merit",
        decision_id=decision.id,
        decision_code=decision.code,
        decided_on=decision.signed_on,
        decider_level=decider_level,
        nomination_id=nomination.id,
    )
    uow.session.add(record)
    return record


def revoke_decision(uow: UnitOfWork, decision_id: int, revoking: Decision) -> None:
    """Mark the records `decision_id` wrote as revoked by `revoking` (kept, counting for nothing)."""
    uow.session.execute(
        update(AchievementRecord)
        .where(AchievementRecord.decision_id == decision_id, AchievementRecord.revoked_on.is_(None))
        .values(revoked_on=revoking.signed_on, revoked_by=revoking.code)
    )
