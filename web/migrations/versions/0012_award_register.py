"""The award register and honest nominations: an achievement record carries the decision that
granted it (number, date, decider level, nomination) and its revocation; every decision already
signed writes its records here. People get an employment history (one period per person from
their current unit, from their recruitment). A subject has one open nomination per award and
achievement year (partial unique indexes; rejected and revoked ones are closed): the upgrade
stops, naming them, where nominations made before break that rule.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN = "status NOT IN ('REJECTED', 'REVOKED')"
UNIQUE = {
    "uq_nomination_open_person": ("person_id", f"person_id IS NOT NULL AND {OPEN}"),
    "uq_nomination_open_unit": ("nominee_unit_id", f"person_id IS NULL AND {OPEN}"),
}


def upgrade() -> None:
    with op.batch_alter_table("achievement_record") as batch:
        batch.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decision_code", sa.String(60), nullable=True))
        batch.add_column(sa.Column("decided_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decider_level", sa.String(30), nullable=True))
        batch.add_column(sa.Column("nomination_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("revoked_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(60), nullable=True))
        batch.create_foreign_key("fk_achievement_record_decision_id_decision", "decision", ["decision_id"], ["id"])
        batch.create_foreign_key(
            "fk_achievement_record_nomination_id_nomination", "nomination", ["nomination_id"], ["id"]
        )
        batch.create_index("ix_achievement_record_decision_id", ["decision_id"])
    op.execute(
        "INSERT INTO achievement_record (subject_kind, subject_id, year, award_code, counts_for_merit,"
        " decision_id, decision_code, decided_on, decider_level, nomination_id, revoked_on, revoked_by)"
        " SELECT CASE WHEN n.person_id IS NULL THEN 'unit' ELSE 'person' END,"
        " COALESCE(n.person_id, n.nominee_unit_id), n.achievement_year, n.award_code, n.route = 'merit',"
        " d.id, d.code, d.signed_on, a.decider_level, n.id, r.signed_on, r.code"
        " FROM nomination n JOIN decision d ON d.id = n.decision_id"
        " JOIN award a ON a.rule_set_id = n.rule_set_id AND a.code = n.award_code"
        " LEFT JOIN decision r ON r.id = d.revoked_by_id"
    )

    op.create_table(
        "employment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.String(36), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("unit_id", sa.String(50), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("position", sa.String(200), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_employment_person_id", "employment", ["person_id"])
    op.create_index("ix_employment_unit_id", "employment", ["unit_id"])
    op.execute("INSERT INTO employment (person_id, unit_id, started_on) SELECT id, unit_id, recruited_on FROM person")

    connection = op.get_bind()
    for name, (subject, where) in UNIQUE.items():
        duplicates = connection.execute(
            sa.text(
                f"SELECT {subject}, award_code, achievement_year, COUNT(*) FROM nomination WHERE {where}"
                f" GROUP BY {subject}, award_code, achievement_year HAVING COUNT(*) > 1"
            )
        ).all()
        if duplicates:
            listed = "; ".join(f"{row[0]} {row[1]} {row[2]} ({row[3]} nominations)" for row in duplicates)
            raise RuntimeError(
                f"open nominations for the same subject, award and year: {listed}. Reject or revoke all but"
                " one of each, then upgrade again."
            )
        op.create_index(
            name,
            "nomination",
            [subject, "award_code", "achievement_year"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name in UNIQUE:
        op.drop_index(name, table_name="nomination")
    op.drop_index("ix_employment_unit_id", table_name="employment")
    op.drop_index("ix_employment_person_id", table_name="employment")
    op.drop_table("employment")
    op.execute("DELETE FROM achievement_record WHERE decision_id IS NOT NULL")
    with op.batch_alter_table("achievement_record") as batch:
        batch.drop_index("ix_achievement_record_decision_id")
        batch.drop_constraint("fk_achievement_record_nomination_id_nomination", type_="foreignkey")
        batch.drop_constraint("fk_achievement_record_decision_id_decision", type_="foreignkey")
        for column in ("revoked_by", "revoked_on", "nomination_id", "decider_level", "decided_on", "decision_code"):
            batch.drop_column(column)
        batch.drop_column("decision_id")
