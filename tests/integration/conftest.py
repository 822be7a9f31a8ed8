"""Services on a migrated database, users with roles, and the review fixture deployed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import FIXTURES
from web.database import upgrade_database
from workflows.bootstrap import bootstrap
from workflows.org.models import RoleAssignment, User
from workflows.processes import services as process_services
from workflows.uow import Services

ROOT = Path(__file__).resolve().parents[2]

# (username, role, scope)
REVIEW_USERS = [
    ("clerk_a", "clerk", "unit:A"),
    ("clerk_b", "clerk", "unit:B"),
    ("manager_a", "manager", "unit:A"),
    ("manager_a2", "manager", "unit:A"),
    ("clerk_manager_a", "clerk", "unit:A"),
    ("director", "director", None),
]


@pytest.fixture
def services(database_url, clock) -> Services:
    services = bootstrap(database_url, clock=clock)
    upgrade_database(services.database)
    yield services
    services.dispose()


def add_user(services: Services, username: str, role: str, scope: str | None) -> str:
    with services.uow() as uow:
        user = User(id=username, username=username, full_name=username.title(), active=True)
        uow.session.merge(user)
        uow.session.flush()
        uow.session.add(RoleAssignment(user_id=username, role=role, scope=scope))
        uow.commit()
    return username


@pytest.fixture
def review(services) -> Services:
    """Services with the review process deployed and its users in place."""
    for username, role, scope in REVIEW_USERS:
        add_user(services, username, role, scope)
    add_user(services, "clerk_manager_a", "manager", "unit:A")
    process_services.deploy(services, [FIXTURES / "review"], "tester")
    return services


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def province(services, clock):
    """Services on the demo province (Nam Định 2022), the clock on Tuesday 1 November 2022."""
    from datetime import datetime, timezone

    from workflows.demo.services import load_demo

    clock.now = datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc)
    load_demo(services, ROOT / "bpmn")
    return services


@pytest.fixture
def demo_app(database_url, clock, tmp_path):
    """The web app on the demo province (Nam Định 2022) with the test clock on 1 November 2022."""
    from datetime import datetime, timezone

    from web import create_app
    from web.extensions import services as app_services
    from workflows.demo.services import load_demo

    clock.now = datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test", "DATA_DIR": str(tmp_path)})
    services = app_services(app)
    services.clock = clock
    upgrade_database(services.database)
    load_demo(services, ROOT / "bpmn")
    yield app
    services.dispose()


def form_token(client, path: str = "/login") -> str:
    """The CSRF token embedded in a page's forms."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str | None = None) -> str:
    """Sign a test client in through the sign-in form; returns the session's CSRF token."""
    from workflows.demo.province import DEMO_PASSWORD

    response = client.post(
        "/login",
        data={"username": username, "password": password or DEMO_PASSWORD, "csrf_token": form_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return form_token(client, "/")


@pytest.fixture
def environment(database_url, tmp_path):
    """The environment for `thidua` subprocesses on a fresh database, and a runner for commands."""
    env = {
        **os.environ,
        "THIDUA_DATABASE_URL": database_url,
        "THIDUA_DATA_DIR": str(tmp_path / "data"),
        "THIDUA_SCHEDULER_INTERVAL_SECONDS": "0.2",
    }

    def thidua(*args):
        return subprocess.run(
            [sys.executable, "-m", "web.cli", *args],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    thidua("init")
    return env, thidua


def tamper(services: Services, tables: tuple[str, ...], *statements) -> None:
    """Run statements (SQL text, or (SQL, params) pairs) with the append-only triggers of `tables`
    out of the way, as someone with direct database access could, then put the triggers back."""
    postgres = services.database.dialect.name == "postgresql"
    with services.database.begin() as connection:
        if postgres:
            for table in tables:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            names = ", ".join(f"'{table}'" for table in tables)
            triggers = connection.execute(
                text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})")
            ).all()
            for name, _ in triggers:
                connection.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            sql, params = (statement, {}) if isinstance(statement, str) else statement
            connection.execute(text(sql), params)
        if postgres:
            for table in tables:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            for _, sql in triggers:
                connection.execute(text(sql))
