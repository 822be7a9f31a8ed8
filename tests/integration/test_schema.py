"""The migrations build exactly the schema the models describe, and upgrading twice is a no-op."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from web.database import SCHEMA, upgrade_database


def test_migrations_match_the_models(services):
    with services.database.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SCHEMA)
    assert differences == []


def test_upgrade_is_idempotent(services):
    before, after = upgrade_database(services.database)
    assert before == after
