"""The rungs of a task's escalation ladder as they come due: a reminder, the due time (its
supervisor is told), and the reassignment to the candidates the ladder names. The ladder's jobs
are planned when the task opens (engine.steps)."""

from __future__ import annotations

from dataclasses import dataclass

from . import history
from .definitions import load_definition
from .history import NewEvent
from .models import TimerJob
from .states import ESCALATION_STAGE, JOB_DUE, JOB_ESCALATE, JOB_REMINDER, RUNNING, TASK_OPEN
from .steps import TASK_WITH_INSTANCE, Head, TaskView, instance_of, set_task, write_instance
from .uow import UnitOfWork

_LADDER_EVENT = {
    JOB_REMINDER: history.TASK_REMINDED,
    JOB_DUE: history.TASK_OVERDUE,
    JOB_ESCALATE: history.TASK_ESCALATED,
}


@dataclass(frozen=True)
class Escalation:
    """One rung of a task's escalation ladder, as recorded: the task as it was before it, who
    supervises it (to be told at the due time) and, when it was reassigned, to whom."""

    kind: str
    task: TaskView
    business_key: str | None
    supervisor: tuple[str, str | None] | None = None
    reassigned_to: tuple[str, str | None] | None = None


def escalate_task(uow: UnitOfWork, job: TimerJob) -> Escalation | None:
    """Take the rung of the escalation ladder a job stands for: record it in history and on the
    task (its stage; for the last rung its new candidates, unclaimed). Returns None when the
    task has ended or its instance is not running; the caller tells the people concerned."""
    row = uow.session.connection().execute(TASK_WITH_INSTANCE, {"task_id": job.task_id}).first()
    if row is None or row.state != TASK_OPEN or row.instance__status != RUNNING:
        return None
    task, instance = TaskView.of(row), instance_of(row)
    meta = load_definition(uow, instance.definition_id).task_meta[task.element_id]
    directory, session = uow.directory, uow.session
    data = {"job_id": job.id, "due_at": task.due_at.isoformat() if task.due_at else None}
    supervisor = reassigned_to = None
    if job.kind == JOB_DUE:
        supervisor = directory.supervisor(session, task.candidate_role, task.org_scope, "supervisor")
    elif job.kind == JOB_ESCALATE:
        target = (meta.get("escalation") or {}).get("reassign")
        reassigned_to = directory.supervisor(session, task.candidate_role, task.org_scope, target) if target else None
        data |= {"from": [task.candidate_role, task.org_scope, task.claimed_by], "to": reassigned_to}
    event = NewEvent(_LADDER_EVENT[job.kind], None, uow.clock(), data, task_id=task.id, element_id=task.element_id)
    write_instance(uow, Head.of(instance), [event], instance.status)
    changes = {"escalation": ESCALATION_STAGE[job.kind]}
    if reassigned_to:
        changes |= {"candidate_role": reassigned_to[0], "org_scope": reassigned_to[1], "claimed_by": None}
    set_task(session, task.id, **changes)
    return Escalation(job.kind, task, instance.business_key, supervisor, reassigned_to)
