"""Tables of the store.

Many ecosystems share one database. Every record of an ecosystem is keyed by
``(ecosystem_id, idx)``, where ``idx`` is its dense position (0..n-1) in its
section, given at import. Engines therefore get integer ids that index arrays
directly, and the human slug is kept beside them. An ecosystem's content is
replaced as a whole on re-import, which keeps the dense keys honest.

Codes are small integers where engines want them (tie layer, exchange kind,
endpoint kind); vocabularies (capabilities, tie types) are tables of their
own, so that a snapshot reads codes, never strings, for the large tables.

The three bulk tables (``tie``, ``membership``, ``participant_capability``,
together ten to fifteen rows per participant) carry no foreign keys. The
importer, their only writer, checks every reference they hold against the
records it has written in the same transaction, before anything commits. A
foreign key would check each row again: on PostgreSQL a trigger per row,
measured at half the time of a ten-million-tie import. Every other table
keeps its foreign keys.

Money is exact: ``NUMERIC`` on PostgreSQL, decimal text on SQLite, whose
``NUMERIC`` affinity would round through a float.

``ledger_event`` is not content: it is append-only and outlives re-imports of
the map, so it is not in :data:`CONTENT_TABLES`, and its foreign key to
``ecosystem`` restricts deletes instead of cascading (``Store.delete`` removes
the events first, on purpose). Its surrogate key ``id`` grows in insertion
order and is never reused; verification reads events in that order, so rows
swapped or renumbered in place show up as reordered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CHAR,
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

__all__ = [
    "ACCESS_TABLES",
    "ENDPOINT_KINDS",
    "ENGAGEMENT_TABLES",
    "EQUATION_LEVELS",
    "EXCHANGE_KINDS",
    "LAYERS",
    "PARTICIPANT_KINDS",
    "Money",
    "account",
    "account_role",
    "account_token",
    "capability",
    "cluster",
    "ecosystem",
    "ecosystem_access",
    "equation_consent",
    "exchange",
    "ledger_event",
    "membership",
    "metadata",
    "need",
    "opportunity",
    "participant",
    "participant_capability",
    "role",
    "role_player",
    "tie",
    "tie_type",
    "value_equation",
]

#: Codes stored for enumerations, in code order.
LAYERS = ("formal", "informal")
EXCHANGE_KINDS = ("tangible", "intangible")
ENDPOINT_KINDS = ("participant", "role")
PARTICIPANT_KINDS = ("person", "organization")

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)


class Money(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC where the database has it, text on SQLite."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return format(Decimal(value), "f")
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _eco() -> Column[int]:
    return Column("ecosystem_id", Integer, nullable=False, primary_key=True)


def _eco_fk(table: str = "ecosystem") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["ecosystem_id"], [f"{table}.id"], ondelete="CASCADE")


def _ref(column: str, table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["ecosystem_id", column], [f"{table}.ecosystem_id", f"{table}.idx"], ondelete="CASCADE"
    )


ecosystem = Table(
    "ecosystem",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False, unique=True),
    Column("description", Text),
    Column("currency", String(3)),
    Column("attributes", JSON, nullable=False),
    Column("source", Text),
    Column("counts", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

cluster = Table(
    "cluster",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("slug", String(200), nullable=False),
    Column("name", String(500)),
    Column("kind", String(60), nullable=False),
    Column("description", Text),
    Column("attributes", JSON),
    _eco_fk(),
    UniqueConstraint("ecosystem_id", "slug"),
)

participant = Table(
    "participant",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("slug", String(200), nullable=False),
    Column("name", String(500)),
    Column("kind", SmallInteger, nullable=False),
    Column("region", String(200)),
    Column("capacity_hours_per_week", Float),
    Column("rate_per_hour", Money),
    Column("capital_available", Money),
    Column("description", Text),
    Column("attributes", JSON),
    _eco_fk(),
    UniqueConstraint("ecosystem_id", "slug"),
)

membership = Table(
    "membership",
    metadata,
    _eco(),
    Column("participant_idx", Integer, primary_key=True, autoincrement=False),
    Column("position", SmallInteger, primary_key=True, autoincrement=False),
    Column("cluster_idx", Integer, nullable=False),
)

capability = Table(
    "capability",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    _eco_fk(),
    UniqueConstraint("ecosystem_id", "name"),
)

participant_capability = Table(
    "participant_capability",
    metadata,
    _eco(),
    Column("participant_idx", Integer, primary_key=True, autoincrement=False),
    Column("capability_idx", Integer, primary_key=True, autoincrement=False),
    Column("level", SmallInteger, nullable=False),
)

role = Table(
    "role",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("slug", String(200), nullable=False),
    Column("name", String(500)),
    Column("description", Text),
    Column("attributes", JSON),
    _eco_fk(),
    UniqueConstraint("ecosystem_id", "slug"),
)

role_player = Table(
    "role_player",
    metadata,
    _eco(),
    Column("role_idx", Integer, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("participant_idx", Integer, nullable=False),
    _ref("role_idx", "role"),
    _ref("participant_idx", "participant"),
)

tie_type = Table(
    "tie_type",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("name", String(60), nullable=False),
    _eco_fk(),
    UniqueConstraint("ecosystem_id", "name"),
)

tie = Table(
    "tie",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("source_idx", Integer, nullable=False),
    Column("target_idx", Integer, nullable=False),
    Column("layer", SmallInteger, nullable=False),
    Column("type_idx", Integer),
    Column("weight", Float, nullable=False),
    Column("directed", Boolean, nullable=False),
    Column("since", Date),
    Column("until", Date),
    Column("attributes", JSON),
)

exchange = Table(
    "exchange",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("slug", String(200)),
    Column("source_kind", SmallInteger, nullable=False),
    Column("source_idx", Integer, nullable=False),
    Column("target_kind", SmallInteger, nullable=False),
    Column("target_idx", Integer, nullable=False),
    Column("deliverable", String(500), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("type", String(12)),
    Column("value", Money),
    Column("currency", String(3)),
    Column("frequency", Float, nullable=False),
    Column("period", String(8)),
    Column("perceived_value", SmallInteger),
    Column("cost", Money),
    Column("impact_financial", SmallInteger),
    Column("impact_human_competence", SmallInteger),
    Column("impact_internal_structure", SmallInteger),
    Column("impact_business_relationships", SmallInteger),
    Column("sequence", Integer),
    Column("description", Text),
    Column("attributes", JSON),
    _eco_fk(),
)

opportunity = Table(
    "opportunity",
    metadata,
    _eco(),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("slug", String(200), nullable=False),
    Column("name", String(500)),
    Column("client_idx", Integer, nullable=False),
    Column("region", String(200)),
    Column("budget", Money),
    Column("capital_needed", Money),
    Column("currency", String(3)),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("stage", String(60)),
    Column("description", Text),
    Column("attributes", JSON),
    _ref("client_idx", "participant"),
    UniqueConstraint("ecosystem_id", "slug"),
)

need = Table(
    "need",
    metadata,
    _eco(),
    Column("opportunity_idx", Integer, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("capability_idx", Integer, nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("count", Integer, nullable=False),
    _ref("opportunity_idx", "opportunity"),
    _ref("capability_idx", "capability"),
)

#: Tables holding an ecosystem's content, children after parents.
CONTENT_TABLES = (
    cluster,
    participant,
    membership,
    capability,
    participant_capability,
    role,
    role_player,
    tie_type,
    tie,
    exchange,
    opportunity,
    need,
)

ledger_event = Table(
    "ledger_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(40), nullable=False),
    Column("agent", String(200), nullable=False),
    Column("opportunity", String(200)),
    Column("quantity", Money),
    Column("unit", String(60)),
    Column("value", Money),
    Column("currency", String(3)),
    Column("note", Text),
    Column("evidence", Text),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("reverses", Integer),
    Column("prev_hash", CHAR(64), nullable=False),
    Column("hash", CHAR(64), nullable=False),
    ForeignKeyConstraint(["ecosystem_id"], ["ecosystem.id"], ondelete="RESTRICT"),
    UniqueConstraint("ecosystem_id", "seq"),
    # An opportunity's events in seq order, for distributions (migration 0003).
    Index("ix_ledger_event_opportunity", "ecosystem_id", "opportunity", "seq"),
    sqlite_autoincrement=True,
)

#: Levels of a value equation (see ``glia.ledger._allocate``).
EQUATION_LEVELS = ("network", "opportunity", "organisation")

# Value equations, versioned: a new version is a new row, the old ones stay.
# ``subject`` is the opportunity's id ("*" for every opportunity without its
# own), the organisation's id, or "" for the network. Like the ledger, they
# outlive re-imports of the map (not content; deletes restricted).
value_equation = Table(
    "value_equation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("level", String(16), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["ecosystem_id"], ["ecosystem.id"], ondelete="RESTRICT"),
    UniqueConstraint("ecosystem_id", "level", "subject", "version"),
    sqlite_autoincrement=True,
)

# Each party's consent to one version of an equation, with its date.
equation_consent = Table(
    "equation_consent",
    metadata,
    Column("equation_id", Integer, primary_key=True),
    Column("party", String(200), primary_key=True),
    Column("consented_on", Date, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["equation_id"], ["value_equation.id"], ondelete="CASCADE"),
)

# -- engagement (migration 0005) -----------------------------------------------------
# Like the ledger, the engagement outlives re-imports of the map: opportunities
# and participants are named by their ids (slugs), not their dense keys, and an
# ecosystem's delete removes these rows first (deletes restricted).


def _eco_restrict() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["ecosystem_id"], ["ecosystem.id"], ondelete="RESTRICT")


# Every transition of an opportunity's pipeline: who, when, why. The current
# stage is the opportunity row's ``stage``; these rows are its history.
pipeline_event = Table(
    "pipeline_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("opportunity", String(200), nullable=False),
    Column("source", String(20), nullable=False),
    Column("target", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("why", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    Index("ix_pipeline_event_opportunity", "ecosystem_id", "opportunity", "id"),
    sqlite_autoincrement=True,
)

# Versions of an opportunity's agreement for results; the value equation it
# carries is stored as an opportunity-level equation, linked by its version.
agreement = Table(
    "agreement",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("opportunity", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("equation_version", Integer),
    Column("drafted_by", String(200), nullable=False),
    Column("drafted_at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    UniqueConstraint("ecosystem_id", "opportunity", "version"),
    sqlite_autoincrement=True,
)

agreement_consent = Table(
    "agreement_consent",
    metadata,
    Column("agreement_id", Integer, primary_key=True),
    Column("party", String(200), primary_key=True),
    Column("consented_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    ForeignKeyConstraint(["agreement_id"], ["agreement.id"], ondelete="CASCADE"),
)

# Commitments, C(debtor, creditor, antecedent, consequent), queryable by SQL;
# ``state`` is the current state, ``commitment_event`` every operation.
commitment = Table(
    "commitment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("opportunity", String(200)),
    Column("agreement_version", Integer),
    Column("debtor", String(200), nullable=False),
    Column("creditor", String(200), nullable=False),
    Column("antecedent", Text, nullable=False),
    Column("consequent", Text, nullable=False),
    Column("due", Date),
    Column("state", String(20), nullable=False),
    Column("hours_per_week", Float, nullable=False),
    Column("value", Money),
    Column("currency", String(3)),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    UniqueConstraint("ecosystem_id", "number"),
    Index("ix_commitment_debtor", "ecosystem_id", "debtor", "state"),
    sqlite_autoincrement=True,
)

commitment_event = Table(
    "commitment_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("commitment_id", Integer, nullable=False),
    Column("operation", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(20)),
    Column("target", String(20), nullable=False),
    Column("party", String(200)),
    Column("note", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["commitment_id"], ["commitment.id"], ondelete="CASCADE"),
    sqlite_autoincrement=True,
)

# A conversation following a protocol template, and its messages in order.
conversation = Table(
    "conversation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("template", String(40), nullable=False),
    Column("requester", String(200), nullable=False),
    Column("provider", String(200), nullable=False),
    Column("subject", Text, nullable=False),
    Column("opportunity", String(200)),
    Column("due", Date),
    Column("hours_per_week", Float, nullable=False),
    Column("value", Money),
    Column("currency", String(3)),
    Column("last_message", String(40), nullable=False),
    Column("commitment_number", Integer),
    _eco_restrict(),
    UniqueConstraint("ecosystem_id", "number"),
    sqlite_autoincrement=True,
)

conversation_message = Table(
    "conversation_message",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", Integer, nullable=False),
    Column("message", String(40), nullable=False),
    Column("sender", String(200), nullable=False),
    Column("note", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
    sqlite_autoincrement=True,
)

# The swarm picked for an opportunity (who, in which role).
team_member = Table(
    "team_member",
    metadata,
    Column("ecosystem_id", Integer, primary_key=True),
    Column("opportunity", String(200), primary_key=True),
    Column("participant", String(200), primary_key=True),
    Column("role", Text),
    Column("picked_by", String(200), nullable=False),
    Column("picked_at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
)

# The client's satisfaction with an opportunity: a score from 0 to 10.
satisfaction = Table(
    "satisfaction",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("opportunity", String(200), nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("scored_by", String(200), nullable=False),
    Column("note", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    sqlite_autoincrement=True,
)

# What closing the loop changed in the map, for each reviewed opportunity.
loop_change = Table(
    "loop_change",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("opportunity", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    sqlite_autoincrement=True,
)

# -- governance (migration 0005) -----------------------------------------------------
# Principles in words, with the check that enforces one where it can be.
principle = Table(
    "principle",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("key", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("rule", JSON),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    UniqueConstraint("ecosystem_id", "key"),
    sqlite_autoincrement=True,
)

# Shared goals with a review cadence (days between reviews).
aspiration = Table(
    "aspiration",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("key", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("cadence_days", Integer, nullable=False),
    Column("since", Date, nullable=False),
    Column("last_reviewed", Date),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    UniqueConstraint("ecosystem_id", "key"),
    sqlite_autoincrement=True,
)

# Reviews held: the pack's figures, to say what changed by the next one.
review = Table(
    "review",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ecosystem_id", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("held_on", Date, nullable=False),
    Column("held_by", String(200), nullable=False),
    Column("figures", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    _eco_restrict(),
    UniqueConstraint("ecosystem_id", "number"),
    sqlite_autoincrement=True,
)

#: Engagement and governance tables, children before parents, for deletes.
ENGAGEMENT_TABLES = (
    pipeline_event,
    agreement_consent,
    agreement,
    commitment_event,
    commitment,
    conversation_message,
    conversation,
    team_member,
    satisfaction,
    loop_change,
    principle,
    aspiration,
    review,
)

# -- who may do what (glia.access) ------------------------------------------------------
# A person who signs in. Accounts are not ecosystem content: re-importing a map
# keeps them, and one account can hold a role in several ecosystems.
account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(200), nullable=False, unique=True),
    Column("display_name", String(500)),
    Column("password_hash", String(500), nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

# An account's role in one ecosystem, and the participant of the map it is.
account_role = Table(
    "account_role",
    metadata,
    Column("account_id", Integer, primary_key=True),
    Column("ecosystem_id", Integer, primary_key=True),
    Column("role", String(20), nullable=False),
    Column("participant", String(200)),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(["ecosystem_id"], ["ecosystem.id"], ondelete="CASCADE"),
)

# API tokens for scripts, and browser sessions: only a SHA-256 of the secret is
# kept, so a copy of the database does not let anyone in.
account_token = Table(
    "account_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("name", String(200), nullable=False),
    Column("secret_hash", CHAR(64), nullable=False, unique=True),
    Column("csrf", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
    sqlite_autoincrement=True,
)

# How much members see: ``shared-access`` (the default, when no row) or
# ``controlled-access``.
ecosystem_access = Table(
    "ecosystem_access",
    metadata,
    Column("ecosystem_id", Integer, primary_key=True),
    Column("mode", String(40), nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["ecosystem_id"], ["ecosystem.id"], ondelete="CASCADE"),
)

#: Access tables of one ecosystem, for deletes.
ACCESS_TABLES = (account_role, ecosystem_access)
