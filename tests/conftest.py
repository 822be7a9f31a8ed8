"""Fixtures shared by every layer: databases (SQLite and PostgreSQL), services, an injected clock."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from tests.databases import CLOCK_START, FIXTURES, Templates, TestDatabase

__all__ = ["FIXTURES", "MIWG", "FakeClock"]  # imported by test modules

# The 21 BPMN MIWG reference models, kept outside the repository (written by others); test_miwg checks all are there.
MIWG = Path("/work/shared/conformance/miwg")
POSTGRES_ADMIN_URL = os.environ.get("THIDUA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class FakeClock:
    """A clock tests move by hand; starts on a Monday morning in Hanoi (UTC+7)."""

    def __init__(self, start: datetime = CLOCK_START):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_server():
    """The admin URL of a reachable PostgreSQL server; skips (or fails under CI) without one."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield admin
    admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """The session's database templates (see tests/databases.py), dropped at the end."""
    built = Templates(tmp_path_factory.mktemp("templates"))
    yield built
    built.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, templates, tmp_path) -> TestDatabase:
    """This test's database; each test using it runs once on SQLite and once on PostgreSQL."""
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    database = TestDatabase(request.param, templates, tmp_path, server)
    yield database
    database.drop()


@pytest.fixture
def database_url(database) -> str:
    """The URL of this test's database, empty unless a fixture restored a template into it."""
    return database.url


@pytest.fixture
def postgres_database(request, templates, tmp_path) -> TestDatabase:
    """A throw-away PostgreSQL database, for tests about PostgreSQL itself."""
    database = TestDatabase("postgres", templates, tmp_path, request.getfixturevalue("postgres_server"))
    yield database
    database.drop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
