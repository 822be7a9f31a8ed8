"""Test databases: each kind of content is built once per session (per xdist worker) and copied
for every test that needs it, a file copy on SQLite and `CREATE DATABASE … TEMPLATE` on PostgreSQL.

A test's database starts empty; a fixture that needs content calls `restore(template)` before
anything connects. The templates hold exactly what the fixtures used to build per test:
- `migrated`: the schema at its newest revision (what `thidua init` leaves);
- `review`: migrated, the review users and the review fixture process deployed (clock at FakeClock's start);
- `demo`: migrated and the demo province loaded (clock on 1 November 2022, 09:00 in Hanoi).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, text

from web.database import upgrade_database
from workflows.bootstrap import bootstrap
from workflows.org.models import RoleAssignment, User
from workflows.processes import services as process_services
from workflows.uow import Services

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
# FakeClock's start (a Monday morning in Hanoi) and the demo province's day.
CLOCK_START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
DEMO_NOW = datetime(2022, 11, 1, 2, 0, tzinfo=timezone.utc)

# (username, role, scope)
REVIEW_USERS = [
    ("clerk_a", "clerk", "unit:A"),
    ("clerk_b", "clerk", "unit:B"),
    ("manager_a", "manager", "unit:A"),
    ("manager_a2", "manager", "unit:A"),
    ("clerk_manager_a", "clerk", "unit:A"),
    ("director", "director", None),
    ("clerk_manager_a", "manager", "unit:A"),
]


def add_user(services: Services, username: str, role: str, scope: str | None) -> str:
    """Add (or keep) a user and give it one more role assignment."""
    with services.uow() as uow:
        uow.session.merge(User(id=username, username=username, full_name=username.title(), active=True))
        uow.session.flush()
        uow.session.add(RoleAssignment(user_id=username, role=role, scope=scope))
        uow.commit()
    return username


def _migrated(services: Services) -> None:
    upgrade_database(services.database)


def _review(services: Services) -> None:
    _migrated(services)
    for username, role, scope in REVIEW_USERS:
        add_user(services, username, role, scope)
    process_services.deploy(services, [FIXTURES / "review"], "tester")


def _demo(services: Services) -> None:
    from workflows.demo.services import load_demo

    _migrated(services)
    load_demo(services, ROOT / "bpmn")


# template -> (the clock it is built at, what builds it on an empty database)
BUILDERS: dict[str, tuple[datetime, Callable[[Services], None]]] = {
    "migrated": (CLOCK_START, _migrated),
    "review": (CLOCK_START, _review),
    "demo": (DEMO_NOW, _demo),
}


def _build(url: str, template: str) -> None:
    start, build = BUILDERS[template]
    services = bootstrap(url, clock=lambda: start)
    try:
        build(services)
    finally:
        services.dispose()


def _copy_sqlite(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


class Templates:
    """The session's templates, built on first use; `close()` drops the PostgreSQL ones."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.prefix = f"thidua_tpl_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}
        self._server: Engine | None = None

    def sqlite_file(self, template: str) -> Path:
        if template not in self._sqlite:
            path = self.directory / f"{template}.sqlite3"
            _build(f"sqlite:///{path}", template)
            self._sqlite[template] = path
        return self._sqlite[template]

    def postgres_database(self, server: Engine, template: str) -> str:
        if template not in self._postgres:
            self._server = server
            name = f"{self.prefix}_{template}"
            with server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                _build(server.url.set(database=name).render_as_string(hide_password=False), template)
            except BaseException:  # a half-built template is not kept: the next test builds it again
                with server.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                raise
            self._postgres[template] = name
        return self._postgres[template]

    def close(self) -> None:
        if self._server is None:
            return
        with self._server.connect() as connection:
            for name in self._postgres.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._server.dispose()  # the server fixture may have been torn down first


class TestDatabase:
    """One test's database on SQLite or PostgreSQL. Reading `url` creates it empty unless a
    fixture restored a template first; `restore` over an existing database replaces it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, kind: str, templates: Templates, directory: Path, server: Engine | None):
        self.kind = kind
        self._templates = templates
        self._server = server
        if kind == "sqlite":
            self._path = directory / "thidua.sqlite3"
            self._url = f"sqlite:///{self._path}"
        else:
            self._name = f"thidua_test_{uuid.uuid4().hex[:12]}"
            self._url = server.url.set(database=self._name).render_as_string(hide_password=False)
        self._created = False
        self._template: str | None = None

    @property
    def url(self) -> str:
        if not self._created:
            self._create(None)
        return self._url

    def restore(self, template: str) -> str:
        """Make this database a copy of `template` and return its URL. Restoring the template it
        already holds does nothing; an empty database is replaced; any other content is an error."""
        if self._created and self._template == template:
            return self._url
        if self._created and self._template is not None:
            raise RuntimeError(f"the test database holds {self._template!r} already; cannot restore {template!r}")
        self.drop()
        self._create(template)
        return self._url

    def _create(self, template: str | None) -> None:
        if self.kind == "sqlite":
            if template:
                _copy_sqlite(self._templates.sqlite_file(template), self._path)
        else:
            source = f' TEMPLATE "{self._templates.postgres_database(self._server, template)}"' if template else ""
            with self._server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._name}"{source}'))
        self._created = True
        self._template = template

    def drop(self) -> None:
        if not self._created:
            return
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._path}{suffix}").unlink(missing_ok=True)
        else:
            with self._server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
        self._created = False
