"""A run through the multi-lane review process: lanes as candidate roles, scopes, four eyes,
form validation, a DMN decision, a gateway loop and a boundary timer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import engine
from engine import (
    InvalidStateError,
    TaskDataError,
    TaskNotAllowedError,
    queries,
)
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TimerJob
from workflows.processes import services as ps


def open_tasks(services, instance_id):
    with services.session_factory() as session:
        return queries.open_tasks(session, instance_id=instance_id)


def only_task(services, instance_id):
    tasks = open_tasks(services, instance_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def start(services):
    return ps.start_process(services, "review", "clerk_a", {"unit": "unit:A"}, business_key="R-1")


def test_start_opens_the_first_lane_task_for_its_role_and_scope(review):
    result = start(review)
    task = only_task(review, result.instance_id)
    assert (task.element_id, task.candidate_role, task.org_scope, task.lane) == ("prepare", "clerk", "unit:A", "clerk")
    assert result.opened == (task,)
    assert task.due_at is not None  # dueWorkingDays=2 from the extension properties


def test_due_time_counts_working_days_from_the_clock(review, clock):
    clock.now = clock.now.replace(year=2026, month=3, day=6)  # a Friday, 08:00 in Hanoi
    result = start(review)
    task = only_task(review, result.instance_id)
    # Mon, Tue: two working days later, ending at 24:00 on Tuesday in Hanoi (17:00 UTC)
    assert task.due_at == datetime(2026, 3, 10, 17, 0, tzinfo=timezone.utc)


def test_a_user_outside_the_role_or_scope_cannot_complete(review):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    for outsider in ("clerk_b", "manager_a"):
        with pytest.raises(TaskNotAllowedError):
            review.in_transaction(engine.complete_task, task.id, outsider, {"title": "x", "score": 10})
    assert only_task(review, instance_id).id == task.id


def test_form_data_is_validated_against_the_schema_and_names_the_field(review):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    with pytest.raises(TaskDataError) as caught:
        review.in_transaction(engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 130})
    assert set(caught.value.errors) == {"score"}
    with pytest.raises(TaskDataError) as caught:
        review.in_transaction(engine.complete_task, task.id, "clerk_a", {"score": 10})
    assert set(caught.value.errors) == {"title"}
    assert only_task(review, instance_id).id == task.id


def test_full_run_through_dmn_gateway_loop_and_end(review):
    instance_id = start(review).instance_id
    prepare = only_task(review, instance_id)
    review.in_transaction(engine.complete_task, prepare.id, "clerk_manager_a", {"title": "Hồ sơ", "score": 95})

    approve = only_task(review, instance_id)
    assert (approve.element_id, approve.candidate_role) == ("approve", "manager")
    with pytest.raises(TaskNotAllowedError, match="four eyes"):
        review.in_transaction(engine.complete_task, approve.id, "clerk_manager_a", {"decision": "approve"})

    # Rejection loops back to prepare; the DMN graded the first score "excellent".
    review.in_transaction(engine.complete_task, approve.id, "manager_a", {"decision": "reject"})
    prepare_again = only_task(review, instance_id)
    assert prepare_again.element_id == "prepare" and prepare_again.id != prepare.id

    review.in_transaction(engine.complete_task, prepare_again.id, "clerk_a", {"title": "Hồ sơ", "score": 60})
    approve_again = only_task(review, instance_id)
    result = review.in_transaction(engine.complete_task, approve_again.id, "manager_a2", {"decision": "approve"})
    assert result.ended and result.status == "completed"
    assert open_tasks(review, instance_id) == []

    with review.session_factory() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "completed" and instance.ended_at is not None
        types = session.scalars(
            select(HistoryEvent.type).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        ).all()
        assert types == ["InstanceStarted"] + ["TaskCompleted"] * 4 + ["InstanceCompleted"]
        # The timer of both approvals, and every task's due-time job, was cancelled when the task ended first.
        jobs = session.execute(select(TimerJob.kind, TimerJob.status).where(TimerJob.instance_id == instance_id)).all()
        assert sorted(jobs) == [("bpmn_timer", "cancelled")] * 2 + [("task_due", "cancelled")] * 4


def test_failing_grade_routes_through_the_default_flow(review):
    instance_id = start(review).instance_id
    review.in_transaction(
        engine.complete_task, only_task(review, instance_id).id, "clerk_a", {"title": "Hồ sơ", "score": 10}
    )
    review.in_transaction(engine.complete_task, only_task(review, instance_id).id, "manager_a", {"decision": "approve"})
    assert only_task(review, instance_id).element_id == "prepare"


def advance_to_approval(review):
    instance_id = start(review).instance_id
    review.in_transaction(
        engine.complete_task, only_task(review, instance_id).id, "clerk_a", {"title": "Hồ sơ", "score": 70}
    )
    with review.session_factory() as session:
        job = session.scalars(
            select(TimerJob).where(TimerJob.instance_id == instance_id, TimerJob.kind == "bpmn_timer")
        ).one()
    return instance_id, job


def test_boundary_timer_fires_at_its_due_time_and_not_before(review, clock):
    instance_id, job = advance_to_approval(review)
    assert job.status == "pending" and job.element_id == "approve_overdue"
    assert job.due_at == clock.now + timedelta(hours=1)  # "PT1H" from the engine's clock

    clock.now = job.due_at - timedelta(seconds=1)
    assert ps.run_timers(review).claimed == 0
    assert only_task(review, instance_id).element_id == "approve"

    clock.now = job.due_at
    summary = ps.run_timers(review)
    assert (summary.claimed, summary.done) == (1, 1)
    escalated = only_task(review, instance_id)
    assert (escalated.element_id, escalated.candidate_role) == ("escalate", "director")
    with review.session_factory() as session:
        assert session.get(TimerJob, job.id).status == "done"
        approve = session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.element_id == "approve")
        ).one()
        assert approve.state == "cancelled"
        approve_jobs = session.scalars(select(TimerJob.status).where(TimerJob.task_id == approve.id)).all()
        assert approve_jobs == ["cancelled"]  # its due-time job ended with it
        fired = session.scalar(
            select(func.count()).where(HistoryEvent.instance_id == instance_id, HistoryEvent.type == "TimerFired")
        )
        assert fired == 1

    clock.advance(hours=5)
    assert ps.run_timers(review).claimed == 0  # fired once, never again
    with pytest.raises(TaskDataError, match="no form"):  # a step without a form cannot set variables
        review.in_transaction(engine.complete_task, escalated.id, "director", {"unit": "unit:B"})
    result = review.in_transaction(engine.complete_task, escalated.id, "director", {})
    assert result.ended


def test_suspended_instance_neither_completes_tasks_nor_fires_timers(review, clock):
    instance_id, job = advance_to_approval(review)
    approve = only_task(review, instance_id)
    ps.suspend(review, instance_id, "admin", "checking a complaint")
    with pytest.raises(InvalidStateError):
        review.in_transaction(engine.complete_task, approve.id, "manager_a", {"decision": "approve"})
    clock.now = job.due_at + timedelta(hours=1)
    assert ps.run_timers(review).claimed == 0

    ps.resume(review, instance_id, "admin", "complaint dismissed")
    assert ps.run_timers(review).done == 1
    assert only_task(review, instance_id).element_id == "escalate"


def test_terminate_cancels_open_tasks_and_timers(review):
    instance_id, job = advance_to_approval(review)
    result = ps.terminate(review, instance_id, "admin", "withdrawn by the unit")
    assert result.status == "terminated" and result.ended
    assert open_tasks(review, instance_id) == []
    with review.session_factory() as session:
        assert session.get(TimerJob, job.id).status == "cancelled"
    with pytest.raises(InvalidStateError):
        ps.terminate(review, instance_id, "admin", "again")


def test_claim_reserves_the_task_and_unclaim_releases_it(review):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    assert review.in_transaction(engine.claim_task, task.id, "clerk_a").claimed_by == "clerk_a"
    with pytest.raises(TaskNotAllowedError, match="claimed"):
        review.in_transaction(engine.claim_task, task.id, "clerk_manager_a")
    with pytest.raises(TaskNotAllowedError, match="claimed"):
        review.in_transaction(engine.complete_task, task.id, "clerk_manager_a", {"title": "x", "score": 1})
    with pytest.raises(TaskNotAllowedError):
        review.in_transaction(engine.unclaim_task, task.id, "clerk_manager_a")
    assert review.in_transaction(engine.unclaim_task, task.id, "clerk_a").claimed_by is None
    review.in_transaction(engine.complete_task, task.id, "clerk_manager_a", {"title": "x", "score": 1})


def test_delegation_hands_the_task_to_a_candidate_and_is_recorded(review):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    review.in_transaction(engine.claim_task, task.id, "clerk_a")
    delegated = review.in_transaction(
        engine.delegate_task, task.id, "clerk_a", "clerk_manager_a", "on leave until Monday"
    )
    assert delegated.claimed_by == "clerk_manager_a"
    with review.session_factory() as session:
        event = session.scalars(select(HistoryEvent).where(HistoryEvent.type == "TaskDelegated")).one()
    assert (event.actor, event.reason, event.data) == (
        "clerk_a",
        "on leave until Monday",
        {"from": "clerk_a", "to": "clerk_manager_a"},
    )
    review.in_transaction(engine.complete_task, task.id, "clerk_manager_a", {"title": "x", "score": 1})


@pytest.mark.parametrize(
    ("actor", "delegate", "refusal"),
    [
        ("clerk_a", "clerk_b", "not a clerk of scope unit:A"),  # another unit
        ("clerk_a", "manager_a", "not a clerk"),  # another role
        ("clerk_a", "clerk_a", "oneself"),
        ("clerk_b", "clerk_manager_a", "not a clerk"),  # the actor is no candidate either
    ],
)
def test_delegation_stays_within_the_role_and_scope(review, actor, delegate, refusal):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    with pytest.raises(TaskNotAllowedError, match=refusal):
        review.in_transaction(engine.delegate_task, task.id, actor, delegate, "reason")
    assert only_task(review, instance_id).claimed_by is None


def test_only_the_claimer_delegates_a_claimed_task(review):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    review.in_transaction(engine.claim_task, task.id, "clerk_a")
    with pytest.raises(TaskNotAllowedError, match="claimed by clerk_a"):
        review.in_transaction(engine.delegate_task, task.id, "clerk_manager_a", "clerk_manager_a", "taking over")


def test_candidates_see_their_tasks_in_the_projection(review):
    a = start(review).instance_id
    b = ps.start_process(review, "review", "clerk_b", {"unit": "unit:B"}).instance_id
    with review.session_factory() as session:
        mine = queries.open_tasks(session, assignments=[("clerk", "unit:B")])
        everywhere = queries.open_tasks(session, assignments=[("clerk", None)])
    assert [t.instance_id for t in mine] == [b]
    assert {t.instance_id for t in everywhere} == {a, b}


def test_facts_bypass_the_form_and_are_recorded_apart_from_the_input(review):
    instance_id = start(review).instance_id
    task = only_task(review, instance_id)
    with review.uow() as uow:
        engine.complete_task(uow, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70}, facts={"checked_by": "rules"})
        uow.commit()
    with review.session_factory() as session:
        (completed,) = [e for e in queries.instance_history(session, instance_id) if e.type == "TaskCompleted"]
    assert completed.data["input"] == {"title": "Hồ sơ", "score": 70}
    assert completed.data["facts"] == {"checked_by": "rules"}
