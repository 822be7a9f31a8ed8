"""Process designers: shared drafts of process bundles and rule sets; every deployed state of a
rule set kept as a revision (existing rule sets get revision 1 from their current files).

Revision ID: 0006
Revises: 0005
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "design_draft",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject"),
    )
    revisions = op.create_table(
        "rule_set_revision",
        sa.Column("rule_set_id", sa.String(length=50), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("deployed_at", TIMESTAMP, nullable=False),
        sa.Column("deployed_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["rule_set_id"], ["rule_set.id"]),
        sa.PrimaryKeyConstraint("rule_set_id", "revision"),
    )
    connection = op.get_bind()
    files: dict[str, dict[str, str]] = {}
    for rule_set_id, name, content in connection.execute(sa.text("SELECT rule_set_id, name, content FROM rule_file")):
        files.setdefault(rule_set_id, {})[name] = content
    now = datetime.now(timezone.utc)
    if files:
        op.bulk_insert(
            revisions,
            [
                {"rule_set_id": key, "revision": 1, "files": value, "deployed_at": now, "deployed_by": "migration"}
                for key, value in files.items()
            ],
        )


def downgrade() -> None:
    op.drop_table("rule_set_revision")
    op.drop_table("design_draft")
