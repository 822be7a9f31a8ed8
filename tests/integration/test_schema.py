"""The migrations build exactly the schema the models describe, and upgrading twice is a no-op."""

from __future__ import annotations

import json
import zlib

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from engine.models import ProcessInstance
from web.database import SCHEMA, alembic_config, migrating, upgrade_database
from workflows.processes import services as ps


def test_migrations_match_the_models(services):
    with services.database.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SCHEMA)
    assert differences == []


def test_upgrade_is_idempotent(services):
    before, after = upgrade_database(services.database)
    assert before == after


def test_storage_migrations_keep_snapshots_and_fill_task_business_keys(review):
    """0010 copies each instance's business key onto its tasks; 0011 compresses SQLite's
    snapshots. Down to 0009 and up again, the snapshot reads back the same on both databases."""
    started = ps.start_process(review, "review", "clerk_a", {"unit": "unit:A"}, business_key="R-1")
    with review.session_factory() as session:
        snapshot = session.get(ProcessInstance, started.instance_id).snapshot
    with review.database.begin() as connection:
        command.downgrade(alembic_config(connection), "0009")
        stored = connection.execute(text("SELECT snapshot FROM process_instance")).scalar_one()
        # JSON text again on SQLite; psycopg hands PostgreSQL's JSON over parsed.
        assert (json.loads(stored) if isinstance(stored, str) else stored) == snapshot
    upgrade_database(review.database)
    with review.database.connect() as connection:
        stored = connection.execute(text("SELECT snapshot FROM process_instance")).scalar_one()
        keys = connection.execute(text("SELECT business_key FROM human_task")).scalars().all()
    if review.database.dialect.name == "sqlite":
        assert isinstance(stored, bytes) and json.loads(zlib.decompress(stored)) == snapshot
    assert keys == ["R-1"]
    with review.session_factory() as session:
        assert session.get(ProcessInstance, started.instance_id).snapshot == snapshot


def test_the_register_migration_records_the_decisions_already_signed(province):
    """0012 writes an achievement record for each decision signed before it (the demo signed one),
    and employment from each person's current unit; down to 0011 and up again on both databases."""
    with migrating(province.database) as connection:
        command.downgrade(alembic_config(connection), "0011")
        decided = connection.execute(
            text("SELECT id, person_id, award_code, decision_id FROM nomination WHERE decision_id IS NOT NULL")
        ).all()
    assert decided
    upgrade_database(province.database)
    with province.database.connect() as connection:
        recorded = connection.execute(
            text(
                "SELECT nomination_id, subject_id, award_code, decision_id FROM achievement_record WHERE decision_id IS NOT NULL"
            )
        ).all()
        people, employed = (
            connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() for table in ("person", "employment")
        )
    assert sorted(map(tuple, recorded)) == sorted(map(tuple, decided))
    assert people == employed
