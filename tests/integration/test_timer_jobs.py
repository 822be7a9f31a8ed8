"""The timer job table: atomic claims, each job's effect exactly once under racing heartbeats,
takeover of a dead holder's jobs after its lock expires, retries with backoff, incidents."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import engine
from engine import timers
from engine.models import HistoryEvent, TimerJob
from workflows.processes import services as ps


def _instances_waiting_on_timers(review, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        instance_id = ps.start_process(review, "review", "clerk_a", {"unit": "unit:A"}).instance_id
        with review.session_factory() as session:
            (task,) = engine.queries.open_tasks(session, instance_id=instance_id)
        review.in_transaction(engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70})
        ids.append(instance_id)
    return ids


def _jobs(review) -> list[TimerJob]:
    """The BPMN timers' jobs (tasks with a due time have escalation jobs too)."""
    with review.session_factory() as session:
        return list(session.scalars(select(TimerJob).where(TimerJob.kind == "bpmn_timer").order_by(TimerJob.id)))


def _claim(review, owner):
    with review.uow() as uow:
        return timers.claim_due_jobs(uow, owner)


def test_racing_heartbeats_fire_each_timer_exactly_once(review, clock):
    instance_ids = _instances_waiting_on_timers(review, 12)
    clock.advance(hours=2)
    barrier = threading.Barrier(3)
    summaries = []

    def heartbeat(owner):
        barrier.wait()
        summaries.append(engine.run_due_jobs(review.uow, owner, limit=5))
        summaries.append(engine.run_due_jobs(review.uow, owner, limit=5))

    threads = [threading.Thread(target=heartbeat, args=(f"scheduler-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(s.done for s in summaries) == 12 and sum(s.failed for s in summaries) == 0
    with review.session_factory() as session:
        fired = dict(
            session.execute(
                select(HistoryEvent.instance_id, func.count())
                .where(HistoryEvent.type == "TimerFired")
                .group_by(HistoryEvent.instance_id)
            ).all()
        )
    assert fired == {instance_id: 1 for instance_id in instance_ids}
    assert {job.status for job in _jobs(review)} == {"done"}


def test_claims_are_disjoint(review, clock):
    _instances_waiting_on_timers(review, 4)
    clock.advance(hours=2)
    first, second = _claim(review, "a"), _claim(review, "b")
    assert len(first) == 4 and second == []


def test_a_dead_holders_jobs_are_taken_over_after_its_lock_expires(review, clock):
    _instances_waiting_on_timers(review, 2)
    clock.advance(hours=2)
    claimed = _claim(review, "dead")
    assert len(claimed) == 2
    clock.advance(seconds=timers.LOCK_SECONDS - 1)
    assert _claim(review, "alive") == []  # still locked by its holder
    clock.advance(seconds=2)
    assert sorted(_claim(review, "alive")) == sorted(claimed)
    assert not timers.run_job(review.uow(), claimed[0], "dead")  # the old holder lost it
    assert timers.run_job(review.uow(), claimed[0], "alive")


def test_failing_job_retries_with_backoff_then_becomes_an_incident(review, clock, monkeypatch):
    _instances_waiting_on_timers(review, 1)

    def broken(uow, job):
        raise RuntimeError("mail server down")

    monkeypatch.setitem(timers.HANDLERS, "bpmn_timer", broken)
    clock.advance(hours=2)
    for attempt in range(1, timers.MAX_ATTEMPTS + 1):
        summary = engine.run_due_jobs(review.uow, "scheduler")
        assert (summary.claimed, summary.failed) == (1, 1)
        (job,) = _jobs(review)
        assert job.attempts == attempt and "mail server down" in job.last_error
        if attempt < timers.MAX_ATTEMPTS:
            assert job.status == "pending"
            assert job.due_at == clock.now + timedelta(seconds=timers.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
            assert engine.run_due_jobs(review.uow, "scheduler").claimed == 0  # not before its backoff
            clock.now = job.due_at
    assert job.status == "incident"
    clock.advance(days=1)
    assert engine.run_due_jobs(review.uow, "scheduler").claimed == 0


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_timer_of_an_ended_task_does_not_fire(review, clock):
    (instance_id,) = _instances_waiting_on_timers(review, 1)
    with review.session_factory() as session:
        (approve,) = engine.queries.open_tasks(session, instance_id=instance_id)
    review.in_transaction(engine.complete_task, approve.id, "manager_a", {"decision": "approve"})
    clock.advance(hours=2)
    assert engine.run_due_jobs(review.uow, "scheduler").claimed == 0
    assert [job.status for job in _jobs(review)] == ["cancelled"]
