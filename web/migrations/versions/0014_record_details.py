"""Details the law and reports use: a person's gender and date of birth, the document that
recognised an initiative (number, date, issuer), a restriction's severity and source.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = {
    "person": (("gender", sa.String(10)), ("born_on", sa.Date())),
    "initiative": (("document_number", sa.String(60)), ("document_date", sa.Date()), ("issued_by", sa.String(200))),
    "restriction": (("severity", sa.String(30)), ("source", sa.String(200))),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for name, type_ in columns:
            op.add_column(table, sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _type in reversed(columns):
                batch.drop_column(name)
