"""Indexes for the inbox at 100,000 open tasks: claimed_by in the candidates index (claimable
tasks and the per-view counts come from the index alone), the nominations a user started, and
(id, business_key) of instances so the inbox's filters reach the nomination without reading
snapshots.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_human_task_candidates", table_name="human_task")
    op.create_index(
        "ix_human_task_candidates", "human_task", ["state", "candidate_role", "org_scope", "claimed_by", "due_at"]
    )
    op.create_index("ix_nomination_created_by", "nomination", ["created_by"])
    op.create_index("ix_process_instance_id_business_key", "process_instance", ["id", "business_key"])


def downgrade() -> None:
    op.drop_index("ix_process_instance_id_business_key", table_name="process_instance")
    op.drop_index("ix_nomination_created_by", table_name="nomination")
    op.drop_index("ix_human_task_candidates", table_name="human_task")
    op.create_index("ix_human_task_candidates", "human_task", ["state", "candidate_role", "org_scope", "due_at"])
