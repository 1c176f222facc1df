"""The store: ecosystems in SQLite (embedded, the default) or PostgreSQL.

The store is the only part of Glia that knows SQL. It takes sources and
records in, and gives back records, summaries and snapshots (column arrays).

Examples
--------
>>> import tempfile, glia
>>> from glia.store import Store
>>> with tempfile.TemporaryDirectory() as tmp:
...     store = Store.open(workspace=tmp)
...     eco = glia.Ecosystem.model_validate({"ecosystem": "Tiny",
...         "participants": [{"id": "ana"}, {"id": "ben"}],
...         "ties": [{"from": "ana", "to": "ben", "layer": "informal"}]})
...     result = store.import_ecosystem(eco)
...     snap = store.snapshot("Tiny")
...     store.close()
>>> result.counts["ties"], snap.tie_source.tolist(), snap.tie_target.tolist()
(1, [0], [1])
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from ..access import AccessMode, Principal
from ..engage import Agreement, Commitment
from ..govern import (
    Aspiration,
    GovernView,
    PastReview,
    Principle,
    PrincipleResult,
    ReviewPack,
    read_aspirations,
    read_principles,
)
from ..io import EcosystemSource, Source, open_source
from ..ledger import Break, Event, ValueEquation
from ..model import Ecosystem, Opportunity
from . import _access, _govern
from ._access import AccessError, Account, Member
from ._columnar import AllPlans, plan_all
from ._distribution import (
    Plan,
    Preview,
    Statement,
    Transparency,
    plan,
    preview,
    record_distribution,
    statement,
    transparency,
)
from ._engage import (
    Conversation,
    LoopResult,
    OpportunityState,
    Owed,
    StoredAgreement,
    Transition,
    advance_opportunity,
    agreements,
    commitment_history,
    commitments,
    committed_hours,
    consent_agreement,
    conversation_state,
    create_commitment,
    create_opportunity,
    delete_engagement,
    draft_agreement,
    loop_result,
    operate,
    opportunity_stages,
    opportunity_state,
    owes,
    pick_team,
    record_satisfaction,
    restore_stages,
    send_message,
    start_conversation,
    sweep,
)
from ._engine import (
    DEFAULT_WORKSPACE,
    database_url,
    make_engine,
    migrate,
    schema_revision,
    workspace_path,
)
from ._equations import (
    ANY_OPPORTUNITY,
    EquationError,
    StoredEquation,
    add_equation,
    consent,
    delete_equations,
    equations,
)
from ._importer import ImportResult, delete_ecosystem, import_source
from ._ledger import (
    LedgerCheck,
    LedgerError,
    LedgerProblem,
    NewEvent,
    check,
    delete_events,
    import_events,
    read_events,
    read_events_csv,
    record,
    reverse,
)
from ._reader import (
    EcosystemInfo,
    Summary,
    UnknownEcosystem,
    ecosystem_id,
    list_ecosystems,
    load_ecosystem,
    summarize,
)
from ._snapshot import Snapshot, read_snapshot
from ._tables import metadata

__all__ = [
    "ANY_OPPORTUNITY",
    "DEFAULT_WORKSPACE",
    "AccessError",
    "Account",
    "AllPlans",
    "Conversation",
    "EcosystemInfo",
    "EquationError",
    "ImportResult",
    "LedgerCheck",
    "LedgerError",
    "LedgerProblem",
    "LoopResult",
    "Member",
    "NewEvent",
    "OpportunityState",
    "Owed",
    "Plan",
    "Preview",
    "Snapshot",
    "Statement",
    "Store",
    "StoredAgreement",
    "StoredEquation",
    "Summary",
    "Transition",
    "Transparency",
    "UnknownEcosystem",
    "database_url",
    "make_engine",
    "metadata",
    "migrate",
    "schema_revision",
    "snapshot_of",
    "workspace_path",
]


class Store:
    """A database of ecosystems.

    Open one with :meth:`open` (workspace or URL); the schema is migrated to
    the latest revision on opening. Every method runs in its own transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        workspace: str | os.PathLike[str] | None = None,
        migrate_schema: bool = True,
    ) -> Store:
        """Open the store at ``url``, or ``GLIA_DATABASE_URL``, or the workspace's SQLite."""
        engine = make_engine(url or database_url(workspace))
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------
    def import_source(
        self,
        source: Source,
        name: str | None = None,
        replace: bool = False,
        progress: Callable[[str, int], None] | None = None,
    ) -> ImportResult:
        """Check and write a source in one transaction; on any problem write nothing.

        ``name`` overrides the ecosystem's name in the source; ``replace``
        allows replacing an ecosystem of that name; ``progress(section,
        rows)`` is told as rows are checked. Raises
        :class:`~glia.model.InvalidInput` with every problem found.
        """
        with self.engine.begin() as conn:
            result = import_source(conn, source, name, replace, progress)
            if result.replaced:
                restore_stages(conn, ecosystem_id(conn, result.ecosystem))
            return result

    def import_ecosystem(
        self, eco: Ecosystem, name: str | None = None, replace: bool = False
    ) -> ImportResult:
        """Write an ecosystem built in memory."""
        return self.import_source(EcosystemSource(eco), name, replace)

    def import_file(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        replace: bool = False,
        progress: Callable[[str, int], None] | None = None,
    ) -> ImportResult:
        """Import any file Glia reads (native, CSV folder, XLSX, mapping-tool layout)."""
        with open_source(Path(path)) as source:
            return self.import_source(source, name, replace, progress)

    def delete(self, name: str) -> None:
        """Delete an ecosystem and all its records, its ledger included."""
        with self.engine.begin() as conn:
            eco = ecosystem_id(conn, name)
            _access.delete_access(conn, eco)
            delete_events(conn, eco)
            delete_engagement(conn, eco)
            delete_equations(conn, eco)
            delete_ecosystem(conn, eco)

    # -- accounts and access ---------------------------------------------------------
    def create_account(
        self, username: str, password: str, display_name: str | None = None, admin: bool = False
    ) -> Account:
        """Create an account (argon2-hashed password); raises :class:`AccessError`."""
        with self.engine.begin() as conn:
            return _access.create_account(conn, username, password, display_name, admin)

    def set_password(self, username: str, password: str) -> None:
        """Change a password; the account's browser sessions end."""
        with self.engine.begin() as conn:
            _access.set_password(conn, username, password)

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password matches, else ``None``."""
        with self.engine.connect() as conn:
            return _access.authenticate(conn, username, password)

    def grant(
        self, username: str, ecosystem: str, role: str, participant: str | None = None
    ) -> None:
        """Give an account a role (orchestrator, member, observer) in an ecosystem."""
        with self.engine.begin() as conn:
            _access.grant(conn, username, ecosystem, role, participant)

    def revoke(self, username: str, ecosystem: str) -> None:
        """Take away an account's role in an ecosystem."""
        with self.engine.begin() as conn:
            _access.revoke(conn, username, ecosystem)

    def members(self, ecosystem: str) -> list[Member]:
        """The accounts with a role in an ecosystem."""
        with self.engine.connect() as conn:
            return _access.members(conn, ecosystem)

    def principal(self, account_id: int) -> Principal | None:
        """An account with its roles in every ecosystem."""
        with self.engine.connect() as conn:
            return _access.principal(conn, account_id)

    def issue_token(self, username: str, name: str, days: int | None = None) -> str:
        """A new API token (returned once; only its SHA-256 is stored)."""
        ttl = dt.timedelta(days=days) if days else None
        with self.engine.begin() as conn:
            return _access.issue_token(conn, username, name, ttl)

    def open_session(self, username: str, hours: float = 12.0) -> tuple[str, str]:
        """A new browser session: (secret for the cookie, CSRF token)."""
        with self.engine.begin() as conn:
            return _access.open_session(conn, username, dt.timedelta(hours=hours))

    def close_session(self, secret: str) -> None:
        """End a browser session or revoke an API token."""
        with self.engine.begin() as conn:
            _access.close_session(conn, secret)

    def principal_for(self, secret: str, kind: str) -> tuple[Principal, str | None] | None:
        """Who a live ``api`` token or ``session`` secret belongs to (and the CSRF token)."""
        with self.engine.connect() as conn:
            return _access.principal_for_secret(conn, secret, kind)

    def set_access(self, ecosystem: str, mode: str, by: str) -> None:
        """``shared-access`` (members see everything) or ``controlled-access``."""
        with self.engine.begin() as conn:
            _access.set_access(conn, ecosystem, mode, by)

    def access_mode(self, ecosystem: str) -> AccessMode:
        """The ecosystem's access mode."""
        with self.engine.connect() as conn:
            return _access.access_mode(conn, ecosystem)

    def has_participant(self, ecosystem: str, participant: str) -> bool:
        """Whether ``participant`` is on the ecosystem's map."""
        with self.engine.connect() as conn:
            return _access.has_participant(conn, ecosystem, participant)

    def teams(self, ecosystem: str) -> dict[str, frozenset[str]]:
        """Each opportunity's swarm (picked team and client), by opportunity id."""
        with self.engine.connect() as conn:
            return _access.teams(conn, ecosystem)

    # -- the ledger ------------------------------------------------------------------
    def record(self, ecosystem: str, events: Sequence[NewEvent]) -> list[Event]:
        """Append events to the ledger of ``ecosystem``, numbered and hash-chained.

        All or nothing: on any problem raises :class:`LedgerError` listing
        every one (event position, field, what was expected) and writes
        nothing; an unknown name raises :class:`UnknownEcosystem`.
        """
        with self.engine.begin() as conn:
            return record(conn, ecosystem, events)

    def reverse(self, ecosystem: str, seq: int, recorded_by: str, note: str | None = None) -> Event:
        """Append the event that reverses event ``seq`` (quantity and value negated).

        Corrections never edit or delete: this is how an event is undone, once.
        """
        with self.engine.begin() as conn:
            return reverse(conn, ecosystem, seq, recorded_by, note)

    def import_events(
        self,
        ecosystem: str,
        path: str | os.PathLike[str],
        recorded_by: str | None = None,
    ) -> list[Event]:
        """Append the events of a CSV file (header: fields of :class:`NewEvent`).

        All or nothing: raises :class:`~glia.model.InvalidInput` with every
        problem (file, row, column, value, what was expected) and writes
        nothing. ``recorded_by`` fills the rows that do not say who recorded them.
        """
        parsed = read_events_csv(path, recorded_by)
        with self.engine.begin() as conn:
            return import_events(conn, ecosystem, parsed)

    def events(self, ecosystem: str, opportunity: str | None = None) -> list[Event]:
        """The ledger's events in seq order, or those of one opportunity."""
        with self.engine.connect() as conn:
            return read_events(conn, ecosystem, opportunity)

    def check_ledger(self, ecosystem: str) -> LedgerCheck:
        """Verify the ledger's chain: the events stored, the last hash, the first break.

        Events are read in the order they were inserted (not by seq, which would
        hide rows swapped in place), in one transaction that sees one state.
        """
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            return check(conn, ecosystem)

    def verify_ledger(self, ecosystem: str) -> Break | None:
        """The first altered, removed, reordered or relinked event, or None when intact."""
        return self.check_ledger(ecosystem).broken

    # -- value equations and distribution --------------------------------------------
    def add_equation(
        self,
        ecosystem: str,
        level: str,
        subject: str | None,
        equation: ValueEquation,
        recorded_by: str,
    ) -> StoredEquation:
        """Store the next version of the equation of a level (``network``,
        ``opportunity``, ``organisation``) and subject; consents it carries are kept."""
        with self.engine.begin() as conn:
            return add_equation(conn, ecosystem, level, subject, equation, recorded_by)

    def consent(
        self,
        ecosystem: str,
        level: str,
        subject: str | None,
        party: str,
        recorded_by: str,
        on: dt.date | None = None,
        version: int | None = None,
    ) -> StoredEquation:
        """Record a party's consent to a version of an equation (default: the latest)."""
        with self.engine.begin() as conn:
            return consent(conn, ecosystem, level, subject, party, recorded_by, on, version)

    def equations(
        self, ecosystem: str, level: str | None = None, subject: str | None = None
    ) -> list[StoredEquation]:
        """Every stored version of the ecosystem's equations, with their consents."""
        with self.engine.connect() as conn:
            return equations(conn, ecosystem, level, subject)

    def plan_distribution(
        self,
        ecosystem: str,
        opportunity: str,
        adjustments: Mapping[str, Decimal] | None = None,
    ) -> Plan:
        """What distributing the opportunity's undistributed income would allocate."""
        with self.engine.connect() as conn:
            return plan(conn, ecosystem, opportunity, adjustments=adjustments)

    def plan_all(
        self,
        ecosystem: str,
        adjustments: Mapping[str, Mapping[str, Decimal]] | None = None,
    ) -> AllPlans:
        """Plans for every opportunity with income still to distribute, computed
        set-based (an Arrow snapshot of the ledger, claims summed by DuckDB)."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            return plan_all(conn, ecosystem, adjustments)

    def distribute(
        self,
        ecosystem: str,
        opportunity: str,
        recorded_by: str,
        adjustments: Mapping[str, Decimal] | None = None,
    ) -> tuple[Plan, list[Event]]:
        """Distribute the income received and not yet shared; the allocation events
        are appended to the ledger (all or nothing)."""
        with self.engine.begin() as conn:
            return record_distribution(
                conn, ecosystem, opportunity, recorded_by, adjustments=adjustments
            )

    def preview(
        self,
        ecosystem: str,
        opportunity: str,
        other: ValueEquation,
        adjustments: Mapping[str, Decimal] | None = None,
    ) -> Preview:
        """Each participant's share under ``other`` against the agreed equation."""
        with self.engine.connect() as conn:
            return preview(conn, ecosystem, opportunity, other, adjustments=adjustments)

    def statement(self, ecosystem: str, participant: str) -> Statement:
        """A participant's contributions, allocations, payouts and balance."""
        with self.engine.connect() as conn:
            return statement(conn, ecosystem, participant)

    def transparency(self, ecosystem: str) -> Transparency:
        """The network's transparency report: everything, for everyone who may see it."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            return transparency(conn, ecosystem)

    # -- the engagement: pipeline, agreements, commitments, conversations -----------
    def create_opportunity(
        self, ecosystem: str, record: Opportunity, by: str, why: str | None = None
    ) -> OpportunityState:
        """Add an opportunity to the map at ``lead`` (its first pipeline event)."""
        with self.engine.begin() as conn:
            return create_opportunity(conn, ecosystem, record, by, why)

    def advance(
        self,
        ecosystem: str,
        opportunity: str,
        stage: str,
        by: str,
        why: str | None = None,
        at: dt.datetime | None = None,
    ) -> OpportunityState:
        """Move an opportunity along its pipeline; raises :class:`~glia.engage.Refused`
        (and changes nothing) when the transition or its guard does not allow it."""
        with self.engine.begin() as conn:
            return advance_opportunity(conn, ecosystem, opportunity, stage, by, why, at)

    def opportunity(self, ecosystem: str, opportunity: str) -> OpportunityState:
        """Where an opportunity stands: stage, guards, team, history."""
        with self.engine.connect() as conn:
            return opportunity_state(conn, ecosystem, opportunity)

    def opportunities(self, ecosystem: str) -> list[tuple[str, str | None, str]]:
        """(id, name, stage) of every opportunity."""
        with self.engine.connect() as conn:
            return opportunity_stages(conn, ecosystem)

    def pick_team(
        self, ecosystem: str, opportunity: str, members: Mapping[str, str | None], by: str
    ) -> dict[str, str | None]:
        """Set the swarm picked for an opportunity, before its agreement."""
        with self.engine.begin() as conn:
            return pick_team(conn, ecosystem, opportunity, members, by)

    def draft_agreement(
        self, ecosystem: str, opportunity: str, agreement: Agreement, by: str
    ) -> StoredAgreement:
        """Record the next version of an opportunity's agreement for results."""
        with self.engine.begin() as conn:
            return draft_agreement(conn, ecosystem, opportunity, agreement, by)

    def consent_agreement(
        self,
        ecosystem: str,
        opportunity: str,
        party: str,
        by: str | None = None,
        version: int | None = None,
    ) -> StoredAgreement:
        """Record a party's consent to the agreement (and to its value equation)."""
        with self.engine.begin() as conn:
            return consent_agreement(conn, ecosystem, opportunity, party, by, version)

    def agreements(self, ecosystem: str, opportunity: str) -> list[StoredAgreement]:
        """Every version of an opportunity's agreement, oldest first."""
        with self.engine.connect() as conn:
            return agreements(conn, ecosystem, opportunity)

    def create_commitment(
        self,
        ecosystem: str,
        debtor: str,
        creditor: str,
        consequent: str,
        *,
        by: str | None = None,
        antecedent: str = "true",
        due: dt.date | None = None,
        opportunity: str | None = None,
        hours_per_week: float = 0.0,
        value: Decimal | None = None,
        currency: str | None = None,
        note: str | None = None,
    ) -> Commitment:
        """Record a commitment C(debtor, creditor, antecedent, consequent)."""
        with self.engine.begin() as conn:
            return create_commitment(
                conn,
                ecosystem,
                debtor,
                creditor,
                consequent,
                by,
                antecedent,
                due,
                opportunity,
                hours_per_week,
                value,
                currency,
                note,
            )

    def operate(
        self,
        ecosystem: str,
        number: int,
        operation: str,
        by: str,
        party: str | None = None,
        note: str | None = None,
        today: dt.date | None = None,
    ) -> Commitment:
        """Apply an operation to a commitment (detach, discharge, violate, expire,
        cancel, release, delegate, assign); refused ones change nothing."""
        with self.engine.begin() as conn:
            return operate(conn, ecosystem, number, operation, by, party, note, today)

    def sweep(self, ecosystem: str, by: str, today: dt.date | None = None) -> list[Commitment]:
        """Violate (or expire) every active commitment past its due date."""
        with self.engine.begin() as conn:
            return sweep(conn, ecosystem, by, today)

    def commitments(
        self,
        ecosystem: str,
        opportunity: str | None = None,
        state: str | None = None,
        debtor: str | None = None,
        creditor: str | None = None,
        overdue_on: dt.date | None = None,
    ) -> list[Commitment]:
        """Commitments, filtered (``overdue_on``: active and due before that day)."""
        with self.engine.connect() as conn:
            return commitments(conn, ecosystem, opportunity, state, debtor, creditor, overdue_on)

    def commitment_history(self, ecosystem: str, number: int) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            return commitment_history(conn, ecosystem, number)

    def owes(self, ecosystem: str) -> list[Owed]:
        """Who owes whom: active commitments by debtor and creditor."""
        with self.engine.connect() as conn:
            return owes(conn, ecosystem)

    def committed_hours(self, ecosystem: str) -> dict[str, float]:
        """Hours per week promised in active commitments, per participant."""
        with self.engine.connect() as conn:
            return committed_hours(conn, ecosystem)

    def start_conversation(
        self,
        ecosystem: str,
        template: str,
        requester: str,
        provider: str,
        subject: str,
        *,
        by: str,
        opportunity: str | None = None,
        due: dt.date | None = None,
        hours_per_week: float = 0.0,
        value: Decimal | None = None,
        currency: str | None = None,
        note: str | None = None,
    ) -> Conversation:
        """Open a conversation on a protocol template with its first message."""
        with self.engine.begin() as conn:
            return start_conversation(
                conn,
                ecosystem,
                template,
                requester,
                provider,
                subject,
                by,
                opportunity,
                due,
                hours_per_week,
                value,
                currency,
                note,
            )

    def send(
        self, ecosystem: str, number: int, message: str, by: str, note: str | None = None
    ) -> Conversation:
        """Send the next message of a conversation; refused out of protocol order."""
        with self.engine.begin() as conn:
            return send_message(conn, ecosystem, number, message, by, note)

    def conversation(self, ecosystem: str, number: int) -> Conversation:
        with self.engine.connect() as conn:
            return conversation_state(conn, ecosystem, number)

    def record_satisfaction(
        self, ecosystem: str, opportunity: str, score: int, by: str, note: str | None = None
    ) -> int:
        """Record the client's satisfaction (0-10) with a delivered opportunity."""
        with self.engine.begin() as conn:
            return record_satisfaction(conn, ecosystem, opportunity, score, by, note)

    def loop(self, ecosystem: str, opportunity: str) -> dict[str, Any] | None:
        """What reviewing the opportunity changed in the map (None before)."""
        with self.engine.connect() as conn:
            return loop_result(conn, ecosystem, opportunity)

    # -- governance: principles, aspirations, reviews ---------------------------------
    def set_principles(
        self,
        ecosystem: str,
        principles: Sequence[Principle] | str | os.PathLike[str],
        by: str,
    ) -> list[Principle]:
        """Replace the ecosystem's principles with these (or a YAML file's), all or nothing.

        A file's problems raise :class:`~glia.model.InvalidInput`, each with its
        item, line and field; nothing is written unless every item is valid.
        """
        items = (
            read_principles(principles)
            if isinstance(principles, str | os.PathLike)
            else list(principles)
        )
        with self.engine.begin() as conn:
            return _govern.set_principles(conn, ecosystem, items, by)

    def principles(self, ecosystem: str) -> list[Principle]:
        """The ecosystem's principles, in the order they were set."""
        with self.engine.connect() as conn:
            return _govern.principles(conn, ecosystem)

    def check_principles(self, ecosystem: str) -> list[PrincipleResult]:
        """Each principle checked against the network as it stands (words only: not checked)."""
        with self._reading() as conn:
            return _govern.check_principles_of(conn, ecosystem)

    def set_aspirations(
        self,
        ecosystem: str,
        aspirations: Sequence[Aspiration] | str | os.PathLike[str],
        by: str,
        today: dt.date | None = None,
    ) -> list[Aspiration]:
        """Replace the ecosystem's aspirations with these (or a YAML file's), all or
        nothing; ``since`` defaults to ``today``, and a key kept keeps its last review."""
        items = (
            read_aspirations(aspirations, today)
            if isinstance(aspirations, str | os.PathLike)
            else list(aspirations)
        )
        with self.engine.begin() as conn:
            return _govern.set_aspirations(conn, ecosystem, items, by)

    def aspirations(self, ecosystem: str) -> list[Aspiration]:
        """The ecosystem's aspirations, in the order they were set."""
        with self.engine.connect() as conn:
            return _govern.aspirations(conn, ecosystem)

    def governance_view(self, ecosystem: str) -> GovernView:
        """The facts principles are checked against (see :class:`glia.govern.GovernView`)."""
        with self._reading() as conn:
            return _govern.governance_view(conn, ecosystem)

    def review(self, ecosystem: str, today: dt.date | None = None) -> ReviewPack:
        """The review pack for a session held ``today``: what changed since the last
        review, the sweet spot, health, fairness, principles violated, aspirations due."""
        with self._reading() as conn:
            return _govern.review(conn, ecosystem, today)

    def record_review(self, ecosystem: str, by: str, today: dt.date | None = None) -> ReviewPack:
        """Hold the review: its figures are stored (the next pack says what changed
        since) and the aspirations due are marked reviewed ``today``."""
        with self._reading() as conn, conn.begin():
            return _govern.record_review(conn, ecosystem, by, today)

    def reviews(self, ecosystem: str) -> list[PastReview]:
        """Every review held, oldest first, with the figures it stored."""
        with self.engine.connect() as conn:
            return _govern.past_reviews(conn, ecosystem)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection that sees one state of the database (PostgreSQL: REPEATABLE READ)."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    # -- reading ---------------------------------------------------------------------
    def list(self) -> list[EcosystemInfo]:
        with self.engine.connect() as conn:
            return list_ecosystems(conn)

    def load(self, name: str) -> Ecosystem:
        """The whole ecosystem as records."""
        with self.engine.connect() as conn:
            return load_ecosystem(conn, name)

    def summary(self, name: str) -> Summary:
        with self.engine.connect() as conn:
            return summarize(conn, name)

    def snapshot(self, name: str) -> Snapshot:
        """Column arrays for the engines (see :class:`Snapshot`).

        All tables are read in one transaction that sees one state of the
        database (SQLite's read transactions do; PostgreSQL is asked for
        REPEATABLE READ), so an import running meanwhile cannot mix in.
        """
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            return read_snapshot(conn, name)


def snapshot_of(source: Ecosystem | Source) -> Snapshot:
    """The snapshot of an ecosystem that is not in a store (a file, records).

    It goes through a private in-memory SQLite store, so it is built by the
    same code, and gives the same arrays, as :meth:`Store.snapshot`.
    """
    from sqlalchemy.pool import StaticPool

    store = Store(make_engine("sqlite://", poolclass=StaticPool))
    try:
        migrate(store.engine)
        result = store.import_source(
            EcosystemSource(source) if isinstance(source, Ecosystem) else source
        )
        return store.snapshot(result.ecosystem)
    finally:
        store.close()
