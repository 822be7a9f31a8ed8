"""History is append-only in the database and verify-history finds the first broken link of an
edited, a deleted and a reordered event (tampering simulated by bypassing the triggers)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

import engine
from tests.integration.conftest import tamper
from workflows.audit import queries as audit_queries
from workflows.processes import services as ps

HISTORY = ("history_event",)


def _run_a_little(review) -> str:
    instance_id = ps.start_process(review, "review", "clerk_a", {"unit": "unit:A"}).instance_id
    with review.session_factory() as session:
        (task,) = engine.queries.open_tasks(session, instance_id=instance_id)
    review.in_transaction(engine.claim_task, task.id, "clerk_a")
    review.in_transaction(engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70})
    return instance_id  # events: started, claimed, completed


def _first_broken(review):
    report = audit_queries.verify_history(review)
    assert not report.ok
    (link,) = report.broken
    return link


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE history_event SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM history_event WHERE seq = 1",
    ],
)
def test_database_refuses_update_and_delete(review, statement):
    _run_a_little(review)
    with pytest.raises(DatabaseError, match="append-only"):
        with review.database.begin() as connection:
            connection.execute(text(statement))


def test_intact_history_verifies(review):
    _run_a_little(review)
    report = audit_queries.verify_history(review)
    assert report.ok and report.instances == 1 and report.events == 3 and report.broken == ()


def test_edited_event_is_named(review):
    instance_id = _run_a_little(review)
    tamper(
        review,
        HISTORY,
        ("UPDATE history_event SET actor = 'mallory' WHERE instance_id = :i AND seq = 2", {"i": instance_id}),
    )
    link = _first_broken(review)
    assert (link.instance_id, link.seq) == (instance_id, 2) and "edited" in link.reason


def test_edited_payload_is_named(review):
    instance_id = _run_a_little(review)
    tamper(
        review,
        HISTORY,
        ("UPDATE history_event SET reason = 'backdated' WHERE instance_id = :i AND seq = 3", {"i": instance_id}),
    )
    assert _first_broken(review).seq == 3


def test_deleted_event_is_named(review):
    instance_id = _run_a_little(review)
    tamper(review, HISTORY, ("DELETE FROM history_event WHERE instance_id = :i AND seq = 2", {"i": instance_id}))
    link = _first_broken(review)
    assert link.seq == 3 and "expected event 2" in link.reason


def test_deleted_last_event_is_named(review):
    instance_id = _run_a_little(review)
    tamper(review, HISTORY, ("DELETE FROM history_event WHERE instance_id = :i AND seq = 3", {"i": instance_id}))
    link = _first_broken(review)
    assert link.seq == 3 and "deleted" in link.reason


def test_reordered_events_are_named(review):
    instance_id = _run_a_little(review)
    # Swap the sequence numbers of events 2 and 3 (through a free number: seq is unique).
    tamper(
        review,
        HISTORY,
        ("UPDATE history_event SET seq = 99 WHERE instance_id = :i AND seq = 2", {"i": instance_id}),
        ("UPDATE history_event SET seq = 2 WHERE instance_id = :i AND seq = 3", {"i": instance_id}),
        ("UPDATE history_event SET seq = 3 WHERE instance_id = :i AND seq = 99", {"i": instance_id}),
    )
    link = _first_broken(review)
    assert link.seq == 3 and "reordered" in link.reason


def test_each_event_links_to_the_previous_hash(review):
    instance_id = _run_a_little(review)
    with review.session_factory() as session:
        events = engine.queries.instance_history(session, instance_id)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == engine.history.GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
