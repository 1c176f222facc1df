"""Distributing every opportunity at once: the ledger as a coded Arrow table, claims by DuckDB.

:func:`plan_all` gives the same plans as :func:`glia.store._distribution.plan`
run opportunity by opportunity (a test checks it), without a Python loop over
events. As DESIGN.md chose for columnar aggregation, the ledger is read into
an Arrow table and DuckDB does the set-based work; Python then splits each
opportunity's income from DuckDB's sums, exactly, as a single opportunity is
split. Each step is timed in :attr:`AllPlans.seconds`.

**The table** (:func:`ledger_events`): one row per event, with its seq, the seq
it reverses (0: none), quantity and value as exact ``DECIMAL(38, 6)`` (the
store keeps at most 6 places and 18 digits before the point; DuckDB casts the
stored text, as it always did), and opportunity, agent, action, unit and
currency as integer *codes* into word lists (absent: null). DuckDB groups and
joins integers several times faster than text. On PostgreSQL, or SQLite in
memory, the events are read through the caller's connection.

**From a SQLite file**, the table is cached next to the database, in Arrow IPC
files that are memory-mapped when read (a fraction of a second for ten million
events, against about fifteen to read them from SQLite, the words sorted so
that their codes sort as they do):

- *Keyed by the chain.* The ledger is append-only and hash-chained, so its
  events 1 to N are known by N and the hash of event N. The cache's key (the
  ecosystem's id and name, that seq and hash, the word lists) is in the file's
  schema metadata. Every call checks it against the store in the caller's
  transaction: the store must hold that hash at that seq. Then only the events
  after it are read, and appended in a second file (the *tail*, named after
  the first with ``-tail``), which is merged into the first once it holds more
  than an eighth of it. A key that does not match, a file that cannot be read
  or has the wrong shape, a transaction that sees fewer events than the cache:
  the cache is not used, and is rebuilt when it can be. An event altered in
  place, which breaks the chain (``glia ledger verify`` says so), is not seen
  by a cache built before: the chain is the ledger's identity here.
- *Written atomically*: to a temporary file, then renamed over the old one, so
  a reader sees the old file or the new one. A tail names the first file's key,
  so a tail left from an older first file is ignored. A cache that cannot be
  written (a read-only folder) is skipped.
- *Read apart.* Events the cache lacks are read by the ADBC SQLite driver
  (Arrow batches) in processes of their own (:func:`_serve`), each on a part of
  the seq range at once, which also cast and encode them; the caller maps
  their codes onto its word lists. ADBC links a SQLite of its own, and two
  SQLite libraries in one process do not see each other's file locks (a WAL
  database read that way can miss pages or be damaged), so the store's
  process never opens the file through ADBC. A few new events (fewer than
  :data:`_READ_HERE`) are read through the caller's connection instead.

**DuckDB** computes, in exact ``DECIMAL(38, 6)`` arithmetic, what each
opportunity received and allocated, the events a reversal cancels, who left,
and each formula's claim summed per opportunity, participant, kind and whether
an earlier distribution counted it. A formula with a division, which DuckDB
would compute in floating point, makes the plan fall back to the
per-opportunity path (exact) for that ecosystem.

**Python** turns DuckDB's sums into :class:`~glia.ledger.Contribution`\\ s
and splits each income (:func:`~glia.store._distribution.plan_from`), the
larger part of the time, on one core. So the opportunities are taken in parts
(:data:`_PARTS`): DuckDB sums the next part in a thread of its own, on the
other cores, while Python splits the one before (see :func:`_columnar`). The
split allocates millions of small objects that all live until the end, so the
cyclic garbage collector, which would scan them again and again as they pile
up, is paused meanwhile (see :func:`_collector_paused`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, select

from ..ledger import Contribution, DistributionError, Pending
from ..ledger._allocate import HOURS, NOT_CONTRIBUTIONS
from ._distribution import Plan, _eco_currency, _rates, plan, plan_from
from ._equations import EquationIndex, StoredEquation, equations
from ._ledger import _head, _sqlite_file
from ._reader import ecosystem_id
from ._tables import ledger_event

__all__ = ["AllPlans", "LedgerEvents", "ledger_events", "plan_all"]

#: The text columns kept as codes into word lists.
_CODED = ("opportunity", "agent", "action", "unit", "currency")
#: Those that may be absent ('' in the text read, null codes in the table).
_OPTIONAL = frozenset({"opportunity", "unit", "currency"})
#: The table's schema: one row per event.
_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("reverses", pa.int64()),
        *((name, pa.int32()) for name in _CODED),
        ("quantity", pa.decimal128(38, 6)),
        ("value", pa.decimal128(38, 6)),
    ]
)
#: Bump when the cache files' content or meaning changes (older files are rebuilt).
_CACHE_FORMAT = 1
_CACHE_KEY = b"glia.ledger_events"
#: Fewer new events than this are read through the caller's connection.
_READ_HERE = 50_000
#: From this many events to read, processes of their own read parts at once.
_READ_APART = 500_000
#: Rows per record batch in the cache (DuckDB scans batches in parallel).
_BATCH = 1 << 20
#: Set in the environment of the reading processes.
_SERVING = "GLIA_LEDGER_EVENTS_READER"


@dataclass(frozen=True)
class LedgerEvents:
    """An ecosystem's events as a coded table (see the module's notes).

    ``words[column][code]`` is the text of a code; ``source`` says where the
    table came from (the cache, the cache and new events, or a full read).
    """

    table: pa.Table
    words: dict[str, list[str]]
    last: int
    source: str


# -- reading -------------------------------------------------------------------------------
_TEXT_QUERY = (
    "SELECT seq, coalesce(opportunity, '') AS opportunity, agent, action, "
    "coalesce(CAST(quantity AS TEXT), '') AS quantity, coalesce(unit, '') AS unit, "
    "coalesce(CAST(value AS TEXT), '') AS value, coalesce(currency, '') AS currency, "
    "coalesce(reverses, 0) AS reverses "
    "FROM ledger_event WHERE ecosystem_id = {eco} AND seq > {lo} AND seq <= {hi}"
)

#: Amounts as DuckDB casts them (its result keeps the rows' order: preserve_insertion_order).
_DECIMALS = """
SELECT CAST(nullif(quantity, '') AS DECIMAL(38, 6)) AS quantity,
       CAST(nullif(value, '') AS DECIMAL(38, 6)) AS value
FROM text_events
"""


def _encode(text: pa.Table) -> pa.Table:
    """Events as text (the columns of :data:`_TEXT_QUERY`): amounts cast by DuckDB,
    texts dictionary-encoded (the codes local to this table; '' for none)."""
    text = text.combine_chunks()
    db = duckdb.connect()
    try:
        db.execute("SET preserve_insertion_order = true")
        db.register("text_events", text)
        amounts = db.sql(_DECIMALS).to_arrow_table()
    finally:
        db.close()
    columns = {"seq": text.column("seq"), "reverses": text.column("reverses")}
    for name in _CODED:
        columns[name] = pc.dictionary_encode(text.column(name))
    columns["quantity"] = amounts.column("quantity")
    columns["value"] = amounts.column("value")
    return pa.table(columns)


def _serve() -> None:
    """In a process of its own: read events ``lo`` < seq <= ``hi`` with ADBC, encode
    them (:func:`_encode`) and write them to an Arrow file.

    The ADBC driver links a SQLite of its own; see the module's notes for why it
    never runs in the store's process. Arguments: database path, ecosystem id,
    lo, hi, output path.
    """
    import adbc_driver_sqlite.dbapi as adbc

    path, eco, lo, hi, out = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
        sys.argv[5],
    )
    with adbc.connect(path) as db, db.cursor() as cur:
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.fetchall()
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
        cur.execute(_TEXT_QUERY.format(eco=eco, lo=lo, hi=hi))
        text = cur.fetch_arrow_table()
    table = _encode(text)
    with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_apart(path: str, eco: int, lo: int, hi: int) -> list[pa.Table] | None:
    """Events ``lo`` < seq <= ``hi``, encoded by :func:`_serve` in processes of their
    own (two at once when there are many); None if any of them failed."""
    if os.environ.get(_SERVING):  # never from a reading process itself
        return None
    parts = min(2, os.cpu_count() or 1) if hi - lo >= _READ_APART else 1
    bounds = [lo + (hi - lo) * i // parts for i in range(parts + 1)]
    # the folder glia was imported from, not the caller's whole sys.path: a script's
    # own folder there could shadow a module the process imports
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), _SERVING: "1"}
    code = "from glia.store._columnar import _serve; _serve()"
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, f"part{i}.arrow") for i in range(parts)]
        started = [
            subprocess.Popen(
                [sys.executable, "-c", code, path, str(eco), str(a), str(b), out],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            for a, b, out in zip(bounds[:-1], bounds[1:], outs, strict=True)
        ]
        codes = [process.wait() for process in started]
        if any(codes) or not all(os.path.exists(out) for out in outs):
            return None
        # mapped, not copied: a mapping outlives the file's removal
        return [pa.ipc.open_file(pa.memory_map(out)).read_all() for out in outs]


def _read_here(conn: Connection, eco: int, lo: int, hi: int) -> pa.Table:
    """Events ``lo`` < seq <= ``hi`` through the caller's connection, encoded."""
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
        ).where(
            ledger_event.c.ecosystem_id == eco, ledger_event.c.seq > lo, ledger_event.c.seq <= hi
        )
    ).all()
    text = pa.table(
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
    return _encode(text)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _unify(
    parts: Sequence[pa.Table], words: Mapping[str, list[str]]
) -> tuple[pa.Table, dict[str, list[str]]]:
    """Encoded parts as one table of :data:`_SCHEMA`, their codes mapped onto ``words``
    (extended with the texts they add, in order of appearance); '' (no opportunity,
    unit or currency) becomes null."""
    out = {name: list(words.get(name, ())) for name in _CODED}
    index = {name: {w: i for i, w in enumerate(out[name])} for name in _CODED}
    tables = []
    for part in parts:
        columns: dict[str, pa.Array | pa.ChunkedArray] = {
            "seq": part.column("seq"),
            "reverses": part.column("reverses"),
        }
        for name in _CODED:
            chunks = []
            for chunk in part.column(name).chunks:
                mapping: list[int | None] = []
                for word in chunk.dictionary.to_pylist():
                    code = index[name].get(word)
                    if code is None and (word or name not in _OPTIONAL):
                        code = index[name][word] = len(out[name])
                        out[name].append(word)
                    mapping.append(code)
                chunks.append(pc.take(pa.array(mapping, pa.int32()), chunk.indices))
            columns[name] = pa.chunked_array(chunks, pa.int32())
        columns["quantity"] = part.column("quantity")
        columns["value"] = part.column("value")
        tables.append(pa.table(columns).cast(_SCHEMA))
    table = pa.concat_tables(tables) if tables else _SCHEMA.empty_table()
    return table, out


def _in_order(
    table: pa.Table, words: Mapping[str, list[str]]
) -> tuple[pa.Table, dict[str, list[str]]]:
    """The same events with each word list sorted (its codes renumbered), so that
    DuckDB, ordering by codes, orders by the texts (see :meth:`_Planner.contributions`)."""
    columns = {name: table.column(name) for name in table.column_names}
    ordered: dict[str, list[str]] = {}
    for name in _CODED:
        order = sorted(range(len(words[name])), key=words[name].__getitem__)
        rank = [0] * len(order)
        for new, old in enumerate(order):
            rank[old] = new
        columns[name] = pc.take(pa.array(rank, pa.int32()), columns[name])
        ordered[name] = [words[name][old] for old in order]
    return pa.table(columns, schema=_SCHEMA), ordered


# -- the cache -----------------------------------------------------------------------------
def _cache_paths(database: str, eco: int) -> tuple[str, str]:
    stem = f"{database}.ledger-{eco}"
    return f"{stem}.arrow", f"{stem}-tail.arrow"


def _load(path: str) -> tuple[pa.Table, dict[str, Any]] | None:
    """A cache file's table and key, or None when it is missing or not one of ours."""
    try:
        reader = pa.ipc.open_file(pa.memory_map(path))
        meta = json.loads((reader.schema.metadata or {})[_CACHE_KEY])
        if meta.get("format") != _CACHE_FORMAT or not reader.schema.remove_metadata().equals(
            _SCHEMA
        ):
            return None
        table = reader.read_all()
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    return table, meta


def _sound(table: pa.Table, meta: Mapping[str, Any], first: int) -> bool:
    """The table holds events ``first`` + 1 to its key's last, with codes in its word lists."""
    try:
        words = meta["words"]
        if table.num_rows != int(meta["last"]) - first:
            return False
        if table.num_rows == 0:
            return True
        seq = table.column("seq")
        if pc.min(seq).as_py() != first + 1 or pc.max(seq).as_py() != int(meta["last"]):
            return False
        for name in _CODED:
            low, top = pc.min_max(table.column(name)).values()
            if top.is_valid and not 0 <= low.as_py() <= top.as_py() < len(words[name]):
                return False
    except (KeyError, TypeError, ValueError, pa.ArrowException):
        return False
    return True


def _save(path: str, table: pa.Table, meta: Mapping[str, Any], like: str) -> bool:
    """Write a cache file atomically (a temporary file renamed over it), readable by
    whoever may read the database ``like``; False when it could not be written."""
    folder = os.path.dirname(path) or "."
    schema = _SCHEMA.with_metadata({_CACHE_KEY: json.dumps(meta).encode()})
    tmp: str | None = None
    try:
        handle, tmp = tempfile.mkstemp(
            prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder
        )
        os.close(handle)
        os.chmod(tmp, stat.S_IMODE(os.stat(like).st_mode) & 0o666)
        with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            writer.write_table(table.cast(_SCHEMA), max_chunksize=_BATCH)
        os.replace(tmp, path)
        tmp = None
    except (OSError, pa.ArrowException):
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return True


def _hash_at(conn: Connection, eco: int, seq: int) -> str | None:
    return conn.execute(
        select(ledger_event.c.hash).where(
            ledger_event.c.ecosystem_id == eco, ledger_event.c.seq == seq
        )
    ).scalar_one_or_none()


def ledger_events(conn: Connection, name: str) -> LedgerEvents:
    """The events of ``name`` that the caller's transaction sees, as a coded table
    (see the module's notes: from a SQLite file, through the cache)."""
    eco = ecosystem_id(conn, name)
    last, digest = _head(conn, eco)
    database = _sqlite_file(conn)
    if database is None or last == 0:
        table, words = _in_order(*_unify([_read_here(conn, eco, 0, last)] if last else [], {}))
        return LedgerEvents(table, words, last, "read through the connection")
    base_path, tail_path = _cache_paths(database, eco)
    key = {"format": _CACHE_FORMAT, "ecosystem": name, "ecosystem_id": eco}
    cached = _cached(conn, eco, key, base_path, tail_path, last)
    if cached is None:  # nothing usable: read everything, cache it
        table, words = _in_order(*_unify(_read_new(conn, database, eco, 0, last), {}))
        meta = {**key, "last": last, "hash": digest, "words": words}
        saved = _save(base_path, table, meta, database)
        with contextlib.suppress(OSError):
            os.unlink(tail_path)
        return LedgerEvents(table, words, last, "read" + (", cached" if saved else ""))
    base, base_meta, tail, words, have = cached
    if have == last:
        table = base if tail is None else pa.concat_tables([base, tail])
        return LedgerEvents(table, words, last, "cache")
    added, words = _unify(_read_new(conn, database, eco, have, last), words)
    tail = added if tail is None else pa.concat_tables([tail, added])
    table = pa.concat_tables([base, tail])
    if tail.num_rows * 8 > base.num_rows:  # merge the tail into the first file
        table, words = _in_order(table, words)
        meta = {**key, "last": last, "hash": digest, "words": words}
        if _save(base_path, table, meta, database):
            with contextlib.suppress(OSError):
                os.unlink(tail_path)
    else:  # new words, if any, follow the others: not in order (the planner copes)
        meta = {**key, "last": last, "hash": digest, "words": words}
        meta["base"] = [base_meta["last"], base_meta["hash"]]
        _save(tail_path, tail, meta, database)
    return LedgerEvents(table, words, last, f"cache and {last - have:,} new events")


def _cached(
    conn: Connection,
    eco: int,
    key: Mapping[str, Any],
    base_path: str,
    tail_path: str,
    last: int,
) -> tuple[pa.Table, dict[str, Any], pa.Table | None, dict[str, list[str]], int] | None:
    """The usable cache: the first file's table and key, the tail's table (None
    without one), the word lists and the last seq they hold; None if unusable."""
    loaded = _load(base_path)
    if loaded is None:
        return None
    base, meta = loaded
    if any(meta.get(k) != v for k, v in key.items()) or not _sound(base, meta, 0):
        return None
    have, words = int(meta["last"]), meta["words"]
    if have > last or _hash_at(conn, eco, have) != meta["hash"]:
        return None
    tail: pa.Table | None = None
    found = _load(tail_path)
    if found is not None:
        rows, tail_meta = found
        if (
            all(tail_meta.get(k) == v for k, v in key.items())
            and tail_meta.get("base") == [meta["last"], meta["hash"]]
            and _sound(rows, tail_meta, have)
            and all(tail_meta["words"][name][: len(words[name])] == words[name] for name in _CODED)
            and int(tail_meta["last"]) <= last
            and _hash_at(conn, eco, int(tail_meta["last"])) == tail_meta["hash"]
        ):
            tail, have, words = rows, int(tail_meta["last"]), tail_meta["words"]
    return base, meta, tail, words, have


def _read_new(conn: Connection, database: str, eco: int, lo: int, hi: int) -> list[pa.Table]:
    """Events ``lo`` < seq <= ``hi``, encoded: a few through the caller's connection,
    more in processes of their own (or through the connection if those fail)."""
    if hi - lo >= _READ_HERE:
        parts = _read_apart(database, eco, lo, hi)
        if parts is not None and sum(p.num_rows for p in parts) == hi - lo:
            return parts
    return [_read_here(conn, eco, lo, hi)] if hi > lo else []


# -- planning ------------------------------------------------------------------------------
def _quote(text: str) -> str:
    """A SQL string literal (kinds of contribution are the users' words)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class AllPlans:
    """Plans for every opportunity with income, and those that could not be planned."""

    ecosystem: str
    plans: dict[str, Plan]
    refused: dict[str, str]
    path: str  # "columnar" or "per opportunity"
    seconds: dict[str, float] = field(default_factory=dict)  # per step
    source: str = ""  # where the events were read from (see ledger_events)


def _sql_of(formula: str) -> str | None:
    from ..ledger import compile_formula

    return compile_formula(formula).sql({"quantity": "q", "value": "v", "hours": "h", "rate": "r"})


def _names(formula: str) -> frozenset[str]:
    from ..ledger import compile_formula

    return frozenset(compile_formula(formula).names)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (see the module's notes); reference
    counting still frees what is dropped.

    Resumed, it would find millions of young objects and examine them twice, as
    the youngest generation and again as the middle one; one collection of both
    young generations at once examines them once (the old one is left alone).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)


@contextlib.contextmanager
def _quick_handover() -> Iterator[None]:
    """Let a thread waiting for the GIL have it within 0.2 ms instead of 5 ms.

    DuckDB's client takes the GIL briefly and often while a query runs; with the
    default interval, a query beside a busy Python thread waits about as long as
    that thread runs (measured: 0.12 s alone, 0.55 s beside a Python loop; 0.14 s
    with this). The interval only matters while a thread waits.
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0002))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


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
    if any(sql is None for sql in compiled.values()):
        return _one_by_one(conn, name, adjustments)
    started = time.perf_counter()
    events = ledger_events(conn, name)
    read = time.perf_counter() - started
    fields = frozenset().union(*(_names(text) for text in compiled))
    db = duckdb.connect()
    try:
        result = _columnar(conn, db, name, events, stored, mappings, compiled, fields, adjustments)
    finally:
        db.close()
    return replace(result, seconds={"read snapshot": read, **result.seconds}, source=events.source)


def _one_by_one(
    conn: Connection,
    name: str,
    adjustments: Mapping[str, Mapping[str, Decimal]],
) -> AllPlans:
    eco = ecosystem_id(conn, name)
    opportunities = conn.execute(
        select(ledger_event.c.opportunity)
        .where(
            ledger_event.c.ecosystem_id == eco,
            ledger_event.c.action == "income",
            ledger_event.c.opportunity.is_not(None),
        )
        .distinct()
        .order_by(ledger_event.c.opportunity)
    ).scalars()
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


class _Codes:
    """SQL for codes of the words of one coded column (-1: a word never used)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.index = {w: i for i, w in enumerate(words)}

    def of(self, word: str) -> int:
        return self.index.get(word, -1)

    def among(self, words: Iterable[str]) -> str:
        return "(" + ", ".join(str(self.of(w)) for w in sorted(words)) + ")"


_SETUP = """
CREATE TEMP TABLE cancelled AS SELECT DISTINCT reverses AS seq FROM e WHERE reverses > 0;
CREATE TEMP TABLE opp AS
SELECT opportunity,
       coalesce(sum(value) FILTER (WHERE action = {income}), 0) AS income,
       coalesce(sum(value) FILTER (WHERE action = {allocation}), 0) AS allocated,
       max(seq) FILTER (WHERE action = {allocation}) AS last_allocation,
       list(DISTINCT currency) FILTER (
           WHERE action = {income} AND value IS NOT NULL AND currency IS NOT NULL
       ) AS currencies
FROM e
WHERE opportunity IS NOT NULL AND action IN ({income}, {allocation})
GROUP BY opportunity;
"""


def _columnar(
    conn: Connection,
    db: duckdb.DuckDBPyConnection,
    name: str,
    events: LedgerEvents,
    stored: list[StoredEquation],
    mappings: list[dict[str, str]],
    compiled: Mapping[str, str | None],
    fields: frozenset[str],
    adjustments: Mapping[str, Mapping[str, Decimal]],
) -> AllPlans:
    """Claims summed by DuckDB, split by Python, in parts of the opportunities: DuckDB
    sums the next part in a thread of its own (it releases the GIL) while Python
    splits the one before, so the two overlap on two cores."""
    started = time.perf_counter()
    words = events.words
    action, unit = _Codes(words["action"]), _Codes(words["unit"])
    db.register("e", events.table)
    db.execute(_SETUP.format(income=action.of("income"), allocation=action.of("allocation")))
    hours = sorted(unit.index[u] for u in unit.index if u.strip().lower() in HOURS)
    columns = {
        "q": "coalesce(e.quantity, 0)",
        "v": "coalesce(e.value, 0)",
        "h": (
            f"CASE WHEN e.unit IN ({', '.join(map(str, hours))}) THEN coalesce(e.quantity, 0) "
            "ELSE CAST(0 AS DECIMAL(38, 6)) END"
            if hours
            else "CAST(0 AS DECIMAL(38, 6))"
        ),
        "r": "coalesce(CAST(r.rate AS DECIMAL(38, 6)), 0)",
    }
    rates = ""
    if "rate" in fields:
        agents = _Codes(words["agent"])
        known = {agents.of(a): r for a, r in _rates(conn, ecosystem_id(conn, name)).items()}
        known.pop(-1, None)
        db.register(
            "rates",
            pa.table(
                {
                    "agent": pa.array(list(known), pa.int32()),
                    "rate": pa.array([str(r) for r in known.values()], pa.string()),
                }
            ),
        )
        rates = "LEFT JOIN rates r USING (agent)"
    used = {"q": "quantity", "v": "value", "h": "hours", "r": "rate"}
    # a claim column per mapping that credits a kind present: per event, summed per group
    # (a negative event makes the whole claim negative: the split refuses it), as text
    # for Python's Decimal (converting text is cheaper than DuckDB's DECIMAL to Python)
    claimed: list[dict[int, str]] = []
    sums = ""
    for m in mappings:
        codes = {action.of(kind): text for kind, text in sorted(m.items()) if action.of(kind) >= 0}
        if codes:
            whens = " ".join(f"WHEN {code} THEN {compiled[text]}" for code, text in codes.items())
            x = f"CASE action {whens} END"
            sums += f", CAST(CASE WHEN min({x}) < 0 THEN min({x}) ELSE sum({x}) END AS VARCHAR)"
            claimed.append(codes)
    selected = "".join(f", {sql} AS {col}" for col, sql in columns.items() if used[col] in fields)
    claims = f"""
        WITH c AS (
          SELECT e.opportunity, e.agent, e.action, e.seq,
                 (o.last_allocation IS NOT NULL AND e.seq < o.last_allocation) AS counted
                 {selected}
          FROM e JOIN opp o USING (opportunity) {rates}
          WHERE e.opportunity BETWEEN $lo AND $hi
            AND e.action NOT IN {action.among(NOT_CONTRIBUTIONS)}
            AND e.reverses = 0 AND e.seq NOT IN (SELECT seq FROM cancelled)
            AND (e.quantity IS NOT NULL OR e.value IS NOT NULL)
            AND o.income - o.allocated > 0
        )
        SELECT opportunity, agent, action, counted, count(*) AS n, min(seq) AS first {sums}
        FROM c GROUP BY opportunity, agent, action, counted
        ORDER BY opportunity, agent, action, counted
        """
    opps = [
        row
        for row in db.execute(
            "SELECT opportunity, income, allocated, last_allocation, currencies FROM opp "
            "ORDER BY opportunity"
        ).fetchall()
        if row[1] != 0 or row[2] != 0
    ]
    received_rows = db.execute(
        f"SELECT opportunity, agent, unit, sum(value) FROM e "
        f"WHERE action = {action.of('allocation')} AND unit IS NOT NULL "
        "AND value IS NOT NULL GROUP BY ALL"
    ).fetchall()
    leaver_rows = db.execute(
        f"SELECT opportunity, agent, bool_or(action = {action.of('leaveAtFault')}) FROM e "
        f"WHERE action IN {action.among(('leave', 'leaveAtFault'))} AND reverses = 0 "
        "AND seq NOT IN (SELECT seq FROM cancelled) GROUP BY ALL"
    ).fetchall()
    planner = _Planner(conn, name, words, stored, claimed, received_rows, leaver_rows, adjustments)
    cuts = [round(len(opps) * share) for share in _PARTS]
    parts = [opps[a:b] for a, b in pairwise(cuts) if b > a]
    # one core for the Python split, the others for DuckDB meanwhile
    db.execute(f"SET threads = {max(1, (os.cpu_count() or 1) - 1)}")

    def sums_of(part: list[tuple[Any, ...]]) -> pa.Table:
        # Arrow out: no Python objects made in this thread, which would need the GIL
        return db.sql(claims, params={"lo": part[0][0], "hi": part[-1][0]}).to_arrow_table()

    waited = time.perf_counter() - started
    with _collector_paused(), _quick_handover(), ThreadPoolExecutor(max_workers=1) as pool:
        ahead = [pool.submit(sums_of, part) for part in parts[:1]]
        for i, part in enumerate(parts):
            before = time.perf_counter()
            sums = ahead[i].result()
            waited += time.perf_counter() - before
            if i + 1 < len(parts):
                ahead.append(pool.submit(sums_of, parts[i + 1]))
            planner.plan(part, sums)
        planned = time.perf_counter()
    seconds = {
        "DuckDB (not overlapped)": waited,
        **planner.seconds,
        "garbage collection": time.perf_counter() - planned,
    }
    return AllPlans(name, dict(sorted(planner.plans.items())), planner.refused, "columnar", seconds)


#: Where the parts of the opportunities that DuckDB sums one after the other begin
#: and end (see _columnar): a small first part, since Python waits for it.
_PARTS = (0, 1 / 32, 1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8, 7 / 8, 1)


class _Planner:
    """DuckDB's sums, a part of the opportunities at a time, as contributions, then
    each opportunity's plan (the same :func:`plan_from` as one opportunity's)."""

    def __init__(
        self,
        conn: Connection,
        name: str,
        words: Mapping[str, list[str]],
        stored: list[StoredEquation],
        claimed: list[dict[int, str]],
        received_rows: Sequence[tuple[Any, ...]],
        leaver_rows: Sequence[tuple[Any, ...]],
        adjustments: Mapping[str, Mapping[str, Decimal]],
    ) -> None:
        self.name = name
        self.words = words
        self.claimed = claimed
        self.adjustments = adjustments
        self.index = EquationIndex(stored)
        self.default_currency = _eco_currency(conn, name)
        agent_of, unit_of = words["agent"], words["unit"]
        self.received: dict[int, dict[tuple[str, str], Decimal]] = {}
        for opportunity, agent, unit, total in received_rows:
            self.received.setdefault(opportunity, {})[(agent_of[agent], unit_of[unit])] = total
        self.leavers: dict[int | None, dict[str, bool]] = {}
        for opportunity, agent, at_fault in leaver_rows:
            self.leavers.setdefault(opportunity, {})[agent_of[agent]] = bool(at_fault)
        self.plans: dict[str, Plan] = {}
        self.refused: dict[str, str] = {}
        self.seconds = {"group claims (Python)": 0.0, "split (Python)": 0.0}

    def contributions(self, sums: pa.Table) -> dict[int, list[Contribution]]:
        """Each opportunity's contributions from DuckDB's sums: one per participant,
        kind and counted, in that order, with the claim of each formula that credits
        the kind."""
        agent_of, action_of = self.words["agent"], self.words["action"]
        columns = [column.to_pylist() for column in sums.columns]
        claims_of = columns[6:]
        found: dict[int, list[Contribution]] = {}
        for i, (opportunity, agent_code, action_code, counted, n, first) in enumerate(
            zip(*columns[:6], strict=True)
        ):
            kind = action_of[action_code]
            claims: dict[str, Decimal] = {}
            for codes, values in zip(self.claimed, claims_of, strict=True):
                text, value = codes.get(action_code), values[i]
                if text is not None and value is not None:
                    claims[text] = Decimal(value)
            found.setdefault(opportunity, []).append(
                Contribution(
                    agent=agent_of[agent_code],
                    kind=kind,
                    id=f"{n} {kind} event{'s' if n != 1 else ''} from #{first}",
                    claim=claims,
                    events=n,
                    counted=counted,
                )
            )
        # DuckDB ordered them by codes: by the texts too, unless a tail added words
        if not all(self.words[n] == sorted(self.words[n]) for n in ("agent", "action")):
            for group in found.values():
                group.sort(key=lambda c: (c.agent, c.kind, c.counted))
        return found

    def plan(self, opps: Sequence[tuple[Any, ...]], sums: pa.Table) -> None:
        """Plan the opportunities ``opps`` (rows of DuckDB's ``opp``) from their ``sums``."""
        started = time.perf_counter()
        groups = self.contributions(sums)
        grouped = time.perf_counter()
        opportunity_of, currency_of = self.words["opportunity"], self.words["currency"]
        network_leavers = self.leavers.get(None, {})
        for code, income, allocated, last_allocation, currency_codes in opps:
            opportunity = opportunity_of[code]
            currencies = sorted(currency_of[c] for c in currency_codes or ())
            try:
                if len(currencies) > 1:
                    raise DistributionError(
                        f"opportunity {opportunity}: income in several currencies "
                        f"({', '.join(currencies)}); record each opportunity's income in one"
                    )
                leavers = {**network_leavers}
                for agent, at_fault in self.leavers.get(code, {}).items():
                    leavers[agent] = leavers.get(agent, False) or at_fault
                state = Pending(
                    opportunity,
                    income,
                    allocated,
                    currencies[0] if currencies else None,
                    tuple(groups.get(code, ())),
                    self.received.get(code, {}),
                    leavers,
                    last_allocation,
                )
                self.plans[opportunity] = plan_from(
                    self.name,
                    state,
                    self.index.found(opportunity),
                    self.default_currency,
                    self.adjustments.get(opportunity, {}),
                )
            except DistributionError as exc:
                self.refused[opportunity] = str(exc)
        self.seconds["group claims (Python)"] += grouped - started
        self.seconds["split (Python)"] += time.perf_counter() - grouped
