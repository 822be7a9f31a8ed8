"""Creating and upgrading the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import workflows.org.models  # noqa: F401  (registers the domain tables on DomainBase)
from engine import EngineBase
from workflows.models import DomainBase

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA = [EngineBase.metadata, DomainBase.metadata]


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_database(database: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    with database.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(_config(connection), "head")
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    return before, head
