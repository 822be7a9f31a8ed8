"""The nomination ladder's data: nominees and their history, the award catalogue as versioned
rule sets with DMN files, campaigns and nominations, council sessions with secret-ballot tallies,
bloc scoring and votes, and numbered decisions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "achievement_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("award_code", sa.String(length=30), nullable=False),
        sa.Column("counts_for_merit", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_achievement_record_subject_id"), "achievement_record", ["subject_id"], unique=False)
    op.create_table(
        "restriction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_restriction_subject_id"), "restriction", ["subject_id"], unique=False)
    op.create_table(
        "campaign",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("jurisdiction_id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("registration_deadline", sa.Date(), nullable=False),
        sa.Column("submission_deadline", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_campaign_jurisdiction_id"), "campaign", ["jurisdiction_id"], unique=False)
    op.create_table(
        "decision_counter",
        sa.Column("jurisdiction_id", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
        ),
        sa.PrimaryKeyConstraint("jurisdiction_id", "year"),
    )
    op.create_table(
        "rule_set",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("jurisdiction_id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jurisdiction_id", "valid_from"),
    )
    op.create_index(op.f("ix_rule_set_jurisdiction_id"), "rule_set", ["jurisdiction_id"], unique=False)
    op.create_table(
        "award",
        sa.Column("rule_set_id", sa.String(length=50), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("decider_level", sa.String(length=30), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("reward_multiple", sa.Float(), nullable=False),
        sa.Column("public_notice", sa.Boolean(), nullable=False),
        sa.Column("bloc_vote", sa.Boolean(), nullable=False),
        sa.Column("eligibility_decision", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["rule_set.id"],
        ),
        sa.PrimaryKeyConstraint("rule_set_id", "code"),
    )
    op.create_table(
        "bloc_criterion",
        sa.Column("bloc_id", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("max_score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.PrimaryKeyConstraint("bloc_id", "year", "code"),
    )
    op.create_table(
        "bloc_score",
        sa.Column("bloc_id", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scorer_unit_id", sa.String(length=50), nullable=False),
        sa.Column("scored_unit_id", sa.String(length=50), nullable=False),
        sa.Column("criterion_code", sa.String(length=50), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scored_unit_id"],
            ["unit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scorer_unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("bloc_id", "year", "scorer_unit_id", "scored_unit_id", "criterion_code"),
    )
    op.create_table(
        "bloc_vote_tally",
        sa.Column("bloc_id", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=50), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bloc_id"],
            ["bloc.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("bloc_id", "year", "unit_id"),
    )
    op.create_table(
        "council_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("council_id", sa.String(length=50), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rule_set_id", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["rule_set.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_council_session_council_id"), "council_session", ["council_id"], unique=False)
    op.create_table(
        "person",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.String(length=50), nullable=False),
        sa.Column("recruited_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_person_unit_id"), "person", ["unit_id"], unique=False)
    op.create_table(
        "rule_file",
        sa.Column("rule_set_id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["rule_set.id"],
        ),
        sa.PrimaryKeyConstraint("rule_set_id", "name"),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.String(length=50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("signed_by", sa.String(length=36), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revocation_ground", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["decision.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jurisdiction_id", "year", "number"),
    )
    op.create_table(
        "initiative",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_initiative_person_id"), "initiative", ["person_id"], unique=False)
    op.create_table(
        "performance_rating",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("person_id", "year"),
    )
    op.create_table(
        "session_attendance",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id"),
    )
    op.create_table(
        "nomination",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=50), nullable=False),
        sa.Column("rule_set_id", sa.String(length=50), nullable=False),
        sa.Column("award_code", sa.String(length=30), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("nominee_unit_id", sa.String(length=50), nullable=False),
        sa.Column("nominating_unit_id", sa.String(length=50), nullable=False),
        sa.Column("achievement_year", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision.id"],
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
        ),
        sa.ForeignKeyConstraint(
            ["nominating_unit_id"],
            ["unit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["nominee_unit_id"],
            ["unit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["rule_set.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_nomination_campaign_id"), "nomination", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_nomination_nominating_unit_id"), "nomination", ["nominating_unit_id"], unique=False)
    op.create_index(op.f("ix_nomination_nominee_unit_id"), "nomination", ["nominee_unit_id"], unique=False)
    op.create_index(op.f("ix_nomination_person_id"), "nomination", ["person_id"], unique=False)
    op.create_index(op.f("ix_nomination_status"), "nomination", ["status"], unique=False)
    op.create_table(
        "notice_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notice_comment_nomination_id"), "notice_comment", ["nomination_id"], unique=False)
    op.create_table(
        "session_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("nomination_id", sa.String(length=36), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=True),
        sa.Column("no", sa.Integer(), nullable=True),
        sa.Column("abstain", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.String(length=20), nullable=True),
        sa.Column("denominator", sa.String(length=10), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "nomination_id"),
    )
    op.create_index(op.f("ix_session_item_nomination_id"), "session_item", ["nomination_id"], unique=False)
    op.create_index(op.f("ix_session_item_session_id"), "session_item", ["session_id"], unique=False)
    op.create_table(
        "item_voter",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("recused", sa.Boolean(), nullable=False),
        sa.Column("has_voted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["session_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("item_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("item_voter")
    op.drop_table("session_item")
    op.drop_table("notice_comment")
    op.drop_table("nomination")
    op.drop_table("session_attendance")
    op.drop_table("performance_rating")
    op.drop_table("initiative")
    op.drop_table("decision")
    op.drop_table("rule_file")
    op.drop_table("person")
    op.drop_table("council_session")
    op.drop_table("bloc_vote_tally")
    op.drop_table("bloc_score")
    op.drop_table("bloc_criterion")
    op.drop_table("award")
    op.drop_table("rule_set")
    op.drop_table("decision_counter")
    op.drop_table("campaign")
    op.drop_table("restriction")
    op.drop_table("achievement_record")
