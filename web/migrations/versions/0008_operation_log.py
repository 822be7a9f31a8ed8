"""The operation log of administrative acts: append-only (triggers refuse UPDATE, DELETE and
TRUNCATE), hash-chained, with a head row that may only move forward one entry at a time.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
GENESIS_HASH = "0" * 64

SQLITE_TRIGGERS = [
    """CREATE TRIGGER operation_log_no_update BEFORE UPDATE ON operation_log
       BEGIN SELECT RAISE(ABORT, 'operation_log is append-only'); END""",
    """CREATE TRIGGER operation_log_no_delete BEFORE DELETE ON operation_log
       BEGIN SELECT RAISE(ABORT, 'operation_log is append-only'); END""",
    """CREATE TRIGGER operation_log_head_forward BEFORE UPDATE ON operation_log_head
       WHEN NEW.id <> OLD.id OR NEW.last_id <> OLD.last_id + 1
       BEGIN SELECT RAISE(ABORT, 'operation_log_head only moves forward one entry at a time'); END""",
    """CREATE TRIGGER operation_log_head_no_delete BEFORE DELETE ON operation_log_head
       BEGIN SELECT RAISE(ABORT, 'operation_log_head only moves forward one entry at a time'); END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION operation_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'operation_log is append-only'; END $$""",
    """CREATE TRIGGER operation_log_no_change BEFORE UPDATE OR DELETE ON operation_log
       FOR EACH ROW EXECUTE FUNCTION operation_log_append_only()""",
    """CREATE TRIGGER operation_log_no_truncate BEFORE TRUNCATE ON operation_log
       FOR EACH STATEMENT EXECUTE FUNCTION operation_log_append_only()""",
    """CREATE FUNCTION operation_log_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.last_id <> OLD.last_id + 1 THEN
           RAISE EXCEPTION 'operation_log_head only moves forward one entry at a time';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER operation_log_head_forward BEFORE UPDATE OR DELETE ON operation_log_head
       FOR EACH ROW EXECUTE FUNCTION operation_log_head_forward()""",
    """CREATE TRIGGER operation_log_head_no_truncate BEFORE TRUNCATE ON operation_log_head
       FOR EACH STATEMENT EXECUTE FUNCTION operation_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "operation_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("subject_type", sa.String(length=50), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("length(trim(reason)) > 0", name="ck_operation_log_reason"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operation_log_subject", "operation_log", ["subject_type", "subject_id"])
    op.create_index("ix_operation_log_actor", "operation_log", ["actor"])
    op.create_index("ix_operation_log_at", "operation_log", ["at"])
    head = op.create_table(
        "operation_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}])
    triggers = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION operation_log_head_forward() CASCADE")
        op.execute("DROP FUNCTION operation_log_append_only() CASCADE")
    op.drop_table("operation_log_head")
    op.drop_index("ix_operation_log_at", table_name="operation_log")
    op.drop_index("ix_operation_log_actor", table_name="operation_log")
    op.drop_index("ix_operation_log_subject", table_name="operation_log")
    op.drop_table("operation_log")
