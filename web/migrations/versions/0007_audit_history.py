"""Auditors' history: the daily digest of all chains (a chain of days), retention policies,
legal holds and the hash-chained record of what retention removed. Digests and removal records
are append-only like history; history events may now be deleted, but only those of an instance
whose removal is on record (retention writes that row first, in the same transaction).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
APPEND_ONLY = ("history_digest", "history_removal")

SQLITE_UPGRADE = [
    "DROP TRIGGER history_event_no_delete",
    """CREATE TRIGGER history_event_no_delete BEFORE DELETE ON history_event
       WHEN NOT EXISTS (SELECT 1 FROM history_removal WHERE instance_id = OLD.instance_id)
       BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
] + [
    f"""CREATE TRIGGER {table}_no_{change} BEFORE {change.upper()} ON {table}
       BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
    for table in APPEND_ONLY
    for change in ("update", "delete")
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER history_event_no_delete",
    """CREATE TRIGGER history_event_no_delete BEFORE DELETE ON history_event
       BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
]

# The function 0001 bound to history_event's UPDATE/DELETE (row) and TRUNCATE (statement) triggers.
POSTGRES_HISTORY_GUARD = """CREATE OR REPLACE FUNCTION history_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF EXISTS (SELECT 1 FROM history_removal WHERE instance_id = OLD.instance_id) THEN
                RETURN OLD;
            END IF;
        END IF;
        RAISE EXCEPTION 'history_event is append-only';
    END $$"""
POSTGRES_UPGRADE = [
    POSTGRES_HISTORY_GUARD,
    """CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
] + [
    statement
    for table in APPEND_ONLY
    for statement in (
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()""",
    )
]
POSTGRES_DOWNGRADE = [
    "DROP FUNCTION audit_append_only() CASCADE",
    """CREATE OR REPLACE FUNCTION history_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'history_event is append-only'; END $$""",
]


def upgrade() -> None:
    op.create_index("ix_history_event_occurred_at", "history_event", ["occurred_at"])
    op.create_table(
        "history_digest",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("removal", sa.JSON()),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("built_at", TIMESTAMP, nullable=False),
        sa.Column("built_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "history_removal",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("business_key", sa.String(200)),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=False),
        sa.Column("removed_at", TIMESTAMP, nullable=False),
        sa.Column("removed_by", sa.String(200), nullable=False),
        sa.Column("policy_days", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("instance_id"),
        sa.UniqueConstraint("prev_hash"),
    )
    op.create_index("ix_history_removal_business_key", "history_removal", ["business_key"])
    op.create_table(
        "retention_policy",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_retention_policy_process_id", "retention_policy", ["process_id"])
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_by", sa.String(200), nullable=False),
        sa.Column("held_at", TIMESTAMP, nullable=False),
        sa.Column("released_by", sa.String(200)),
        sa.Column("released_at", TIMESTAMP),
        sa.Column("release_reason", sa.Text()),
    )
    op.create_index("ix_legal_hold_instance_id", "legal_hold", ["instance_id"])
    statements = POSTGRES_UPGRADE if op.get_bind().dialect.name == "postgresql" else SQLITE_UPGRADE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWNGRADE if postgres else SQLITE_DOWNGRADE:
        op.execute(statement)
    for table in ("legal_hold", "retention_policy", "history_removal", "history_digest"):
        op.drop_table(table)  # SQLite drops a table's triggers with it
    op.drop_index("ix_history_event_occurred_at", "history_event")
