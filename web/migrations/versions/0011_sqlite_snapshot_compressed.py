"""On SQLite, workflow snapshots are stored zlib-compressed (engine.models.SnapshotJSON): the
snapshots already stored as JSON text are compressed here, a thousand rows at a time.
PostgreSQL compresses them itself and is left as it is.

Revision ID: 0011
Revises: 0010
"""

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 1000


def _rewrite(convert) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    last = ""
    while True:
        rows = connection.execute(
            sa.text("SELECT id, snapshot FROM process_instance WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        connection.execute(
            sa.text("UPDATE process_instance SET snapshot = :snapshot WHERE id = :id"),
            [{"id": row.id, "snapshot": convert(row.snapshot)} for row in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    _rewrite(lambda text: zlib.compress(text.encode()))


def downgrade() -> None:
    _rewrite(lambda data: zlib.decompress(data).decode())
