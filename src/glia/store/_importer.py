"""Import: check a source and write it, in one transaction, or write nothing.

The source is checked by :func:`glia.model.check_stream`, which hands each
valid batch to :class:`StoreSink` while no problem has been seen. When a
problem shows, writing stops, checking goes on to the end, and the
transaction is rolled back: the database is exactly as it was, and the user
gets every problem at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, delete, insert, select, update

from ..io import Source
from ..model import (
    SECTIONS,
    Cluster,
    Exchange,
    Header,
    InvalidInput,
    Location,
    Opportunity,
    Participant,
    Problem,
    ReferenceIndex,
    Role,
    check_stream,
)
from ..model._problems import NO_VALUE
from ._bulk import bulk_insert, date_text, json_text, money_text
from ._tables import (
    CONTENT_TABLES,
    ENDPOINT_KINDS,
    EXCHANGE_KINDS,
    LAYERS,
    PARTICIPANT_KINDS,
    capability,
    cluster,
    ecosystem,
    exchange,
    membership,
    need,
    opportunity,
    participant,
    participant_capability,
    role,
    role_player,
    tie,
    tie_type,
)

if TYPE_CHECKING:
    from ..model._columnar import TieColumns

__all__ = ["ImportResult", "delete_ecosystem", "import_source"]

_LAYER = {name: i for i, name in enumerate(LAYERS)}
_EXCHANGE_KIND = {name: i for i, name in enumerate(EXCHANGE_KINDS)}
_ENDPOINT = {name: i for i, name in enumerate(ENDPOINT_KINDS)}
_PARTICIPANT_KIND = {name: i for i, name in enumerate(PARTICIPANT_KINDS)}


#: The tie table's columns, in the order rows are written.
_TIE_COLUMNS = (
    "ecosystem_id",
    "idx",
    "source_idx",
    "target_idx",
    "layer",
    "type_idx",
    "weight",
    "directed",
    "since",
    "until",
    "attributes",
)


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    ecosystem: str
    ecosystem_id: int
    counts: dict[str, int]
    replaced: bool


def _same(value: Any) -> Any:
    return value


class StoreSink:
    """Writes valid batches of records as bulk inserts."""

    def __init__(self, conn: Connection, ecosystem_id: int) -> None:
        self.conn = conn
        self.eco = ecosystem_id
        sqlite = conn.dialect.name == "sqlite"
        self.money: Callable[[Any], Any] = money_text if sqlite else _same
        self.date: Callable[[Any], Any] = date_text if sqlite else _same
        self.next = dict.fromkeys(SECTIONS, 0)
        self.capabilities: dict[str, int] = {}
        self.tie_types: dict[str, int] = {}

    def _vocabulary(self, table: Any, vocab: dict[str, int], names: set[str]) -> None:
        new = [n for n in names if n not in vocab]
        rows = []
        for n in sorted(new):
            vocab[n] = len(vocab)
            rows.append((self.eco, vocab[n], n))
        bulk_insert(self.conn, table, ("ecosystem_id", "idx", "name"), rows)

    def _indexes(self, section: str, n: int) -> range:
        start = self.next[section]
        self.next[section] = start + n
        return range(start, start + n)

    def write(
        self, section: str, records: list[tuple[Location, Any]], index: ReferenceIndex
    ) -> None:
        getattr(self, f"_write_{section}")([r for _, r in records], index)

    def _write_clusters(self, records: list[Cluster], index: ReferenceIndex) -> None:
        eco = self.eco
        rows = [
            (eco, i, c.id, c.name, c.kind, c.description, json_text(c.attributes))
            for i, c in zip(self._indexes("clusters", len(records)), records, strict=True)
        ]
        cols = ("ecosystem_id", "idx", "slug", "name", "kind", "description", "attributes")
        bulk_insert(self.conn, cluster, cols, rows)

    def _write_participants(self, records: list[Participant], index: ReferenceIndex) -> None:
        eco, money, clusters = self.eco, self.money, index.clusters
        self._vocabulary(
            capability, self.capabilities, {c for p in records for c in p.capabilities}
        )
        caps = self.capabilities
        rows: list[tuple[Any, ...]] = []
        members: list[tuple[int, ...]] = []
        held: list[tuple[int, ...]] = []
        for i, p in zip(self._indexes("participants", len(records)), records, strict=True):
            rows.append(
                (
                    eco,
                    i,
                    p.id,
                    p.name,
                    _PARTICIPANT_KIND[p.kind],
                    p.region,
                    p.capacity_hours_per_week,
                    money(p.rate_per_hour),
                    money(p.capital_available),
                    p.description,
                    json_text(p.attributes),
                )
            )
            members.extend((eco, i, pos, clusters[c]) for pos, c in enumerate(p.clusters))
            held.extend((eco, i, caps[name], level) for name, level in p.capabilities.items())
        cols = (
            "ecosystem_id",
            "idx",
            "slug",
            "name",
            "kind",
            "region",
            "capacity_hours_per_week",
            "rate_per_hour",
            "capital_available",
            "description",
            "attributes",
        )
        bulk_insert(self.conn, participant, cols, rows)
        bulk_insert(
            self.conn,
            membership,
            ("ecosystem_id", "participant_idx", "position", "cluster_idx"),
            members,
        )
        bulk_insert(
            self.conn,
            participant_capability,
            ("ecosystem_id", "participant_idx", "capability_idx", "level"),
            held,
        )

    def _write_roles(self, records: list[Role], index: ReferenceIndex) -> None:
        eco, who = self.eco, index.participants
        rows: list[tuple[Any, ...]] = []
        players: list[tuple[int, ...]] = []
        for i, r in zip(self._indexes("roles", len(records)), records, strict=True):
            rows.append((eco, i, r.id, r.name, r.description, json_text(r.attributes)))
            players.extend((eco, i, pos, who[p]) for pos, p in enumerate(r.played_by))
        cols = ("ecosystem_id", "idx", "slug", "name", "description", "attributes")
        bulk_insert(self.conn, role, cols, rows)
        player_cols = ("ecosystem_id", "role_idx", "position", "participant_idx")
        bulk_insert(self.conn, role_player, player_cols, players)

    def _write_ties(self, records: list[dict[str, Any]], index: ReferenceIndex) -> None:
        # The hottest loop of a large import (ten million rows): locals only,
        # endpoints as resolved by the check, conversions only for values present.
        eco, layer = self.eco, _LAYER
        self._vocabulary(tie_type, self.tie_types, {t["type"] for t in records if "type" in t})
        types = self.tie_types
        as_text = self.date is date_text
        sources, targets = index.tie_endpoints
        rows = []
        for i, t, source, target in zip(
            self._indexes("ties", len(records)), records, sources, targets, strict=True
        ):
            get = t.get
            since, until, attributes, kind = (
                get("since"),
                get("until"),
                get("attributes"),
                get("type"),
            )
            if as_text:
                since = since.isoformat() if since else None
                until = until.isoformat() if until else None
            rows.append(
                (
                    eco,
                    i,
                    source,
                    target,
                    layer[t["layer"]],
                    types[kind] if kind else None,
                    get("weight", 1.0),
                    get("directed", False),
                    since,
                    until,
                    json_text(attributes) if attributes else None,
                )
            )
        bulk_insert(self.conn, tie, _TIE_COLUMNS, rows)

    @contextmanager
    def columnar(self) -> Iterator[_TieWriter]:
        """An attempt at writing ties by the column, undone (savepoint) if it fails."""
        kept = (dict(self.next), dict(self.tie_types))
        attempt = self.conn.begin_nested()
        try:
            yield _TieWriter(self)
        except BaseException:
            attempt.rollback()
            self.next, self.tie_types = kept
            raise
        attempt.commit()

    def _write_exchanges(self, records: list[Exchange], index: ReferenceIndex) -> None:
        eco, money = self.eco, self.money
        rows = []
        for i, e in zip(self._indexes("exchanges", len(records)), records, strict=True):
            source_kind, source_idx = index.endpoint(e.source)
            target_kind, target_idx = index.endpoint(e.target)
            impact = e.impact
            rows.append(
                (
                    eco,
                    i,
                    e.id,
                    _ENDPOINT[source_kind],
                    source_idx,
                    _ENDPOINT[target_kind],
                    target_idx,
                    e.deliverable,
                    _EXCHANGE_KIND[e.kind],
                    e.type,
                    money(e.value),
                    e.currency,
                    e.frequency,
                    e.period,
                    e.perceived_value,
                    money(e.cost),
                    impact.financial if impact else None,
                    impact.human_competence if impact else None,
                    impact.internal_structure if impact else None,
                    impact.business_relationships if impact else None,
                    e.sequence,
                    e.description,
                    json_text(e.attributes),
                )
            )
        cols = (
            "ecosystem_id",
            "idx",
            "slug",
            "source_kind",
            "source_idx",
            "target_kind",
            "target_idx",
            "deliverable",
            "kind",
            "type",
            "value",
            "currency",
            "frequency",
            "period",
            "perceived_value",
            "cost",
            "impact_financial",
            "impact_human_competence",
            "impact_internal_structure",
            "impact_business_relationships",
            "sequence",
            "description",
            "attributes",
        )
        bulk_insert(self.conn, exchange, cols, rows)

    def _write_opportunities(self, records: list[Opportunity], index: ReferenceIndex) -> None:
        eco, money, date, who = self.eco, self.money, self.date, index.participants
        names = {n.capability for o in records for n in o.needs}
        self._vocabulary(capability, self.capabilities, names)
        caps = self.capabilities
        rows: list[tuple[Any, ...]] = []
        needs: list[tuple[int, ...]] = []
        for i, o in zip(self._indexes("opportunities", len(records)), records, strict=True):
            rows.append(
                (
                    eco,
                    i,
                    o.id,
                    o.name,
                    who[o.client],
                    o.region,
                    money(o.budget),
                    money(o.capital_needed),
                    o.currency,
                    date(o.start),
                    date(o.end),
                    o.stage,
                    o.description,
                    json_text(o.attributes),
                )
            )
            needs.extend(
                (eco, i, pos, caps[n.capability], n.level, n.count) for pos, n in enumerate(o.needs)
            )
        cols = (
            "ecosystem_id",
            "idx",
            "slug",
            "name",
            "client_idx",
            "region",
            "budget",
            "capital_needed",
            "currency",
            "start_date",
            "end_date",
            "stage",
            "description",
            "attributes",
        )
        bulk_insert(self.conn, opportunity, cols, rows)
        need_cols = (
            "ecosystem_id",
            "opportunity_idx",
            "position",
            "capability_idx",
            "level",
            "count",
        )
        bulk_insert(self.conn, need, need_cols, needs)


class _TieWriter:
    """Writes checked batches of tie columns (see :mod:`glia.model._columnar`).

    The same rows :meth:`StoreSink._write_ties` writes for the same ties:
    tuples made straight from the columns, then the driver's bulk insert.
    :meth:`prepare` runs in the pipeline's worker thread and touches no
    database; :meth:`store` runs in the thread that owns the connection.
    """

    def __init__(self, sink: StoreSink) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        from ..model._columnar import TIE_LAYERS

        self.sink = sink
        self.pa, self.pc = pa, pc
        self.layer_codes = np.array([_LAYER[name] for name in TIE_LAYERS])

    def prepare(self, ties: TieColumns) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The batch's new tie types and its rows, as the tables hold them."""
        pa, pc, sink = self.pa, self.pc, self.sink
        n = len(ties)
        vocab = sink.tie_types
        kinds = ties.type
        new_types = []
        for name in sorted(k for k in pc.unique(kinds).to_pylist() if k is not None):
            if name not in vocab:
                vocab[name] = len(vocab)
                new_types.append((sink.eco, vocab[name], name))
        type_idx: Any = repeat(None, n)
        if kinds.null_count < n:
            # the map's order is the indexes' (each new name gets the next one)
            type_idx = pc.index_in(kinds, value_set=pa.array(list(vocab))).to_pylist()

        def dates(values: Any) -> Any:
            return repeat(None, n) if values.null_count == n else values.to_pylist()

        start = sink._indexes("ties", n).start
        rows = list(
            zip(
                repeat(sink.eco, n),
                range(start, start + n),
                ties.source.tolist(),
                ties.target.tolist(),
                self.layer_codes[ties.layer].tolist(),
                type_idx,
                ties.weight.tolist(),
                ties.directed.tolist(),
                dates(ties.since),
                dates(ties.until),
                repeat(None, n),
                strict=True,
            )
        )
        return new_types, rows

    def store(self, prepared: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> None:
        new_types, rows = prepared
        conn = self.sink.conn
        bulk_insert(conn, tie_type, ("ecosystem_id", "idx", "name"), new_types)
        bulk_insert(conn, tie, _TIE_COLUMNS, rows)


def find_ecosystem(conn: Connection, name: str) -> int | None:
    return conn.execute(select(ecosystem.c.id).where(ecosystem.c.name == name)).scalar()


def delete_content(conn: Connection, ecosystem_id: int) -> None:
    """Delete an ecosystem's map (not its row, not its ledger), children first.

    One ``DELETE`` per table rather than a cascade, which SQLite runs row by row.
    """
    for table in reversed(CONTENT_TABLES):
        conn.execute(delete(table).where(table.c.ecosystem_id == ecosystem_id))


def delete_ecosystem(conn: Connection, ecosystem_id: int) -> None:
    """Delete an ecosystem's map and its row."""
    delete_content(conn, ecosystem_id)
    conn.execute(delete(ecosystem).where(ecosystem.c.id == ecosystem_id))


def import_source(
    conn: Connection,
    source: Source,
    name: str | None = None,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Check ``source`` and write it as ecosystem ``name`` on ``conn``.

    Must run inside a transaction that the caller rolls back when this raises
    :class:`~glia.model.InvalidInput` (``Store.import_source`` does).
    """
    raw_name = name if name is not None else source.header.get("ecosystem")
    target = raw_name if isinstance(raw_name, str) and raw_name.strip() else None
    existing = find_ecosystem(conn, target) if target else None
    conflict: list[Problem] = []
    if existing is not None and not replace:
        expected = f"a new ecosystem name; '{target}' exists (use --replace to replace it)"
        conflict.append(Problem(Location(source.name), "ecosystem", NO_VALUE, expected))
    writable = target is not None and not conflict
    sink: StoreSink | None = None
    kept: dict[str, Any] = {}
    if writable and existing is not None:
        # Replacing the map keeps the ecosystem's row, so that what hangs from
        # it beyond the map (the ledger and its event count) stays whole.
        delete_content(conn, existing)
        old_counts = conn.execute(
            select(ecosystem.c.counts).where(ecosystem.c.id == existing)
        ).scalar_one()
        kept = {k: v for k, v in (old_counts or {}).items() if k == "ledger"}
        conn.execute(
            update(ecosystem)
            .where(ecosystem.c.id == existing)
            .values(source=source.name, counts={}, updated_at=dt.datetime.now(dt.UTC))
        )
        sink = StoreSink(conn, existing)
    elif writable:
        now = dt.datetime.now(dt.UTC)
        eco_id = conn.execute(
            insert(ecosystem)
            .values(
                name=target,
                description=None,
                currency=None,
                attributes={},
                source=source.name,
                counts={},
                created_at=now,
                updated_at=now,
            )
            .returning(ecosystem.c.id)
        ).scalar_one()
        sink = StoreSink(conn, eco_id)
    header_in = dict(source.header)
    if name is not None:  # the name given wins over the file's (or its absence)
        header_in["ecosystem"] = name
    result = check_stream(
        header_in,
        source.rows,
        source.name,
        sink,
        source.problems,
        progress=progress,
        columns=source.columns,
    )
    problems = conflict + source.refine(result.problems)
    total = len(conflict) + result.total
    if total or result.header is None or sink is None or target is None:
        raise InvalidInput(problems, total)
    header: Header = result.header
    counts = dict(result.index.counts) | kept
    conn.execute(
        update(ecosystem)
        .where(ecosystem.c.id == sink.eco)
        .values(
            description=header.description,
            currency=header.currency,
            attributes=dict(header.attributes),
            counts=counts,
        )
    )
    return ImportResult(target, sink.eco, counts, existing is not None)
