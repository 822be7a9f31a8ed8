"""Migrating running instances to another deployed version of their process: the dry run, the
move, and refused or failed moves that leave the instance as it was."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

import engine
from engine import ConcurrentUpdateError, InstanceNotFoundError
from engine.errors import MigrationError
from engine.migration import check_migration, migrate_instance
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TimerJob
from tests.conftest import FIXTURES
from tests.integration.conftest import add_user
from workflows.audit import queries as audit_queries
from workflows.bootstrap import bootstrap
from workflows.processes import services as ps

BUNDLES = FIXTURES / "migration"
# Deployed in this order: steps v1..v4, other v1, timed v1..v2, nested v1..v3.
VERSIONS = ["steps_v1", "steps_v2", "steps_v3", "steps_v4", "other", "timed_v1", "timed_v2"]
NESTED = ["nested_v1", "nested_v2", "nested_v3"]


@pytest.fixture
def versions(services) -> dict[str, int]:
    """Every fixture version deployed; bundle name -> definition id."""
    add_user(services, "clerk", "clerk", None)
    add_user(services, "manager", "manager", None)
    return {name: ps.deploy(services, [BUNDLES / name], "designer")[0].id for name in VERSIONS + NESTED}


def _start(services, process_id: str) -> engine.StepResult:
    with services.uow() as uow:
        result = engine.start_instance(uow, process_id, "clerk", business_key=f"key-{process_id}", version=1)
        uow.commit()
    return result


def _check(services, instance_ids, target_id) -> list:
    with services.uow() as uow:
        return check_migration(uow, instance_ids, target_id)


def _migrate(services, instance_id, target_id, reason="the new version fixes the form"):
    with services.uow() as uow:
        result = migrate_instance(uow, instance_id, target_id, "admin", reason)
        uow.commit()
    return result


def _open(services, instance_id) -> list[engine.TaskView]:
    with services.session_factory() as session:
        return engine.queries.open_tasks(session, instance_id=instance_id)


def _state(services, instance_id) -> dict:
    """Everything stored about an instance: its row, history, tasks and jobs."""

    def rows(model, order):
        table = model.__table__
        query = select(table).where(table.c.instance_id == instance_id).order_by(table.c[order])
        return [tuple(row) for row in session.execute(query)]

    with services.session_factory() as session:
        table = ProcessInstance.__table__
        instance = tuple(session.execute(select(table).where(table.c.id == instance_id)).one())
        return {
            "instance": instance,
            "history": rows(HistoryEvent, "seq"),
            "tasks": rows(HumanTask, "id"),
            "jobs": rows(TimerJob, "id"),
        }


def _jobs(services, instance_id) -> list[TimerJob]:
    with services.session_factory() as session:
        return list(session.scalars(select(TimerJob).where(TimerJob.instance_id == instance_id).order_by(TimerJob.id)))


def _last_event(services, instance_id) -> HistoryEvent:
    with services.session_factory() as session:
        return engine.queries.instance_history(session, instance_id)[-1]


def _definition_of(services, instance_id) -> int:
    with services.session_factory() as session:
        return session.get(ProcessInstance, instance_id).definition_id


def test_dry_run_reports_movable_and_unmovable_instances_with_reasons_and_writes_nothing(services, versions):
    waiting = _start(services, "steps").instance_id
    drafted = _start(services, "steps")
    services.in_transaction(engine.complete_task, drafted.opened[0].id, "clerk")
    before = {i: _state(services, i) for i in (waiting, drafted.instance_id)}

    to_v2 = _check(services, [waiting, drafted.instance_id], versions["steps_v2"])
    to_v3 = _check(services, [waiting, drafted.instance_id], versions["steps_v3"])

    assert [(c.instance_id, c.movable, c.reasons) for c in to_v2] == [
        (waiting, True, ()),
        (drafted.instance_id, True, ()),
    ]
    first = to_v2[0]
    assert (first.business_key, first.status, first.from_version, first.to_version) == ("key-steps", "running", 1, 2)
    assert (first.from_definition_id, first.to_definition_id) == (versions["steps_v1"], versions["steps_v2"])
    assert first.changes == (
        "task draft (userTask): name 'Draft' becomes 'Draft the dossier'",
        "task draft (userTask): due working days 3 becomes 5 the next time it opens; its deadline stays",
    )
    assert [(c.movable, c.reasons) for c in to_v3] == [
        (False, ("task draft (userTask) is waiting at an element that version 3 removed",)),
        (False, ("task draft (userTask) was completed at an element that version 3 removed",)),
    ]
    assert {i: _state(services, i) for i in before} == before


def test_apply_moves_the_instance_and_it_goes_on_on_the_new_version(services, versions, clock, database_url):
    started = _start(services, "steps")
    instance_id, draft = started.instance_id, started.opened[0]
    services.in_transaction(engine.claim_task, draft.id, "clerk")
    clock.advance(hours=1)

    result = _migrate(services, instance_id, versions["steps_v2"])

    assert (result.status, result.opened, result.closed, result.ended) == ("running", (), (), False)
    assert _definition_of(services, instance_id) == versions["steps_v2"]
    event = _last_event(services, instance_id)
    assert (event.type, event.actor, event.reason) == ("InstanceMigrated", "admin", "the new version fixes the form")
    assert (event.data["from"]["version"], event.data["to"]["version"]) == (1, 2)
    assert event.data["to"]["definition_id"] == versions["steps_v2"]
    assert audit_queries.verify_history(services).ok
    (task,) = _open(services, instance_id)
    assert (task.id, task.claimed_by, task.due_at, task.created_at) == (
        draft.id,
        "clerk",
        draft.due_at,
        draft.created_at,
    )
    assert task.name == "Draft the dossier"  # refreshed from version 2

    # A fresh runtime (no cached specs) loads the moved snapshot with version 2's spec.
    again = bootstrap(database_url, clock=clock)
    try:
        check = again.in_transaction(engine.complete_task, draft.id, "clerk").opened[0]
        assert (check.element_id, check.name) == ("check", "Check")  # the step version 2 added
        assert check.due_at == datetime.fromisoformat("2026-03-04T17:00:00+00:00")  # its 2 working days
        sign = again.in_transaction(engine.complete_task, check.id, "clerk").opened[0]
        assert again.in_transaction(engine.complete_task, sign.id, "clerk").ended
    finally:
        again.dispose()
    assert audit_queries.verify_history(services).ok


def test_refused_move_leaves_the_instance_untouched_and_raises(services, versions):
    instance_id = _start(services, "steps").instance_id
    before = _state(services, instance_id)

    with services.uow() as uow:
        with pytest.raises(MigrationError) as refused:
            migrate_instance(uow, instance_id, versions["steps_v3"], "admin", "drop the draft")
        uow.commit()  # even a caller that commits finds nothing written

    assert refused.value.instance_id == instance_id
    assert refused.value.reasons == ("task draft (userTask) is waiting at an element that version 3 removed",)
    assert str(refused.value) == (
        f"instance {instance_id} cannot be migrated: "
        "task draft (userTask) is waiting at an element that version 3 removed"
    )
    assert _state(services, instance_id) == before


def test_a_move_failing_half_way_leaves_the_instance_untouched(services, versions, monkeypatch):
    instance_id = _start(services, "steps").instance_id
    before = _state(services, instance_id)
    seen = []

    def broken(session, rows):
        written = select(ProcessInstance.version, ProcessInstance.definition_id).where(
            ProcessInstance.id == instance_id
        )
        seen.append(tuple(session.connection().execute(written).one()))
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine.history, "append_events", broken)
    with services.uow() as uow:
        with pytest.raises(RuntimeError, match="disk full"):
            migrate_instance(uow, instance_id, versions["steps_v2"], "admin", "new step")

    version = before["instance"][ProcessInstance.__table__.c.keys().index("version")]
    assert seen == [(version + 1, versions["steps_v2"])]  # snapshot and definition were written when it failed
    assert _state(services, instance_id) == before


def test_a_stale_instance_raises_a_conflict(services, versions, monkeypatch):
    instance_id = _start(services, "steps").instance_id
    with services.uow() as uow:
        original = uow.runtime.migrate

        def step_in_between(*args):
            # Another step commits after this transaction read the instance.
            uow.session.connection().execute(
                update(ProcessInstance).where(ProcessInstance.id == instance_id).values(version=5)
            )
            return original(*args)

        monkeypatch.setattr(uow.runtime, "migrate", step_in_between)
        with pytest.raises(ConcurrentUpdateError):
            migrate_instance(uow, instance_id, versions["steps_v2"], "admin", "new step")
    assert _definition_of(services, instance_id) == versions["steps_v1"]


@pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_step_committed_after_the_read_wins_over_the_move(services, versions, monkeypatch):
    """A real second transaction (SQLite serialises writers, so there it would wait instead)."""
    started = _start(services, "steps")
    instance_id = started.instance_id
    with services.uow() as uow:
        original = uow.runtime.migrate

        def claim_in_between(*args):
            services.in_transaction(engine.claim_task, started.opened[0].id, "clerk")
            return original(*args)

        monkeypatch.setattr(uow.runtime, "migrate", claim_in_between)
        with pytest.raises(ConcurrentUpdateError):
            migrate_instance(uow, instance_id, versions["steps_v2"], "admin", "new step")
    assert _definition_of(services, instance_id) == versions["steps_v1"]
    assert _open(services, instance_id)[0].claimed_by == "clerk"
    assert audit_queries.verify_history(services).ok


def test_ended_instances_same_version_and_another_process_are_refused(services, versions):
    completed = _start(services, "steps")
    sign = services.in_transaction(engine.complete_task, completed.opened[0].id, "clerk").opened[0]
    services.in_transaction(engine.complete_task, sign.id, "clerk")
    terminated = _start(services, "steps").instance_id
    ps.terminate(services, terminated, "admin", "withdrawn")
    running = _start(services, "steps").instance_id

    checks = _check(services, [completed.instance_id, terminated], versions["steps_v2"])
    assert [c.reasons for c in checks] == [
        ("the instance is completed: only running or suspended instances can move",),
        ("the instance is terminated: only running or suspended instances can move",),
    ]
    (other,) = _check(services, [running], versions["other"])
    assert other.reasons == ("the target is version 1 of process other, not a version of process steps",)
    (same,) = _check(services, [running], versions["steps_v1"])
    assert same.reasons == ("the instance is already on version 1 of process steps",)
    assert not any(c.movable for c in [*checks, other, same])

    for instance_id, target in [(terminated, "steps_v2"), (running, "other"), (running, "steps_v1")]:
        before = _state(services, instance_id)
        with pytest.raises(MigrationError):
            _migrate(services, instance_id, versions[target])
        assert _state(services, instance_id) == before
    with pytest.raises(InstanceNotFoundError):
        _check(services, ["no-such-instance"], versions["steps_v2"])


def test_a_suspended_instance_moves_and_its_timer_jobs_stay_parked(services, versions, clock):
    instance_id = _start(services, "timed").instance_id
    ps.suspend(services, instance_id, "admin", "on hold")
    (parked,) = _jobs(services, instance_id)
    assert parked.status == "suspended"

    (check,) = _check(services, [instance_id], versions["timed_v2"])
    assert (check.status, check.movable) == ("suspended", True)
    _migrate(services, instance_id, versions["timed_v2"])

    (job,) = _jobs(services, instance_id)
    assert (job.id, job.status, job.due_at, job.task_id) == (parked.id, "suspended", parked.due_at, parked.task_id)
    clock.advance(days=2)
    assert ps.run_timers(services).claimed == 0  # still parked
    ps.resume(services, instance_id, "admin", "go on")
    assert ps.run_timers(services).done == 1
    (act,) = _open(services, instance_id)
    assert (act.element_id, act.name, act.due_at is not None) == ("act", "Act in time", True)  # version 2's settings
    assert audit_queries.verify_history(services).ok


def test_a_waiting_bpmn_timer_keeps_its_job_and_still_fires(services, versions, clock):
    instance_id = _start(services, "timed").instance_id
    (waiting,) = _jobs(services, instance_id)

    assert _migrate(services, instance_id, versions["timed_v2"]).opened == ()

    (job,) = _jobs(services, instance_id)
    assert (job.id, job.status, job.due_at, job.task_id, job.kind) == (
        waiting.id,
        "pending",
        waiting.due_at,
        waiting.task_id,
        "bpmn_timer",
    )
    clock.advance(days=1, minutes=1)
    assert ps.run_timers(services).done == 1
    assert _last_event(services, instance_id).type == "TimerFired"
    (act,) = _open(services, instance_id)
    assert (act.name, act.due_at) == ("Act in time", datetime.fromisoformat("2026-03-05T17:00:00+00:00"))
    assert services.in_transaction(engine.complete_task, act.id, "clerk").ended
    assert audit_queries.verify_history(services).ok


def test_a_changed_candidate_role_drops_the_claim(services, versions):
    started = _start(services, "steps")
    draft = started.opened[0]
    services.in_transaction(engine.claim_task, draft.id, "clerk")

    (check,) = _check(services, [started.instance_id], versions["steps_v4"])
    assert check.changes == (
        "task draft (userTask): candidate role 'clerk' becomes 'manager'",
        "task draft (userTask): the claim by clerk is dropped, its candidates change",
    )
    _migrate(services, started.instance_id, versions["steps_v4"])

    (task,) = _open(services, started.instance_id)
    assert (task.id, task.candidate_role, task.claimed_by, task.due_at) == (draft.id, "manager", None, draft.due_at)
    with pytest.raises(engine.TaskNotAllowedError):
        services.in_transaction(engine.complete_task, draft.id, "clerk")
    assert services.in_transaction(engine.complete_task, draft.id, "manager").opened[0].element_id == "sign"


def test_an_instance_inside_a_subprocess_moves_unless_its_task_was_removed(services, versions):
    started = _start(services, "nested")
    instance_id, inner = started.instance_id, started.opened[0]

    (refused,) = _check(services, [instance_id], versions["nested_v3"])
    assert refused.reasons == ("task inner (userTask) is waiting at an element that version 3 removed",)
    _migrate(services, instance_id, versions["nested_v2"])

    extra = services.in_transaction(engine.complete_task, inner.id, "clerk").opened[0]
    assert extra.element_id == "extra"  # added inside the subprocess by version 2
    after = services.in_transaction(engine.complete_task, extra.id, "clerk").opened[0]
    assert services.in_transaction(engine.complete_task, after.id, "clerk").ended
    assert audit_queries.verify_history(services).ok
