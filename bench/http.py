"""Task completion over real HTTP: gunicorn (`thidua serve`, N sync workers) on loopback, bearer
tokens, a bounded number of POST /api/v1/tasks/<id>/complete, on SQLite and on PostgreSQL.

    python -m bench.http [--requests 4000] [--sequential 200] [--clients 8] [--workers 2]
                         [--postgres ADMIN_URL | --no-postgres] [--json PATH]

Each database is prepared through the product's services: the demo province, then bench unit
officers (several per unit, each with an API token) who create nominations; every nomination
waits at its draft step, the task the load completes. Each client thread completes its own
officer's tasks on one connection, so no two requests race for a task. A sequential run (one
client) gives the median; the same tasks completed in-process through the service the view
calls (`service step`) show what HTTP adds. In the same run bench.engine_step measures the bare
SpiffWorkflow step and the engine API step, and the HTTP step is reported as a ratio to the
bare step. Worker memory is each gunicorn worker's peak resident set (VmHWM) after the load.

Targets: >= 200 completions/s on PostgreSQL with 2 workers; HTTP step <= 4.0x bare; sequential
completion <= 10 ms median on SQLite; worker RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine import queries
from web.database import upgrade_database
from workflows.accounts import services as accounts
from workflows.accounts.models import API
from workflows.bootstrap import bootstrap
from workflows.demo import province as demo
from workflows.demo.services import load_demo
from workflows.nominations import creation
from workflows.org.models import RoleAssignment, User, unit_scope
from workflows.tasks import services as tasks

from . import POSTGRES_ADMIN_URL, engine_step, throwaway_postgres, write_json

ROOT = Path(__file__).resolve().parents[1]
UNITS = ["SO_Y_TE", "SO_GD_DT", "SO_TAI_CHINH", "SO_KH_DT", "SO_VHTTDL", "TP_NAM_DINH", "HAI_HAU", "GIAO_THUY"]
NOMINEE, AWARD = "nv-ldtt-dat", "LDTT"  # the demo's Lao động tiên tiến nominee; any unit may draft it
BODY = json.dumps({"data": {"summary": "Hoàn thành xuất sắc nhiệm vụ năm 2022"}}).encode()
WARM_UP = 3  # requests per client before timing: imports, statement caches, connection pools
TARGET_THROUGHPUT, TARGET_HTTP_RATIO, TARGET_SEQUENTIAL_MS, TARGET_RSS_MB = 200, 4.0, 10, 200


@dataclass
class Officer:
    user_id: str
    token: str
    tasks: list[str] = field(default_factory=list)

    def take(self, count: int) -> list[str]:
        taken, self.tasks = self.tasks[:count], self.tasks[count:]
        return taken


def prepare(url: str, clients: int, per_officer: list[int]) -> list[Officer]:
    """The demo province plus `clients` bench officers, officer i with per_officer[i] draft tasks."""
    services = bootstrap(url)
    upgrade_database(services.database)
    load_demo(services, ROOT / "bpmn")
    officers = []
    for index in range(clients):
        unit = UNITS[index % len(UNITS)]
        user_id = f"bench.officer.{index}"
        with services.uow() as uow:
            uow.session.add(User(id=user_id, username=user_id, full_name="Bench", active=True, unit_id=unit))
            uow.session.flush()
            uow.session.add(RoleAssignment(user_id=user_id, role="unit_officer", scope=unit_scope(unit)))
            uow.commit()
        raw, _ = accounts.issue_api_token(services, user_id, "bench", 1)
        officers.append(Officer(user_id, raw))
    for index, (officer, count) in enumerate(zip(officers, per_officer, strict=True)):
        unit = UNITS[index % len(UNITS)]
        for _ in range(count):
            with services.uow() as uow:
                nomination = creation.create_nomination(
                    uow,
                    officer.user_id,
                    campaign_id=demo.CAMPAIGN,
                    award_code=AWARD,
                    nominating_unit_id=unit,
                    year=demo.YEAR,
                    person_id=NOMINEE,
                )
                (task,) = queries.open_tasks(uow.session, instance_id=nomination.instance_id)
                officer.tasks.append(task.id)
                uow.commit()
    services.dispose()
    return officers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, workers: int, folder: str) -> tuple[subprocess.Popen, int]:
    """`thidua serve` without a scheduler; returns once the API answers."""
    port = free_port()
    env = {**os.environ, "THIDUA_DATABASE_URL": url, "THIDUA_DATA_DIR": folder, "THIDUA_SECRET_KEY": "bench"}
    env["THIDUA_LOG_LEVEL"] = "WARNING"
    command = [sys.executable, "-m", "web.cli", "serve", "--no-scheduler", "--workers", str(workers)]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # gunicorn's access log
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                connection.close()
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer on port {port} within 60 s")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has been busy (every core, every process: workers, database,
    load generator), from /proc/stat."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for process {pid}")


def complete_all(port: int, jobs: list[tuple[str, list[str]]]) -> tuple[list[float], dict[str, int], float]:
    """Each (token, task ids) job in its own thread on one keep-alive connection; returns the
    latencies, the failures by status and the wall time."""
    timings: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(token: str, task_ids: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        mine, failed = [], []
        for task_id in task_ids:
            began = time.perf_counter()
            try:
                connection.request("POST", f"/api/v1/tasks/{task_id}/complete", BODY, headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                status = type(error).__name__
            mine.append(time.perf_counter() - began)
            if status != "200":
                failed.append(status)
        connection.close()
        with lock:
            timings.extend(mine)
            for status in failed:
                errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=job) for job in jobs]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, errors, time.perf_counter() - began


def complete_in_process(url: str, officer: Officer, task_ids: list[str]) -> list[float]:
    """The service the API view calls, without HTTP: the same tasks' cost in one process."""
    services = bootstrap(url)
    principal = accounts.principal_for(services, officer.token, API)
    data = json.loads(BODY)["data"]
    timings = []
    for task_id in task_ids:
        began = time.perf_counter()
        tasks.complete(services, principal, task_id, data)
        timings.append(time.perf_counter() - began)
    services.dispose()
    return timings


def latency(timings: list[float]) -> dict:
    ordered = sorted(timings)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)

    return {
        "requests": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
    }


def run(url: str, args: argparse.Namespace, folder: str) -> dict:
    """Prepare `url`, serve it with gunicorn, load it, and measure the bare and engine steps."""
    share = args.requests // args.clients
    per_officer = [WARM_UP + share for _ in range(args.clients)]
    per_officer[0] += args.sequential
    per_officer[-1] += args.sequential
    began = time.perf_counter()
    officers = prepare(url, args.clients, per_officer)
    prepared = time.perf_counter() - began
    server, port = start_server(url, args.workers, folder)
    try:
        complete_all(port, [(o.token, o.take(WARM_UP)) for o in officers])
        sequential, sequential_errors, _ = complete_all(port, [(officers[0].token, officers[0].take(args.sequential))])
        workers = worker_pids(server.pid)
        cpu, machine = cpu_seconds(workers), machine_cpu_seconds()
        timings, errors, seconds = complete_all(port, [(o.token, o.take(share)) for o in officers])
        cpu, machine = cpu_seconds(workers) - cpu, machine_cpu_seconds() - machine
        rss = [peak_rss_mb(pid) for pid in workers]
    finally:
        server.terminate()
        server.wait(timeout=30)
    service = complete_in_process(url, officers[-1], officers[-1].take(args.sequential))
    bare, engine, engine_cpu_ratio = engine_step.measure(args.step_url, args.step_instances, args.step_steps)
    bare, engine = engine_step.summary(bare), engine_step.summary(engine)
    http_step = latency(sequential)
    return {
        "database": url.split(":", 1)[0].split("+")[0],
        "workers": args.workers,
        "clients": args.clients,
        "prepare_seconds": round(prepared, 1),
        "load": {
            **latency(timings),
            "seconds": round(seconds, 2),
            "completions_per_second": round((len(timings) - sum(errors.values())) / seconds, 1),
            "errors": errors,
            "worker_cpu_ms_per_completion": round(cpu / len(timings) * 1000, 2),
            "machine_cpu_ms_per_completion": round(machine / len(timings) * 1000, 2),
        },
        "sequential_http": {**http_step, "errors": sequential_errors},
        "service_step": latency(service),
        "bare_spiffworkflow_step": bare,
        "engine_api_step": engine,
        "engine_ratio": round(engine["median_ms"] / bare["median_ms"], 2),
        "engine_cpu_ratio": engine_cpu_ratio,
        "http_ratio": round(http_step["median_ms"] / bare["median_ms"], 2),
        "worker_peak_rss_mb": rss,
    }


def print_table(results: list[dict]) -> None:
    print(f"{'database':<10}{'req':>6}{'errors':>7}{'compl/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}", end="")
    print(f"{'seq ms':>8}{'svc ms':>8}{'bare ms':>9}{'engine x':>9}{'http x':>8}{'cpu ms':>8}{'all cpu':>8}", end="")
    print(f"{'rss MB':>8}")
    for r in results:
        load = r["load"]
        print(
            f"{r['database']:<10}{load['requests']:>6}{sum(load['errors'].values()):>7}"
            f"{load['completions_per_second']:>9}{load['median_ms']:>8}{load['p95_ms']:>8}{load['p99_ms']:>8}"
            f"{r['sequential_http']['median_ms']:>8}{r['service_step']['median_ms']:>8}"
            f"{r['bare_spiffworkflow_step']['median_ms']:>9}{r['engine_ratio']:>9}{r['http_ratio']:>8}"
            f"{load['worker_cpu_ms_per_completion']:>8}{load['machine_cpu_ms_per_completion']:>8}"
            f"{max(r['worker_peak_rss_mb']):>8}"
        )
    print("cpu ms: the gunicorn workers' CPU per completion; all cpu: every process on the machine's")
    print(
        f"targets: >= {TARGET_THROUGHPUT} compl/s on postgresql with 2 workers, engine <= 2.0x and http <= "
        f"{TARGET_HTTP_RATIO}x the bare step, sequential <= {TARGET_SEQUENTIAL_MS} ms median on sqlite, "
        f"worker RSS <= {TARGET_RSS_MB} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="completions under load, per database")
    parser.add_argument("--sequential", type=int, default=200, help="completions by one client")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--step-instances", type=int, default=20, help="bench.engine_step instances")
    parser.add_argument("--step-steps", type=int, default=40, help="bench.engine_step steps per instance")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL, help="admin URL of a PostgreSQL server")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory() as folder:
        engine_step.measure(f"sqlite:///{folder}/warm-up.sqlite3", 2, 5)  # imports, parser and statement caches
        args.step_url = f"sqlite:///{folder}/step.sqlite3"
        results.append(run(f"sqlite:///{folder}/thidua.sqlite3", args, folder))
        if not args.no_postgres:
            with throwaway_postgres(args.postgres) as url, throwaway_postgres(args.postgres) as step_url:
                args.step_url = step_url
                results.append(run(url, args, folder))
    print_table(results)
    write_json(args.json, {"results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
