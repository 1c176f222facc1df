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
the same :class:`LedgerCheck` (the same count, last hash and first break,
with its kind and message). It is written here by hand: no library hashes a
chain over a table, and what must hold is that it judges every database as
the walk does (``tests/ledger/test_fast_verify.py`` compares them, tampering
included).

- SQLite itself builds each event's canonical encoding (:data:`_ENCODING`):
  ``json_quote`` escapes text exactly as :func:`json.dumps` does with
  ``ensure_ascii=False``; amounts keep the text they were written with
  (``7.50`` stays ``7.50``) and the SQL writes them as the encoding does
  (``7.5``, ``-0`` as ``0``); times are stored as ``YYYY-MM-DD
  HH:MM:SS.ffffff`` in UTC. Python only hashes (:mod:`hashlib`, about a
  microsecond an event: the one loop over rows) and compares whole batches.
- An event whose hash does not match the SQL encoding is read again by the
  walk's own code (SQLAlchemy, :class:`~glia.ledger.Event`, the digest of
  :func:`~glia.ledger.verify`) before it counts as altered, and the scan goes
  on after it when that code says it matches: text stored in a form the SQL
  does not anticipate (an amount ``75E-1``, a time without microseconds;
  only a hand on the database writes such) is judged as the walk judges it.
- The first failing event is named as :func:`~glia.ledger.verify` names it:
  a seq out of place is *reordered* when the seq expected is stored elsewhere
  (an indexed lookup), *removed* otherwise; then *altered*, then *relinked*;
  then the ``counts["ledger"]`` rule, shared with the walk.
- Below :data:`_FAST_PARALLEL_IDS` ids, the caller's own connection runs the
  query (:mod:`sqlite3`; about 4 microseconds an event). From there, the ids
  are cut into chunks, and processes of their own, one per core (at most
  :data:`_FAST_MAX_PROCESSES`), read them through the ADBC SQLite driver in
  Arrow batches (about 2 microseconds an event); the caller stitches the
  chunks' summaries in order. Processes, because the driver holds the GIL
  while it reads; processes of their own (:func:`_serve`, started as
  ``python -c``), because the driver links a SQLite of its own, and two
  copies of SQLite in one process do not see each other's POSIX locks: one
  process opening a WAL database through both gets it corrupted ("database
  disk image is malformed"). The caller's process never opens the file
  through ADBC, and the verifying processes never through :mod:`sqlite3`.

One state of the database. Below the threshold the whole check runs in the
caller's transaction. Above it, each verifying process reads in a snapshot of
its own, later than the caller's, bounded by the first and last ids of the
ecosystem's events as the caller's transaction sees them: the store never
updates or deletes an event, and an id is never reused (``AUTOINCREMENT``),
so an append committed meanwhile adds rows above the last id, which no chunk
reads, and cannot make an intact chain look broken. Each process also reads
the ecosystem's row and its last event id in its snapshot; the ecosystem gone
or replaced (``Store.delete``, another import), or a last id below the
caller's (the caller's transaction wrote events not yet committed), sends the
check down the walk, in the caller's transaction. So do a missing driver and
a database that refuses (a lock, a type the driver does not expect);
``LedgerCheck.path`` says which way was taken.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import sys
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
#: From this many ids spanned, processes of their own read the chunks.
_FAST_PARALLEL_IDS = 500_000
#: Ids per chunk, the unit of work those processes share.
_FAST_CHUNK_IDS = 250_000
#: At most this many processes (starting one costs about a second).
_FAST_MAX_PROCESSES = 4
#: Rows per batch read.
_FAST_BATCH_ROWS = 8192


def _amount_json(column: str) -> str:
    """SQL for a stored amount as the canonical encoding writes it: a JSON string of
    the plain number without trailing zeros (``"7.5"``, ``"-0"`` as ``"0"``), or null."""
    return (
        f"coalesce('\"' || iif({column} GLOB '-0*' AND NOT {column} GLOB '*[1-9]*', '0', "
        f"iif(instr({column}, '.'), rtrim(rtrim({column}, '0'), '.'), {column})) || '\"', "
        "'null')"
    )


#: SQL for ``prev_hash + "\\n" + canonical(event)`` (:func:`glia.ledger.canonical`), the
#: fields in :data:`glia.ledger.HASHED` order; its one parameter is the ecosystem's name
#: as JSON. ``json_quote`` escapes as :func:`json.dumps` does (``ensure_ascii=False``).
#: Actions and currency codes are quoted without escaping: the store writes none that
#: needs it (a tampered one fails the hash and is judged by the walk's code).
_ENCODING = (
    "prev_hash || char(10) || '[' || seq || ',' || ? || ',\"' || action || '\",' || "
    "json_quote(agent) || ',' || json_quote(recorded_by) || ',\"' || "
    "replace(recorded_at, ' ', 'T') || 'Z\",' || json_quote(opportunity) || ',' || "
    f"{_amount_json('quantity')} || ',' || json_quote(unit) || ',' || "
    f"{_amount_json('value')} || ',' || coalesce('\"' || currency || '\"', 'null') || ',' || "
    "json_quote(note) || ',' || json_quote(evidence) || ',' || coalesce(reverses, 'null') || ']'"
)
#: A chunk's events in insertion order (``+ecosystem_id``: through the primary key's
#: range, not through an index on the ecosystem).
_CHUNK_QUERY = (
    f"SELECT id, seq, hash, prev_hash, CAST(coalesce({_ENCODING}, '') AS BLOB) FROM ledger_event "
    "WHERE +ecosystem_id = ? AND id BETWEEN ? AND ? ORDER BY id"
)
_COUNT_AFTER = "SELECT count(*) FROM ledger_event WHERE +ecosystem_id = ? AND id > ? AND id <= ?"
_LAST_HASH = (
    "SELECT hash FROM ledger_event WHERE +ecosystem_id = ? AND id BETWEEN ? AND ? "
    "ORDER BY id DESC LIMIT 1"
)
_FIRST_ID = "SELECT id FROM ledger_event WHERE +ecosystem_id = :eco ORDER BY id LIMIT 1"
_LAST_ID = "SELECT id FROM ledger_event WHERE +ecosystem_id = :eco ORDER BY id DESC LIMIT 1"
_SEEN = (
    "SELECT name, CAST(created_at AS TEXT), "
    "(SELECT id FROM ledger_event WHERE +ecosystem_id = ?1 ORDER BY id DESC LIMIT 1) "
    "FROM ecosystem WHERE id = ?1"
)


class _FastPathUnavailable(Exception):
    """The fast path could not run (driver, database); the walk answers instead."""


class _Stop(NamedTuple):
    """A chunk's first event that fails a check needing nothing outside the chunk."""

    at: int  # its position in the chunk
    id: int
    seq: int
    seq_ok: bool  # its seq is the chunk's first seq plus its position
    hash_ok: bool  # its hash is that of the SQL encoding (the walk's code has the last word)
    link_ok: bool  # its previous hash is the hash of the event before it in the chunk
    hash: str


@dataclass(frozen=True)
class _Span:
    """What a chunk of ids ``lo`` to ``hi`` holds, for :func:`_fast_check` to stitch."""

    lo: int
    hi: int
    rows: int
    first_seq: int
    first_prev: str
    last_hash: str
    stop: _Stop | None
    #: Read in a process of its own: the ecosystem's name, creation time and last
    #: event id in that process's snapshot.
    seen: tuple[str, str, int | None] | None = None


class _Scan:
    """A chunk's scan, batch by batch, up to its first failing event."""

    def __init__(self) -> None:
        self.rows, self.first_seq, self.first_prev, self.last_hash = 0, 0, "", ""
        self.stop: _Stop | None = None

    def expected(self, seqs: Sequence[int], prevs: Sequence[str]) -> tuple[int, str]:
        """The seq and previous hash the batch's first event must have."""
        if self.rows == 0:
            self.first_seq, self.first_prev = seqs[0], prevs[0]
            return seqs[0], prevs[0]  # checked against the chunk before, by the caller
        return self.first_seq + self.rows, self.last_hash

    def advance(self, n: int, last_hash: str) -> None:
        self.rows += n
        self.last_hash = last_hash

    def take(
        self,
        ids: Sequence[int],
        seqs: Sequence[int],
        hashes: Sequence[str],
        prevs: Sequence[str],
        digests: Sequence[str],
    ) -> bool:
        """Check a batch event by event; True when an event failed (``stop``)."""
        start, before = self.expected(seqs, prevs)
        for i in range(len(ids)):
            seq_ok = seqs[i] == start + i
            hash_ok = digests[i] == hashes[i]
            link_ok = prevs[i] == (hashes[i - 1] if i else before)
            if not (seq_ok and hash_ok and link_ok):
                self.stop = _Stop(
                    self.rows + i, ids[i], seqs[i], seq_ok, hash_ok, link_ok, hashes[i]
                )
                return True
        self.advance(len(ids), hashes[-1])
        return False

    def span(
        self,
        lo: int,
        hi: int,
        rest: Callable[[str, tuple[int, ...]], Any],
        seen: tuple[str, str, int | None] | None = None,
    ) -> _Span:
        """The chunk's summary; after a stop, ``rest(sql, params)`` counts the rest."""
        rows, last_hash = self.rows, self.last_hash
        if self.stop is not None:
            rows = self.stop.at + 1 + int(rest(_COUNT_AFTER, (self.stop.id, hi))[0])
            last_hash = str(rest(_LAST_HASH, (lo, hi))[0])
        return _Span(lo, hi, rows, self.first_seq, self.first_prev, last_hash, self.stop, seen)


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


def _scan_here(conn: Connection, eco_id: int, eco_json: str, lo: int, hi: int) -> _Span:
    """Scan a chunk in the caller's transaction, through its driver's connection."""
    sha256 = hashlib.sha256
    raw: Any = conn.connection.driver_connection
    scan = _Scan()
    cursor = raw.cursor()
    try:
        cursor.execute(_CHUNK_QUERY, (eco_json, eco_id, lo, hi))
        while batch := cursor.fetchmany(_FAST_BATCH_ROWS):
            ids, seqs, hashes, prevs, encodings = map(list, zip(*batch, strict=True))
            digests = [sha256(e).hexdigest() for e in encodings]
            start, before = scan.expected(seqs, prevs)
            n = len(ids)
            if (
                digests == hashes
                and prevs[0] == before
                and prevs[1:] == hashes[:-1]
                and seqs == list(range(start, start + n))
            ):
                scan.advance(n, hashes[-1])
            elif scan.take(ids, seqs, hashes, prevs, digests):
                break
    finally:
        cursor.close()

    def rest(sql: str, params: tuple[int, ...]) -> Any:
        return raw.execute(sql, (eco_id, *params)).fetchone()

    return scan.span(lo, hi, rest)


def _scan_apart(db: Any, eco_id: int, eco_json: str, lo: int, hi: int) -> _Span:
    """Scan a chunk in a process of its own (:func:`_serve`), on its ADBC connection."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    sha256 = hashlib.sha256
    scan = _Scan()
    with db.cursor() as cur:
        cur.execute(_SEEN, (eco_id,))
        found = cur.fetchone()
    seen = None if found is None else (str(found[0]), str(found[1]), found[2])
    with db.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_FAST_BATCH_ROWS)})
        cur.execute(_CHUNK_QUERY, (eco_json, eco_id, lo, hi))
        for batch in cur.fetch_record_batch():
            n = batch.num_rows
            if n == 0:
                continue
            ids, seqs, hashes, prevs, encodings = batch.columns
            digests = [sha256(e).hexdigest() for e in encodings.to_pylist()]
            start, before = scan.expected([seqs[0].as_py()], [prevs[0].as_py()])
            computed = pa.array(digests, pa.string())
            if (
                prevs[0].as_py() == before
                and pc.all(pc.equal(computed, hashes)).as_py()
                and pc.all(pc.equal(prevs.slice(1), hashes.slice(0, n - 1))).as_py()
                and np.array_equal(seqs.to_numpy(), np.arange(start, start + n))
            ):
                scan.advance(n, hashes[n - 1].as_py())
                continue
            lists = [c.to_pylist() for c in (ids, seqs, hashes, prevs)]
            if scan.take(lists[0], lists[1], lists[2], lists[3], digests):
                break

    def rest(sql: str, params: tuple[int, ...]) -> Any:
        with db.cursor() as cur:
            cur.execute(sql, (eco_id, *params))
            return cur.fetchone()

    return scan.span(lo, hi, rest, seen)


def _serve() -> None:
    """A verifying process: scan the chunks named on stdin, one JSON line each on stdout.

    It reads through the ADBC SQLite driver, which links a SQLite of its own:
    that copy must never open a file that the same process has open through
    :mod:`sqlite3` (two copies of SQLite in one process do not see each
    other's POSIX locks, and a WAL database gets corrupted). So it runs in a
    process of its own, started by :func:`_scan_all`, and never uses
    :mod:`sqlite3`; an event whose hash looks wrong is left to the caller.
    """
    import adbc_driver_manager
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow

    trouble = (adbc_driver_manager.Error, pyarrow.ArrowException, OSError)
    task = json.loads(sys.stdin.readline())
    eco_id, eco_json = int(task["eco"]), str(task["eco_json"])
    db = adbc.connect(task["path"])  # not autocommit: one read transaction, one snapshot
    try:
        with db.cursor() as cur:
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.fetchall()
        for line in sys.stdin:
            lo, hi = (int(v) for v in line.split())
            try:
                span = _scan_apart(db, eco_id, eco_json, lo, hi)
                answer: dict[str, Any] = {"span": dataclasses.astuple(span)}
            except trouble as exc:
                answer = {"unavailable": f"{type(exc).__name__}: {exc}"}
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        db.close()


def _span_of(answer: str) -> _Span:
    """A chunk's summary from a verifying process's line."""
    found: dict[str, Any] = json.loads(answer) if answer else {"unavailable": "a process ended"}
    if "unavailable" in found:
        raise _FastPathUnavailable(found["unavailable"])
    if "error" in found:
        raise RuntimeError(f"a verifying process failed: {found['error']}")
    lo, hi, rows, first_seq, first_prev, last_hash, stop, seen = found["span"]
    return _Span(
        lo,
        hi,
        rows,
        first_seq,
        first_prev,
        last_hash,
        None if stop is None else _Stop(*stop),
        None if seen is None else (seen[0], seen[1], seen[2]),
    )


def _scan_all(
    conn: Connection, path: str, eco_id: int, eco_json: str, lo: int, hi: int
) -> list[_Span]:
    """Every chunk of ids ``lo`` to ``hi``, in order: here, or from
    :data:`_FAST_PARALLEL_IDS` ids on, in processes of their own (:func:`_serve`).

    The processes are started as ``python -c``, not by :mod:`multiprocessing`,
    whose ``spawn`` runs the caller's main module again (a script without an
    ``if __name__ == "__main__"`` guard would start its work over) and whose
    ``fork`` copies the caller's threads and open connections.
    """
    import importlib.util

    processes = min(_FAST_MAX_PROCESSES, os.cpu_count() or 1)
    drivers = ("adbc_driver_sqlite", "pyarrow", "numpy")
    if (
        hi - lo + 1 < _FAST_PARALLEL_IDS
        or processes < 2
        or any(importlib.util.find_spec(name) is None for name in drivers)
    ):
        return [_scan_here(conn, eco_id, eco_json, lo, hi)]
    import subprocess
    import threading
    from collections import deque

    size = _FAST_CHUNK_IDS
    todo = deque(enumerate((a, min(a + size - 1, hi)) for a in range(lo, hi + 1, size)))
    spans: list[_Span | None] = [None] * len(todo)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def take() -> tuple[int, tuple[int, int]] | None:
        with lock:
            return todo.popleft() if todo and not failures else None

    def feed(process: subprocess.Popen[str]) -> None:
        assert process.stdin is not None and process.stdout is not None
        try:
            task = {"path": path, "eco": eco_id, "eco_json": eco_json}
            process.stdin.write(json.dumps(task) + "\n")
            while (item := take()) is not None:
                k, (a, b) = item
                process.stdin.write(f"{a} {b}\n")
                process.stdin.flush()
                spans[k] = _span_of(process.stdout.readline())
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            with contextlib.suppress(OSError):  # the process may have ended
                process.stdin.close()

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-c", "from glia.store._ledger import _serve; _serve()"]
    started = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(processes)
    ]
    feeders = [threading.Thread(target=feed, args=(p,), daemon=True) for p in started]
    try:
        for thread in feeders:
            thread.start()
        for thread in feeders:
            thread.join()
    finally:
        for process in started:
            if process.poll() is None:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
    if failures:
        raise failures[0]
    return [s for s in spans if s is not None]


def _seq_break(seq: int, expected: int, present: Callable[[int], bool]) -> Break:
    """Event ``seq`` stored where event ``expected`` belongs, named as :func:`verify` does."""
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
    span: _Span,
    before: int,
    prev_hash: str,
    present: Callable[[int], bool],
    exact: Callable[[int], bool],
) -> tuple[Break | None, _Stop | None]:
    """The first break in a chunk that follows ``before`` intact events, the last
    hashed ``prev_hash``: :func:`verify`'s checks in its order (seq, hash, link).
    Second, a stop that was a false alarm (the hash matches by the walk's code)."""
    expected = before + 1
    if span.first_seq != expected:
        return _seq_break(span.first_seq, expected, present), None
    stop = span.stop
    if stop is not None and stop.at == 0 and not exact(stop.id):
        return _altered(expected), None  # the chunk's first event: only its hash was checked
    if span.first_prev != prev_hash:
        return _relinked(expected), None
    if stop is None:
        return None, None
    if stop.at > 0:
        if not stop.seq_ok:
            return _seq_break(stop.seq, before + stop.at + 1, present), None
        if not stop.hash_ok and not exact(stop.id):
            return _altered(stop.seq), None
        if not stop.link_ok:
            return _relinked(stop.seq), None
    return None, stop


def _exact(conn: Connection, name: str, row_id: int) -> bool:
    """Whether event ``row_id``'s hash matches, by the walk's own code."""
    from ..ledger._chain import _digest  # the very function verify() applies

    row = conn.execute(select(*_EVENT_COLUMNS).where(ledger_event.c.id == row_id)).one()
    event = _event(row, name)
    return _digest(event.prev_hash, event) == event.hash


def _fast_check(conn: Connection, eco: _Eco) -> LedgerCheck | None:
    """The check by SQL on a SQLite file; None where the walk must answer."""
    import sqlite3

    path = _sqlite_file(conn)
    if path is None or sqlite3.sqlite_version_info < (3, 38, 0):  # json_quote built in
        return None
    lo = conn.execute(text(_FIRST_ID), {"eco": eco.id}).scalar()
    hi = conn.execute(text(_LAST_ID), {"eco": eco.id}).scalar()
    if lo is None or hi is None:
        return LedgerCheck(eco.name, 0, GENESIS, _counted(eco, 0), path="fast")
    eco_json = json.dumps(eco.name, ensure_ascii=False)
    try:
        spans = _scan_all(conn, path, eco.id, eco_json, lo, hi)
    except (_FastPathUnavailable, OSError, sqlite3.Error):
        return None
    # A process of its own reads its own snapshot, later than the caller's: with the
    # ecosystem as the caller sees it and an event at the caller's last id, at least.
    here = conn.execute(
        select(ecosystem.c.name, text("CAST(created_at AS TEXT)")).where(ecosystem.c.id == eco.id)
    ).one()
    for span in spans:
        if span.seen is not None and (
            span.seen[:2] != tuple(here) or span.seen[2] is None or span.seen[2] < hi
        ):
            return None  # the caller's transaction wrote, or the ecosystem was replaced

    def present(seq: int) -> bool:
        query = select(ledger_event.c.id).where(
            ledger_event.c.ecosystem_id == eco.id,
            ledger_event.c.seq == seq,
            ledger_event.c.id.between(lo, hi),
        )
        return conn.execute(query.limit(1)).first() is not None

    def exact(row_id: int) -> bool:
        return _exact(conn, eco.name, row_id)

    broken: Break | None = None
    events, last_hash = 0, GENESIS
    pending = list(reversed(spans))
    while pending:
        span = pending.pop()
        if span.rows == 0:
            continue
        if broken is None:
            broken, false_alarm = _span_break(span, events, last_hash, present, exact)
            if false_alarm is not None:  # intact up to there: scan on after it
                events, last_hash = events + false_alarm.at + 1, false_alarm.hash
                if false_alarm.id < span.hi:
                    pending.append(_scan_here(conn, eco.id, eco_json, false_alarm.id + 1, span.hi))
                continue
        events, last_hash = events + span.rows, span.last_hash
    if broken is None:
        broken = _counted(eco, events)
    return LedgerCheck(eco.name, events, last_hash, broken, path="fast")


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
