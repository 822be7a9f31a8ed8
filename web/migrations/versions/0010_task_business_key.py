"""The instance's business key on each human_task row: inbox views filtered or sorted by a
nomination's fields join the nomination from the task, without reading the instance per task.
The (id, business_key) index of instances that served that join before goes.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("human_task", sa.Column("business_key", sa.String(200), nullable=True))
    op.execute(
        "UPDATE human_task SET business_key = "
        "(SELECT business_key FROM process_instance WHERE process_instance.id = human_task.instance_id)"
    )
    op.drop_index("ix_process_instance_id_business_key", table_name="process_instance")


def downgrade() -> None:
    op.create_index("ix_process_instance_id_business_key", "process_instance", ["id", "business_key"])
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("business_key")
