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

from ..ledger import ACTIONS, GENESIS, Break, Event, canonical, chain, verify
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


def check(conn: Connection, name: str) -> LedgerCheck:
    """Verify the chain of ``name`` as stored, in insertion order (see the module's notes).

    Run it in a transaction that sees one state of the database, or an append
    committed between the two reads could look like tampering.
    """
    eco = _eco(conn, name, lock=False)
    rows = conn.execute(
        select(*_EVENT_COLUMNS)
        .where(ledger_event.c.ecosystem_id == eco.id)
        .order_by(ledger_event.c.id)
    )
    events = [_event(row, eco.name) for row in rows]
    broken = verify(events)
    last = max((e.seq for e in events), default=0)
    counted = eco.counts.get(COUNT_KEY)
    if broken is None and isinstance(counted, int) and counted != last:
        if counted > last:
            gone = f"event {last + 1}" if counted == last + 1 else f"events {last + 1} to {counted}"
            message = (
                f"{gone} removed: {counted} events were recorded, the last one stored is {last}"
            )
            broken = Break(last + 1, "removed", message)
        else:
            message = (
                f"event {counted + 1} not recorded through the ledger: "
                f"{counted} events were recorded, {last} are stored"
            )
            broken = Break(counted + 1, "added", message)
    return LedgerCheck(eco.name, len(events), events[-1].hash if events else GENESIS, broken)


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
