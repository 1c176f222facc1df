"""value equations: versioned equations per level, and each party's consent

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "value_equation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ecosystem_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ecosystem_id"],
            ["ecosystem.id"],
            name=op.f("fk_value_equation_ecosystem_id_ecosystem"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_equation")),
        sa.UniqueConstraint(
            "ecosystem_id",
            "level",
            "subject",
            "version",
            name=op.f("uq_value_equation_ecosystem_id_level_subject_version"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "equation_consent",
        sa.Column("equation_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=200), nullable=False),
        sa.Column("consented_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["equation_id"],
            ["value_equation.id"],
            name=op.f("fk_equation_consent_equation_id_value_equation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("equation_id", "party", name=op.f("pk_equation_consent")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("equation_consent")
    op.drop_table("value_equation")
