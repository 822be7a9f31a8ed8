"""Two completions of the same task: exactly one wins, the other gets a conflict, and the
database shows one completion — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

import engine
from engine import ConcurrentUpdateError
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from workflows.audit import queries as audit_queries
from workflows.processes import services as ps


def _prepare_task(review):
    instance_id = ps.start_process(review, "review", "clerk_a", {"unit": "unit:A"}).instance_id
    with review.session_factory() as session:
        (task,) = engine.queries.open_tasks(session, instance_id=instance_id)
    return instance_id, task


def _assert_one_completion(review, instance_id, task_id):
    with review.session_factory() as session:
        completed = session.scalar(
            select(func.count()).where(HistoryEvent.instance_id == instance_id, HistoryEvent.type == "TaskCompleted")
        )
        assert completed == 1
        assert session.get(HumanTask, task_id).state == "completed"
        open_tasks = session.scalars(
            select(HumanTask.element_id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        ).all()
        assert open_tasks == ["approve"]
        instance = session.get(ProcessInstance, instance_id)
        assert instance.history_seq == 2
    assert audit_queries.verify_history(review).ok


def test_racing_threads_complete_a_task_once(review):
    instance_id, task = _prepare_task(review)
    barrier = threading.Barrier(2)
    outcomes = []

    def complete(actor):
        barrier.wait()
        try:
            review.in_transaction(engine.complete_task, task.id, actor, {"title": actor, "score": 70})
            outcomes.append("ok")
        except ConcurrentUpdateError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(actor,)) for actor in ("clerk_a", "clerk_manager_a")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "ok"]
    _assert_one_completion(review, instance_id, task.id)


@pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_interleaved_completions_lose_on_the_instance_version(review):
    """Both units of work read version N before either writes: the later commit is stale.
    (SQLite serialises write transactions, so there the loser waits and then finds the task
    done: the thread race above covers that path.)"""
    instance_id, task = _prepare_task(review)
    first, second = review.uow(), review.uow()
    with first, second:
        second.session.get(HumanTask, task.id)
        second.session.get(ProcessInstance, instance_id)  # second now holds version N
        engine.complete_task(first, task.id, "clerk_a", {"title": "first", "score": 70})
        first.commit()
        with pytest.raises(ConcurrentUpdateError):
            engine.complete_task(second, task.id, "clerk_manager_a", {"title": "second", "score": 70})
            second.commit()
    _assert_one_completion(review, instance_id, task.id)
