"""Deadlines and the escalation ladder on the review fixture: each ready task gets its due time
(Vietnam's working days) and the timer jobs of its ladder; each rung fires at its time and not
before, is recorded in history and on the task, and ends with the task. (BPMN boundary timers:
test_review_process.)"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import engine
from engine import TimeLimit, queries
from engine.models import HistoryEvent, HumanTask, TimerJob
from tests.conftest import FIXTURES
from tests.integration.conftest import add_user
from workflows.processes import services as ps

PROCESS_TAG = '<bpmn:process id="review" name="Two-level review" isExecutable="true">'
LADDER = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="escalationReminder" value="0.5" />'
    '<spiffworkflow:property name="escalationGraceDays" value="1" />'
    '<spiffworkflow:property name="escalationReassign" value="supervisor" />'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # 08:00 in Hanoi


def local_midnight_after(year, month, day) -> datetime:
    """24:00 of that day in Hanoi, in UTC: when a deadline on that day ends."""
    return datetime(year, month, day, 17, 0, tzinfo=timezone.utc)


@pytest.fixture
def ladder(services, clock, tmp_path):
    """The review process with an escalation ladder: remind at half the time, reassign to the
    supervisor one working day after the due time."""
    for username, role, scope in [
        ("clerk_a", "clerk", "unit:A"),
        ("clerk_a2", "clerk", "unit:A"),
        ("manager_a", "manager", "unit:A"),
        ("head_a", "unit_head", "unit:A"),
        ("director", "director", None),
    ]:
        add_user(services, username, role, scope)
    bundle = tmp_path / "review"
    shutil.copytree(FIXTURES / "review", bundle)
    bpmn = bundle / "review.bpmn"
    bpmn.write_text(bpmn.read_text().replace(PROCESS_TAG, PROCESS_TAG + LADDER))
    ps.deploy(services, [bundle], "tester")
    clock.now = MONDAY
    return services


class FixedLimit:
    """A Deadlines port giving every task the same limit."""

    def __init__(self, limit: TimeLimit):
        self.limit = limit

    def time_limit(self, session, element_id, data, default_days):
        return self.limit


def start(services) -> tuple[str, HumanTask]:
    instance_id = ps.start_process(services, "review", "clerk_a", {"unit": "unit:A"}).instance_id
    return instance_id, open_task(services, instance_id)


def open_task(services, instance_id):
    with services.session_factory() as session:
        (task,) = queries.open_tasks(session, instance_id=instance_id)
        return session.get(HumanTask, task.id)


def jobs(services, task_id) -> dict[str, TimerJob]:
    with services.session_factory() as session:
        return {job.kind: job for job in session.scalars(select(TimerJob).where(TimerJob.task_id == task_id))}


def events(services, instance_id, *types) -> list[HistoryEvent]:
    with services.session_factory() as session:
        query = select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        return [event for event in session.scalars(query) if event.type in types]


def run(services) -> int:
    return engine.run_due_jobs(services.uow, "scheduler").done


def test_a_ready_task_gets_its_due_time_and_the_jobs_of_its_ladder(ladder):
    _, prepare = start(ladder)
    due = local_midnight_after(2026, 3, 4)  # 2 working days after Monday: Wednesday 24:00
    assert prepare.due_at == due
    ladder_jobs = jobs(ladder, prepare.id)
    assert {kind: job.due_at for kind, job in ladder_jobs.items()} == {
        "task_reminder": MONDAY + (due - MONDAY) / 2,
        "task_due": due,
        "task_escalate": local_midnight_after(2026, 3, 5),  # one working day of grace
    }
    assert {job.status for job in ladder_jobs.values()} == {"pending"}


def test_each_rung_fires_at_its_time_not_before_and_is_recorded(ladder, clock):
    instance_id, prepare = start(ladder)
    rungs = jobs(ladder, prepare.id)
    for kind, stage, event in [
        ("task_reminder", "reminded", "TaskReminded"),
        ("task_due", "overdue", "TaskOverdue"),
        ("task_escalate", "escalated", "TaskEscalated"),
    ]:
        clock.now = rungs[kind].due_at - timedelta(seconds=1)
        assert run(ladder) == 0, f"{kind} ran early"
        clock.now = rungs[kind].due_at
        assert run(ladder) == 1
        assert open_task(ladder, instance_id).escalation == stage
        assert [e.task_id for e in events(ladder, instance_id, event)] == [prepare.id]
    (escalated,) = events(ladder, instance_id, "TaskEscalated")
    assert escalated.data["from"] == ["clerk", "unit:A", None] and escalated.data["to"] == ["unit_head", "unit:A"]
    task = open_task(ladder, instance_id)
    assert (task.candidate_role, task.org_scope, task.claimed_by) == ("unit_head", "unit:A", None)
    with pytest.raises(engine.TaskNotAllowedError):
        ladder.in_transaction(
            engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 80}
        )  # no longer theirs
    ladder.in_transaction(
        engine.complete_task, task.id, "head_a", {"title": "Hồ sơ", "score": 80}
    )  # the supervisor's now


def test_escalation_releases_the_claim_of_the_late_assignee(ladder, clock):
    instance_id, prepare = start(ladder)
    ladder.in_transaction(engine.claim_task, prepare.id, "clerk_a")
    clock.now = jobs(ladder, prepare.id)["task_escalate"].due_at
    assert run(ladder) == 3  # the reminder and the due time too, in order
    (escalated,) = events(ladder, instance_id, "TaskEscalated")
    assert escalated.data["from"] == ["clerk", "unit:A", "clerk_a"]
    assert open_task(ladder, instance_id).claimed_by is None


def test_a_task_that_ends_first_cancels_its_ladder_and_a_late_job_changes_nothing(ladder, clock):
    instance_id, prepare = start(ladder)
    rungs = jobs(ladder, prepare.id)
    ladder.in_transaction(engine.complete_task, prepare.id, "clerk_a", {"title": "Hồ sơ", "score": 80})
    assert {job.status for job in jobs(ladder, prepare.id).values()} == {"cancelled"}
    clock.now = rungs["task_escalate"].due_at
    run(ladder)  # the next task's jobs run; the ended task's do not
    assert {job.status for job in jobs(ladder, prepare.id).values()} == {"cancelled"}
    with ladder.uow() as uow:  # a job claimed just before its task ended does nothing
        assert engine.escalate_task(uow, uow.session.get(TimerJob, rungs["task_due"].id)) is None
    ladder_events = events(ladder, instance_id, "TaskReminded", "TaskOverdue", "TaskEscalated")
    assert prepare.id not in {event.task_id for event in ladder_events}


def test_a_suspended_instance_parks_its_ladder_until_it_resumes(ladder, clock):
    instance_id, prepare = start(ladder)
    ps.suspend(ladder, instance_id, "admin", "hồ sơ đang thanh tra")
    clock.now = jobs(ladder, prepare.id)["task_due"].due_at
    assert run(ladder) == 0
    ps.resume(ladder, instance_id, "admin", "đã xong thanh tra")
    assert run(ladder) == 2
    assert open_task(ladder, instance_id).escalation == "overdue"


@pytest.mark.parametrize(
    ("resume", "due"),
    [
        (True, local_midnight_after(2026, 3, 6)),  # 2 days, 1 used before the return: Friday
        (False, local_midnight_after(2026, 3, 9)),  # 2 days again: the next Monday
    ],
)
def test_a_step_back_after_a_return_resumes_or_restarts_its_clock(ladder, clock, resume, due):
    ladder.deadlines = FixedLimit(TimeLimit(2, resume=resume))
    instance_id, prepare = start(ladder)
    clock.now = MONDAY + timedelta(days=1)  # used Tuesday
    ladder.in_transaction(engine.complete_task, prepare.id, "clerk_a", {"title": "Hồ sơ", "score": 80})
    clock.now = MONDAY + timedelta(days=3)  # returned on Thursday; the time it was away does not count
    approve = open_task(ladder, instance_id)
    ladder.in_transaction(engine.complete_task, approve.id, "manager_a", {"decision": "reject"})
    again = open_task(ladder, instance_id)
    assert again.element_id == "prepare" and again.id != prepare.id
    assert again.due_at == due
    assert jobs(ladder, again.id)["task_due"].due_at == due


def test_a_limit_in_calendar_days_ending_on_a_weekend_ends_on_the_next_working_day(ladder):
    ladder.deadlines = FixedLimit(TimeLimit(5, calendar_days=True))
    _, prepare = start(ladder)
    assert prepare.due_at == local_midnight_after(2026, 3, 9)  # Saturday 7 March → Monday 9 March
