"""Creating and upgrading the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

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


def upgrade_database(database: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    with database.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), "head")
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    return before, head
