"""Engine tables (definitions, instances, human tasks, history, timer jobs) and the org chart's
users and role assignments. History is append-only: triggers refuse UPDATE and DELETE.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON()
TIMESTAMP = sa.DateTime(timezone=True)

SQLITE_TRIGGERS = [
    """CREATE TRIGGER history_event_no_update BEFORE UPDATE ON history_event
       BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
    """CREATE TRIGGER history_event_no_delete BEFORE DELETE ON history_event
       BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION history_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'history_event is append-only'; END $$""",
    """CREATE TRIGGER history_event_no_change BEFORE UPDATE OR DELETE ON history_event
       FOR EACH ROW EXECUTE FUNCTION history_event_append_only()""",
    """CREATE TRIGGER history_event_no_truncate BEFORE TRUNCATE ON history_event
       FOR EACH STATEMENT EXECUTE FUNCTION history_event_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "process_definition",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("process_id", sa.String(200), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("task_meta", JSON, nullable=False),
        sa.Column("forms", JSON, nullable=False),
        sa.Column("deployed_at", TIMESTAMP, nullable=False),
        sa.Column("deployed_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("process_id", "version"),
    )
    op.create_table(
        "definition_file",
        sa.Column("definition_id", sa.Integer(), sa.ForeignKey("process_definition.id"), primary_key=True),
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_table(
        "process_instance",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("definition_id", sa.Integer(), sa.ForeignKey("process_definition.id"), nullable=False, index=True),
        sa.Column("business_key", sa.String(200), index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("snapshot", JSON, nullable=False),
        sa.Column("serializer_version", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("history_seq", sa.Integer(), nullable=False),
        sa.Column("history_hash", sa.String(64), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP),
    )
    op.create_table(
        "human_task",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("instance_id", sa.String(36), sa.ForeignKey("process_instance.id"), nullable=False, index=True),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("lane", sa.String(200)),
        sa.Column("candidate_role", sa.String(100)),
        sa.Column("org_scope", sa.String(200)),
        sa.Column("form", sa.String(300)),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("due_at", TIMESTAMP),
        sa.Column("ended_at", TIMESTAMP),
        sa.Column("completed_by", sa.String(200)),
    )
    op.create_index("ix_human_task_candidates", "human_task", ["state", "candidate_role", "org_scope", "due_at"])
    op.create_index("ix_human_task_claimed", "human_task", ["state", "claimed_by", "due_at"])
    op.create_table(
        "history_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(36), sa.ForeignKey("process_instance.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("task_id", sa.String(36)),
        sa.Column("element_id", sa.String(200)),
        sa.Column("data", JSON, nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("instance_id", "seq"),
    )
    op.create_table(
        "timer_job",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("instance_id", sa.String(36), sa.ForeignKey("process_instance.id"), nullable=False, index=True),
        sa.Column("task_id", sa.String(36)),
        sa.Column("element_id", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lock_owner", sa.String(200)),
        sa.Column("lock_expires_at", TIMESTAMP),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_timer_job_due", "timer_job", ["status", "due_at"])
    op.create_table(
        "app_user",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "role_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("app_user.id"), nullable=False, index=True),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("scope", sa.String(200)),
        sa.UniqueConstraint("user_id", "role", "scope"),
    )
    triggers = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION history_event_append_only() CASCADE")
    for table in (
        "role_assignment",
        "app_user",
        "timer_job",
        "history_event",
        "human_task",
        "process_instance",
        "definition_file",
        "process_definition",
    ):
        op.drop_table(table)
