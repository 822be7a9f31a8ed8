"""A nomination's way up the ladder, inside the caller's unit of work: the domain's policies
around each engine step (restriction lock, separation of duties, eligibility at appraisal,
public notice and its comments, council tallies, numbered decisions, revocation). Nothing here
commits, so the domain rows and the engine step land together."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import ColumnElement, select

import engine
from engine import TASK_OPEN, StepResult, TaskNotFoundError, UnitOfWork, queries
from engine.models import HumanTask, ProcessInstance

from ..awards import eligibility
from ..calendar.vietnam import LOCAL_TIME, today
from ..decisions import numbering
from ..errors import DomainError
from ..nominees import register
from ..nominees.models import SUBJECT_PERSON, SUBJECT_UNIT
from ..org.models import User, jurisdiction_scope
from .models import Campaign, Nomination, NoticeComment

REVOCATION_PROCESS = "revocation"
# Completed by the council's tally, never by a user's form.
SYSTEM_STEPS = frozenset({"council_vote"})
NOTICE_WORKING_DAYS = 10  # Decree 98/2023 Art. 46: public notice at least 10 working days before the council

# The form answer that sends a nomination to rejection at each step; its `reason` is kept.
REJECTING_ANSWER = {"bloc_review": "approved", "appraise_nomination": "recommend", "sign_decision": "granted"}
# The status a nomination is in while this task is open (DOMAIN.md "Nomination states").
STATUS_WHILE_OPEN = {
    "draft_nomination": "DRAFT",
    "sign_nomination": "DRAFT",
    "bloc_review": "BLOC_REVIEW",
    "receive_nomination": "SUBMITTED",
    "supplement_nomination": "RETURNED",
    "appraise_nomination": "RECEIVED",
    "close_public_notice": "PUBLIC_NOTICE",
    "council_vote": "APPRAISED",
    "sign_decision": "COUNCIL_VOTED",
    "notify_result": "DECIDED",
    "notify_rejection": "REJECTED",
}


def complete_step(
    uow: UnitOfWork,
    actor: str,
    task_id: str,
    data: dict[str, Any] | Callable[[dict | None], dict[str, Any]] | None = None,
    *,
    visible: ColumnElement[bool] | None = None,
) -> StepResult:
    """Complete a user task of a nomination (or of its revocation) after the domain's checks.
    `data` is the task's input, or a function from the task's form schema to it (an HTML form is
    read by its schema). `visible`, a condition over the task and its nomination (a user's
    record-level scope), is read in the same query as the task: a task that fails it is not found."""
    query = (
        queries.task_context_query(Nomination)
        .join(Nomination, Nomination.id == ProcessInstance.business_key)
        .where(HumanTask.id == task_id, HumanTask.state == TASK_OPEN)
    )
    row = uow.session.execute(query if visible is None else query.where(visible)).first()
    if row is None:
        raise TaskNotFoundError(task_id)
    context, nomination = queries.TaskContext.of(row), row.Nomination
    element = context.task.element_id
    if element in SYSTEM_STEPS:
        raise DomainError("system_step", f"task {task_id} is completed by recording the council's tally")
    if callable(data):
        data = data(engine.form_schema(uow, context.definition_id, context.task.form))
    data = dict(data or {})
    if context.process_id == REVOCATION_PROCESS:
        return _revocation_step(uow, actor, nomination, context, data)
    facts = _checks_and_facts(uow, actor, nomination, context, data)
    result = engine.complete_task(uow, task_id, actor, data, facts=facts)
    if data.get(REJECTING_ANSWER.get(element, "")) is False:
        nomination.rejection_reason = data["reason"]  # the form requires it with that answer
    follow(nomination, result)
    return result


def add_notice_comment(uow: UnitOfWork, nomination_id: str, text: str) -> NoticeComment:
    """A comment received while the nomination is on public notice."""
    nomination = nomination_of(uow, nomination_id)
    if nomination.status != "PUBLIC_NOTICE":
        raise DomainError("not_on_notice", f"nomination {nomination_id} is not on public notice")
    comment = NoticeComment(nomination_id=nomination_id, text=text, received_at=uow.clock())
    uow.session.add(comment)
    uow.session.flush()
    return comment


def resolve_notice_comment(uow: UnitOfWork, actor: str, comment_id: int, resolution: str) -> None:
    comment = uow.session.get(NoticeComment, comment_id)
    if comment is None:
        raise DomainError("unknown_comment", f"no public-notice comment {comment_id}")
    if not resolution.strip():
        raise DomainError("resolution_required", "a resolution must say how the comment was handled")
    comment.resolution, comment.resolved_by = resolution, actor


def start_revocation(uow: UnitOfWork, actor: str, nomination_id: str) -> StepResult:
    """Open the revocation process of a decided nomination (Law 06/2022 Art. 94(2))."""
    nomination = nomination_of(uow, nomination_id)
    if nomination.decision_id is None or nomination.status == "REVOKED":
        raise DomainError("not_decided", f"nomination {nomination_id} has no decision in force to revoke")
    campaign = uow.session.get(Campaign, nomination.campaign_id)
    data = {
        "nomination_id": nomination.id,
        "decision_id": nomination.decision_id,
        "jurisdiction_scope": jurisdiction_scope(campaign.jurisdiction_id),
    }
    return engine.start_instance(uow, REVOCATION_PROCESS, actor, data, business_key=nomination.id)


def _revocation_step(uow, actor, nomination, context, data) -> StepResult:
    facts = {}
    if context.task.element_id == "sign_revocation" and data.get("revoke"):
        ground = _revocation_ground(uow, context.task.instance_id)
        revoking = numbering.revoke_decision(
            uow, nomination.decision_id, ground, signed_by=actor, signed_on=today(uow), note=data.get("reason")
        )
        facts = {"revocation_decision": revoking.code}
        register.revoke_decision(uow, nomination.decision_id, revoking)
        nomination.status = "REVOKED"
    return engine.complete_task(uow, context.task.id, actor, data, facts=facts)


def _revocation_ground(uow: UnitOfWork, instance_id: str) -> str:
    events = queries.instance_history(uow.session, instance_id)
    prepared = [e for e in events if e.type == "TaskCompleted" and e.element_id == "prepare_revocation"]
    return prepared[-1].data["input"]["ground"]


def _checks_and_facts(uow, actor, nomination, context, data) -> dict[str, Any]:
    """The domain's rules for the step about to be completed; returns the facts it establishes."""
    element = context.task.element_id
    if element == "draft_nomination":
        nomination.summary = data.get("summary", "")
    if element == "sign_nomination":
        _require_no_restriction(uow, nomination)
    if element == "appraise_nomination":
        return _appraisal(uow, actor, nomination, data)
    if element == "close_public_notice":
        _require_notice_complete(uow, nomination, context)
    if element == "sign_decision" and (nomination.route == "merit" or data.get("granted")):
        campaign = uow.session.get(Campaign, nomination.campaign_id)
        decision = numbering.issue_decision(
            uow, campaign.jurisdiction_id, "award", signed_by=actor, signed_on=today(uow)
        )
        nomination.decision_id = decision.id
        award = eligibility.award_of(uow, nomination.rule_set_id, nomination.award_code)
        register.record_decision(uow, nomination, award.decider_level, decision)
        return {"decision_code": decision.code}
    if element == "notify_rejection" and not nomination.rejection_reason:
        raise DomainError("reason_required", "a rejection is notified with its reasons")
    return {}


def _appraisal(uow, actor, nomination, data) -> dict[str, Any]:
    """Separation of duties 2 (no appraising a nominee of one's own unit, which covers oneself)
    and the eligibility check, whose report becomes a fact of the step."""
    user = uow.session.get(User, actor)
    if user is not None and user.unit_id in (nomination.nominee_unit_id, nomination.nominating_unit_id):
        raise DomainError("appraiser_conflict", f"{actor} may not appraise a nomination of their own unit")
    report = nominee_eligibility(uow, nomination)
    if data.get("recommend") and not report.eligible:
        failing = ", ".join(f"{c.code}: {c.reason}" for c in report.criteria if c.status != "met")
        raise DomainError("nominee_ineligible", f"the nominee does not meet every criterion ({failing})")
    return {
        "eligible": report.eligible,
        "eligibility": [{"criterion": c.code, "status": c.status, "reason": c.reason} for c in report.criteria],
    }


def nominee_eligibility(uow: UnitOfWork, nomination: Nomination) -> eligibility.EligibilityReport:
    """The eligibility check of a nomination's nominee for its award, as of today."""
    return eligibility.check_eligibility(
        uow,
        uow.runtime.evaluator,
        nomination.rule_set_id,
        nomination.award_code,
        person_id=nomination.person_id,
        unit_id=None if nomination.person_id else nomination.nominee_unit_id,
        year=nomination.achievement_year,
        as_of=today(uow),
    )


def _require_no_restriction(uow: UnitOfWork, nomination: Nomination) -> None:
    """Nothing is proposed while the nominee is under discipline, investigation, inspection or
    complaint verification (Decree 98/2023 Art. 4)."""
    subject = (
        (SUBJECT_PERSON, nomination.person_id) if nomination.person_id else (SUBJECT_UNIT, nomination.nominee_unit_id)
    )
    restrictions = eligibility.open_restrictions(uow, *subject, today(uow))
    if restrictions:
        kinds = ", ".join(sorted({r.kind for r in restrictions}))
        raise DomainError("nominee_under_restriction", f"the nominee is under {kinds}: nothing may be proposed")


def _require_notice_complete(uow: UnitOfWork, nomination: Nomination, context) -> None:
    ends = uow.calendar.add_working_days(context.task.created_at, NOTICE_WORKING_DAYS)
    if uow.clock() < ends:
        raise DomainError("notice_running", f"public notice runs until {ends.astimezone(LOCAL_TIME):%d/%m/%Y}")
    unresolved = uow.session.scalars(
        select(NoticeComment.id).where(NoticeComment.nomination_id == nomination.id, NoticeComment.resolution.is_(None))
    ).all()
    if unresolved:
        raise DomainError("comments_unresolved", f"{len(unresolved)} public-notice comments are not resolved")


def follow(nomination: Nomination, result: StepResult) -> None:
    """Move the nomination's status after the process's step."""
    if result.ended:
        nomination.status = "PUBLISHED" if nomination.decision_id else "REJECTED"
        return
    opened = {task.element_id for task in result.opened}
    for element, status in STATUS_WHILE_OPEN.items():
        if element in opened:
            previous = nomination.status
            nomination.status = "RESUBMITTED" if status == "SUBMITTED" and previous == "RETURNED" else status
            return


def open_tasks_at(uow: UnitOfWork, nomination: Nomination, element_id: str):
    tasks = [
        t for t in queries.open_tasks(uow.session, instance_id=nomination.instance_id) if t.element_id == element_id
    ]
    if not tasks:
        raise DomainError("not_at_step", f"nomination {nomination.id} is not waiting for {element_id}")
    return tasks


def nomination_of(uow: UnitOfWork, nomination_id: str) -> Nomination:
    nomination = uow.session.get(Nomination, nomination_id)
    if nomination is None:
        raise DomainError("unknown_nomination", f"no nomination {nomination_id}")
    return nomination
