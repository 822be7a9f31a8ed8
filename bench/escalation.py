"""Escalation at scale: how long one scheduler sweep takes to take the due rung of 10,000
overdue tasks (history, the task's stage, in-app notifications and mail for the assignee and
their supervisor), and how late timer jobs fire while the scheduler works under a load of task
completions.

    python -m bench.escalation [--tasks 10000] [--timers 300] [--postgres ADMIN_URL] [--json PATH]

The sweep is the scheduler's own (workflows.processes.services.run_timers) on a clock moved
past every due time; the lateness run is the real heartbeat (web.scheduler.heartbeat under
APScheduler, config defaults) on the wall clock, with timers falling due over 30 seconds while
another thread completes tasks as fast as it can. Targets: 10,000 escalations in <= 10 s, jobs
firing <= 5 s after their due time.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

import engine
from engine.models import HistoryEvent, TimerJob
from engine.ports import utc_now
from web.config import DEFAULTS
from web.database import upgrade_database
from web.scheduler import heartbeat
from workflows.bootstrap import bootstrap
from workflows.notifications.models import MailOutbox, Notification
from workflows.org.models import RoleAssignment, User
from workflows.processes import services as ps

from . import throwaway_postgres, write_json
from .engine_step import ACTOR, BUNDLE, PROCESS_ID

SUPERVISOR = "bench_head"


class MovableClock:
    def __init__(self):
        self.now = utc_now()

    def __call__(self):
        return self.now


def prepare(url: str, clock=utc_now):
    services = bootstrap(url, clock=clock)
    upgrade_database(services.database)
    with services.uow() as uow:
        for user_id, role in ((ACTOR, "reviewer"), (SUPERVISOR, "unit_head")):
            uow.session.add(User(id=user_id, username=user_id, full_name=user_id, email=f"{user_id}@bench.example"))
            uow.session.flush()
            uow.session.add(RoleAssignment(user_id=user_id, role=role, scope="unit:BENCH"))
        uow.commit()
    ps.deploy(services, [BUNDLE], ACTOR)
    return services


def sweep(url: str, tasks: int) -> dict:
    clock = MovableClock()
    services = prepare(url, clock)
    began = time.perf_counter()
    for _ in range(tasks):
        ps.start_process(services, PROCESS_ID, ACTOR, {"unit": "unit:BENCH"})
    setup_seconds = time.perf_counter() - began
    clock.now += timedelta(days=30)  # every task is overdue
    began = time.perf_counter()
    summary = ps.run_timers(services, batch=DEFAULTS["SCHEDULER_BATCH"])
    seconds = time.perf_counter() - began
    with services.session_factory() as session:
        overdue = session.scalar(select(func.count()).where(HistoryEvent.type == "TaskOverdue"))
        notifications = session.scalar(select(func.count()).select_from(Notification))
        mails = session.scalar(select(func.count()).select_from(MailOutbox))
    services.dispose()
    return {
        "tasks": tasks,
        "setup_seconds": round(setup_seconds, 1),
        "jobs_done": summary.done,
        "escalations": overdue,
        "notifications": notifications,
        "mails_queued": mails,
        "sweep_seconds": round(seconds, 2),
        "escalations_per_second": round(overdue / seconds),
        "target_seconds_for_10000": 10,
    }


def lateness(url: str, timers: int, spread_seconds: int = 30) -> dict:
    """Timers falling due over `spread_seconds` while a thread completes tasks non-stop."""
    services = prepare(url)
    config = dict(DEFAULTS)
    for n in range(timers):
        ps.start_process(services, "bench_wait", ACTOR, {"delay": f"PT{5 + n % spread_seconds}S"})
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        heartbeat, "interval", args=[services, config], seconds=config["SCHEDULER_INTERVAL_SECONDS"], max_instances=1
    )
    stop, completions = threading.Event(), [0]

    def load():
        while not stop.is_set():
            task_id = ps.start_process(services, PROCESS_ID, ACTOR, {"unit": "unit:BENCH"}).opened[0].id
            services.in_transaction(engine.complete_task, task_id, ACTOR, {"done": True})
            completions[0] += 2

    worker = threading.Thread(target=load)
    began = time.perf_counter()
    scheduler.start()
    worker.start()
    deadline = time.monotonic() + spread_seconds + 60
    while time.monotonic() < deadline:
        with services.session_factory() as session:
            done = session.scalar(select(func.count()).where(TimerJob.kind == "bpmn_timer", TimerJob.status == "done"))
        if done == timers:
            break
        time.sleep(0.5)
    stop.set()
    worker.join()
    scheduler.shutdown(wait=True)
    elapsed = time.perf_counter() - began
    with services.session_factory() as session:
        rows = session.execute(select(TimerJob.due_at, TimerJob.done_at).where(TimerJob.kind == "bpmn_timer")).all()
    services.dispose()
    late = sorted((done_at - due_at).total_seconds() for due_at, done_at in rows if done_at is not None)
    return {
        "timers": timers,
        "fired": len(late),
        "heartbeat_seconds": config["SCHEDULER_INTERVAL_SECONDS"],
        "load_steps_per_second": round(completions[0] / elapsed),
        "late_p50_seconds": round(statistics.median(late), 2) if late else None,
        "late_p95_seconds": round(late[int(len(late) * 0.95) - 1], 2) if late else None,
        "late_max_seconds": round(late[-1], 2) if late else None,
        "target_seconds": 5,
    }


@contextlib.contextmanager
def throwaway_database(postgres: str | None, folder: str, name: str):
    """SQLite in `folder`, or a database created on the PostgreSQL server and dropped after."""
    if not postgres:
        yield f"sqlite:///{folder}/{name}.sqlite3"
        return
    with throwaway_postgres(postgres) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--timers", type=int, default=300)
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server (default: SQLite)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = {"database": "postgresql" if args.postgres else "sqlite"}
    with tempfile.TemporaryDirectory() as folder:
        with throwaway_database(args.postgres, folder, "sweep") as url:
            result["sweep"] = sweep(url, args.tasks)
        with throwaway_database(args.postgres, folder, "lateness") as url:
            result["lateness"] = lateness(url, args.timers)
    print(f"database: {result['database']}")
    for name in ("sweep", "lateness"):
        print(name)
        for key, value in result[name].items():
            print(f"  {key:<28}{value}")
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
