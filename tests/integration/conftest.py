"""Services on a database restored from a template: migrated, with the review process, or the demo province."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from sqlalchemy import text

from tests.cli import thidua
from tests.databases import DEMO_NOW, ROOT, add_user
from workflows.bootstrap import bootstrap
from workflows.uow import Services

__all__ = ["ROOT", "add_user"]  # imported from here by test modules


def template_for(request) -> str:
    """The database template a test's fixtures start from: the demo province, the review
    process, or just the schema. `services` restores it before anything connects."""
    wanted = set(request.fixturenames)
    if wanted & {"province", "demo_app"}:
        return "demo"
    if "review" in wanted:
        return "review"
    return "migrated"


@pytest.fixture
def services(request, database, clock) -> Services:
    services = bootstrap(database.restore(template_for(request)), clock=clock)
    yield services
    services.dispose()


@pytest.fixture
def review(services) -> Services:
    """Services with the review process deployed and its users in place (tests/databases.py)."""
    return services


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def province(services, clock):
    """Services on the demo province (Nam Định 2022), the clock on Tuesday 1 November 2022."""
    clock.now = DEMO_NOW
    return services


@pytest.fixture
def demo_app(database, clock, tmp_path):
    """The web app on the demo province (Nam Định 2022) with the test clock on 1 November 2022."""
    from web import create_app
    from web.extensions import services as app_services

    clock.now = DEMO_NOW
    url = database.restore("demo")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test", "DATA_DIR": str(tmp_path)})
    services = app_services(app)
    services.clock = clock
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
def environment(database, tmp_path):
    """The environment of `thidua` on an initialised database (for subprocesses too), and a
    runner for commands that returns their stdout and raises CalledProcessError on failure."""
    env = {
        **os.environ,
        "THIDUA_DATABASE_URL": database.restore("migrated"),
        "THIDUA_DATA_DIR": str(tmp_path / "data"),
        "THIDUA_SCHEDULER_INTERVAL_SECONDS": "0.2",
    }

    def run(*args):
        return thidua(*args, env=env, check=True).stdout

    return env, run


def thidua_at(*args, database_url: str, data_dir, check: bool = True):
    """`thidua <args>` on `database_url`; with `check`, asserts it exits 0."""
    result = thidua(*args, env={"THIDUA_DATABASE_URL": database_url, "THIDUA_DATA_DIR": str(data_dir)})
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def run(database, tmp_path):
    """`run(*args, check=True)`: `thidua` on a database `thidua init` has set up."""
    url = database.restore("migrated")

    def run(*args, check=True):
        return thidua_at(*args, database_url=url, data_dir=tmp_path / "data", check=check)

    return run


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
