"""engagement and governance: pipeline history, agreements, commitments, conversations,
teams, satisfaction, loop changes, principles, aspirations and reviews

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Exact money: NUMERIC, or decimal text on SQLite (see glia.store._tables.Money).
MONEY = sa.Numeric().with_variant(sa.String(length=48), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("equation_version", sa.Integer(), nullable=True),
        sa.Column("drafted_by", sa.String(length=200), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_agreement_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
        sa.UniqueConstraint(
            "ecosystem_id",
            "opportunity",
            "version",
            name=op.f("uq_agreement_ecosystem_id_opportunity_version"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "aspiration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_aspiration_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aspiration")),
        sa.UniqueConstraint("ecosystem_id", "key", name=op.f("uq_aspiration_ecosystem_id_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "commitment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=True),
        sa.Column("agreement_version", sa.Integer(), nullable=True),
        sa.Column("debtor", sa.String(length=200), nullable=False),
        sa.Column("creditor", sa.String(length=200), nullable=False),
        sa.Column("antecedent", sa.Text(), nullable=False),
        sa.Column("consequent", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("hours_per_week", sa.Float(), nullable=False),
        sa.Column("value", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_commitment_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment")),
        sa.UniqueConstraint(
            "ecosystem_id", "number", name=op.f("uq_commitment_ecosystem_id_number")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_commitment_debtor", "commitment", ["ecosystem_id", "debtor", "state"], unique=False
    )
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("hours_per_week", sa.Float(), nullable=False),
        sa.Column("value", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("last_message", sa.String(length=40), nullable=False),
        sa.Column("commitment_number", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_conversation_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation")),
        sa.UniqueConstraint(
            "ecosystem_id", "number", name=op.f("uq_conversation_ecosystem_id_number")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "loop_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_loop_change_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_change")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "pipeline_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_pipeline_event_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_event")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_pipeline_event_opportunity",
        "pipeline_event",
        ["ecosystem_id", "opportunity", "id"],
        unique=False,
    )
    op.create_table(
        "principle",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_principle_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principle")),
        sa.UniqueConstraint("ecosystem_id", "key", name=op.f("uq_principle_ecosystem_id_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("held_by", sa.String(length=200), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_review_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
        sa.UniqueConstraint("ecosystem_id", "number", name=op.f("uq_review_ecosystem_id_number")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "satisfaction",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("scored_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_satisfaction_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "team_member",
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("opportunity", sa.String(length=200), nullable=False),
        sa.Column("participant", sa.String(length=200), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("picked_by", sa.String(length=200), nullable=False),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_team_member_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "ecosystem_id", "opportunity", "participant", name=op.f("pk_team_member")
        ),
    )
    op.create_table(
        "agreement_consent",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=200), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_agreement_consent_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "party", name=op.f("pk_agreement_consent")),
    )
    op.create_table(
        "commitment_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("party", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitment.id"],
            name=op.f("fk_commitment_event_commitment_id_commitment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_event")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "conversation_message",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=40), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_conversation_message_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_message")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("conversation_message")
    op.drop_table("commitment_event")
    op.drop_table("agreement_consent")
    op.drop_table("team_member")
    op.drop_table("satisfaction")
    op.drop_table("review")
    op.drop_table("principle")
    op.drop_index("ix_pipeline_event_opportunity", table_name="pipeline_event")
    op.drop_table("pipeline_event")
    op.drop_table("loop_change")
    op.drop_table("conversation")
    op.drop_index("ix_commitment_debtor", table_name="commitment")
    op.drop_table("commitment")
    op.drop_table("aspiration")
    op.drop_table("agreement")
