"""Distributing every opportunity at once: the ledger as an Arrow snapshot, claims by DuckDB.

:func:`plan_all` gives the same plans as :func:`glia.store._distribution.plan`
run opportunity by opportunity (a test checks it), without a Python loop over
events. As DESIGN.md chose for columnar aggregation, the ledger is read into
an Arrow table (by the ADBC SQLite driver straight from a SQLite file, or
through SQLAlchemy elsewhere), and DuckDB does the set-based work in exact
``DECIMAL(38, 6)`` arithmetic: what each opportunity received and allocated,
the events that a reversal cancels, who left, and each formula's claim summed
per opportunity, participant, kind and whether an earlier distribution counted
it. Python then splits each opportunity's income from those sums, exactly, as
a single opportunity is split. A formula with a division, which DuckDB would
compute in floating point, makes the plan fall back to the per-opportunity
path (exact) for that ecosystem.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, func, select

from ..ledger import Contribution, DistributionError, Pending
from ..ledger._allocate import HOURS
from ._distribution import Plan, _eco_currency, _rates, plan, plan_from
from ._equations import EquationIndex, StoredEquation, equations
from ._reader import ecosystem_id
from ._tables import ledger_event

__all__ = ["AllPlans", "ledger_arrow", "plan_all"]

#: Columns of the snapshot, as text where the store keeps exact decimals.
_COLUMNS = (
    "seq",
    "opportunity",
    "agent",
    "action",
    "quantity",
    "unit",
    "value",
    "currency",
    "reverses",
)


def _sqlite_file(conn: Connection) -> str | None:
    if conn.dialect.name != "sqlite":
        return None
    database = conn.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


_SNAPSHOT_QUERY = (
    "SELECT seq, coalesce(opportunity, '') AS opportunity, agent, action, "
    "coalesce(CAST(quantity AS TEXT), '') AS quantity, coalesce(unit, '') AS unit, "
    "coalesce(CAST(value AS TEXT), '') AS value, coalesce(currency, '') AS currency, "
    "coalesce(reverses, 0) AS reverses "
    "FROM ledger_event WHERE ecosystem_id = {eco} AND seq <= {last} ORDER BY seq"
)


def _serve() -> None:
    """In a process of its own: read a SQLite ledger with ADBC into an Arrow file.

    ADBC bundles its own SQLite library. Two SQLite libraries in one process do
    not see each other's file locks, and reading a WAL database that the
    store's ``sqlite3`` has open can miss committed pages or damage the file;
    across processes their locks work as SQLite intends. Hence this process.
    Arguments: database path, ecosystem id, last seq to read, output path.
    """
    import adbc_driver_sqlite.dbapi as adbc

    path, eco, last, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with adbc.connect(path) as db, db.cursor() as cur:
        cur.execute(_SNAPSHOT_QUERY.format(eco=eco, last=last))
        table = cur.fetch_arrow_table()
    with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_sqlite(path: str, eco: int, last: int) -> pa.Table | None:
    """The snapshot read by :func:`_serve` in another process; None if that failed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ledger.arrow")
        code = "from glia.store._columnar import _serve; _serve()"
        done = subprocess.run(
            [sys.executable, "-c", code, path, str(eco), str(last), out],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0 or not os.path.exists(out):
            return None
        with pa.memory_map(out) as source:
            table: pa.Table = pa.ipc.open_file(source).read_all()
        return table.combine_chunks() if table.num_rows else table


def ledger_arrow(conn: Connection, name: str) -> pa.Table:
    """The ledger of ``name`` as an Arrow table of :data:`_COLUMNS` (decimals as text,
    absent text as ''): the events the caller's transaction sees.

    From a SQLite file it is read by the ADBC driver in a separate process (see
    :func:`_serve`), up to the last seq this transaction sees (the ledger is
    append-only, so those events are the same in any later snapshot); elsewhere,
    or if that process fails, through the caller's connection.
    """
    eco = ecosystem_id(conn, name)
    path = _sqlite_file(conn)
    if path is not None:
        last = conn.execute(
            select(func.max(ledger_event.c.seq)).where(ledger_event.c.ecosystem_id == eco)
        ).scalar_one_or_none()
        table = None if last is None else _read_sqlite(path, eco, last)
        if table is not None and table.num_rows == last:  # seq 1..last, as the store writes
            return table
    rows = conn.execute(
        select(
            ledger_event.c.seq,
            ledger_event.c.opportunity,
            ledger_event.c.agent,
            ledger_event.c.action,
            ledger_event.c.quantity,
            ledger_event.c.unit,
            ledger_event.c.value,
            ledger_event.c.currency,
            ledger_event.c.reverses,
        )
        .where(ledger_event.c.ecosystem_id == eco)
        .order_by(ledger_event.c.seq)
    ).all()
    return pa.table(
        {
            "seq": pa.array([r.seq for r in rows], pa.int64()),
            "opportunity": pa.array([_text(r.opportunity) for r in rows], pa.string()),
            "agent": pa.array([r.agent for r in rows], pa.string()),
            "action": pa.array([r.action for r in rows], pa.string()),
            "quantity": pa.array([_text(r.quantity) for r in rows], pa.string()),
            "unit": pa.array([_text(r.unit) for r in rows], pa.string()),
            "value": pa.array([_text(r.value) for r in rows], pa.string()),
            "currency": pa.array([_text(r.currency) for r in rows], pa.string()),
            "reverses": pa.array([r.reverses or 0 for r in rows], pa.int64()),
        }
    )


def _quote(text: str) -> str:
    """A SQL string literal (kinds of contribution are the users' words)."""
    return "'" + text.replace("'", "''") + "'"


def _text(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class AllPlans:
    """Plans for every opportunity with income, and those that could not be planned."""

    ecosystem: str
    plans: dict[str, Plan]
    refused: dict[str, str]
    path: str  # "columnar" or "per opportunity"
    seconds: dict[str, float] = field(default_factory=dict)  # per step


_SETUP = """
CREATE TEMP TABLE e AS
SELECT seq, opportunity, agent, action, unit, reverses, nullif(currency, '') AS currency,
       CAST(nullif(quantity, '') AS DECIMAL(38, 6)) AS quantity,
       CAST(nullif(value, '') AS DECIMAL(38, 6)) AS value
FROM ev;
CREATE TEMP TABLE cancelled AS SELECT DISTINCT reverses AS seq FROM e WHERE reverses > 0;
CREATE TEMP TABLE opp AS
SELECT opportunity,
       coalesce(sum(value) FILTER (WHERE action = 'income'), 0) AS income,
       coalesce(sum(value) FILTER (WHERE action = 'allocation'), 0) AS allocated,
       max(seq) FILTER (WHERE action = 'allocation') AS last_allocation,
       string_agg(DISTINCT currency, ',' ORDER BY currency)
           FILTER (WHERE action = 'income' AND value IS NOT NULL) AS currencies
FROM e
WHERE opportunity <> ''
GROUP BY opportunity;
"""


def _sql_of(formula: str) -> str | None:
    from ..ledger import compile_formula

    return compile_formula(formula).sql({"quantity": "q", "value": "v", "hours": "h", "rate": "r"})


def plan_all(
    conn: Connection,
    name: str,
    adjustments: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> AllPlans:
    """A plan for every opportunity of ``name`` with income still to distribute
    (nothing is written). ``adjustments`` gives peer adjustments per opportunity."""
    stored = equations(conn, name)
    # one mapping kind -> formula per distinct equation; a claim column per mapping
    mappings: list[dict[str, str]] = []
    for s in stored:
        kinds = {**({"referral": "1"} if s.equation.referral else {}), **s.equation.formulas}
        if kinds not in mappings:
            mappings.append(kinds)
    compiled = {text: _sql_of(text) for m in mappings for text in m.values()}
    adjustments = adjustments or {}
    started = time.perf_counter()
    snapshot = ledger_arrow(conn, name)
    read = time.perf_counter() - started
    if any(sql is None for sql in compiled.values()):
        return _one_by_one(conn, name, snapshot, adjustments)
    eco = ecosystem_id(conn, name)
    rates = _rates(conn, eco)
    db = duckdb.connect()
    try:
        db.register("ev", snapshot)
        db.register(
            "rates",
            pa.table(
                {
                    "agent": pa.array(list(rates), pa.string()),
                    "rate": pa.array([str(r) for r in rates.values()], pa.string()),
                }
            ),
        )
        db.execute(_SETUP)
        result = _columnar(conn, db, name, stored, mappings, compiled, adjustments)
        return replace(result, seconds={"read snapshot": read, **result.seconds})
    finally:
        db.close()


def _one_by_one(
    conn: Connection,
    name: str,
    snapshot: pa.Table,
    adjustments: Mapping[str, Mapping[str, Decimal]],
) -> AllPlans:
    opportunities = sorted(
        {
            o
            for o, a in zip(
                snapshot["opportunity"].to_pylist(), snapshot["action"].to_pylist(), strict=True
            )
            if o and a == "income"
        }
    )
    plans: dict[str, Plan] = {}
    refused: dict[str, str] = {}
    for opportunity in opportunities:
        try:
            plans[opportunity] = plan(
                conn, name, opportunity, adjustments=adjustments.get(opportunity)
            )
        except DistributionError as exc:
            refused[opportunity] = str(exc)
    return AllPlans(name, plans, refused, "per opportunity")


def _columnar(
    conn: Connection,
    db: duckdb.DuckDBPyConnection,
    name: str,
    stored: list[StoredEquation],
    mappings: list[dict[str, str]],
    compiled: Mapping[str, str | None],
    adjustments: Mapping[str, Mapping[str, Decimal]],
) -> AllPlans:
    started = time.perf_counter()
    hours = ", ".join(f"'{u}'" for u in sorted(HOURS))
    # one column of claims per formula text, per event, then summed per group
    cases = []
    for m in mappings:
        whens = " ".join(
            f"WHEN {_quote(kind)} THEN {compiled[text]}" for kind, text in sorted(m.items())
        )
        cases.append(f"CASE action {whens} END" if whens else "NULL")
    claim_columns = ", ".join(f"sum({c}) AS c{i}, min({c}) AS m{i}" for i, c in enumerate(cases))
    rows = db.execute(
        f"""
        WITH c AS (
          SELECT e.opportunity, e.agent, e.action, e.seq,
                 coalesce(e.quantity, 0) AS q, coalesce(e.value, 0) AS v,
                 CASE WHEN lower(trim(e.unit)) IN ({hours}) THEN coalesce(e.quantity, 0)
                      ELSE CAST(0 AS DECIMAL(38, 6)) END AS h,
                 coalesce(CAST(r.rate AS DECIMAL(38, 6)), 0) AS r,
                 (o.last_allocation IS NOT NULL AND e.seq < o.last_allocation) AS counted
          FROM e JOIN opp o USING (opportunity)
          LEFT JOIN rates r USING (agent)
          WHERE e.action NOT IN ('income', 'payout', 'allocation', 'leave', 'leaveAtFault')
            AND e.reverses = 0 AND e.seq NOT IN (SELECT seq FROM cancelled)
            AND (e.quantity IS NOT NULL OR e.value IS NOT NULL)
            AND o.income - o.allocated > 0
        )
        SELECT opportunity, agent, action, counted, count(*) AS n, min(seq) AS first
               {"," if cases else ""} {claim_columns}
        FROM c GROUP BY opportunity, agent, action, counted
        ORDER BY opportunity, agent, action, counted
        """
    ).fetchall()
    groups: dict[str, list[Contribution]] = {}
    for row in rows:
        opportunity, agent, action, counted, n, first = row[:6]
        claims: dict[str, Decimal] = {}
        for i, m in enumerate(mappings):
            total, lowest = row[6 + 2 * i], row[7 + 2 * i]
            if action in m and total is not None:
                # a negative event makes the whole claim negative: the split refuses it
                claims[m[action]] = lowest if lowest < 0 else total
        groups.setdefault(opportunity, []).append(
            Contribution(
                agent=agent,
                kind=action,
                id=f"{n} {action} event{'s' if n != 1 else ''} from #{first}",
                claim=claims,
                events=n,
                counted=bool(counted),
            )
        )
    opps = db.execute(
        "SELECT opportunity, income, allocated, last_allocation, currencies FROM opp "
        "ORDER BY opportunity"
    ).fetchall()
    received: dict[str, dict[tuple[str, str], Decimal]] = {}
    for opportunity, agent, unit, total in db.execute(
        "SELECT opportunity, agent, unit, sum(value) FROM e WHERE action = 'allocation' "
        "AND unit <> '' GROUP BY ALL"
    ).fetchall():
        received.setdefault(opportunity, {})[(agent, unit)] = total
    leavers: dict[str, dict[str, bool]] = {}
    for opportunity, agent, at_fault in db.execute(
        "SELECT opportunity, agent, bool_or(action = 'leaveAtFault') FROM e "
        "WHERE action IN ('leave', 'leaveAtFault') AND reverses = 0 "
        "AND seq NOT IN (SELECT seq FROM cancelled) GROUP BY ALL"
    ).fetchall():
        leavers.setdefault(opportunity, {})[agent] = bool(at_fault)
    network_leavers = leavers.get("", {})
    summed = time.perf_counter()
    index = EquationIndex(stored)
    default_currency = _eco_currency(conn, name)
    plans: dict[str, Plan] = {}
    refused: dict[str, str] = {}
    for opportunity, income, allocated, last_allocation, found_currencies in opps:
        if income == 0 and allocated == 0:
            continue
        try:
            if found_currencies and "," in found_currencies:
                raise DistributionError(
                    f"opportunity {opportunity}: income in several currencies "
                    f"({found_currencies.replace(',', ', ')}); record each opportunity's "
                    "income in one"
                )
            mine = {**network_leavers}
            for agent, at_fault in leavers.get(opportunity, {}).items():
                mine[agent] = mine.get(agent, False) or at_fault
            state = Pending(
                opportunity,
                income,
                allocated,
                found_currencies or None,
                tuple(groups.get(opportunity, ())),
                received.get(opportunity, {}),
                mine,
                last_allocation,
            )
            plans[opportunity] = plan_from(
                name,
                state,
                index.found(opportunity),
                default_currency,
                adjustments.get(opportunity, {}),
            )
        except DistributionError as exc:
            refused[opportunity] = str(exc)
    seconds = {
        "sum claims (DuckDB)": summed - started,
        "split (Python)": time.perf_counter() - summed,
    }
    return AllPlans(name, plans, refused, "columnar", seconds)
