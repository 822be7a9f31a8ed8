"""Replay rebuilds instances from their definition version and recorded inputs and agrees with
history and the stored snapshot, for completed, running, returned-and-resubmitted and migrated
instances; a tampered snapshot or event is caught where it starts; replay never writes."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import create_engine, select, update

import engine
from engine import ReplayRangeError
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from tests import cli
from tests.conftest import FIXTURES
from tests.integration.conftest import add_user, tamper
from tests.integration.test_nomination_scenarios import (
    bk_tinh_candidate,
    council_session,
    nominate,
    step,
    submit_and_appraise,
    vote,
)
from workflows.audit import queries as audit_queries
from workflows.nominations.models import Nomination
from workflows.processes import services as ps


def _instance_of(services, nomination_id) -> str:
    with services.session_factory() as session:
        return session.get(Nomination, nomination_id).instance_id


def _stored(services, instance_id):
    """The instance row and its events, to show replay wrote nothing."""
    with services.session_factory() as session:
        row = session.get(ProcessInstance, instance_id)
        events = session.scalars(select(HistoryEvent.hash).where(HistoryEvent.instance_id == instance_id)).all()
        return (row.version, row.history_seq, row.history_hash, copy.deepcopy(row.snapshot), events)


def _decided(province) -> str:
    nomination_id = nominate(province, bk_tinh_candidate(province))
    submit_and_appraise(province, nomination_id)
    session_id = council_session(province, [nomination_id])
    vote(province, session_id, nomination_id, yes=8)
    step(province, nomination_id, "sign_decision", "chu.tich")
    step(province, nomination_id, "notify_result", "chuyen.vien.2")
    return _instance_of(province, nomination_id)


def test_a_completed_nomination_replays_to_its_stored_snapshot_and_nothing_is_written(province):
    instance_id = _decided(province)
    before = _stored(province, instance_id)

    replay = audit_queries.replay(province, instance_id)

    assert replay.ok and replay.snapshot_matches is True and replay.snapshot_differences == ()
    assert replay.at == replay.head == len(replay.steps) == before[1]
    assert [s.type for s in replay.steps][0] == "InstanceStarted"
    assert replay.steps[-1].type == "InstanceCompleted"
    assert {"draft_nomination", "sign_decision", "notify_result"} <= replay.states.completed
    assert replay.states.active == frozenset()
    assert _stored(province, instance_id) == before


def test_replay_at_an_event_shows_the_path_so_far_and_what_waits_there(province):
    instance_id = _decided(province)
    with province.session_factory() as session:
        events = session.scalars(
            select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.seq)
        ).all()
    drafted = next(e.seq for e in events if e.type == "TaskCompleted" and e.element_id == "draft_nomination")

    at_start = audit_queries.replay(province, instance_id, at=1)
    at_draft = audit_queries.replay(province, instance_id, at=drafted)

    assert at_start.ok and at_start.snapshot_matches is None  # not at the end: nothing to compare
    assert at_start.states.active == {"draft_nomination"}
    assert "draft_nomination" not in at_start.states.completed
    assert "draft_nomination" in at_draft.states.completed
    assert at_draft.states.active == {"sign_nomination"}
    assert at_draft.states.data["summary"] == "Hoàn thành xuất sắc nhiệm vụ năm 2022"
    assert len(at_draft.steps) == drafted


def test_a_running_nomination_replays_to_its_open_tasks(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})

    replay = audit_queries.replay(province, _instance_of(province, nomination_id))

    assert replay.ok and replay.snapshot_matches is True
    assert replay.states.active == {"sign_nomination"}


def test_a_returned_and_resubmitted_nomination_replays(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.y.te")
    step(province, nomination_id, "bloc_review", "gd.giao.duc", {"approved": True})
    step(province, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": False, "return_reason": "Thiếu"})
    step(province, nomination_id, "supplement_nomination", "tdkt.y.te", {"supplement_note": "Đã bổ sung"})
    step(province, nomination_id, "receive_nomination", "chuyen.vien.1", {"complete": True})

    replay = audit_queries.replay(province, _instance_of(province, nomination_id))

    assert replay.ok and replay.snapshot_matches is True
    received = [s for s in replay.steps if s.element_id == "receive_nomination" and s.type == "TaskCompleted"]
    assert len(received) == 2 and all(s.ok for s in received)
    assert replay.states.active == {"appraise_nomination"}


def test_a_migrated_instance_replays_across_both_versions(services):
    add_user(services, "clerk", "clerk", None)
    bundles = FIXTURES / "migration"
    ps.deploy(services, [bundles / "steps_v1"], "designer")
    target = ps.deploy(services, [bundles / "steps_v2"], "designer")[0].id
    with services.uow() as uow:
        started = engine.start_instance(uow, "steps", "clerk", version=1)
        uow.commit()
    with services.uow() as uow:
        engine.migrate_instance(uow, started.instance_id, target, "admin", "the new version adds a check")
        uow.commit()
    draft = started.opened[0]
    check = services.in_transaction(engine.complete_task, draft.id, "clerk").opened[0]
    assert check.element_id == "check"  # only version 2 has it

    replay = audit_queries.replay(services, started.instance_id)

    assert [s.type for s in replay.steps] == ["InstanceStarted", "InstanceMigrated", "TaskCompleted"]
    assert replay.ok and replay.snapshot_matches is True
    assert replay.states.active == {"check"}


def test_a_tampered_snapshot_is_caught_by_replay(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    instance_id = _instance_of(province, nomination_id)
    with province.session_factory() as session:
        snapshot = copy.deepcopy(session.get(ProcessInstance, instance_id).snapshot)
        (task_id,) = session.scalars(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        )
    # SpiffWorkflow keeps a task's data as changes from its parent's: the change goes there.
    snapshot["tasks"][task_id]["delta"]["updates"]["summary"] = "Thành tích đã sửa sau khi ký"
    with province.database.begin() as connection:
        connection.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(snapshot=snapshot))

    replay = audit_queries.replay(province, instance_id)

    assert replay.mismatch is None  # every event agrees: the snapshot is what was changed
    assert replay.snapshot_matches is False and not replay.ok
    assert any("sign_nomination.summary" in d and "đã sửa" in d for d in replay.snapshot_differences)


def test_a_tampered_event_is_flagged_where_it_starts(province):
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    step(province, nomination_id, "sign_nomination", "gd.y.te")
    instance_id = _instance_of(province, nomination_id)
    with province.session_factory() as session:
        drafted = session.scalars(
            select(HistoryEvent).where(
                HistoryEvent.instance_id == instance_id, HistoryEvent.element_id == "draft_nomination"
            )
        ).one()
        seq, data = drafted.seq, dict(drafted.data)
    data["input"] = {"summary": "Thành tích khác"}
    tamper(
        province,
        ("history_event",),
        (
            "UPDATE history_event SET data = :data WHERE instance_id = :i AND seq = :seq",
            {"data": json.dumps(data), "i": instance_id, "seq": seq},
        ),
    )

    replay = audit_queries.replay(province, instance_id)

    assert replay.mismatch.seq == seq and "hash" in replay.mismatch.detail
    assert all(s.ok for s in replay.steps[:-1]) and len(replay.steps) == seq
    assert replay.snapshot_matches is None


def test_an_event_that_does_not_fit_the_process_is_flagged(province):
    """An event re-hashed by someone who can rewrite the whole chain still has to fit the diagram."""
    nomination_id = nominate(province, bk_tinh_candidate(province))
    step(province, nomination_id, "draft_nomination", "tdkt.y.te", {"summary": "Thành tích"})
    instance_id = _instance_of(province, nomination_id)
    with province.uow() as uow:
        head = uow.session.get(ProcessInstance, instance_id)
        forged = engine.history.NewEvent(
            "TaskCompleted", "gd.y.te", head.updated_at, {"input": {}, "before": {}}, task_id="x", element_id="appraise"
        )
        rows, _ = engine.history.link_events(instance_id, (head.history_seq, head.history_hash), [forged])
        uow.session.execute(HistoryEvent.__table__.insert(), rows)
        uow.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .values(history_seq=rows[0]["seq"], history_hash=rows[0]["hash"])
        )
        uow.commit()

    replay = audit_queries.replay(province, instance_id)

    assert replay.mismatch.seq == rows[0]["seq"]
    assert replay.mismatch.detail == "appraise is not waiting in the rebuilt workflow"


def test_an_event_outside_the_history_is_refused(province):
    instance_id = _instance_of(province, nominate(province, bk_tinh_candidate(province)))
    head = audit_queries.replay(province, instance_id).head
    for at in (0, head + 1):
        with pytest.raises(ReplayRangeError, match=f"events 1 to {head}"):
            audit_queries.replay(province, instance_id, at=at)
    with pytest.raises(engine.InstanceNotFoundError):
        audit_queries.replay(province, "no-such-instance")


def test_the_replay_command_prints_each_step_and_fails_on_a_tampered_instance(environment):
    env, thidua = environment
    thidua("deploy", str(FIXTURES / "migration" / "steps_v1"))
    instance_id = thidua("start", "steps").strip()

    def replay(*args):
        return cli.thidua("replay", instance_id, *args, env=env)

    good, at_one, beyond = replay(), replay("--at", "1"), replay("--at", "9")
    database = create_engine(env["THIDUA_DATABASE_URL"])
    with database.begin() as connection:
        connection.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(status="completed"))
    database.dispose()
    tampered = replay()

    assert good.returncode == 0, good.stderr
    assert "InstanceStarted" in good.stdout and "the stored snapshot matches" in good.stdout
    assert at_one.returncode == 0 and "waiting draft" in at_one.stdout
    assert beyond.returncode == 1 and "there is no event 9" in beyond.stderr
    assert tampered.returncode == 1
    assert "status is completed, history leads to running" in tampered.stderr
