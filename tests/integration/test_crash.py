"""A crash in the middle of a step leaves no partial state: snapshot, projection, history and
timer jobs are written together or not at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

import engine
from engine import history
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TimerJob
from workflows.audit import queries as audit_queries
from workflows.processes import services as ps

CRASHING_CHILD = textwrap.dedent(
    """
    import os, sys
    import engine
    from engine import history
    from workflows.bootstrap import bootstrap

    original = history.append_events

    def append_then_die(session, rows):
        original(session, rows)  # snapshot, projection, timer job and history are written...
        os._exit(9)              # ...and the process dies before COMMIT

    history.append_events = append_then_die
    services = bootstrap(sys.argv[1])
    services.in_transaction(engine.complete_task, sys.argv[2], "clerk_a", {"title": "Hồ sơ", "score": 70})
    """
)


def _state(services, instance_id):
    with services.session_factory() as session:
        instance = session.get(ProcessInstance, instance_id)
        return {
            "version": instance.version,
            "snapshot": instance.snapshot,
            "history_seq": instance.history_seq,
            "tasks": sorted(
                session.execute(
                    select(HumanTask.element_id, HumanTask.state).where(HumanTask.instance_id == instance_id)
                ).all()
            ),
            "events": session.scalar(select(func.count()).where(HistoryEvent.instance_id == instance_id)),
            "jobs": session.scalar(select(func.count()).where(TimerJob.instance_id == instance_id)),
        }


def _start(review):
    instance_id = ps.start_process(review, "review", "clerk_a", {"unit": "unit:A"}).instance_id
    with review.session_factory() as session:
        (task,) = engine.queries.open_tasks(session, instance_id=instance_id)
    return instance_id, task


def test_process_killed_before_commit_leaves_no_trace(review, database_url):
    instance_id, task = _start(review)
    before = _state(review, instance_id)

    child = subprocess.run(
        [sys.executable, "-c", CRASHING_CHILD, database_url, task.id], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 9, child.stderr

    assert _state(review, instance_id) == before
    assert audit_queries.verify_history(review).ok
    review.in_transaction(
        engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70}
    )  # still completable
    assert _state(review, instance_id)["events"] == before["events"] + 1


def test_error_after_writes_rolls_back_the_whole_step(review, monkeypatch):
    instance_id, task = _start(review)
    before = _state(review, instance_id)

    def fail(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(history, "append_events", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        review.in_transaction(engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70})
    assert _state(review, instance_id) == before
