"""Soak test: 2 gunicorn web workers and 2 `thidua scheduler` processes on a throw-away PostgreSQL
database, under a mixed load over loopback for a bounded time, then end-of-run checks.

    python -m bench.soak [--minutes 10] [--clients 4] [--postgres ADMIN_URL] [--json PATH]

The load runs the demo province's nomination ladder through the REST API: nominations started by
the unit officer, drafts claimed and completed, signed by the unit head, reviewed by the bloc
head, and inbox reads (mine, claimable, overdue, all) by each of them. Clients pick tasks from
the same short lists, so they race for them. Escalations: another thread starts nominations
with a clock 30 days back (as if filed a month ago), so each draft is long overdue when it
opens; its due and reassignment jobs fall due at once and the schedulers, on the real clock,
take them while the clients may be completing the same drafts.

At the end: every start is an instance and every acknowledged completion is in history once; no
task is completed twice; completions in history equal completed tasks; every running instance
waits on an open task (none lost); every escalation job ran once and none is left due; every
hash chain verifies (`thidua verify-history`); replay matches the snapshot for a sample; every
process stops cleanly on SIGTERM. Prints a table, writes JSON, exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

import engine
from engine import EngineError
from engine.models import HistoryEvent, HumanTask, ProcessInstance, TimerJob
from engine.ports import utc_now
from workflows.audit import queries as audit_queries
from workflows.bootstrap import bootstrap
from workflows.demo import province as demo
from workflows.nominations import creation, steps
from workflows.nominations.models import Nomination

from . import write_json
from .escalation import throwaway_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = os.environ.get("THIDUA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OFFICER, HEAD, BLOC_HEAD = "tdkt.y.te", "gd.y.te", "gd.giao.duc"
NOMINATION = {
    "campaign_id": demo.CAMPAIGN,
    "award_code": "LDTT",
    "nominating_unit_id": "SO_Y_TE",
    "year": demo.YEAR,
    "person_id": "nv-ldtt-moi",
}
# (who completes it, the step, its form's data)
STEPS = {
    "draft": (OFFICER, "draft_nomination", {"summary": "Hoàn thành xuất sắc nhiệm vụ"}),
    "sign": (HEAD, "sign_nomination", {}),
    "review": (BLOC_HEAD, "bloc_review", {"approved": True}),
}
# Relative weights of the clients' actions.
ACTIONS = {"start": 2, "draft": 3, "sign": 3, "review": 3, "read": 4}
ESCALATION_EVENTS = ("TaskReminded", "TaskOverdue", "TaskEscalated")
BACKDATE = timedelta(days=30)
REPLAY_SAMPLE = 25


class Api:
    """The REST API over loopback, a new connection per request (gunicorn's sync workers close
    each one), with per-action status counts and latencies."""

    def __init__(self, port: int, tokens: dict[str, str]):
        self.port, self.tokens = port, tokens
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def call(self, action: str, method: str, path: str, user: str, body: dict | None = None):
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Connection": "close"}
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body), "application/json"
        began = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request(method, "/api/v1" + path, body=payload, headers=headers)
            response = connection.getresponse()
            status, text = response.status, response.read()
            connection.close()
        except OSError as exc:
            with self.lock:
                self.statuses[action]["error"] += 1
                self.errors.append(f"{action} {method} {path}: {exc}")
            return None, None
        with self.lock:
            self.statuses[action][status] += 1
            self.latencies[action].append(time.perf_counter() - began)
            if status >= 500:
                self.errors.append(f"{action} {method} {path}: {status} {text[:200]!r}")
        return status, json.loads(text) if text else None


def issue_token(port: int, username: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "password": demo.DEMO_PASSWORD})
    connection.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    token = json.loads(response.read())["token"]
    connection.close()
    return token


class Load:
    """What the clients did that the checks compare with the database."""

    def __init__(self, api: Api):
        self.api = api
        self.lock = threading.Lock()
        self.started: list[str] = []  # nomination ids
        self.completed: list[str] = []  # task ids acknowledged with 200

    def act(self, rng: random.Random) -> None:
        action = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        if action == "start":
            status, body = self.api.call("start", "POST", "/nominations", OFFICER, NOMINATION)
            if status == 201:
                with self.lock:
                    self.started.append(body["id"])
        elif action == "read":
            user = rng.choice((OFFICER, HEAD, BLOC_HEAD))
            view = rng.choice(("mine", "claimable", "overdue", "all"))
            self.api.call("read", "GET", f"/tasks?view={view}&sort=due&per_page=25", user)
        else:
            self.complete(action, rng)

    def complete(self, action: str, rng: random.Random) -> None:
        user, element_id, data = STEPS[action]
        sort = rng.choice(("-created", "due"))  # the newest, or the overdue ones the schedulers escalate
        status, page = self.api.call("list", "GET", f"/tasks?view=all&sort={sort}&per_page=10", user)
        if status != 200:
            return
        tasks = [item["task"] for item in page["items"] if item["task"]["element_id"] == element_id]
        if not tasks:
            return
        task = rng.choice(tasks)
        if rng.random() < 0.5:
            status, _ = self.api.call("claim", "POST", f"/tasks/{task['id']}/claim", user)
            if status != 200:
                return
        status, _ = self.api.call(action, "POST", f"/tasks/{task['id']}/complete", user, {"data": data})
        if status == 200:
            with self.lock:
                self.completed.append(task["id"])


def backdated_starts(url: str, stop: threading.Event, every_seconds: float) -> list[str]:
    """Nominations drafted and signed a month ago, one every `every_seconds`: the bloc review (5
    working days) opens long overdue, so its whole escalation ladder is due at once. A client
    may take the draft or the signature first; that nomination then follows the clients' load."""
    services = bootstrap(url, clock=lambda: utc_now() - BACKDATE)
    started: list[str] = []
    try:
        while not stop.wait(every_seconds):
            with services.uow() as uow:
                nomination = creation.create_nomination(uow, OFFICER, **NOMINATION)
                started.append(nomination.id)
                uow.commit()
            try:
                for user, element_id, data in (STEPS["draft"], STEPS["sign"]):
                    with services.uow() as uow:
                        tasks = engine.queries.open_tasks(uow.session, instance_id=nomination.instance_id)
                        if [task.element_id for task in tasks] != [element_id]:
                            break
                        steps.complete_step(uow, user, tasks[0].id, data)
                        uow.commit()
            except EngineError:
                pass  # a client took the step meanwhile
    finally:
        services.dispose()
    return started


def launch(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    return process


def stop_process(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the web workers did not answer /healthz on port {port} within {timeout} s")


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kilobytes = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return None if kilobytes is None else round(kilobytes / 1024, 1)


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def drain(services, timeout: float) -> float:
    """Wait until no timer job is due and unfinished; returns the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        with services.session_factory() as session:
            due = session.scalar(
                select(func.count())
                .select_from(TimerJob)
                .where(TimerJob.due_at <= utc_now(), TimerJob.status.in_(("pending", "running")))
            )
        if not due:
            break
        time.sleep(0.5)
    return round(time.monotonic() - began, 1)


def check(url: str, load: Load, backdated: list[str], baseline: set[str], env: dict) -> tuple[dict, dict]:
    """The end-of-run checks (name -> (passed, detail)) and the counts they rest on."""
    services = bootstrap(url)
    checks: dict[str, tuple[bool, str]] = {}
    try:
        with services.session_factory() as session:
            started = set(load.started) | set(backdated)
            rows = dict(session.execute(select(Nomination.id, Nomination.instance_id)).all())
            instances = {row[0] for row in session.execute(select(ProcessInstance.id))} - baseline
            mine = {rows.get(nomination_id) for nomination_id in started}
            checks["starts = instances"] = (
                len(started) == len(load.started) + len(backdated) and mine == instances and None not in mine,
                f"{len(started)} starts, {len(instances)} new instances",
            )
            # The clients also complete the demo's own nominations: those count here, not below.
            every_completion = Counter(
                session.scalars(select(HistoryEvent.task_id).where(HistoryEvent.type == "TaskCompleted"))
            )
            completed_events = Counter(
                session.scalars(
                    select(HistoryEvent.task_id).where(
                        HistoryEvent.type == "TaskCompleted", HistoryEvent.instance_id.in_(instances)
                    )
                )
            )
            twice = {task_id: n for task_id, n in every_completion.items() if n > 1}
            checks["no task completed twice"] = (not twice, f"{len(twice)} tasks with several TaskCompleted")
            acknowledged = Counter(load.completed)
            lost = [task_id for task_id in acknowledged if every_completion.get(task_id) != 1]
            checks["acknowledged completions in history once"] = (
                not lost and max(acknowledged.values(), default=1) == 1,
                (
                    f"{len(acknowledged)} acknowledged, {len(lost)} missing, "
                    f"{sum(n > 1 for n in acknowledged.values())} acknowledged twice"
                ),
            )
            states = Counter(session.scalars(select(HumanTask.state).where(HumanTask.instance_id.in_(instances))))
            checks["completions in history = completed tasks"] = (
                sum(completed_events.values()) == states["completed"],
                f"{sum(completed_events.values())} TaskCompleted, {states['completed']} completed tasks",
            )
            waiting = set(
                session.scalars(
                    select(HumanTask.instance_id).where(HumanTask.state == "open", HumanTask.instance_id.in_(instances))
                )
            )
            running = set(
                session.scalars(
                    select(ProcessInstance.id).where(
                        ProcessInstance.status == "running", ProcessInstance.id.in_(instances)
                    )
                )
            )
            checks["no task lost"] = (
                running <= waiting,
                f"{len(running)} running, {len(running - waiting)} without an open task",
            )
            jobs = Counter(session.scalars(select(TimerJob.status).where(TimerJob.instance_id.in_(instances))))
            ladder = session.execute(
                select(HistoryEvent.type, HistoryEvent.data).where(
                    HistoryEvent.type.in_(ESCALATION_EVENTS), HistoryEvent.instance_id.in_(instances)
                )
            ).all()
            escalations = Counter(str(data.get("job_id")) for _type, data in ladder)
            done_ids = {
                str(job_id)
                for job_id in session.scalars(
                    select(TimerJob.id).where(TimerJob.status == "done", TimerJob.instance_id.in_(instances))
                )
            }
            overdue_left = session.scalar(
                select(func.count())
                .select_from(TimerJob)
                .where(TimerJob.due_at <= utc_now(), TimerJob.status.in_(("pending", "running")))
            )
            checks["jobs done once"] = (
                max(escalations.values(), default=1) == 1
                and set(escalations) <= done_ids
                and not jobs["incident"]
                and not overdue_left,
                (
                    f"{sum(escalations.values())} escalation events for {len(escalations)} jobs; "
                    f"jobs {dict(jobs)}; {overdue_left} due and unfinished"
                ),
            )
            sample = random.Random(7).sample(sorted(instances), min(REPLAY_SAMPLE, len(instances)))
            escalated = session.scalars(
                select(HistoryEvent.instance_id)
                .where(HistoryEvent.type == "TaskEscalated", HistoryEvent.instance_id.in_(instances))
                .limit(5)
            )
            sample = list(dict.fromkeys([*sample, *escalated]))
        bad_replays = [instance_id for instance_id in sample if not audit_queries.replay(services, instance_id).ok]
        checks["replay matches (sample)"] = (not bad_replays, f"{len(sample)} replayed, {len(bad_replays)} differ")
        report = audit_queries.verify_history(services)
        verified = subprocess.run(
            [sys.executable, "-m", "web.cli", "verify-history"], env=env, cwd=ROOT, capture_output=True, check=False
        )
        checks["hash chains verify"] = (
            report.ok and verified.returncode == 0,
            f"{report.instances} chains, {report.events} events; thidua verify-history exit {verified.returncode}",
        )
    finally:
        services.dispose()
    counts = {
        "starts_http": len(load.started),
        "starts_backdated": len(backdated),
        "instances": len(instances),
        "completions_acknowledged": len(load.completed),
        "completions_in_history": sum(completed_events.values()),
        "tasks": dict(states),
        "timer_jobs": dict(jobs),
        "escalation_events": dict(Counter(event_type for event_type, _data in ladder)),
    }
    return {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}, counts


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)


def run(url: str, minutes: float, clients: int, workers: int, schedulers: int, folder: Path) -> dict:
    env = {
        **os.environ,
        "THIDUA_DATABASE_URL": url,
        "THIDUA_DATA_DIR": str(folder / "data"),
        "THIDUA_SECRET_KEY": secrets.token_hex(32),
        "THIDUA_LOG_LEVEL": "INFO",
        "XDG_RUNTIME_DIR": str(folder),  # gunicorn's control socket, apart from other servers'
    }
    thidua = [sys.executable, "-m", "web.cli"]
    subprocess.run([*thidua, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*thidua, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    services = bootstrap(url)
    with services.session_factory() as session:
        baseline = set(session.scalars(select(ProcessInstance.id)))
    port = free_port()
    web = launch(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "web:create_app()",
        ],
        env,
        folder / "web.log",
    )
    heartbeats = [launch([*thidua, "scheduler"], env, folder / f"scheduler-{n}.log") for n in range(schedulers)]
    exits: dict[str, int] = {}
    try:
        wait_healthy(port)
        api = Api(port, {user: issue_token(port, user) for user in (OFFICER, HEAD, BLOC_HEAD)})
        load, stop = Load(api), threading.Event()
        backdated: list[str] = []
        escalator = threading.Thread(target=lambda: backdated.extend(backdated_starts(url, stop, 2.0)))

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                load.act(rng)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        began = time.monotonic()
        escalator.start()
        for thread in threads:
            thread.start()
        memory: list[float] = []
        while time.monotonic() - began < minutes * 60:
            time.sleep(min(10.0, max(0.1, minutes * 60 - (time.monotonic() - began))))
            memory += [mb for mb in map(rss_mb, worker_pids(web.pid)) if mb is not None]
        stop.set()
        for thread in [*threads, escalator]:
            thread.join()
        elapsed = time.monotonic() - began
        drained = drain(services, 120)
    finally:
        for n, process in enumerate(heartbeats):
            exits[f"scheduler {n + 1}"] = stop_process(process)
        exits["web"] = stop_process(web)
        services.dispose()
    checks, counts = check(url, load, backdated, baseline, env)
    checks["processes stop cleanly"] = {"ok": all(code == 0 for code in exits.values()), "detail": str(exits)}
    checks["no server errors"] = {"ok": not api.errors, "detail": f"{len(api.errors)}: {api.errors[:3]}"}
    busy = [
        sum("jobs claimed" in line for line in (folder / f"scheduler-{n}.log").read_text().splitlines())
        for n in range(schedulers)
    ]
    requests = sum(sum(counter.values()) for counter in api.statuses.values())
    return {
        "minutes": minutes,
        "seconds": round(elapsed, 1),
        "web_workers": workers,
        "schedulers": schedulers,
        "clients": clients,
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "actions": {
            action: {
                "statuses": {str(k): v for k, v in sorted(api.statuses[action].items(), key=str)},
                "p50_ms": percentile(api.latencies[action], 0.5),
                "p95_ms": percentile(api.latencies[action], 0.95),
                "p99_ms": percentile(api.latencies[action], 0.99),
            }
            for action in sorted(api.statuses)
        },
        "beats_with_jobs_per_scheduler": busy,
        "drain_seconds": drained,
        "worker_rss_mb": {"max": max(memory, default=None), "median": statistics.median(memory) if memory else None},
        "counts": counts,
        "checks": checks,
        "ok": all(entry["ok"] for entry in checks.values()),
    }


def print_table(result: dict) -> None:
    print(
        f"soak: {result['seconds']} s, {result['web_workers']} web workers, {result['schedulers']} schedulers, "
        f"{result['clients']} clients, {result['requests']} requests ({result['requests_per_second']}/s)"
    )
    print(f"{'action':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for action, figures in result["actions"].items():
        statuses = " ".join(f"{status}:{count}" for status, count in figures["statuses"].items())
        print(f"{action:<8} {figures['p50_ms']!s:>8} {figures['p95_ms']!s:>8} {figures['p99_ms']!s:>8}  {statuses}")
    print(f"counts: {json.dumps(result['counts'])}")
    print(
        f"schedulers' beats with jobs: {result['beats_with_jobs_per_scheduler']}; drained in "
        f"{result['drain_seconds']} s; worker RSS {result['worker_rss_mb']} MB"
    )
    for name, entry in result["checks"].items():
        print(f"{'PASS' if entry['ok'] else 'FAIL'}  {name:<42} {entry['detail']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4, help="load threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn web workers")
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="admin URL of the PostgreSQL server")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="thidua-soak-") as folder,
        throwaway_database(args.postgres, folder, "soak") as url,
    ):
        result = run(url, args.minutes, args.clients, args.workers, args.schedulers, Path(folder))
    print_table(result)
    write_json(args.json, result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
