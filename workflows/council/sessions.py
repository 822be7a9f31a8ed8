"""Council sessions inside the caller's unit of work: the agenda, attendance and quorum, and
secret-ballot tallies with their thresholds, each moving its nomination on from the council's step. The vote rules (quorum, thresholds) are
read from the DMN files of the session's rule set, so a province's edited rules apply.
Secret ballots record attendance, each member's has-voted flag and the counts: no function
takes, stores or returns a member's choice [design]."""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Iterable

from sqlalchemy import exists, select

import engine
from engine import DecisionTables, StepResult, UnitOfWork

from ..awards import eligibility
from ..awards.models import RuleSet
from ..errors import DomainError
from ..nominations import steps
from ..nominations.models import Nomination, NoticeComment
from ..org.models import Council, CouncilMember
from .models import (
    CouncilSession,
    ItemVoter,
    SessionAttendance,
    SessionItem,
)

logger = logging.getLogger(__name__)

# The rule set's DMN files holding the decisions below (SpiffWorkflow reads one decision per file).
VOTE_RULE_FILES = ("council_quorum.dmn", "council_vote_rules.dmn")
QUORUM_DECISION = "council_quorum"
THRESHOLD_DECISION = "council_vote_threshold"
DENOMINATORS = ("ALL", "PRESENT")
# Shares in the rules are fractions; 2 / 3 arrives as a float and is read back as exactly 2/3.
MAX_SHARE_DENOMINATOR = 1000

PLANNED, HELD, NO_QUORUM = "planned", "held", "no_quorum"


@dataclass(frozen=True)
class QuorumResult:
    present: int
    members: int
    required: int
    has_quorum: bool


@dataclass(frozen=True)
class TallyResult:
    """The outcome of one item. `threshold` is an exact share of `eligible` (the denominator's
    head count); `strict` means yes had to exceed it rather than reach it."""

    passed: bool
    yes: int
    no: int
    abstain: int
    eligible: int
    threshold: Fraction
    denominator: str
    strict: bool


# --- vote rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Threshold:
    share: Fraction
    denominator: str
    strict: bool

    @property
    def text(self) -> str:
        """The rule as stored on the item, e.g. ">= 0.9" or "> 0.5"."""
        return f"{'>' if self.strict else '>='} {_share_text(self.share)}"


def _vote_rules(uow: UnitOfWork, rule_set_id: str) -> DecisionTables:
    """The rule set's decision tables (parsed once while its files are unchanged), which must
    hold the council's quorum and threshold decisions."""
    tables = eligibility.decision_tables(uow, uow.runtime.evaluator, rule_set_id)
    if not {QUORUM_DECISION, THRESHOLD_DECISION} <= tables.ids:
        raise DomainError(
            "vote_rules_missing",
            f"rule set {rule_set_id} lacks the council's vote rules ({', '.join(VOTE_RULE_FILES)})",
        )
    return tables


def _single_rule(tables: DecisionTables, decision_id: str, data: dict) -> dict:
    rows = tables.decide(decision_id, data)
    if not rows:
        raise DomainError("no_vote_rule", f"no rule of {decision_id} matches {data}")
    return rows[0]


def _share(value, decision_id: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise DomainError("invalid_vote_rule", f"{decision_id} gives {value!r}; a share must be in (0, 1]")
    return Fraction(value).limit_denominator(MAX_SHARE_DENOMINATOR)


def _share_text(share: Fraction) -> str:
    decimal = str(float(share))
    return decimal if Fraction(decimal) == share else f"{share.numerator}/{share.denominator}"


def _quorum_share(uow: UnitOfWork, rule_set_id: str, members: int) -> Fraction:
    rule = _single_rule(_vote_rules(uow, rule_set_id), QUORUM_DECISION, {"members": members})
    return _share(rule.get("min_present_share"), QUORUM_DECISION)


def _threshold(uow: UnitOfWork, rule_set_id: str, award_code: str) -> _Threshold:
    rule = _single_rule(_vote_rules(uow, rule_set_id), THRESHOLD_DECISION, {"award_code": award_code})
    denominator, strict = rule.get("denominator"), rule.get("strict")
    if denominator not in DENOMINATORS or not isinstance(strict, bool):
        raise DomainError(
            "invalid_vote_rule",
            f"{THRESHOLD_DECISION} gives denominator {denominator!r} and strict {strict!r} for {award_code}",
        )
    return _Threshold(_share(rule.get("threshold"), THRESHOLD_DECISION), denominator, strict)


# --- sessions --------------------------------------------------------------------------------


def _locked_session(uow: UnitOfWork, session_id: str) -> CouncilSession:
    council_session = uow.session.scalars(
        select(CouncilSession)
        .where(CouncilSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if council_session is None:
        raise DomainError("session_not_found", f"no council session {session_id}")
    return council_session


def _member_ids(uow: UnitOfWork, council_id: str) -> set[str]:
    return set(uow.session.scalars(select(CouncilMember.user_id).where(CouncilMember.council_id == council_id)))


def schedule_session(
    uow: UnitOfWork, council_id: str, scheduled_for: datetime, rule_set_id: str, nomination_ids: Iterable[str]
) -> str:
    """Plan a session voting on `nomination_ids`; every member gets a voter row per item, recused
    from a nomination of their own unit. Returns the session id. Raises DomainError."""
    if uow.session.get(Council, council_id) is None:
        raise DomainError("council_not_found", f"no council {council_id}")
    agenda = list(dict.fromkeys(nomination_ids))
    if not agenda:
        raise DomainError("empty_agenda", "a session needs at least one nomination on its agenda")
    if uow.session.get(RuleSet, rule_set_id) is None:
        raise DomainError("rule_set_not_found", f"no rule set {rule_set_id}")
    _vote_rules(uow, rule_set_id)  # refuse now rather than at the vote
    members = uow.session.scalars(select(CouncilMember).where(CouncilMember.council_id == council_id)).all()
    if not members:
        raise DomainError("council_has_no_members", f"council {council_id} has no members")
    # Locked so that two sessions cannot take the same nomination at once.
    nominations = {
        nomination.id: nomination
        for nomination in uow.session.scalars(select(Nomination).where(Nomination.id.in_(agenda)).with_for_update())
    }
    unknown = [nomination_id for nomination_id in agenda if nomination_id not in nominations]
    if unknown:
        raise DomainError("nomination_not_found", f"no nomination {', '.join(unknown)}")
    passed = uow.session.scalars(
        select(SessionItem.nomination_id).where(SessionItem.nomination_id.in_(agenda), SessionItem.passed.is_(True))
    ).all()
    if passed:
        raise DomainError("nomination_already_passed", f"the council already passed {', '.join(sorted(passed))}")
    pending = uow.session.scalars(
        select(SessionItem.nomination_id)
        .join(CouncilSession, CouncilSession.id == SessionItem.session_id)
        .where(SessionItem.nomination_id.in_(agenda), CouncilSession.status == PLANNED)
    ).all()
    if pending:
        raise DomainError(
            "nomination_already_scheduled", f"{', '.join(sorted(pending))} already on a planned session's agenda"
        )

    session_id = str(uuid.uuid4())
    uow.session.add(
        CouncilSession(
            id=session_id, council_id=council_id, scheduled_for=scheduled_for, status=PLANNED, rule_set_id=rule_set_id
        )
    )
    items = [SessionItem(session_id=session_id, nomination_id=nomination_id) for nomination_id in agenda]
    uow.session.add_all(items)
    uow.session.flush()
    for item in items:
        nomination = nominations[item.nomination_id]
        own_units = {nomination.nominating_unit_id, nomination.nominee_unit_id}
        for member in members:
            # Separation of duties 3: a member is recused from a nominee of their own unit.
            recused = member.unit_id is not None and member.unit_id in own_units
            uow.session.add(ItemVoter(item_id=item.id, user_id=member.user_id, recused=recused, has_voted=False))
    uow.session.flush()
    logger.info("council session %s scheduled for council %s with %d items", session_id, council_id, len(items))
    return session_id


def record_attendance(uow: UnitOfWork, session_id: str, present_user_ids: Iterable[str]) -> QuorumResult:
    """Record who attended and apply the quorum rule: the session becomes `held`, or
    `no_quorum` (then it must be rescheduled). Correctable until a tally is recorded."""
    council_session = _locked_session(uow, session_id)
    if council_session.status == NO_QUORUM:
        raise DomainError("session_without_quorum", f"session {session_id} had no quorum; reschedule it")
    if uow.session.scalar(select(exists().where(SessionItem.session_id == session_id, SessionItem.yes.is_not(None)))):
        raise DomainError("attendance_locked", f"session {session_id} already has tallies")
    members = _member_ids(uow, council_session.council_id)
    if not members:
        raise DomainError("council_has_no_members", f"council {council_session.council_id} has no members")
    present = set(present_user_ids)
    strangers = sorted(present - members)
    if strangers:
        raise DomainError("not_a_council_member", f"{', '.join(strangers)} not members of the council")

    for user_id in sorted(members):
        uow.session.merge(SessionAttendance(session_id=session_id, user_id=user_id, present=user_id in present))
    share = _quorum_share(uow, council_session.rule_set_id, len(members))
    required = math.ceil(share * len(members))
    has_quorum = len(present) >= required
    council_session.status = HELD if has_quorum else NO_QUORUM
    uow.session.flush()
    logger.info(
        "council session %s: quorum %s (%d of %d, %d required)",
        session_id,
        has_quorum,
        len(present),
        len(members),
        required,
    )
    return QuorumResult(present=len(present), members=len(members), required=required, has_quorum=has_quorum)


def reschedule_session(uow: UnitOfWork, session_id: str, scheduled_for: datetime) -> str:
    """Plan a new session with the unvoted agenda of a session that had no quorum; the old
    session stays as a record. Returns the new session id."""
    council_session = _locked_session(uow, session_id)
    if council_session.status != NO_QUORUM:
        raise DomainError(
            "session_not_reschedulable", f"session {session_id} is {council_session.status}; only one without quorum"
        )
    agenda = uow.session.scalars(
        select(SessionItem.nomination_id)
        .where(SessionItem.session_id == session_id, SessionItem.yes.is_(None))
        .order_by(SessionItem.id)
    ).all()
    new_id = schedule_session(uow, council_session.council_id, scheduled_for, council_session.rule_set_id, agenda)
    logger.info("council session %s rescheduled as %s", session_id, new_id)
    return new_id


def _check_counts(yes: int, no: int, abstain: int) -> None:
    for name, count in (("yes", yes), ("no", no), ("abstain", abstain)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise DomainError("invalid_tally", f"{name} must be a whole number of ballots, not {count!r}")


def record_tally(
    uow: UnitOfWork,
    session_id: str,
    nomination_id: str,
    yes: int,
    no: int,
    abstain: int,
    voted_user_ids: Iterable[str],
) -> TallyResult:
    """Record a secret ballot on one item: the counts and who cast a ballot, never who chose
    what. Applies the threshold rule for the nomination's award. Raises DomainError."""
    council_session = _locked_session(uow, session_id)
    if council_session.status == NO_QUORUM:
        raise DomainError("session_without_quorum", f"session {session_id} had no quorum; no tally may be recorded")
    if council_session.status != HELD:
        raise DomainError("session_not_held", f"record the attendance of session {session_id} first")
    item = uow.session.scalars(
        select(SessionItem).where(SessionItem.session_id == session_id, SessionItem.nomination_id == nomination_id)
    ).one_or_none()
    if item is None:
        raise DomainError("nomination_not_on_agenda", f"nomination {nomination_id} is not on session {session_id}")
    if item.yes is not None:
        raise DomainError("tally_already_recorded", f"nomination {nomination_id} already has a tally in this session")
    _check_counts(yes, no, abstain)
    voted = list(voted_user_ids)
    if len(set(voted)) != len(voted):
        raise DomainError("duplicate_voter", "a member is listed twice among those who cast a ballot")
    if yes + no + abstain != len(voted):
        raise DomainError(
            "tally_mismatch", f"yes + no + abstain = {yes + no + abstain} but {len(voted)} members cast a ballot"
        )
    voters = {
        voter.user_id: voter for voter in uow.session.scalars(select(ItemVoter).where(ItemVoter.item_id == item.id))
    }
    present = set(
        uow.session.scalars(
            select(SessionAttendance.user_id).where(
                SessionAttendance.session_id == session_id, SessionAttendance.present.is_(True)
            )
        )
    )
    for user_id in voted:
        if user_id not in voters:
            raise DomainError("not_a_council_member", f"{user_id} is not a voter on this item")
        if voters[user_id].recused:
            # Separation of duties 3: the member comes from the nominee's or the nominating unit.
            raise DomainError("voter_recused", f"{user_id} is recused from nomination {nomination_id}")
        if user_id not in present:
            raise DomainError("voter_absent", f"{user_id} is not recorded as present")

    nomination = uow.session.scalars(select(Nomination).where(Nomination.id == nomination_id).with_for_update()).one()
    if uow.session.scalar(
        select(exists().where(SessionItem.nomination_id == nomination_id, SessionItem.passed.is_(True)))
    ):
        raise DomainError("nomination_already_passed", f"the council already passed nomination {nomination_id}")
    # Decree 98/2023 Art. 46: public-notice comments are resolved before the council votes.
    if uow.session.scalar(
        select(exists().where(NoticeComment.nomination_id == nomination_id, NoticeComment.resolution.is_(None)))
    ):
        raise DomainError("notice_comments_unresolved", f"nomination {nomination_id} has unresolved comments")

    # Decree 98/2023 Art. 49(2): the council's own rule sets the threshold and its denominator.
    rule = _threshold(uow, council_session.rule_set_id, nomination.award_code)
    eligible = sum(
        1
        for user_id, voter in voters.items()
        if not voter.recused and (rule.denominator == "ALL" or user_id in present)
    )
    needed = rule.share * eligible
    passed = yes > needed if rule.strict else yes >= needed

    for user_id in voted:
        voters[user_id].has_voted = True
    item.yes, item.no, item.abstain = yes, no, abstain
    item.threshold, item.denominator, item.passed = rule.text, rule.denominator, passed
    uow.session.flush()
    logger.info("council session %s: tally recorded for nomination %s, passed %s", session_id, nomination_id, passed)
    return TallyResult(
        passed=passed,
        yes=yes,
        no=no,
        abstain=abstain,
        eligible=eligible,
        threshold=rule.share,
        denominator=rule.denominator,
        strict=rule.strict,
    )


def record_council_vote(
    uow: UnitOfWork,
    actor: str,
    session_id: str,
    nomination_id: str,
    *,
    yes: int,
    no: int,
    abstain: int,
    voted_user_ids: list[str],
) -> StepResult:
    """Record a secret-ballot tally (counts and who cast a ballot, never who chose what) and move
    the nomination on from its council step."""
    nomination = steps.nomination_of(uow, nomination_id)
    (task,) = steps.open_tasks_at(uow, nomination, "council_vote")
    tally = record_tally(uow, session_id, nomination_id, yes, no, abstain, voted_user_ids)
    facts = {"council_passed": tally.passed}
    result = engine.complete_task(uow, task.id, actor, {}, facts=facts)
    if not tally.passed:
        nomination.rejection_reason = (
            f"Không đạt tỷ lệ phiếu: {tally.yes} phiếu đồng ý, cần {tally.threshold} của {tally.eligible} thành viên"
        )
    steps.follow(nomination, result)
    return result
