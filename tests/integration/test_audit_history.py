"""The daily digest of all chains, retention with legal holds, and verify-history over both, on
SQLite and PostgreSQL. Tampering bypasses the append-only triggers as an attacker with database
access would (and puts them back, so the database's own refusals can be checked afterwards)."""

from __future__ import annotations

import hashlib
import json
import random
import string
import subprocess
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

import engine
from engine.digests import digest_hash
from engine.history import NewEvent, event_hash, removal_hash
from engine.models import HistoryDigest, HistoryEvent, HistoryRemoval, HumanTask, ProcessInstance, TimerJob
from engine.verification import DIGEST, EXPORT, HEAD, REMOVAL
from tests.conftest import FIXTURES, FakeClock
from tests.databases import REVIEW_USERS, add_user
from tests.integration.conftest import tamper
from workflows.audit import queries as audit_queries
from workflows.audit import services as retention
from workflows.bootstrap import bootstrap
from workflows.nominations.models import Nomination
from workflows.processes import services as ps

DAY = date(2026, 3, 2)  # the test clock's first day (UTC)
AUDITED = ("history_event", "history_digest", "history_removal")


def _run_a_little(review) -> str:
    """An instance with three events: started, claimed, completed."""
    instance_id = ps.start_process(review, "review", "clerk_a", {"unit": "unit:A"}).instance_id
    with review.session_factory() as session:
        (task,) = engine.queries.open_tasks(session, instance_id=instance_id)
    review.in_transaction(engine.claim_task, task.id, "clerk_a")
    review.in_transaction(engine.complete_task, task.id, "clerk_a", {"title": "Hồ sơ", "score": 70})
    return instance_id


def _digests(services) -> list[HistoryDigest]:
    with services.session_factory() as session:
        return list(session.scalars(select(HistoryDigest).order_by(HistoryDigest.day)))


def _rehash_digest(services, day: date, **changes):
    """Change a day's digest and give it a matching hash, as someone covering their tracks would."""
    with services.session_factory() as session:
        digest = session.get(HistoryDigest, day)
        values = {name: getattr(digest, name) for name in ("heads", "events", "removal", "prev_hash")} | changes
    values["hash"] = digest_hash(day, values["heads"], values["events"], values["removal"], values["prev_hash"])
    heads = "CAST(:heads AS JSON)" if services.database.dialect.name == "postgresql" else ":heads"
    tamper(
        services,
        AUDITED,
        (
            f"UPDATE history_digest SET heads = {heads}, events = :events, prev_hash = :prev_hash, hash = :hash"
            " WHERE day = :day",
            values | {"heads": json.dumps(values["heads"]), "day": day},
        ),
    )
    return values["hash"]


def _problem(report, kind):
    assert not report.ok
    problems = [problem for problem in report.problems if problem.kind == kind]
    assert problems, report.problems
    return problems[0]


# --- the hash ----------------------------------------------------------------------------------------


def _reference_hash(instance_id, seq, event, prev_hash) -> str:
    payload = {
        "instance_id": instance_id,
        "seq": seq,
        "type": event.type,
        "actor": event.actor,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "data": event.data,
        "reason": event.reason,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    text_ = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def test_the_fast_event_hash_is_the_canonical_json_hash():
    randomness = random.Random(7)
    alphabet = string.printable + 'ăâđêôơưẮỆỮ\u2028\x00"\\/𝄞'

    def text_value():
        return "".join(randomness.choice(alphabet) for _ in range(randomness.randint(0, 12)))

    def value(depth=0):
        roll = randomness.random()
        if depth < 3 and roll < 0.2:
            return {text_value(): value(depth + 1) for _ in range(randomness.randint(0, 4))}
        if depth < 3 and roll < 0.3:
            return [value(depth + 1) for _ in range(randomness.randint(0, 4))]
        return randomness.choice([None, True, False, 0, -5, 10**20, 1.5, 1e-7, text_value()])

    for _ in range(3000):
        event = NewEvent(
            text_value(),
            randomness.choice([None, text_value()]),
            datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=randomness.randint(0, 10**13)),
            value(),
            task_id=randomness.choice([None, text_value()]),
            element_id=randomness.choice([None, text_value()]),
            reason=randomness.choice([None, text_value()]),
        )
        args = (text_value(), randomness.randint(1, 10**6), event, randomness.choice([text_value(), "0" * 64]))
        assert event_hash(*args) == _reference_hash(*args)


# --- daily digests -----------------------------------------------------------------------------------


def test_each_complete_day_is_digested_once_empty_days_included(review, clock):
    first = _run_a_little(review)
    assert retention.build_digests(review) == []  # the day is not over
    clock.advance(days=1)
    second = _run_a_little(review)
    clock.advance(days=2)  # 5 March: the 2nd, 3rd and 4th are over
    built = retention.build_digests(review)
    assert [digest.day for digest in built] == [DAY, DAY + timedelta(1), DAY + timedelta(2)]
    assert retention.build_digests(review) == []  # idempotent
    digests = _digests(review)
    with review.session_factory() as session:
        last = {row.id: [row.id, row.history_seq, row.history_hash] for row in session.scalars(select(ProcessInstance))}
    assert [d.heads for d in digests] == [[last[first]], [last[second]], []]
    assert [(d.instances, d.events) for d in digests] == [(1, 3), (1, 3), (0, 0)]
    assert digests[0].prev_hash == engine.history.GENESIS_HASH
    assert [d.prev_hash for d in digests[1:]] == [d.hash for d in digests[:-1]]
    report = audit_queries.verify_history(review)
    assert report.ok and report.days == 3 and report.events == 6


def test_racing_digest_builders_make_one_row_per_day(review, clock):
    _run_a_little(review)
    clock.advance(days=4)
    barrier, results = threading.Barrier(4), []

    def build():
        barrier.wait()
        results.append(retention.build_digests(review, actor=threading.current_thread().name))

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(built) for built in results) == [0, 0, 0, 4]
    assert [d.day for d in _digests(review)] == [DAY + timedelta(n) for n in range(4)]
    assert audit_queries.verify_history(review).ok


def test_a_changed_digest_is_named_by_its_day(review, clock):
    _run_a_little(review)
    clock.advance(days=2)
    retention.build_digests(review)
    tamper(review, AUDITED, ("UPDATE history_digest SET events = 2 WHERE day = :day", {"day": DAY}))
    problem = _problem(audit_queries.verify_history(review), DIGEST)
    assert problem.day == DAY and "edited" in problem.reason and str(DAY) in str(problem)


def test_a_rehashed_digest_breaks_the_next_days_link(review, clock):
    _run_a_little(review)
    clock.advance(days=2)
    retention.build_digests(review)
    _rehash_digest(review, DAY, events=2)
    problem = _problem(audit_queries.verify_history(review), DIGEST)
    assert problem.day == DAY + timedelta(1) and "does not link" in problem.reason


def test_a_deleted_digest_day_is_named(review, clock):
    _run_a_little(review)
    clock.advance(days=3)
    retention.build_digests(review)
    tamper(review, AUDITED, ("DELETE FROM history_digest WHERE day = :day", {"day": DAY + timedelta(1)}))
    problem = _problem(audit_queries.verify_history(review), DIGEST)
    assert problem.day == DAY + timedelta(1) and "missing" in problem.reason


def test_a_digest_changed_after_export_is_named(review, clock):
    instance_id = _run_a_little(review)
    clock.advance(days=1)
    retention.build_digests(review)
    exported = list(audit_queries.export_digests(review))
    assert [line["day"] for line in exported] == [DAY.isoformat()]
    assert audit_queries.verify_history(review, exported).ok
    # The only day, changed and re-hashed: its chain holds, the exported copy does not agree.
    _rehash_digest(review, DAY, heads=[[instance_id, 2, "f" * 64]])
    report = audit_queries.verify_history(review, exported)
    problem = _problem(report, EXPORT)
    assert problem.day == DAY and "differs from the exported" in problem.reason
    assert not [p for p in report.problems if p.kind == DIGEST]


def test_the_last_day_deleted_after_export_is_named(review, clock):
    _run_a_little(review)
    clock.advance(days=2)
    retention.build_digests(review)
    exported = list(audit_queries.export_digests(review, since=DAY + timedelta(1)))
    tamper(review, AUDITED, ("DELETE FROM history_digest WHERE day = :day", {"day": DAY + timedelta(1)}))
    problem = _problem(audit_queries.verify_history(review, exported), EXPORT)
    assert problem.day == DAY + timedelta(1) and "not in the database" in problem.reason


def test_a_damaged_export_line_is_named(review, clock):
    _run_a_little(review)
    clock.advance(days=1)
    retention.build_digests(review)
    (line,) = audit_queries.export_digests(review)
    problem = _problem(audit_queries.verify_history(review, [line | {"events": 1}]), EXPORT)
    assert problem.day == DAY and "damaged" in problem.reason


# --- tampered history, with digests ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "seq", "reason"),
    [
        (["UPDATE history_event SET actor = 'mallory' WHERE instance_id = :i AND seq = 2"], 2, "edited"),
        (["DELETE FROM history_event WHERE instance_id = :i AND seq = 2"], 3, "expected event 2"),
        (
            [
                "UPDATE history_event SET seq = 99 WHERE instance_id = :i AND seq = 2",
                "UPDATE history_event SET seq = 2 WHERE instance_id = :i AND seq = 3",
                "UPDATE history_event SET seq = 3 WHERE instance_id = :i AND seq = 99",
            ],
            3,
            "reordered",
        ),
    ],
    ids=["edited", "deleted", "reordered"],
)
def test_tampered_events_are_named_by_instance_and_event(review, clock, statements, seq, reason):
    instance_id = _run_a_little(review)
    other = _run_a_little(review)
    clock.advance(days=1)
    retention.build_digests(review)
    tamper(review, AUDITED, *((statement, {"i": instance_id}) for statement in statements))
    report = audit_queries.verify_history(review)
    (link,) = report.broken
    assert (link.instance_id, link.seq) == (instance_id, seq) and reason in link.reason
    assert other not in {problem.instance_id for problem in report.problems}


def test_a_rewritten_chain_is_caught_by_the_days_digest(review, clock):
    """Edit the last event and fix its hash and the instance's head: the chain verifies again,
    but the digest of that day remembers the old head."""
    instance_id = _run_a_little(review)
    clock.advance(days=1)
    retention.build_digests(review)
    with review.session_factory() as session:
        event = session.scalars(
            select(HistoryEvent).where(HistoryEvent.instance_id == instance_id, HistoryEvent.seq == 3)
        ).one()
        session.expunge(event)
    event.actor = "mallory"
    forged = event_hash(instance_id, 3, event, event.prev_hash)
    tamper(
        review,
        AUDITED,
        (
            "UPDATE history_event SET actor = 'mallory', hash = :h WHERE instance_id = :i AND seq = 3",
            {"h": forged, "i": instance_id},
        ),
        ("UPDATE process_instance SET history_hash = :h WHERE id = :i", {"h": forged, "i": instance_id}),
    )
    report = audit_queries.verify_history(review)
    assert report.broken == ()
    problem = _problem(report, HEAD)
    assert (problem.day, problem.instance_id, problem.seq) == (DAY, instance_id, 3)


def test_a_deleted_last_event_is_named_by_its_chain_and_its_digest(review, clock):
    instance_id = _run_a_little(review)
    clock.advance(days=1)
    retention.build_digests(review)
    tamper(review, AUDITED, ("DELETE FROM history_event WHERE instance_id = :i AND seq = 3", {"i": instance_id}))
    report = audit_queries.verify_history(review)
    (link,) = report.broken
    assert link.seq == 3 and "deleted" in link.reason
    problem = _problem(report, HEAD)
    assert (problem.day, problem.instance_id, problem.seq) == (DAY, instance_id, 3) and "missing" in problem.reason


def test_two_processes_verify_as_one_does(review, clock):
    ids = [_run_a_little(review) for _ in range(6)]
    clock.advance(days=1)
    retention.build_digests(review)
    tamper(review, AUDITED, ("UPDATE history_event SET reason = 'x' WHERE instance_id = :i AND seq = 2", {"i": ids[0]}))
    one, two = audit_queries.verify_history(review, workers=1), audit_queries.verify_history(review, workers=2)
    assert one == two and [link.instance_id for link in one.broken] == [ids[0]]
    assert (two.instances, two.events, two.days) == (6, 18, 1)


# --- retention ---------------------------------------------------------------------------------------


def test_the_database_refuses_to_delete_history_without_a_removal_record(review):
    instance_id = _run_a_little(review)
    statements = ["DELETE FROM history_event WHERE instance_id = :i", "UPDATE history_event SET actor = 'x'"]
    if review.database.dialect.name == "postgresql":
        statements.append("TRUNCATE history_event CASCADE")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"):
            with review.database.begin() as connection:
                connection.execute(text(statement), {"i": instance_id})


def test_digests_and_removal_records_are_append_only(review, clock):
    instance_id = _run_a_little(review)
    ps.terminate(review, instance_id, "director", "withdrawn")
    retention.set_retention(review, "review", 1, "admin", "short")
    clock.advance(days=3)
    retention.run_retention(review, "admin")
    for statement in (
        "UPDATE history_digest SET events = 0",
        "DELETE FROM history_digest",
        "UPDATE history_removal SET events = 0",
        "DELETE FROM history_removal",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with review.database.begin() as connection:
                connection.execute(text(statement))


def _ended(review, instance_id, *, completed=False):
    """End an instance: approve it (completed) or withdraw it (terminated)."""
    if completed:
        with review.session_factory() as session:
            (task,) = engine.queries.open_tasks(session, instance_id=instance_id)
        review.in_transaction(engine.complete_task, task.id, "manager_a", {"decision": "approve"})
    else:
        ps.terminate(review, instance_id, "director", "withdrawn")
    with review.session_factory() as session:
        assert session.get(ProcessInstance, instance_id).status == ("completed" if completed else "terminated")
    return instance_id


def test_retention_removes_exactly_what_expired(review, clock):
    old_completed = _ended(review, _run_a_little(review), completed=True)
    old_terminated = _ended(review, _run_a_little(review))
    old_held = _ended(review, _run_a_little(review))
    running = _run_a_little(review)
    retention.hold(review, old_held, "inspector", "complaint under investigation")
    clock.advance(days=20)
    recent = _ended(review, _run_a_little(review))
    clock.advance(days=11)  # the old ones ended 31 days ago, the recent one 11
    assert retention.set_retention(review, "review", 30, "admin", "Decree: keep 30 days") is None
    with review.session_factory() as session:
        events_before = {
            i: session.scalar(select(func.count()).where(HistoryEvent.instance_id == i))
            for i in (old_completed, old_terminated)
        }

    run = retention.run_retention(review, "admin")

    assert {r.instance_id for r in run.removed} == {old_completed, old_terminated}
    assert run.held == (old_held,) and run.broken == ()
    assert {r.instance_id: r.events for r in run.removed} == events_before
    with review.session_factory() as session:
        present = set(session.scalars(select(ProcessInstance.id)))
        assert present == {old_held, running, recent}
        for table in (HistoryEvent, HumanTask, TimerJob):
            assert (
                session.scalar(select(func.count()).where(table.instance_id.in_([old_completed, old_terminated]))) == 0
            )
        records = list(session.scalars(select(HistoryRemoval).order_by(HistoryRemoval.id)))
    assert {r.instance_id for r in records} == {old_completed, old_terminated}
    assert records[0].prev_hash == engine.history.GENESIS_HASH and records[1].prev_hash == records[0].hash
    assert all(removal_hash(vars(r)) == r.hash and r.policy_days == 30 and r.removed_by == "admin" for r in records)
    report = audit_queries.verify_history(review)
    assert report.ok and report.removals == 2 and report.instances == 3 and report.days == 31

    # Nothing more has expired; released, the held one goes the next time.
    assert retention.run_retention(review, "admin").removed == ()
    retention.release(review, old_held, "inspector", "investigation closed")
    assert [r.instance_id for r in retention.run_retention(review, "admin").removed] == [old_held]
    assert audit_queries.verify_history(review).ok


def test_heads_of_removed_instances_are_checked_against_their_removal_record(review, clock):
    instance_id = _ended(review, _run_a_little(review))
    retention.set_retention(review, "review", 2, "admin", "short")
    clock.advance(days=3)
    (removed,) = retention.run_retention(review, "admin").removed
    assert removed.instance_id == instance_id
    (digest,) = [d for d in _digests(review) if d.heads]
    assert digest.heads[0][0] == instance_id and audit_queries.verify_history(review).ok
    # A forged head for the removed instance, beyond its removal record.
    _rehash_digest(review, digest.day, heads=[[instance_id, 9, "f" * 64]])
    problem = _problem(audit_queries.verify_history(review), HEAD)
    assert (problem.instance_id, problem.seq) == (instance_id, 9) and "removal record ends at event 4" in problem.reason


def test_a_changed_removal_record_is_named(review, clock):
    instance_id = _ended(review, _run_a_little(review))
    retention.set_retention(review, "review", 1, "admin", "short")
    clock.advance(days=2)
    (removed,) = retention.run_retention(review, "admin").removed
    tamper(review, AUDITED, ("UPDATE history_removal SET events = 1 WHERE id = :id", {"id": removed.removal_id}))
    problem = _problem(audit_queries.verify_history(review), REMOVAL)
    assert (problem.removal_id, problem.instance_id) == (removed.removal_id, instance_id) and "edited" in problem.reason


def test_retention_keeps_an_instance_whose_history_is_broken(review, clock):
    instance_id = _ended(review, _run_a_little(review))
    retention.set_retention(review, "review", 1, "admin", "short")
    tamper(
        review,
        AUDITED,
        ("UPDATE history_event SET actor = 'mallory' WHERE instance_id = :i AND seq = 2", {"i": instance_id}),
    )
    clock.advance(days=2)
    run = retention.run_retention(review, "admin")
    assert run.removed == () and [link.instance_id for link in run.broken] == [instance_id]
    with review.session_factory() as session:
        assert session.get(ProcessInstance, instance_id) is not None


def test_holds_and_policies_need_reasons_and_known_subjects(review):
    instance_id = _run_a_little(review)
    with pytest.raises(engine.RetentionError, match="reason"):
        retention.hold(review, instance_id, "inspector", " ")
    with pytest.raises(engine.InstanceNotFoundError):
        retention.hold(review, "no-such-instance", "inspector", "why")
    retention.hold(review, instance_id, "inspector", "why")
    with pytest.raises(engine.InvalidStateError, match="held"):
        retention.hold(review, instance_id, "inspector", "again")
    retention.release(review, instance_id, "inspector", "done")
    with pytest.raises(engine.InvalidStateError, match="not held"):
        retention.release(review, instance_id, "inspector", "done")
    with pytest.raises(engine.DefinitionNotFoundError):
        retention.set_retention(review, "no_such_process", 10, "admin", "why")
    with pytest.raises(engine.RetentionError, match="at least 1"):
        retention.set_retention(review, "review", 0, "admin", "why")
    assert retention.set_retention(review, "review", 10, "admin", "first") is None
    assert retention.set_retention(review, "review", 20, "admin", "longer") == 10


def test_the_daily_audit_digests_then_removes(review, clock):
    instance_id = _ended(review, _run_a_little(review))
    retention.set_retention(review, "review", 1, "admin", "short")
    assert retention.daily_audit(review, "scheduler-1") is None  # the day is not over
    clock.advance(days=2)
    run = retention.daily_audit(review, "scheduler-1")
    assert [r.instance_id for r in run.removed] == [instance_id]
    assert retention.daily_audit(review, "scheduler-2") is None  # done for today
    assert [d.built_by for d in _digests(review)] == ["scheduler-1", "scheduler-1"]


def test_retention_detaches_the_nomination_it_removes_the_instance_of(province, clock):
    with province.session_factory() as session:
        ended = session.scalars(
            select(Nomination)
            .join(ProcessInstance, ProcessInstance.id == Nomination.instance_id)
            .where(ProcessInstance.status == "completed")
        ).one()  # the demo's published Giấy khen
        nomination_id, instance_id = ended.id, ended.instance_id
    retention.set_retention(province, "ad_hoc_nomination", 30, "admin", "demo")
    clock.advance(days=31)
    run = retention.run_retention(province, "admin")
    assert [r.instance_id for r in run.removed] == [instance_id] and run.removed[0].business_key == nomination_id
    with province.session_factory() as session:
        nomination = session.get(Nomination, nomination_id)
        assert (nomination.status, nomination.instance_id) == ("PUBLISHED", None)
    assert audit_queries.verify_history(province).ok


# --- the command line --------------------------------------------------------------------------------


def test_commands_export_verify_hold_and_remove(environment, tmp_path):
    env, thidua = environment
    clock = FakeClock()  # in the past: its days are over for the commands' real clock
    services = bootstrap(env["THIDUA_DATABASE_URL"], clock=clock)
    try:
        for username, role, scope in REVIEW_USERS:
            add_user(services, username, role, scope)
        ps.deploy(services, [FIXTURES / "review"], "tester")
        kept = _ended(services, _run_a_little(services))
        removed = _ended(services, _run_a_little(services))
    finally:
        services.dispose()

    assert "review: history kept 30 days" in thidua("retention", "set", "review", "30", "--reason", "Decree")
    assert f"instance {kept} is held" in thidua("hold", kept, "--reason", "complaint")
    dry = thidua("retention", "run", "--dry-run")
    assert f"would remove {removed}" in dry and "1 instances would be removed" in dry
    assert "1 expired instances kept under legal hold" in dry
    out = thidua("retention", "run")
    assert f"removed {removed} (review v1, 4 events)" in out and kept not in out.replace("held", "")

    digests = tmp_path / "digests.jsonl"
    assert "days written to" in thidua("export-digests", "--output", str(digests))
    lines = [json.loads(line) for line in digests.read_text().splitlines()]
    assert lines[0]["day"] == DAY.isoformat() and len(lines[0]["heads"]) == 2
    verified = thidua("verify-history", "--digests", str(digests))
    assert "history intact: 1 instances, 4 events" in verified and "1 instances removed by retention" in verified

    with pytest.raises(subprocess.CalledProcessError) as failure:
        thidua("release", removed, "--reason", "gone")
    assert "not held" in failure.value.stderr and "Traceback" not in failure.value.stderr
    assert "released" in thidua("release", kept, "--reason", "closed")

    services = bootstrap(env["THIDUA_DATABASE_URL"])
    try:
        _rehash_digest(services, DAY, events=7)
    finally:
        services.dispose()
    with pytest.raises(subprocess.CalledProcessError) as failure:
        thidua("verify-history", "--digests", str(digests))
    assert failure.value.returncode == 1 and "Traceback" not in failure.value.stderr
    assert f"broken: exported digest {DAY.isoformat()}: the database's digest differs" in failure.value.stderr
