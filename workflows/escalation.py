"""What each rung of a task's escalation ladder tells whom. The engine records the rung (history,
the task's stage, the reassignment); this adds the notifications, in the same transaction."""

from __future__ import annotations

import engine
from engine import ESCALATION_STAGE, JOB_DUE, JOB_ESCALATE, JOB_REMINDER, UnitOfWork
from engine.models import TimerJob

from .nominations.summaries import summaries_of
from .notifications.feed import notify
from .operations import log


def escalate_and_notify(uow: UnitOfWork, job: TimerJob) -> engine.Escalation | None:
    """Reminder: the assignee. Due: the assignee and their supervisor. Reassigned: the new
    candidates. The assignee is the claimer or, while unclaimed, every candidate."""
    escalation = engine.escalate_task(uow, job)
    if escalation is None:
        return None
    task, session, directory = escalation.task, uow.session, uow.directory
    summary = summaries_of(session, {escalation.business_key}).get(escalation.business_key)
    data = {
        "task_name": task.name,
        "nomination": f"{summary.award_title} – {summary.nominee_name}" if summary else escalation.business_key,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "role": task.candidate_role,
    }
    candidates = directory.users_holding(session, task.candidate_role, task.org_scope)
    assignees = [task.claimed_by] if task.claimed_by else candidates

    def tell(users, kind):
        notify(uow, users, kind, task_id=task.id, instance_id=task.instance_id, data=data)

    if job.kind == JOB_REMINDER:
        data["share"] = (job.due_at - task.created_at) / (task.due_at - task.created_at)  # of the time used
        tell(assignees, "task_reminder")
    elif job.kind == JOB_DUE:
        tell(assignees, "task_due")
        if escalation.supervisor:
            tell(directory.users_holding(session, *escalation.supervisor), "task_overdue")
    elif job.kind == JOB_ESCALATE and escalation.reassigned_to:
        role, scope = escalation.reassigned_to
        data["role"] = role
        tell(directory.users_holding(session, role, scope), "task_escalated")
        _record_reassignment(uow, job, escalation)
    return escalation


def _record_reassignment(uow: UnitOfWork, job: TimerJob, escalation: engine.Escalation) -> None:
    """The ladder's reassignment in the operation log: nobody did it by hand, the rung is why."""
    task = escalation.task
    role, scope = escalation.reassigned_to
    due = task.due_at.isoformat() if task.due_at else "-"
    log.record_reassignment(
        uow.session,
        actor=log.SYSTEM_ACTOR,
        task=task,
        reason=f"escalation ladder: {ESCALATION_STAGE[job.kind]} (task {task.element_id} due {due})",
        old={"candidate_role": task.candidate_role, "org_scope": task.org_scope, "claimed_by": task.claimed_by},
        new={"candidate_role": role, "org_scope": scope, "claimed_by": None},
        at=uow.clock(),
    )


HANDLERS = engine.HANDLERS | {kind: escalate_and_notify for kind in (JOB_REMINDER, JOB_DUE, JOB_ESCALATE)}
