"""The ledger in the store: append-only, hash-chained events, one chain per ecosystem.

Events are numbered ``seq`` = 1, 2, ... per ecosystem, without gaps, and
chained by :func:`glia.ledger.chain` from the last stored hash. Nothing here
updates or deletes an event: a correction is a new event that ``reverses`` an
earlier one (:func:`reverse`), and an event is reversed at most once.

Writing. :func:`record` checks every event given and writes all of them in one
transaction, or none (:class:`LedgerError` lists every problem, naming the
event by its 1-based position, the field, and what was expected). Before it
reads the last event, it takes the ecosystem's write lock, so that two
appends running at once cannot both chain from the same event: on PostgreSQL
``SELECT ... FOR UPDATE`` on the ecosystem's row; on SQLite, whose ``BEGIN``
is deferred, a first statement that writes (a no-op ``UPDATE`` of that row),
which takes the database's write lock as ``BEGIN IMMEDIATE`` would. The
unique key ``(ecosystem_id, seq)`` backs this up.

Verifying. :func:`check` reads an ecosystem's events in *insertion order*:
by the surrogate key ``id``, which grows as rows are inserted and is never
reused, and not by ``seq``. Ordering by ``seq`` would put rows whose contents
or numbers were swapped in place back in order and hide the swap. Then
:func:`glia.ledger.verify` walks the chain. A chain cut after its last event
is still a valid chain, so the number of events recorded is also kept apart
from the events, under ``ledger`` in the ecosystem's ``counts``; fewer stored
events than that names the removed tail ("event N removed"). Whoever can write
the database can also rewrite that count and re-hash the chain: the last hash
that ``glia ledger verify`` prints is the anchor to keep elsewhere.

The chain hashes the ecosystem's *name*, and the agent and opportunity as
given (text, not references into the map), so the ledger keeps its meaning
when the map changes.

Verifying fast, on a SQLite file. The walk above reads each row through
SQLAlchemy into an :class:`~glia.ledger.Event` and encodes it in Python: about
10 microseconds an event, 100 s for ten million. On a SQLite *file* (not in
memory, not PostgreSQL), :func:`check` takes a fast path instead that gives
the same :class:`LedgerCheck` (the same count, last hash and first break, with
the same kind and message), written here by hand because no library hashes a
chain over a table:

- SQLite itself builds each event's canonical encoding (:data:`_ENCODING`):
  ``json_quote`` escapes text exactly as :func:`json.dumps` does with
  ``ensure_ascii=False``; amounts are stored as written (``7.50`` stays
  ``7.50``) and the SQL writes them as the encoding does (``7.5``, ``-0`` as
  ``0``); times are stored as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC.
- The ADBC SQLite driver streams, in id order, batches of ``(id, seq, hash,
  prev_hash, encoding)`` as Arrow arrays. Python hashes each encoding with
  :mod:`hashlib` (about a microsecond an event, the one loop over rows); the
  comparisons (hash, link to the previous hash, seq against its position) are
  whole-batch array operations.
- An event whose hash does not match the SQL encoding is read again through
  the walk's own code (SQLAlchemy, :class:`~glia.ledger.Event`,
  :func:`~glia.ledger.canonical`) before it counts as altered, so that text
  stored in a form the SQL does not anticipate (only tampering writes such)
  is judged exactly as the walk judges it.
- The first failing event is classified as :func:`glia.ledger.verify` does:
  a seq out of place is *reordered* when the expected seq is stored elsewhere
  (an indexed lookup), *removed* otherwise; then *altered*, then *relinked*.
  Then the ``counts["ledger"]`` rule, shared with the walk.
- Ids are cut into chunks. From a million ids on, processes started for the
  purpose (``spawn``; the driver holds the GIL while it reads, so threads
  would not help) scan chunks from the first while the caller scans from the
  last. Each chunk reports its count, first seq and previous hash, last hash
  and first local failure; the caller stitches them in order.

One state of the database: the caller's transaction and the fast path's own
connection must see the same ledger, so the ecosystem's counts and the first
and last ids of its events are read in both, and any difference (the caller's
transaction wrote events, or began before an append committed) sends the
check down the walk, in the caller's transaction. The other processes read
with connections, and so snapshots, of their own, bounded by those ids: the
store never updates or deletes an event, and an id is never reused
(``AUTOINCREMENT``), so an append committed meanwhile adds rows above the last
id, which no chunk reads, and cannot make an intact chain look broken. Only
deleting the ecosystem (``Store.delete``) removes rows; each chunk reads the
ecosystem's row in its own snapshot, and one that saw it gone, or replaced,
sends the check down the walk. Should the driver be missing or the database
refuse (a lock, an unexpected type), the walk answers too; ``LedgerCheck.path``
says which way was taken.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, delete, insert, select, text, update

from ..ledger import ACTIONS, GENESIS, Break, Event, chain, verify
from ..model import MAX_PROBLEMS, NO_VALUE, InvalidInput, Location, Problem, format_value
from ._reader import UnknownEcosystem, ecosystem_id, list_ecosystems
from ._tables import ecosystem, ledger_event

__all__ = [
    "CSV_COLUMNS",
    "LedgerCheck",
    "LedgerError",
    "LedgerProblem",
    "NewEvent",
    "ParsedEvents",
    "check",
    "delete_events",
    "import_events",
    "read_events",
    "read_events_csv",
    "record",
    "reverse",
]

#: Limits of the text columns (see ``glia.store._tables.ledger_event``).
NAME_LIMIT = 200
UNIT_LIMIT = 60
#: Amounts: at most this many decimal places and digits before the point.
PLACES = 6
INTEGER_DIGITS = 18
#: The key of ``ecosystem.counts`` that holds the number of events recorded.
COUNT_KEY = "ledger"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class NewEvent:
    """An event to record: an :class:`~glia.ledger.Event` without ``seq``, hashes or ecosystem.

    ``quantity`` and ``value`` are exact :class:`~decimal.Decimal` numbers;
    ``currency`` defaults to the ecosystem's when a value is given;
    ``reverses`` is the ``seq`` of the event this one corrects;
    ``recorded_at`` must carry a time zone and defaults to now (UTC).
    """

    action: str
    agent: str
    recorded_by: str
    opportunity: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    value: Decimal | None = None
    currency: str | None = None
    note: str | None = None
    evidence: str | None = None
    reverses: int | None = None
    recorded_at: dt.datetime = field(default_factory=_now)


#: The columns a CSV file of events may have: the fields of :class:`NewEvent`.
CSV_COLUMNS = tuple(f.name for f in fields(NewEvent))


@dataclass(frozen=True)
class LedgerProblem:
    """One thing wrong with an event given to :func:`record`.

    ``event`` is its 1-based position among the events given, ``field`` the
    field at fault, ``value`` what was found, ``expected`` what would do.
    """

    event: int
    field: str
    value: Any
    expected: str

    def describe(self) -> str:
        """The problem without the event's position."""
        got = "nothing" if self.value is None else format_value(self.value)
        return f"field {self.field}: got {got}, expected {self.expected}"

    def __str__(self) -> str:
        return f"event {self.event}, {self.describe()}"


class LedgerError(ValueError):
    """Events that cannot be recorded; nothing was written. ``problems`` lists them all."""

    def __init__(self, problems: Iterable[LedgerProblem], message: str | None = None) -> None:
        self.problems = list(problems)
        if message is None:
            n = len(self.problems)
            lines = [f"{n} problem{'s' if n != 1 else ''} in the events; nothing was written"]
            lines += [f"  {p}" for p in self.problems[:20]]
            if n > 20:
                lines.append(f"  ... and {n - 20} more")
            message = "\n".join(lines)
        super().__init__(message)


@dataclass(frozen=True)
class LedgerCheck:
    """What :func:`check` found: the events stored, the last hash, the first break."""

    ecosystem: str
    events: int
    last_hash: str
    broken: Break | None
    #: How it was found: ``"fast"`` (SQL and Arrow, on a SQLite file) or ``"walk"``;
    #: both give the same result, so results compare equal whichever way they came.
    path: str = field(default="walk", compare=False)

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(frozen=True)
class _Eco:
    id: int
    name: str
    currency: str | None
    counts: dict[str, Any]


# -- reading rows ------------------------------------------------------------------------
_EVENT_COLUMNS = (
    ledger_event.c.seq,
    ledger_event.c.action,
    ledger_event.c.agent,
    ledger_event.c.recorded_by,
    ledger_event.c.recorded_at,
    ledger_event.c.opportunity,
    ledger_event.c.quantity,
    ledger_event.c.unit,
    ledger_event.c.value,
    ledger_event.c.currency,
    ledger_event.c.note,
    ledger_event.c.evidence,
    ledger_event.c.reverses,
    ledger_event.c.prev_hash,
    ledger_event.c.hash,
)


def _utc(value: dt.datetime) -> dt.datetime:
    """A stored time in UTC (SQLite gives it back without its zone; it was stored in UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _event(row: Row[Any], name: str) -> Event:
    return Event(
        seq=row.seq,
        ecosystem=name,
        action=row.action,
        agent=row.agent,
        recorded_by=row.recorded_by,
        recorded_at=_utc(row.recorded_at),
        opportunity=row.opportunity,
        quantity=row.quantity,
        unit=row.unit,
        value=row.value,
        currency=row.currency,
        note=row.note,
        evidence=row.evidence,
        reverses=row.reverses,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _eco(conn: Connection, name: str, lock: bool) -> _Eco:
    """The ecosystem's row; with ``lock``, after taking the ecosystem's write lock."""
    if lock and conn.dialect.name == "sqlite":
        # The store's BEGIN is deferred: a write first takes SQLite's write
        # lock for the whole transaction, before anything is read.
        conn.execute(
            update(ecosystem).where(ecosystem.c.name == name).values(counts=ecosystem.c.counts)
        )
    query = select(ecosystem.c.id, ecosystem.c.name, ecosystem.c.currency, ecosystem.c.counts)
    query = query.where(ecosystem.c.name == name)
    if lock:
        query = query.with_for_update()  # PostgreSQL; SQLite leaves it out
    row = conn.execute(query).one_or_none()
    if row is None:
        raise UnknownEcosystem(name, [e.name for e in list_ecosystems(conn)])
    return _Eco(row.id, row.name, row.currency, dict(row.counts or {}))


def _head(conn: Connection, eco_id: int) -> tuple[int, str]:
    """The last event's seq and hash (0 and the genesis hash when there is none)."""
    row = conn.execute(
        select(ledger_event.c.seq, ledger_event.c.hash)
        .where(ledger_event.c.ecosystem_id == eco_id)
        .order_by(ledger_event.c.seq.desc())
        .limit(1)
    ).one_or_none()
    return (0, GENESIS) if row is None else (row.seq, row.hash)


def _reversed_by(conn: Connection, eco_id: int, seqs: set[int]) -> dict[int, int]:
    """For those of ``seqs`` already reversed, the seq of the event reversing each."""
    found: dict[int, int] = {}
    wanted = sorted(seqs)
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(ledger_event.c.reverses, ledger_event.c.seq).where(
                ledger_event.c.ecosystem_id == eco_id,
                ledger_event.c.reverses.in_(wanted[start : start + 500]),
            )
        )
        for target, seq in rows:
            found.setdefault(target, seq)
    return found


# -- checking events ---------------------------------------------------------------------
def _text(
    pos: int, name: str, value: object, limit: int | None, required: bool, what: str
) -> LedgerProblem | None:
    if value is None and not required:
        return None
    if (
        not isinstance(value, str)
        or not value.strip()
        or (limit is not None and len(value) > limit)
        or "\x00" in value
    ):
        return LedgerProblem(pos, name, value, what)
    return None


def _amount(pos: int, name: str, value: object) -> LedgerProblem | None:
    if value is None:
        return None
    if not isinstance(value, Decimal):
        expected = "an exact decimal number (a Decimal, e.g. Decimal('7.5'); floats are inexact)"
        return LedgerProblem(pos, name, value, expected)
    if not value.is_finite():
        return LedgerProblem(pos, name, value, "a finite decimal number")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > PLACES:
        return LedgerProblem(pos, name, value, f"at most {PLACES} decimal places")
    if value.adjusted() >= INTEGER_DIGITS:
        return LedgerProblem(pos, name, value, f"at most {INTEGER_DIGITS} digits before the point")
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(
    conn: Connection, eco: _Eco, events: Sequence[NewEvent], last_seq: int
) -> tuple[list[LedgerProblem], list[NewEvent]]:
    """Every problem of ``events`` (to be numbered after ``last_seq``); the events
    with the ecosystem's currency filled in where a value has none."""
    stored = {
        e.reverses
        for e in events
        if _is_int(e.reverses) and e.reverses is not None and 1 <= e.reverses <= last_seq
    }
    reversed_by = _reversed_by(conn, eco.id, stored) if stored else {}
    problems: list[LedgerProblem] = []
    ready: list[NewEvent] = []
    names = f"non-empty text of at most {NAME_LIMIT} characters"
    for pos, event in enumerate(events, 1):
        seq = last_seq + pos
        found: list[LedgerProblem | None] = []
        if event.action not in ACTIONS:
            found.append(LedgerProblem(pos, "action", event.action, f"one of {', '.join(ACTIONS)}"))
        who, by = f"a participant id, {names}", f"who recorded it, {names}"
        found.append(_text(pos, "agent", event.agent, NAME_LIMIT, True, who))
        found.append(_text(pos, "recorded_by", event.recorded_by, NAME_LIMIT, True, by))
        when = event.recorded_at
        if not isinstance(when, dt.datetime) or when.utcoffset() is None:
            expected = "a time with a time zone (an aware datetime)"
            found.append(LedgerProblem(pos, "recorded_at", when, expected))
        what = f"an opportunity id, {names}"
        found.append(_text(pos, "opportunity", event.opportunity, NAME_LIMIT, False, what))
        found.append(_amount(pos, "quantity", event.quantity))
        unit_text = f"a unit such as hour, non-empty text of at most {UNIT_LIMIT} characters"
        found.append(_text(pos, "unit", event.unit, UNIT_LIMIT, False, unit_text))
        found.append(_amount(pos, "value", event.value))
        currency = event.currency
        code = "a currency code of three capital letters, e.g. EUR"
        if currency is not None:
            if not (
                isinstance(currency, str)
                and len(currency) == 3
                and currency.isascii()
                and currency.isupper()
                and currency.isalpha()
            ):
                found.append(LedgerProblem(pos, "currency", currency, code))
        elif event.value is not None:
            if eco.currency is None:
                expected = f"{code} (a value needs one; the ecosystem has none to default to)"
                found.append(LedgerProblem(pos, "currency", None, expected))
            else:
                currency = eco.currency
        found.append(_text(pos, "note", event.note, None, False, "text"))
        found.append(_text(pos, "evidence", event.evidence, None, False, "text, e.g. a URL"))
        target = event.reverses
        if target is not None:
            if not _is_int(target) or not 1 <= target < seq:
                span = f"1 to {seq - 1}" if seq > 1 else "none yet"
                expected = f"the seq of an earlier event of this ledger ({span})"
                found.append(LedgerProblem(pos, "reverses", target, expected))
            elif target in reversed_by:
                expected = f"an event not yet reversed (event {reversed_by[target]} reverses it)"
                found.append(LedgerProblem(pos, "reverses", target, expected))
            else:
                reversed_by[target] = seq
        problems.extend(p for p in found if p is not None)
        ready.append(event if currency == event.currency else replace(event, currency=currency))
    return problems, ready


# -- writing -----------------------------------------------------------------------------
def _append(
    conn: Connection, eco: _Eco, events: Sequence[NewEvent], last_seq: int, last_hash: str
) -> list[Event]:
    """Number, chain and insert checked events; count them on the ecosystem's row."""
    if not events:
        return []
    raw = [
        Event(
            seq=last_seq + pos,
            ecosystem=eco.name,
            action=e.action,
            agent=e.agent,
            recorded_by=e.recorded_by,
            recorded_at=e.recorded_at.astimezone(dt.UTC),
            opportunity=e.opportunity,
            quantity=e.quantity,
            unit=e.unit,
            value=e.value,
            currency=e.currency,
            note=e.note,
            evidence=e.evidence,
            reverses=e.reverses,
        )
        for pos, e in enumerate(events, 1)
    ]
    linked = chain(raw, last_hash)
    names = [c.name for c in _EVENT_COLUMNS]
    rows = [{"ecosystem_id": eco.id, **{name: getattr(e, name) for name in names}} for e in linked]
    conn.execute(insert(ledger_event), rows)
    counts = {**eco.counts, COUNT_KEY: linked[-1].seq}
    conn.execute(update(ecosystem).where(ecosystem.c.id == eco.id).values(counts=counts))
    return linked


def record(conn: Connection, name: str, events: Sequence[NewEvent]) -> list[Event]:
    """Check and append ``events`` to the ledger of ``name``; all or nothing.

    Must run in a transaction that the caller rolls back on an exception.
    """
    eco = _eco(conn, name, lock=True)
    last_seq, last_hash = _head(conn, eco.id)
    problems, ready = _validate(conn, eco, events, last_seq)
    if problems:
        raise LedgerError(problems)
    return _append(conn, eco, ready, last_seq, last_hash)


def reverse(
    conn: Connection, name: str, seq: int, recorded_by: str, note: str | None = None
) -> Event:
    """Append the event reversing event ``seq``: the same action, agent,
    opportunity, unit and currency, the quantity and value negated."""
    eco = _eco(conn, name, lock=True)
    last_seq, last_hash = _head(conn, eco.id)
    row = None
    if _is_int(seq):
        row = conn.execute(
            select(*_EVENT_COLUMNS).where(
                ledger_event.c.ecosystem_id == eco.id, ledger_event.c.seq == seq
            )
        ).one_or_none()
    if row is None:
        span = f"it has events 1 to {last_seq}" if last_seq else "it has no events"
        expected = f"the seq of an event of this ledger ({span})"
        problem = LedgerProblem(1, "reverses", seq, expected)
        message = f"cannot reverse event {seq}: no such event in {name} ({span})"
        raise LedgerError([problem], message)
    original = _event(row, eco.name)
    undo = NewEvent(
        action=original.action,
        agent=original.agent,
        recorded_by=recorded_by,
        opportunity=original.opportunity,
        quantity=None if original.quantity is None else original.quantity.copy_negate(),
        unit=original.unit,
        value=None if original.value is None else original.value.copy_negate(),
        currency=original.currency,
        note=note,
        reverses=seq,
    )
    problems, ready = _validate(conn, eco, [undo], last_seq)
    if problems:
        details = "; ".join(p.describe() for p in problems)
        raise LedgerError(problems, f"cannot reverse event {seq} of {name}: {details}")
    return _append(conn, eco, ready, last_seq, last_hash)[0]


def delete_events(conn: Connection, eco_id: int) -> None:
    """Remove an ecosystem's events: only when the ecosystem itself is deleted."""
    conn.execute(delete(ledger_event).where(ledger_event.c.ecosystem_id == eco_id))


# -- reading and verifying ---------------------------------------------------------------
def read_events(conn: Connection, name: str, opportunity: str | None = None) -> list[Event]:
    """The events of ``name`` in seq order (of one opportunity, if given), in one query."""
    eco = ecosystem_id(conn, name)
    query = select(*_EVENT_COLUMNS).where(ledger_event.c.ecosystem_id == eco)
    if opportunity is not None:
        query = query.where(ledger_event.c.opportunity == opportunity)
    return [_event(row, name) for row in conn.execute(query.order_by(ledger_event.c.seq))]


def check(conn: Connection, name: str, fast: bool = True) -> LedgerCheck:
    """Verify the chain of ``name`` as stored, in insertion order (see the module's notes).

    Run it in a transaction that sees one state of the database, or an append
    committed between the two reads could look like tampering. On a SQLite
    file the fast path answers (``fast=False`` forces the walk); both give
    the same result.
    """
    eco = _eco(conn, name, lock=False)
    if fast:
        found = _fast_check(conn, eco)
        if found is not None:
            return found
    return _walk_check(conn, eco)


def _walk_check(conn: Connection, eco: _Eco) -> LedgerCheck:
    """The walk: every event read into an :class:`~glia.ledger.Event`, then :func:`verify`."""
    rows = conn.execute(
        select(*_EVENT_COLUMNS)
        .where(ledger_event.c.ecosystem_id == eco.id)
        .order_by(ledger_event.c.id)
    )
    events = [_event(row, eco.name) for row in rows]
    broken = verify(events)
    last = max((e.seq for e in events), default=0)
    if broken is None:
        broken = _counted(eco, last)
    return LedgerCheck(eco.name, len(events), events[-1].hash if events else GENESIS, broken)


def _counted(eco: _Eco, last: int) -> Break | None:
    """The break that ``counts["ledger"]`` shows in a chain intact up to event ``last``."""
    counted = eco.counts.get(COUNT_KEY)
    if not isinstance(counted, int) or counted == last:
        return None
    if counted > last:
        gone = f"event {last + 1}" if counted == last + 1 else f"events {last + 1} to {counted}"
        message = f"{gone} removed: {counted} events were recorded, the last one stored is {last}"
        return Break(last + 1, "removed", message)
    message = (
        f"event {counted + 1} not recorded through the ledger: "
        f"{counted} events were recorded, {last} are stored"
    )
    return Break(counted + 1, "added", message)


# -- verifying fast, on a SQLite file (see the module's notes) -----------------------------
#: Ids per chunk, the unit of work shared between processes.
_FAST_CHUNK_IDS = 250_000
#: From this many ids spanned, other processes help (starting one costs about a second).
_FAST_PARALLEL_IDS = 1_000_000
#: At most this many processes in all, the caller's included.
_FAST_MAX_PROCESSES = 4
#: Rows per Arrow batch read from SQLite.
_FAST_BATCH_ROWS = 8192


def _amount_json(column: str) -> str:
    """SQL for a stored amount as the canonical encoding writes it: a JSON string of
    the plain number without trailing zeros (``"7.5"``, ``"-0"`` as ``"0"``), or null."""
    return (
        f"coalesce('\"' || iif({column} GLOB '-0*' AND NOT {column} GLOB '*[1-9]*', '0', "
        f"iif(instr({column}, '.'), rtrim(rtrim({column}, '0'), '.'), {column})) || '\"', "
        "'null')"
    )


#: SQL for ``prev_hash + "\\n" + canonical(event)`` (:func:`glia.ledger.canonical`): the
#: fields in :data:`glia.ledger.HASHED` order; the one parameter is the ecosystem's name
#: as JSON. Actions and currency codes are quoted without escaping: the store writes
#: none that needs it (a tampered one fails the hash and is judged by the walk's code).
_ENCODING = (
    "concat(prev_hash, char(10), '[', concat_ws(',', seq, ?, "
    "'\"' || action || '\"', json_quote(agent), json_quote(recorded_by), "
    "'\"' || replace(recorded_at, ' ', 'T') || 'Z\"', json_quote(opportunity), "
    f"{_amount_json('quantity')}, json_quote(unit), {_amount_json('value')}, "
    "coalesce('\"' || currency || '\"', 'null'), json_quote(note), json_quote(evidence), "
    "coalesce(reverses, 'null')), ']')"
)
#: A chunk's events in insertion order (``+ecosystem_id``: by the primary key's range,
#: not by an index on the ecosystem).
_CHUNK_QUERY = (
    f"SELECT id, seq, hash, prev_hash, CAST({_ENCODING} AS BLOB) FROM ledger_event "
    "WHERE +ecosystem_id = ? AND id BETWEEN ? AND ? ORDER BY id"
)


def _first_and_last_ids(param: str) -> str:
    """SQL for the first and last ids of an ecosystem's events (``param`` names its id)."""
    return (
        f"(SELECT id FROM ledger_event WHERE +ecosystem_id = {param} ORDER BY id LIMIT 1), "
        f"(SELECT id FROM ledger_event WHERE +ecosystem_id = {param} ORDER BY id DESC LIMIT 1)"
    )


class _FastPathUnavailable(Exception):
    """The fast path could not run (driver, database); the walk answers instead."""


class _Stop(NamedTuple):
    """A chunk's first event failing a check that needs nothing outside the chunk."""

    at: int  # position in the chunk
    seq: int
    seq_ok: bool  # seq is the chunk's first seq plus the position
    hash_ok: bool  # else the link to the event before it in the chunk is broken


@dataclass(frozen=True)
class _Span:
    """What a chunk of ids holds, for :func:`_fast_check` to stitch to its neighbours."""

    rows: int
    first_seq: int
    first_prev: str
    last_hash: str
    stop: _Stop | None
    seen: tuple[str, str] | None  # the ecosystem's name and creation time, in this snapshot


def _sqlite_file(conn: Connection) -> str | None:
    """The absolute path of the SQLite file behind ``conn``, or None."""
    url = conn.engine.url
    if conn.dialect.name != "sqlite" or url.query.get("uri"):
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).resolve()
    return str(path) if path.is_file() else None


def _adbc(path: str) -> Any:
    """A read connection to ``path`` through the ADBC driver; not autocommit, so
    that its statements share one read transaction, one snapshot."""
    import adbc_driver_sqlite.dbapi as adbc

    db = adbc.connect(path)
    with db.cursor() as cur:
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.fetchall()
    return db


def _unavailable() -> tuple[type[BaseException], ...]:
    """The errors that send a check down the walk instead (driver and database trouble)."""
    from concurrent.futures.process import BrokenProcessPool

    import adbc_driver_manager
    import pyarrow

    return (
        _FastPathUnavailable,
        adbc_driver_manager.Error,
        pyarrow.ArrowException,
        OSError,
        BrokenProcessPool,
    )


def _exact(conn: Connection, name: str, ids: list[int]) -> set[int]:
    """Of the events ``ids``, those whose hash matches, by the walk's own code."""
    from ..ledger._chain import _digest  # the very function verify() applies

    rows = conn.execute(
        select(ledger_event.c.id, *_EVENT_COLUMNS).where(ledger_event.c.id.in_(ids))
    )
    found = set()
    for row in rows:
        event = _event(row, name)
        if _digest(event.prev_hash, event) == event.hash:
            found.add(row.id)
    return found


def _scan(
    db: Any,
    eco_id: int,
    eco_json: str,
    lo: int,
    hi: int,
    exact: Callable[[list[int]], set[int]],
) -> _Span:
    """Check the events of ids ``lo`` to ``hi`` on the ADBC connection ``db``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    sha256 = hashlib.sha256
    rows, first_seq, first_prev, last_hash = 0, 0, "", ""
    stop: _Stop | None = None
    stop_id = 0
    with db.cursor() as cur:
        cur.execute("SELECT name, CAST(created_at AS TEXT) FROM ecosystem WHERE id = ?", (eco_id,))
        found = cur.fetchone()
        seen = None if found is None else (str(found[0]), str(found[1]))
    with db.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_FAST_BATCH_ROWS)})
        cur.execute(_CHUNK_QUERY, (eco_json, eco_id, lo, hi))
        for batch in cur.fetch_record_batch():
            n = batch.num_rows
            if n == 0:
                continue
            ids, seqs, hashes, prevs, encodings = batch.columns
            seq = seqs.to_numpy()
            digests = pa.array([sha256(e).hexdigest() for e in encodings.to_pylist()], pa.string())
            hash_ok = pc.equal(digests, hashes).to_numpy(zero_copy_only=False)
            link_ok = np.empty(n, dtype=bool)
            link_ok[1:] = pc.equal(prevs.slice(1), hashes.slice(0, n - 1)).to_numpy(
                zero_copy_only=False
            )
            if rows == 0:
                first_seq, first_prev = int(seq[0]), str(prevs[0].as_py())
                link_ok[0] = True  # the caller checks it against the chunk before
            else:
                link_ok[0] = prevs[0].as_py() == last_hash
            seq_ok = seq == np.arange(first_seq + rows, first_seq + rows + n)
            bad = np.flatnonzero(~(seq_ok & hash_ok & link_ok))
            if bad.size:
                row_ids = ids.to_numpy()
                suspects = [int(row_ids[i]) for i in bad if seq_ok[i] and not hash_ok[i]]
                confirmed = exact(suspects) if suspects else set()
                for i in bad:
                    matches = bool(hash_ok[i]) or int(row_ids[i]) in confirmed
                    if not (seq_ok[i] and matches and link_ok[i]):
                        stop = _Stop(rows + int(i), int(seq[i]), bool(seq_ok[i]), matches)
                        stop_id = int(row_ids[i])
                        break
                if stop is not None:
                    break
            rows += n
            last_hash = str(hashes[n - 1].as_py())
    if stop is not None:  # the rest of the chunk is only counted
        with db.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM ledger_event WHERE +ecosystem_id = ? AND id > ? AND id <= ?",
                (eco_id, stop_id, hi),
            )
            rows = stop.at + 1 + int(cur.fetchone()[0])
            cur.execute(
                "SELECT hash FROM ledger_event WHERE +ecosystem_id = ? AND id BETWEEN ? AND ? "
                "ORDER BY id DESC LIMIT 1",
                (eco_id, lo, hi),
            )
            last_hash = str(cur.fetchone()[0])
    return _Span(rows, first_seq, first_prev, last_hash, stop, seen)


def _scan_file(path: str, eco_id: int, eco_json: str, name: str, lo: int, hi: int) -> _Span:
    """:func:`_scan` in a process of its own, with connections of its own."""
    engine: Any = None

    def exact(ids: list[int]) -> set[int]:
        nonlocal engine
        if engine is None:
            from sqlalchemy import create_engine

            engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            return _exact(conn, name, ids)

    try:
        db = _adbc(path)
        try:
            return _scan(db, eco_id, eco_json, lo, hi, exact)
        finally:
            db.close()
    except _unavailable() as exc:  # ADBC's errors do not survive pickling: say it in words
        raise _FastPathUnavailable(f"{type(exc).__name__}: {exc}") from None
    finally:
        if engine is not None:
            engine.dispose()


def _processes(span: int) -> int:
    """How many processes scan ``span`` ids, the caller's included."""
    if span < _FAST_PARALLEL_IDS:
        return 1
    return max(1, min(_FAST_MAX_PROCESSES, os.cpu_count() or 1))


def _scan_all(
    conn: Connection, db: Any, path: str, eco: _Eco, eco_json: str, lo: int, hi: int
) -> list[_Span]:
    """Every chunk of ids ``lo`` to ``hi``, scanned here or by other processes, in order."""

    def exact(ids: list[int]) -> set[int]:
        return _exact(conn, eco.name, ids)

    processes = _processes(hi - lo + 1)
    if processes == 1:
        return [_scan(db, eco.id, eco_json, lo, hi, exact)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = _FAST_CHUNK_IDS
    chunks = [(a, min(a + size - 1, hi)) for a in range(lo, hi + 1, size)]
    spans: list[_Span | None] = [None] * len(chunks)
    pool = ProcessPoolExecutor(processes - 1, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [
            pool.submit(_scan_file, path, eco.id, eco_json, eco.name, a, b) for a, b in chunks
        ]
        # The other processes take chunks from the first; this one, from the last, those
        # that none has started (a cancelled future was not started).
        for k in reversed(range(len(chunks))):
            if not futures[k].cancel():
                break
            spans[k] = _scan(db, eco.id, eco_json, *chunks[k], exact)
        done = [s if s is not None else futures[k].result() for k, s in enumerate(spans)]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _seq_break(seq: int, expected: int, present: Callable[[int], bool]) -> Break:
    """Event ``seq`` stored where ``expected`` belongs, as :func:`verify` names it."""
    if seq > expected and present(expected):
        return Break(expected, "reordered", f"event {expected} reordered: stored after event {seq}")
    if seq > expected:
        missing = f"event {expected}" if seq == expected + 1 else f"events {expected} to {seq - 1}"
        return Break(expected, "removed", f"{missing} removed (next is {seq})")
    return Break(seq, "reordered", f"event {seq} stored after {expected - 1}")


def _altered(seq: int) -> Break:
    return Break(seq, "altered", f"event {seq} altered: its hash does not match")


def _relinked(seq: int) -> Break:
    return Break(
        seq,
        "relinked",
        f"event {seq} does not follow event {seq - 1}: "
        "an earlier event was changed and the chain re-hashed from there",
    )


def _span_break(
    span: _Span, before: int, prev_hash: str, present: Callable[[int], bool]
) -> Break | None:
    """The first break in a chunk that follows ``before`` intact events ending in
    ``prev_hash``: the checks of :func:`verify`, in its order."""
    expected = before + 1
    if span.first_seq != expected:
        return _seq_break(span.first_seq, expected, present)
    stop = span.stop
    if stop is not None and stop.at == 0:  # only its hash is checked in the chunk
        return _altered(expected)
    if span.first_prev != prev_hash:
        return _relinked(expected)
    if stop is None:
        return None
    if not stop.seq_ok:
        return _seq_break(stop.seq, before + stop.at + 1, present)
    return _altered(stop.seq) if not stop.hash_ok else _relinked(stop.seq)


def _fast_check(conn: Connection, eco: _Eco) -> LedgerCheck | None:
    """The check by SQL and Arrow on a SQLite file; None where the walk must answer."""
    path = _sqlite_file(conn)
    if path is None:
        return None
    try:
        unavailable = _unavailable()
    except ImportError:
        return None
    try:
        return _fast_check_file(conn, eco, path)
    except unavailable:
        return None


def _fast_check_file(conn: Connection, eco: _Eco, path: str) -> LedgerCheck | None:
    lo, hi = conn.execute(text(f"SELECT {_first_and_last_ids(':eco')}"), {"eco": eco.id}).one()
    db = _adbc(path)
    try:
        with db.cursor() as cur:
            cur.execute(
                "SELECT name, CAST(created_at AS TEXT), counts, "
                f"{_first_and_last_ids('?1')} FROM ecosystem WHERE id = ?1",
                (eco.id,),
            )
            found = cur.fetchone()
        if (
            found is None
            or found[0] != eco.name
            or dict(json.loads(found[2]) or {}) != eco.counts
            or (found[3], found[4]) != (lo, hi)
        ):
            return None  # the caller's transaction sees another state: walk in it
        if lo is None:
            return LedgerCheck(eco.name, 0, GENESIS, _counted(eco, 0), path="fast")
        eco_json = json.dumps(eco.name, ensure_ascii=False)
        spans = _scan_all(conn, db, path, eco, eco_json, lo, hi)
        if any(span.seen != (found[0], found[1]) for span in spans):
            return None  # deleted, or replaced, while the chunks were read: walk

        def present(seq: int) -> bool:
            with db.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM ledger_event WHERE ecosystem_id = ? AND seq = ? "
                    "AND id BETWEEN ? AND ? LIMIT 1",
                    (eco.id, seq, lo, hi),
                )
                return cur.fetchone() is not None

        broken: Break | None = None
        events, last_hash = 0, GENESIS
        for span in spans:
            if span.rows == 0:
                continue
            if broken is None:
                broken = _span_break(span, events, last_hash, present)
            events += span.rows
            last_hash = span.last_hash
        if broken is None:
            broken = _counted(eco, events)
        return LedgerCheck(eco.name, events, last_hash, broken, path="fast")
    finally:
        db.close()


# -- CSV files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedEvents:
    """Events read from a file: the events, the row each came from, and the problems."""

    source: str
    events: list[NewEvent]
    rows: list[int]
    problems: list[Problem]


def _header_name(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").split())


def _delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def read_events_csv(path: str | os.PathLike[str], recorded_by: str | None = None) -> ParsedEvents:
    """Events from a CSV file whose header names fields of :class:`NewEvent`.

    ``action`` and ``agent`` are required columns; empty cells are absent
    values; ``recorded_at`` is ISO 8601 with a zone and defaults to the time
    of reading; an empty ``recorded_by`` (or none) is ``recorded_by`` given
    here. Rows are numbered as in a spreadsheet (the header is row 1).
    Problems that need the ledger (a ``reverses`` naming no event, a missing
    currency) are found by :func:`import_events`.
    """
    source = str(path)
    problems: list[Problem] = []
    events: list[NewEvent] = []
    numbers: list[int] = []

    def problem(row: int | None, column: str | None, value: Any, expected: str) -> None:
        problems.append(Problem(Location(source, None, row), column, value, expected))

    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as file:
            text = file.read()
    except UnicodeDecodeError:
        problem(None, None, NO_VALUE, "text encoded as UTF-8")
        return ParsedEvents(source, events, numbers, problems)
    except OSError as exc:
        problem(None, None, NO_VALUE, f"a readable file ({exc.strerror})")
        return ParsedEvents(source, events, numbers, problems)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        table = list(reader)
    except csv.Error as exc:
        problem(reader.line_num, None, NO_VALUE, f"well-formed CSV ({exc})")
        return ParsedEvents(source, events, numbers, problems)
    if not table:
        problem(1, None, NO_VALUE, f"a header row naming columns among {', '.join(CSV_COLUMNS)}")
        return ParsedEvents(source, events, numbers, problems)
    header = [_header_name(cell) for cell in table[0]]
    seen: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        if name == "":
            continue
        if name not in CSV_COLUMNS:
            problem(1, name, NO_VALUE, f"a column among {', '.join(CSV_COLUMNS)}")
        elif name in seen:
            problem(1, name, NO_VALUE, f"each column once (first in column {seen[name]})")
        else:
            seen[name] = i
    for name in ("action", "agent"):
        if name not in seen:
            problem(1, name, NO_VALUE, f"a column named {name}")
    if "recorded_by" not in seen and not recorded_by:
        problem(1, "recorded_by", NO_VALUE, "a column recorded_by, or who records them (--by)")
    if problems:
        return ParsedEvents(source, events, numbers, problems)
    now = _now()
    for number, cells in enumerate(table[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problem(number, None, NO_VALUE, f"at most {len(header)} cells, as in the header")
        values: dict[str, str] = {}
        for name, i in seen.items():
            cell = cells[i - 1].strip() if i - 1 < len(cells) else ""
            if cell:
                values[name] = cell
        amounts: dict[str, Decimal | None] = {}
        for name in ("quantity", "value"):
            amounts[name] = None
            if name in values:
                try:
                    amounts[name] = Decimal(values[name])
                except InvalidOperation:
                    expected = "a decimal number such as 7.5 (a point, no thousands separator)"
                    problem(number, name, values[name], expected)
        reverses: int | None = None
        if "reverses" in values:
            try:
                reverses = int(values["reverses"])
            except ValueError:
                expected = "a whole number: the seq of the event it corrects"
                problem(number, "reverses", values["reverses"], expected)
        when = now
        if "recorded_at" in values:
            expected = "an ISO 8601 time with a zone, e.g. 2025-03-01T09:30:00+01:00"
            try:
                parsed = dt.datetime.fromisoformat(values["recorded_at"])
            except ValueError:
                problem(number, "recorded_at", values["recorded_at"], expected)
            else:
                if parsed.utcoffset() is None:
                    problem(number, "recorded_at", values["recorded_at"], expected)
                else:
                    when = parsed
        events.append(
            NewEvent(
                action=values.get("action", ""),
                agent=values.get("agent", ""),
                recorded_by=values.get("recorded_by", recorded_by or ""),
                opportunity=values.get("opportunity"),
                quantity=amounts["quantity"],
                unit=values.get("unit"),
                value=amounts["value"],
                currency=values.get("currency"),
                note=values.get("note"),
                evidence=values.get("evidence"),
                reverses=reverses,
                recorded_at=when,
            )
        )
        numbers.append(number)
    if not events and not problems:
        problem(2, None, NO_VALUE, "at least one event below the header")
    return ParsedEvents(source, events, numbers, problems)


def import_events(conn: Connection, name: str, parsed: ParsedEvents) -> list[Event]:
    """Append the events read from a file, or, on any problem, raise
    :class:`~glia.model.InvalidInput` listing all of them (file, row, column)
    and write nothing. Must run in a transaction rolled back on an exception."""
    eco = _eco(conn, name, lock=True)
    last_seq, last_hash = _head(conn, eco.id)
    problems = list(parsed.problems)
    found, ready = _validate(conn, eco, parsed.events, last_seq)
    flagged = {(p.location.row, p.column) for p in problems}
    for p in found:
        row = parsed.rows[p.event - 1]
        if (row, p.field) not in flagged:
            value = NO_VALUE if p.value is None or p.value == "" else p.value
            problems.append(Problem(Location(parsed.source, None, row), p.field, value, p.expected))
    if problems:
        order = {name: i for i, name in enumerate(CSV_COLUMNS)}
        problems.sort(key=lambda p: (p.location.row or 0, order.get(p.column or "", -1)))
        raise InvalidInput(problems[:MAX_PROBLEMS], len(problems))
    return _append(conn, eco, ready, last_seq, last_hash)
