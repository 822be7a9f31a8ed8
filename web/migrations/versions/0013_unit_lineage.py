"""Units with history: the unit a unit belongs to, the dates it exists between, and which units
it succeeds (mergers and splits, from when), so that a merged unit keeps its predecessors' awards.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(50), nullable=True))
        batch.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch.create_foreign_key("fk_unit_parent_id_unit", "unit", ["parent_id"], ["id"])
        batch.create_index("ix_unit_parent_id", ["parent_id"])
    op.create_table(
        "unit_succession",
        sa.Column("successor_id", sa.String(50), sa.ForeignKey("unit.id"), primary_key=True),
        sa.Column("predecessor_id", sa.String(50), sa.ForeignKey("unit.id"), primary_key=True),
        sa.Column("since", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("unit_succession")
    with op.batch_alter_table("unit") as batch:
        batch.drop_index("ix_unit_parent_id")
        batch.drop_constraint("fk_unit_parent_id_unit", type_="foreignkey")
        batch.drop_column("valid_to")
        batch.drop_column("valid_from")
        batch.drop_column("parent_id")
