"""ledger_fast_verify: an index on ledger_event (ecosystem_id, opportunity, seq)

An opportunity's events in seq order, read by index, for distributions over a
large ledger. Stored events are not touched: amounts keep the text they were
written with (``7.50`` stays ``7.50``); verification normalizes them the way
the chain's canonical encoding does (see ``glia.store._ledger``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_ledger_event_opportunity",
        "ledger_event",
        ["ecosystem_id", "opportunity", "seq"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_ledger_event_opportunity", table_name="ledger_event")
