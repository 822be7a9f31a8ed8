"""The reviewers' web: sign-in throttling, session and API tokens (hashed), the nomination's
bloc for scoping, watches, reviewers' comments and dossier files.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", TIMESTAMP, nullable=True))
    with op.batch_alter_table("app_user") as batch:
        batch.alter_column("failed_logins", server_default=None)
    with op.batch_alter_table("nomination") as batch:
        batch.add_column(sa.Column("bloc_id", sa.String(length=50), nullable=True))
        batch.create_foreign_key("fk_nomination_bloc_id_bloc", "bloc", ["bloc_id"], ["id"])
        batch.create_index("ix_nomination_bloc_id", ["bloc_id"], unique=False)
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_auth_token_user_id", "auth_token", ["user_id"], unique=False)
    op.create_table(
        "nomination_watch",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("nomination_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["nomination_id"], ["nomination.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("user_id", "nomination_id"),
    )
    op.create_index("ix_nomination_watch_nomination_id", "nomination_watch", ["nomination_id"], unique=False)
    op.create_table(
        "review_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.String(length=36), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["nomination_id"], ["nomination.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_comment_nomination_id", "review_comment", ["nomination_id"], unique=False)
    op.create_table(
        "dossier_file",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nomination_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=36), nullable=False),
        sa.Column("uploaded_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["nomination_id"], ["nomination.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dossier_file_nomination_id", "dossier_file", ["nomination_id"], unique=False)
    op.create_index("ix_dossier_file_sha256", "dossier_file", ["sha256"], unique=False)


def downgrade() -> None:
    for table in ("dossier_file", "review_comment", "nomination_watch", "auth_token"):
        op.drop_table(table)
    with op.batch_alter_table("nomination") as batch:
        batch.drop_index("ix_nomination_bloc_id")
        batch.drop_constraint("fk_nomination_bloc_id_bloc", type_="foreignkey")
        batch.drop_column("bloc_id")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
