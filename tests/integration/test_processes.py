"""The long-running commands as real processes: `thidua serve` serves pages with a scheduler
beside it, `thidua scheduler` fires due timers; both stop cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from engine import queries
from tests.conftest import FIXTURES
from tests.integration.test_cli import ROOT
from workflows.audit import queries as audit_queries
from workflows.bootstrap import bootstrap

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, wait for the exit, then for the end of its output."""
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=60)
    process.reader.join(timeout=10)
    process.stdout.close()
    return returncode


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def launch(args, env) -> tuple[subprocess.Popen, list[str]]:
    """Start a command; its output lines are collected as they come."""
    process = subprocess.Popen(
        [sys.executable, "-m", "web.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    process.reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    process.reader.start()
    return process, lines


def test_serve_serves_the_demo_page_and_stops_on_sigterm(environment):
    env, thidua = environment
    thidua("demo")
    port = free_port()
    server, output = launch(["serve", "--port", str(port)], env)
    try:
        page = wait_for(lambda: get(f"http://127.0.0.1:{port}/"))
        assert "Đăng nhập" in page  # the sign-in page, in Vietnamese with its diacritics intact
        assert json.loads(get(f"http://127.0.0.1:{port}/healthz")) == {"status": "ok"}
        wait_for(lambda: any("scheduler started" in line for line in output))
    finally:
        returncode = stop(server)
    assert returncode == 0, "".join(output)
    assert any("scheduler stopped" in line for line in output)


def test_scheduler_fires_a_due_timer_and_stops_on_sigterm(environment):
    env, thidua = environment
    thidua("deploy", str(FIXTURES / "wait"))
    instance_id = thidua("start", "wait", "--data", json.dumps({"delay": "PT1S"})).strip()
    scheduler, output = launch(["scheduler"], env)
    services = bootstrap(env["THIDUA_DATABASE_URL"])
    try:

        def act_is_open():
            with services.session_factory() as session:
                return queries.open_tasks(session, instance_id=instance_id)

        assert act_is_open() == []  # waiting on its timer: only the scheduler can move it on
        (task,) = wait_for(act_is_open)
        assert task.element_id == "act"
        assert any("heartbeat: 1 jobs claimed, 1 done" in line for line in output)
        assert audit_queries.verify_history(services).ok
    finally:
        services.dispose()
        returncode = stop(scheduler)
    assert returncode == 0, "".join(output)
