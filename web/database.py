"""Creating and upgrading the database schema with Alembic."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import workflows.accounts.models  # noqa: F401  (each registers its tables on DomainBase)
import workflows.awards.models  # noqa: F401
import workflows.calendar.models  # noqa: F401
import workflows.council.models  # noqa: F401
import workflows.decisions.models  # noqa: F401
import workflows.designs.models  # noqa: F401
import workflows.dossiers.models  # noqa: F401
import workflows.nominations.models  # noqa: F401
import workflows.nominees.models  # noqa: F401
import workflows.notifications.models  # noqa: F401
import workflows.operations.models  # noqa: F401
import workflows.org.models  # noqa: F401
from engine import EngineBase

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA = EngineBase.metadata  # DomainBase shares it


def alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def migrating(database: Engine) -> Iterator[Connection]:
    """A connection in one transaction, for Alembic. On SQLite a migration alters a table by
    rebuilding it (Alembic's batch mode), which foreign keys enforced on every statement refuse
    for a table others reference (`unit`, say); they are switched off for the transaction, which
    commits only if `PRAGMA foreign_key_check` finds nothing, and switched on again after it."""
    with database.connect() as connection:
        sqlite = database.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or SQLite ignores it
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration leaves rows without their referenced row: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade_database(database: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    with migrating(database) as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    return before, head
