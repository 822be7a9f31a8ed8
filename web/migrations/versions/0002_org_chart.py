"""The org chart: jurisdictions, units, blocs with yearly members and head, councils and their
members; users belong to a unit and may have a password hash.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jurisdiction",
        sa.Column("id", sa.String(50), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.String(50), sa.ForeignKey("jurisdiction.id")),
        sa.Column("decision_suffix", sa.String(50), nullable=False),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.String(50), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("jurisdiction_id", sa.String(50), sa.ForeignKey("jurisdiction.id"), nullable=False, index=True),
    )
    op.create_table(
        "bloc",
        sa.Column("id", sa.String(50), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("jurisdiction_id", sa.String(50), sa.ForeignKey("jurisdiction.id"), nullable=False, index=True),
    )
    op.create_table(
        "bloc_member",
        sa.Column("bloc_id", sa.String(50), sa.ForeignKey("bloc.id"), primary_key=True),
        sa.Column("unit_id", sa.String(50), sa.ForeignKey("unit.id"), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("is_head", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "council",
        sa.Column("id", sa.String(50), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("jurisdiction_id", sa.String(50), sa.ForeignKey("jurisdiction.id"), nullable=False, index=True),
    )
    op.create_table(
        "council_member",
        sa.Column("council_id", sa.String(50), sa.ForeignKey("council.id"), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("app_user.id"), primary_key=True),
        sa.Column("position", sa.String(30), nullable=False),
        sa.Column("unit_id", sa.String(50), sa.ForeignKey("unit.id")),
    )
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("unit_id", sa.String(50), sa.ForeignKey("unit.id", name="fk_app_user_unit")))
        batch.add_column(sa.Column("password_hash", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("password_hash")
        batch.drop_column("unit_id")
    for table in ("council_member", "council", "bloc_member", "bloc", "unit", "jurisdiction"):
        op.drop_table(table)
