"""Two gunicorn workers behind one socket, started with the command deploy/ documents, on a fresh
data folder: both boot (they race to create the secret key), a session opened on one worker
works on the other, and failed sign-ins are counted across workers until the account locks.
To reach both workers for sure, each pair of requests first holds one worker with a request
whose headers are not all sent yet and finishes it only after the other worker has answered the
second: the listening socket hands out connections in the order they arrived, and a worker reading
an unfinished request takes no other, so no timing is assumed."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import threading
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.integration.conftest import ROOT, add_user
from tests.integration.test_processes import free_port, get, stop, wait_for
from workflows.accounts.passwords import hash_password
from workflows.bootstrap import bootstrap
from workflows.org.models import User

PASSWORD = "hai-tien-trinh-2026"
MAX_FAILURES = 4


class Browser:
    """Cookies kept by hand; every request on its own connection."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        (result,) = self.on_both_workers(method, path, form, pair=False)
        return result

    def on_both_workers(self, method: str, path: str, form: dict | None = None, pair: bool = True) -> list:
        """Send the request (twice when `pair`: once to each worker); the (status, page) of each."""
        body = urlencode(form or {}).encode()
        head = [f"{method} {path} HTTP/1.1\r\n".encode()]
        rest = (
            "Host: 127.0.0.1\r\nConnection: close\r\n"
            f"Cookie: {'; '.join(f'{k}={v}' for k, v in self.cookies.items())}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        held = []
        for _ in range(2 if pair else 1):
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            connection.sendall(head[0])  # the worker that accepts it waits for the rest
            held.append(connection)
        results = []
        for connection in reversed(held):  # the later connection first: the held worker cannot take it
            connection.sendall(rest)
            response = http.client.HTTPResponse(connection)
            response.begin()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            results.append((response.status, response.read().decode("utf-8")))
            connection.close()
        return results[::-1]

    def form_token(self, path: str) -> str:
        _, page = self.request("GET", path)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def two_workers(environment, tmp_path):
    """gunicorn with 2 workers on a data folder no command has used yet (no secret key in it)."""
    env, _thidua = environment
    env |= {
        "THIDUA_DATA_DIR": str(tmp_path / "fresh"),
        "THIDUA_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
        "XDG_RUNTIME_DIR": str(tmp_path),  # gunicorn's control socket, apart from other servers'
    }
    services = bootstrap(env["THIDUA_DATABASE_URL"])
    add_user(services, "reviewer", "reviewer", None)
    with services.uow() as uow:
        uow.session.get(User, "reviewer").password_hash = hash_password(PASSWORD)
        uow.commit()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
        + ["--access-logfile", "-", "--access-logformat", "pid=%(p)s %(r)s %(s)s", "web:create_app()"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    server.reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    server.reader.start()
    try:
        wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz"), timeout=30)
        wait_for(lambda: sum("Booting worker" in line for line in lines) == 2, timeout=30)
        yield port, lines, services
    finally:
        code = stop(server)
        services.dispose()
    assert code == 0, "".join(lines)[-3000:]
    assert Path(env["THIDUA_DATA_DIR"], "secret_key").read_text().strip()
    assert not list(Path(env["THIDUA_DATA_DIR"]).glob("secret_key.*"))


def serving_pids(lines: list[str], request: str) -> set[str]:
    """The workers that served `request` by the access log (written a moment after the response)."""
    return {line.split()[0] for line in lines if line.startswith("pid=") and f" {request} " in line}


def test_a_session_opened_on_one_worker_works_on_the_other(two_workers):
    port, lines, _services = two_workers
    browser = Browser(port)
    token = browser.form_token("/login")
    status, _ = browser.request("POST", "/login", {"username": "reviewer", "password": PASSWORD, "csrf_token": token})
    assert status == 302
    assert [status for status, _ in browser.on_both_workers("GET", "/notifications")] == [200, 200]
    # A state-changing request checks the CSRF token, signed with the key both workers share.
    token = browser.form_token("/notifications")
    form = {"language": "vi", "next": "/", "csrf_token": token}
    assert [status for status, _ in browser.on_both_workers("POST", "/language", form)] == [302, 302]
    wait_for(lambda: len(serving_pids(lines, "GET /notifications")) == len(serving_pids(lines, "POST /language")) == 2)


def test_failed_sign_ins_are_counted_across_workers(two_workers):
    port, lines, services = two_workers
    for _ in range(MAX_FAILURES // 2):
        browser = Browser(port)
        form = {"username": "reviewer", "password": "wrong", "csrf_token": browser.form_token("/login")}
        assert [status for status, _ in browser.on_both_workers("POST", "/login", form)] == [401, 401]
    wait_for(lambda: len(serving_pids(lines, "POST /login")) == 2)
    browser = Browser(port)
    form = {"username": "reviewer", "password": PASSWORD, "csrf_token": browser.form_token("/login")}
    assert browser.request("POST", "/login", form)[0] == 429
    with services.session_factory() as session:
        assert session.get(User, "reviewer").locked_until is not None
