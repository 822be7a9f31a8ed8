"""Scheduler processes for real, on PostgreSQL: three racing over 2,000 due timers run each one
once; a scheduler killed with SIGKILL while holding claims has its jobs taken over once the
claims expire (not before); the database going away for a moment does not stop a scheduler."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from engine.models import HistoryEvent, HumanTask, TimerJob
from tests.conftest import FIXTURES, FakeClock
from tests.integration.test_processes import launch, stop, wait_for
from workflows.audit import queries as audit_queries
from workflows.bootstrap import bootstrap
from workflows.processes import services as ps

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database", ["postgres"], indirect=True)]
LOCK_SECONDS = 4


@pytest.fixture
def scheduler_env(environment):
    env, thidua = environment
    env |= {"THIDUA_SCHEDULER_LOCK_SECONDS": str(LOCK_SECONDS), "THIDUA_SCHEDULER_BATCH": "50"}
    thidua("deploy", str(FIXTURES / "wait"))
    services = bootstrap(env["THIDUA_DATABASE_URL"])
    yield env, services
    services.dispose()


def due_timers(services, count: int) -> list[str]:
    """`count` instances waiting on a timer that fell due an hour ago."""
    now = services.clock
    services.clock = FakeClock(now() - timedelta(hours=2))
    try:
        return [ps.start_process(services, "wait", "tester", {"delay": "PT1H"}).instance_id for _ in range(count)]
    finally:
        services.clock = now


def job_states(services) -> dict[str, int]:
    with services.session_factory() as session:
        return dict(session.execute(select(TimerJob.status, func.count()).group_by(TimerJob.status)).all())


def assert_each_ran_once(services, instance_ids):
    with services.session_factory() as session:
        fired = dict(
            session.execute(
                select(HistoryEvent.instance_id, func.count())
                .where(HistoryEvent.type == "TimerFired")
                .group_by(HistoryEvent.instance_id)
            ).all()
        )
        acts = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.element_id == "act"))
    assert fired == {instance_id: 1 for instance_id in instance_ids}
    assert acts == len(instance_ids)
    assert job_states(services) == {"done": len(instance_ids)}
    assert audit_queries.verify_history(services).ok


def test_three_schedulers_racing_over_2000_due_timers_run_each_once(scheduler_env):
    env, services = scheduler_env
    instance_ids = due_timers(services, 2000)
    schedulers = [launch(["scheduler"], env) for _ in range(3)]
    try:
        wait_for(lambda: job_states(services).get("done") == 2000, timeout=300)
    finally:
        codes = [stop(process) for process, _ in schedulers]
    assert codes == [0, 0, 0], [("".join(output))[-2000:] for _, output in schedulers]
    assert_each_ran_once(services, instance_ids)
    busy = [any("jobs claimed" in line for line in output) for _, output in schedulers]
    assert sum(busy) >= 2, "the schedulers did not race"


def test_a_killed_schedulers_claims_are_taken_over_after_they_expire(scheduler_env):
    env, services = scheduler_env
    instance_ids = due_timers(services, 300)
    victim, output = launch(["scheduler"], env | {"THIDUA_SCHEDULER_BATCH": "300"})

    def claimed():
        """The victim's claims, while it works through its batch (which commits once, at its end)."""
        with services.session_factory() as session:
            held = session.execute(
                select(TimerJob.id, TimerJob.lock_expires_at).where(TimerJob.status == "running")
            ).all()
        return held or None

    try:
        held = dict(wait_for(claimed, timeout=120))
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        victim.reader.join(timeout=10)
        victim.stdout.close()
    with services.session_factory() as session:
        still_held = session.scalars(select(TimerJob.id).where(TimerJob.status == "running")).all()
    assert still_held, "the victim held no claims when it died"
    heir, heir_output = launch(["scheduler"], env)
    try:
        wait_for(lambda: job_states(services).get("done") == 300, timeout=120)
    finally:
        assert stop(heir) == 0, "".join(heir_output)[-2000:]
    with services.session_factory() as session:
        taken_over = dict(
            session.execute(select(TimerJob.id, TimerJob.done_at).where(TimerJob.id.in_(still_held))).all()
        )
    early = [job_id for job_id, done_at in taken_over.items() if done_at < held[job_id]]
    assert early == [], "jobs were taken over before their claims expired"
    assert_each_ran_once(services, instance_ids)


def test_the_scheduler_carries_on_after_the_database_goes_away_for_a_moment(scheduler_env, postgres_server):
    env, services = scheduler_env
    name = services.database.url.database
    scheduler, output = launch(["scheduler"], env)
    try:
        wait_for(lambda: any("scheduler started" in line for line in output))
        instance_id = ps.start_process(services, "wait", "tester", {"delay": "PT2S"}).instance_id
        services.database.dispose()
        with postgres_server.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            admin.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
            time.sleep(4)  # the timer falls due while the database is away
            assert scheduler.poll() is None, "the scheduler died"
            admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

        def acted():
            with services.session_factory() as session:
                return session.scalar(
                    select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.element_id == "act")
                )

        assert wait_for(acted, timeout=60)
    finally:
        returncode = stop(scheduler)
    assert returncode == 0
    assert any("database" in line.lower() and "unavailable" in line.lower() for line in output), "".join(output)
