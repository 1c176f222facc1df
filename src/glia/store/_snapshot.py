"""Snapshots: an ecosystem as the column arrays that engines work on.

Engines never see an ORM object or a record: they get integer ids that
index arrays (``0..n-1`` per section, the store's own keys), small integer
codes with their vocabularies, and floats with ``NaN`` for missing numbers.
Each table is read in ordered queries and turned into NumPy arrays a
chunk at a time, so ten million ties arrive as a few arrays, not as ten
million Python objects held at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Table

from ._reader import _info
from ._tables import (
    ENDPOINT_KINDS,
    EXCHANGE_KINDS,
    LAYERS,
    PARTICIPANT_KINDS,
    capability,
    cluster,
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

__all__ = ["EXCHANGE_PERIODS", "Snapshot", "read_snapshot"]

Int = npt.NDArray[np.int32]
Small = npt.NDArray[np.int8]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
Day = npt.NDArray[np.datetime64]

CHUNK = 200_000


@dataclass(frozen=True)
class Snapshot:
    """Column arrays of one ecosystem.

    Names are grouped by table: ``participant_*`` arrays have one entry per
    participant (index = participant id), ``tie_*`` one per tie, and so on.
    Codes index the tuples beside them: ``tie_layer`` indexes :attr:`layers`,
    ``tie_type`` indexes :attr:`tie_types` (``-1``: no type).
    """

    ecosystem: str
    #: The ecosystem's currency (``None`` when the file names none).
    currency: str | None
    layers: tuple[str, ...]
    participant_kinds: tuple[str, ...]
    exchange_kinds: tuple[str, ...]
    endpoint_kinds: tuple[str, ...]
    # participants
    participant_ids: list[str]
    participant_names: list[str | None]
    participant_kind: Small
    participant_region: Int
    regions: list[str]
    participant_capacity: Float
    participant_rate: Float
    participant_capital: Float
    # clusters and membership
    cluster_ids: list[str]
    cluster_kind: Int
    cluster_kinds: list[str]
    member_participant: Int
    member_cluster: Int
    # capabilities
    capabilities: list[str]
    holder_participant: Int
    holder_capability: Int
    holder_level: Small
    # roles
    role_ids: list[str]
    role_names: list[str | None]
    player_role: Int
    player_participant: Int
    # ties
    tie_source: Int
    tie_target: Int
    tie_layer: Small
    tie_type: Int
    tie_types: list[str]
    tie_weight: Float
    tie_directed: Bool
    tie_since: Day
    tie_until: Day
    # exchanges
    exchange_source_kind: Small
    exchange_source: Int
    exchange_target_kind: Small
    exchange_target: Int
    exchange_kind: Small
    exchange_type: Small
    exchange_types: tuple[str, ...]
    exchange_deliverable: list[str]
    exchange_value: Float
    exchange_currency: Int
    currencies: list[str]
    exchange_period: Small
    exchange_periods: tuple[str, ...]
    exchange_frequency: Float
    exchange_perceived_value: Float
    exchange_cost: Float
    exchange_impact: npt.NDArray[np.float64]
    exchange_sequence: Float
    # opportunities
    opportunity_ids: list[str]
    opportunity_names: list[str | None]
    opportunity_client: Int
    opportunity_region: list[str | None]
    opportunity_budget: Float
    opportunity_capital: Float
    opportunity_currency: list[str | None]
    need_opportunity: Int
    need_capability: Int
    need_level: Small
    need_count: Int

    @property
    def n_participants(self) -> int:
        return len(self.participant_ids)

    @property
    def n_ties(self) -> int:
        return int(self.tie_source.shape[0])

    def nbytes(self) -> int:
        """Memory held by the arrays (not the id lists)."""
        return sum(
            v.nbytes for f in fields(self) if isinstance(v := getattr(self, f.name), np.ndarray)
        )


_EXCHANGE_TYPES = ("goods", "service", "money", "contract", "knowledge", "benefit")
#: Codes of ``Snapshot.exchange_period`` (``-1``: no period given).
EXCHANGE_PERIODS = ("once", "week", "month", "quarter", "year")


#: Stands for NULL in numeric columns read through SQL (a double no column holds).
_NULL = -1.0e300
_NAT = np.iinfo(np.int64).min


def _expression(column: str, kind: str, dialect: str) -> str:
    """SQL for one column, giving a plain number (or text) the driver returns fast."""
    quoted = f'"{column}"'
    if kind == "text":
        return quoted
    # Every value a double: on PostgreSQL a bare literal or an integer mixed
    # with one would come back as NUMERIC, i.e. one Decimal object per value.
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    null = f"CAST({_NULL} AS {real})"
    if kind == "day":
        days = (
            f"(julianday({quoted}) - 2440587.5)"
            if dialect == "sqlite"
            else f"({quoted} - DATE '1970-01-01')"
        )
        return f"COALESCE(CAST({days} AS {real}), {null})"
    if kind == "bool":
        return f"CAST(CASE WHEN {quoted} THEN 1 ELSE 0 END AS {real})"
    return f"COALESCE(CAST({quoted} AS {real}), {null})"


def _convert(values: npt.NDArray[np.float64], kind: str) -> Any:
    missing = values == _NULL
    if kind == "int":
        return values.astype(np.int32)
    if kind == "small":
        return values.astype(np.int8)
    if kind == "code":
        return np.where(missing, -1, values).astype(np.int32)
    if kind == "bool":
        return values.astype(np.bool_)
    if kind == "day":
        days = np.where(missing, 0.0, values).astype(np.int64)
        days[missing] = _NAT
        return days.view("datetime64[D]")
    return np.where(missing, np.nan, values)  # float, money


def _read_columns(
    conn: Connection,
    table: Table,
    eco: int,
    columns: Sequence[tuple[str, str]],
    order: Sequence[str],
) -> list[Any]:
    """Read ``(column, kind)`` of one ecosystem's rows, in ``order``, as arrays.

    Kinds: ``int``, ``small``, ``code`` (NULL is -1), ``float`` and ``money``
    (NULL is NaN), ``bool``, ``day`` (``datetime64[D]``, NULL is NaT), ``text``
    (a list). Numbers travel through the driver as plain doubles, a chunk at a
    time straight into one 2-D array: no per-value Python conversion, which on
    ten million ties is the difference between seconds and a minute.
    """
    dialect = conn.dialect.name
    numeric = [(c, k) for c, k in columns if k != "text"]
    text = [c for c, k in columns if k == "text"]
    order_by = ", ".join(f'"{c}"' for c in order)
    where = f'FROM "{table.name}" WHERE ecosystem_id = {int(eco)} ORDER BY {order_by}'
    result: dict[str, Any] = {}
    if numeric:
        select_list = ", ".join(_expression(c, k, dialect) for c, k in numeric)
        count = conn.exec_driver_sql(
            f'SELECT COUNT(*) FROM "{table.name}" WHERE ecosystem_id = {int(eco)}'
        ).scalar_one()
        # One column-major block filled in place: no list of chunks to join,
        # so the peak is the block and one chunk, not twice the block.
        block = np.empty((len(numeric), count), dtype=np.float64)
        filled = 0
        with _cursor(conn, table.name) as cursor:
            cursor.execute(f"SELECT {select_list} {where}")
            while rows := cursor.fetchmany(CHUNK):
                block[:, filled : filled + len(rows)] = np.array(rows, dtype=np.float64).T
                filled += len(rows)
        for i, (column, kind) in enumerate(numeric):
            result[column] = _convert(block[i, :filled], kind)
    if text:
        names = ", ".join(f'"{c}"' for c in text)
        values: list[list[Any]] = [[] for _ in text]
        with _cursor(conn, table.name) as cursor:
            cursor.execute(f"SELECT {names} {where}")
            while rows := cursor.fetchmany(CHUNK):
                for i in range(len(text)):
                    values[i].extend(row[i] for row in rows)
        result.update(zip(text, values, strict=True))
    return [result[c] for c, _ in columns]


@contextmanager
def _cursor(conn: Connection, name: str) -> Iterator[Any]:
    """The driver's own cursor, streaming from the server on PostgreSQL.

    SQLAlchemy's result rows would cost a Python object per row before NumPy
    sees the values; psycopg's default cursor would hold the whole result in
    memory, where a named (server-side) cursor sends it a chunk at a time.
    """
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name=f"glia_snapshot_{name}")
        cursor.itersize = CHUNK
    else:
        cursor = dbapi.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _codes(values: list[Any]) -> tuple[Int, list[str]]:
    vocabulary: dict[str, int] = {}
    codes = np.array(
        [-1 if v is None else vocabulary.setdefault(v, len(vocabulary)) for v in values],
        dtype=np.int32,
    )
    return codes, list(vocabulary)


def read_snapshot(conn: Connection, name: str) -> Snapshot:
    """Read the snapshot of ecosystem ``name``, table by table, into arrays."""
    info, row = _info(conn, name)
    eco = info.id
    ids, names, kinds, region, capacity, rate, capital = _read_columns(
        conn,
        participant,
        eco,
        (
            ("slug", "text"),
            ("name", "text"),
            ("kind", "small"),
            ("region", "text"),
            ("capacity_hours_per_week", "float"),
            ("rate_per_hour", "money"),
            ("capital_available", "money"),
        ),
        ("idx",),
    )
    region_code, regions = _codes(region)
    cluster_ids, cluster_kind_text = _read_columns(
        conn, cluster, eco, (("slug", "text"), ("kind", "text")), ("idx",)
    )
    cluster_kind, cluster_kinds = _codes(cluster_kind_text)
    member_p, member_c = _read_columns(
        conn,
        membership,
        eco,
        (("participant_idx", "int"), ("cluster_idx", "int")),
        ("participant_idx", "position"),
    )
    (cap_names,) = _read_columns(conn, capability, eco, (("name", "text"),), ("idx",))
    holder_p, holder_c, holder_l = _read_columns(
        conn,
        participant_capability,
        eco,
        (("participant_idx", "int"), ("capability_idx", "int"), ("level", "small")),
        ("participant_idx", "capability_idx"),
    )
    role_ids, role_names = _read_columns(
        conn, role, eco, (("slug", "text"), ("name", "text")), ("idx",)
    )
    player_r, player_p = _read_columns(
        conn,
        role_player,
        eco,
        (("role_idx", "int"), ("participant_idx", "int")),
        ("role_idx", "position"),
    )
    (type_names,) = _read_columns(conn, tie_type, eco, (("name", "text"),), ("idx",))
    t_src, t_dst, t_layer, t_type, t_weight, t_dir, t_since, t_until = _read_columns(
        conn,
        tie,
        eco,
        (
            ("source_idx", "int"),
            ("target_idx", "int"),
            ("layer", "small"),
            ("type_idx", "code"),
            ("weight", "float"),
            ("directed", "bool"),
            ("since", "day"),
            ("until", "day"),
        ),
        ("idx",),
    )
    ex = _read_columns(
        conn,
        exchange,
        eco,
        (
            ("source_kind", "small"),
            ("source_idx", "int"),
            ("target_kind", "small"),
            ("target_idx", "int"),
            ("kind", "small"),
            ("type", "text"),
            ("value", "money"),
            ("frequency", "float"),
            ("perceived_value", "float"),
            ("cost", "money"),
            ("impact_financial", "float"),
            ("impact_human_competence", "float"),
            ("impact_internal_structure", "float"),
            ("impact_business_relationships", "float"),
            ("sequence", "float"),
            ("deliverable", "text"),
            ("currency", "text"),
            ("period", "text"),
        ),
        ("idx",),
    )
    currency_code, currencies = _codes(ex[16])
    period_code = np.array(
        [-1 if p is None else EXCHANGE_PERIODS.index(p) for p in ex[17]], dtype=np.int8
    )
    ex_type = np.array(
        [-1 if t is None else _EXCHANGE_TYPES.index(t) for t in ex[5]], dtype=np.int8
    )
    opp_ids, opp_names, opp_client, opp_region, opp_budget, opp_capital, opp_cur = _read_columns(
        conn,
        opportunity,
        eco,
        (
            ("slug", "text"),
            ("name", "text"),
            ("client_idx", "int"),
            ("region", "text"),
            ("budget", "money"),
            ("capital_needed", "money"),
            ("currency", "text"),
        ),
        ("idx",),
    )
    need_o, need_c, need_l, need_n = _read_columns(
        conn,
        need,
        eco,
        (
            ("opportunity_idx", "int"),
            ("capability_idx", "int"),
            ("level", "small"),
            ("count", "int"),
        ),
        ("opportunity_idx", "position"),
    )
    return Snapshot(
        ecosystem=name,
        currency=row.currency,
        layers=LAYERS,
        participant_kinds=PARTICIPANT_KINDS,
        exchange_kinds=EXCHANGE_KINDS,
        endpoint_kinds=ENDPOINT_KINDS,
        participant_ids=ids,
        participant_names=names,
        participant_kind=kinds,
        participant_region=region_code,
        regions=regions,
        participant_capacity=capacity,
        participant_rate=rate,
        participant_capital=capital,
        cluster_ids=cluster_ids,
        cluster_kind=cluster_kind,
        cluster_kinds=cluster_kinds,
        member_participant=member_p,
        member_cluster=member_c,
        capabilities=cap_names,
        holder_participant=holder_p,
        holder_capability=holder_c,
        holder_level=holder_l,
        role_ids=role_ids,
        role_names=role_names,
        player_role=player_r,
        player_participant=player_p,
        tie_source=t_src,
        tie_target=t_dst,
        tie_layer=t_layer,
        tie_type=t_type,
        tie_types=type_names,
        tie_weight=t_weight,
        tie_directed=t_dir,
        tie_since=t_since,
        tie_until=t_until,
        exchange_source_kind=ex[0],
        exchange_source=ex[1],
        exchange_target_kind=ex[2],
        exchange_target=ex[3],
        exchange_kind=ex[4],
        exchange_type=ex_type,
        exchange_types=_EXCHANGE_TYPES,
        exchange_deliverable=ex[15],
        exchange_value=ex[6],
        exchange_currency=currency_code,
        currencies=currencies,
        exchange_period=period_code,
        exchange_periods=EXCHANGE_PERIODS,
        exchange_frequency=ex[7],
        exchange_perceived_value=ex[8],
        exchange_cost=ex[9],
        exchange_impact=np.stack(ex[10:14], axis=1) if len(ex[10]) else np.zeros((0, 4)),
        exchange_sequence=ex[14],
        opportunity_ids=opp_ids,
        opportunity_names=opp_names,
        opportunity_client=opp_client,
        opportunity_region=opp_region,
        opportunity_budget=opp_budget,
        opportunity_capital=opp_capital,
        opportunity_currency=opp_cur,
        need_opportunity=need_o,
        need_capability=need_c,
        need_level=need_l,
        need_count=need_n,
    )
