"""The fast verification of a ledger on a SQLite file (``glia.store._ledger``): the SQL
encoding is the canonical one byte for byte, and tampering is named exactly as the walk
names it, in the caller's process and with chunks read by processes of their own."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.pool import StaticPool

from glia.ledger import ACTIONS, GENESIS, canonical
from glia.model import Ecosystem
from glia.store import LedgerCheck, NewEvent, Store, make_engine, migrate
from glia.store import _ledger as ledger
from glia.store._tables import ledger_event

ROOT = Path(__file__).resolve().parents[2]
NAME = 'Nörth "bridge" \\ co-op 🚀'
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
EXAMPLES = count()  # each example of the property records into an ecosystem of its own


def _ecosystem(store: Store, name: str = NAME) -> None:
    eco = Ecosystem.model_validate(
        {"ecosystem": name, "currency": "EUR", "participants": [{"id": "ann"}, {"id": "bob"}]}
    )
    store.import_ecosystem(eco)


def _checks(store: Store, name: str = NAME) -> tuple[LedgerCheck, LedgerCheck]:
    """The fast path's result and the walk's, each in a read transaction of its own."""
    with store.engine.connect() as conn:
        fast = ledger.check(conn, name)
    with store.engine.connect() as conn:
        walk = ledger.check(conn, name, fast=False)
    return fast, walk


def _encodings(db: Path, name: str, adbc: bool) -> dict[int, bytes]:
    """The SQL encoding of every event of ``name``, by seq, from a copy of the database
    (ADBC links a SQLite of its own, which must not open a file this process has open)."""
    copy = db.with_name(f"copy-{adbc}.db")
    copy.unlink(missing_ok=True)
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        eco_id = target.execute("SELECT id FROM ecosystem WHERE name = ?", (name,)).fetchone()[0]
    query = ledger._CHUNK_QUERY
    params = (json.dumps(name, ensure_ascii=False), eco_id, 0, 2**62)
    if adbc:
        import adbc_driver_sqlite.dbapi

        with adbc_driver_sqlite.dbapi.connect(str(copy)) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
    else:
        with closing(sqlite3.connect(copy)) as conn:
            rows = conn.execute(query, params).fetchall()
    copy.unlink()
    return {seq: bytes(encoding) for _, seq, _, _, encoding in rows}


# -- the SQL encoding is the canonical encoding --------------------------------------------
texts = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=16,
    ),
    st.sampled_from(['"', "\\", '\\"', "\x01\x1f", "a\x7fb", "😀", "é", "\u2028", "a\tb\nc"]),
).filter(lambda s: s.strip() != "")


@st.composite
def amounts(draw: st.DrawFn) -> Decimal:
    """Decimals within the store's limits, written with and without trailing zeros."""
    special = [Decimal("-0"), Decimal("-0.000"), Decimal("0.000000"), Decimal("1E+2")]
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.sampled_from(special))
    value = Decimal(draw(st.integers(-(10**24) + 1, 10**24 - 1))).scaleb(-6)
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    places = draw(st.integers(max(0, -exponent), 6))
    return value.quantize(Decimal(1).scaleb(-places))


@st.composite
def new_events(draw: st.DrawFn) -> list[NewEvent]:
    n = draw(st.integers(1, 6))
    reversed_: set[int] = set()
    events = []
    for seq in range(1, n + 1):
        maybe = st.one_of(st.none(), texts)
        reverses = None
        if seq > 1 and draw(st.booleans()):
            target = draw(st.integers(1, seq - 1))
            if target not in reversed_:
                reversed_.add(target)
                reverses = target
        when = draw(
            st.datetimes(
                min_value=dt.datetime(1900, 1, 2),
                max_value=dt.datetime(2200, 1, 1),
                timezones=st.sampled_from(
                    [
                        dt.UTC,
                        dt.timezone(dt.timedelta(hours=5, minutes=30)),
                        dt.timezone(-dt.timedelta(hours=8)),
                    ]
                ),
            )
        )
        value = draw(st.one_of(st.none(), amounts()))
        events.append(
            NewEvent(
                action=draw(st.sampled_from(ACTIONS)),
                agent=draw(texts),
                recorded_by=draw(texts),
                opportunity=draw(maybe),
                quantity=draw(st.one_of(st.none(), amounts())),
                unit=draw(maybe),
                value=value,
                currency=draw(st.sampled_from([None, "EUR", "USD"])) if value is not None else None,
                note=draw(maybe),
                evidence=draw(maybe),
                reverses=reverses,
                recorded_at=when,
            )
        )
    return events


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    """One SQLite store for the property's examples, each in an ecosystem of its own."""
    db = tmp_path_factory.mktemp("fast") / "glia.db"
    with Store.open(f"sqlite:///{db}") as store:
        yield store, db


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=new_events())
def test_the_sql_encoding_is_the_canonical_one(
    shared: tuple[Store, Path], events: list[NewEvent]
) -> None:
    store, db = shared
    name = f"{NAME} {next(EXAMPLES)}"
    _ecosystem(store, name)
    recorded = store.record(name, events)
    for adbc in (False, True):
        encoded = _encodings(db, name, adbc)
        assert sorted(encoded) == [e.seq for e in recorded]
        for event in recorded:
            assert encoded[event.seq] == event.prev_hash.encode() + b"\n" + canonical(event)
            assert hashlib.sha256(encoded[event.seq]).hexdigest() == event.hash
    fast, walk = _checks(store, name)
    assert (fast.path, walk.path) == ("fast", "walk")
    assert fast == walk
    assert fast.intact and fast.events == len(events) and fast.last_hash == recorded[-1].hash


# -- tampering is named as the walk names it ----------------------------------------------
def _work(i: int, **changes: Any) -> NewEvent:
    fields: dict[str, Any] = {
        "action": ("work", "use", "transfer", "income", "help")[i % 5],
        "agent": ("ann", "bob")[i % 2],
        "recorded_by": "nrda",
        "opportunity": "coop" if i % 3 else "farm-data",
        "quantity": Decimal("7.50") + i,
        "unit": "hour",
        "value": Decimal("600.10") * (i + 1),
        "currency": "EUR",
        "note": f'contribution "{i}"',
        "recorded_at": T0 + dt.timedelta(hours=i),
    }
    return NewEvent(**{**fields, **changes})


def _rehash(store: Store, seq: int) -> None:
    """Re-hash event ``seq`` over its stored fields, as a careful forger would."""
    with store.engine.begin() as conn:
        eco = conn.execute(text("SELECT id FROM ecosystem WHERE name = :n"), {"n": NAME}).scalar()
        (event,) = [e for e in ledger.read_events(conn, NAME) if e.seq == seq]
        digest = hashlib.sha256(event.prev_hash.encode() + b"\n" + canonical(event)).hexdigest()
        conn.execute(
            ledger_event.update()
            .where(ledger_event.c.ecosystem_id == eco, ledger_event.c.seq == seq)
            .values(hash=digest)
        )


def _append_unrecorded(store: Store) -> None:
    """A chained event inserted behind the store's back (the count not raised)."""
    with store.engine.begin() as conn:
        eco = conn.execute(text("SELECT id FROM ecosystem WHERE name = :n"), {"n": NAME}).scalar()
        last = ledger.read_events(conn, NAME)[-1]
        extra = ledger.chain([ledger.Event(last.seq + 1, NAME, "help", "ann", "x", T0)], last.hash)
        row = {c.name: getattr(extra[0], c.name) for c in ledger._EVENT_COLUMNS}
        conn.execute(ledger_event.insert().values(ecosystem_id=eco, **row))


def _swap(a: int, b: int) -> Any:
    """Swap the contents of events ``a`` and ``b`` (every column but the surrogate key)."""

    def swap(store: Store) -> None:
        with store.engine.begin() as conn:
            eco = conn.execute(
                text("SELECT id FROM ecosystem WHERE name = :n"), {"n": NAME}
            ).scalar()
            ids = {
                seq: row_id
                for row_id, seq in conn.execute(
                    select(ledger_event.c.id, ledger_event.c.seq).where(
                        ledger_event.c.ecosystem_id == eco, ledger_event.c.seq.in_([a, b])
                    )
                )
            }
            for old, new in ((ids[a], -1), (ids[b], ids[a]), (-1, ids[b])):
                conn.execute(
                    text("UPDATE ledger_event SET id = :new WHERE id = :old"),
                    {"old": old, "new": new},
                )

    return swap


ECO = "ecosystem_id = (SELECT id FROM ecosystem WHERE name = :name)"

#: name: (what is done to the database, the kind of break found, or None when intact)
TAMPERING: dict[str, tuple[Any, str | None]] = {
    "intact": ([], None),
    "an amount changed": (
        [f"UPDATE ledger_event SET value = '601' WHERE seq = 3 AND {ECO}"],
        "altered",
    ),
    "the first event changed": (
        [f"UPDATE ledger_event SET agent = 'eve' WHERE seq = 1 AND {ECO}"],
        "altered",
    ),
    "a chunk's first event changed": (
        [f"UPDATE ledger_event SET note = 'x' WHERE seq = 7 AND {ECO}"],
        "altered",
    ),
    "an action with a quote": (
        [f"UPDATE ledger_event SET action = 'wo\"rk' WHERE seq = 6 AND {ECO}"],
        "altered",
    ),
    "a previous hash changed": (
        [f"UPDATE ledger_event SET prev_hash = '{'1' * 64}' WHERE seq = 4 AND {ECO}"],
        "altered",
    ),
    "an event deleted": ([f"DELETE FROM ledger_event WHERE seq = 6 AND {ECO}"], "removed"),
    "three events deleted": (
        [f"DELETE FROM ledger_event WHERE seq BETWEEN 4 AND 6 AND {ECO}"],
        "removed",
    ),
    "the tail deleted": ([f"DELETE FROM ledger_event WHERE seq >= 10 AND {ECO}"], "removed"),
    "the first event deleted": ([f"DELETE FROM ledger_event WHERE seq = 1 AND {ECO}"], "removed"),
    "two events swapped": ([_swap(4, 5)], "reordered"),
    "two events swapped across chunks": ([_swap(6, 7)], "reordered"),
    "two seq numbers swapped": (
        [
            f"UPDATE ledger_event SET seq = -1 WHERE seq = 4 AND {ECO}",
            f"UPDATE ledger_event SET seq = 4 WHERE seq = 5 AND {ECO}",
            f"UPDATE ledger_event SET seq = 5 WHERE seq = -1 AND {ECO}",
        ],
        "reordered",
    ),
    "an event renumbered": (
        [f"UPDATE ledger_event SET seq = 40 WHERE seq = 7 AND {ECO}"],
        "removed",
    ),
    "a seq lowered": (
        [
            f"DELETE FROM ledger_event WHERE seq = 2 AND {ECO}",
            f"UPDATE ledger_event SET seq = 2 WHERE seq = 3 AND {ECO}",
        ],
        "altered",
    ),
    "an event moved": (
        [
            f"DELETE FROM ledger_event WHERE seq = 3 AND {ECO}",
            f"UPDATE ledger_event SET seq = 3 WHERE seq = 9 AND {ECO}",
        ],
        "reordered",
    ),
    "a seq set to zero": (
        [f"UPDATE ledger_event SET seq = 0 WHERE seq = 8 AND {ECO}"],
        "reordered",
    ),
    "an event re-hashed": (
        [f"UPDATE ledger_event SET value = '999' WHERE seq = 3 AND {ECO}", lambda s: _rehash(s, 3)],
        "relinked",
    ),
    "a chunk's first event re-hashed": (
        [f"UPDATE ledger_event SET note = 'y' WHERE seq = 4 AND {ECO}", lambda s: _rehash(s, 4)],
        "relinked",
    ),
    "a chunk's last event re-hashed": (
        [f"UPDATE ledger_event SET note = 'y' WHERE seq = 6 AND {ECO}", lambda s: _rehash(s, 6)],
        "relinked",
    ),
    "an event inserted": ([_append_unrecorded], "added"),
    "the count lowered": (
        ["UPDATE ecosystem SET counts = json_set(counts, '$.ledger', 5) WHERE name = :name"],
        "added",
    ),
    # The same values, written otherwise: the walk reads them as before (the SQL does not,
    # and defers to the walk's code for them).
    "trailing zeros added": (
        [f"UPDATE ledger_event SET quantity = quantity || '000' WHERE seq = 2 AND {ECO}"],
        None,
    ),
    "an amount with an exponent": (
        [f"UPDATE ledger_event SET quantity = '85E-1' WHERE seq = 2 AND {ECO}"],
        None,
    ),
    "a chunk's first amount with an exponent": (
        [f"UPDATE ledger_event SET quantity = '135E-1' WHERE seq = 7 AND {ECO}"],
        None,
    ),
    "a time without microseconds": (
        [f"UPDATE ledger_event SET recorded_at = '2025-03-01 12:00:00' WHERE seq = 4 AND {ECO}"],
        None,
    ),
    "two exponents, then an amount changed": (
        [
            f"UPDATE ledger_event SET quantity = '85E-1' WHERE seq = 2 AND {ECO}",
            f"UPDATE ledger_event SET quantity = '105E-1' WHERE seq = 4 AND {ECO}",
            f"UPDATE ledger_event SET value = '1' WHERE seq = 11 AND {ECO}",
        ],
        "altered",
    ),
}
N_EVENTS = 12


@pytest.fixture
def tampered_store(tmp_path: Path) -> Iterator[Store]:
    """Twelve events of NAME, interleaved with another ecosystem's (ids are not contiguous):
    in chunks of four ids, NAME's chunks begin with events 1, 4, 7 and 11."""
    with Store.open(f"sqlite:///{tmp_path / 'glia.db'}") as store:
        _ecosystem(store)
        _ecosystem(store, "Other")
        for i in range(N_EVENTS):
            store.record(NAME, [_work(i)])
            if i % 4 == 1:
                store.record("Other", [_work(i)])
        yield store


def _tamper(store: Store, steps: list[Any]) -> None:
    for step in steps:
        if callable(step):
            step(store)
        else:
            with store.engine.begin() as conn:
                conn.execute(text(step), {"name": NAME})


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_named_as_the_walk_names_it(tampered_store: Store, case: str) -> None:
    steps, kind = TAMPERING[case]
    _tamper(tampered_store, steps)
    fast, walk = _checks(tampered_store)
    assert (fast.path, walk.path) == ("fast", "walk")
    assert fast == walk
    assert (fast.broken.kind if fast.broken else None) == kind
    assert tampered_store.check_ledger(NAME) == walk


PARALLEL = [
    "a chunk's first event changed",
    "a chunk's last event re-hashed",
    "two events swapped across chunks",
    "two exponents, then an amount changed",  # at events 2 and 4, a chunk's first
]


@pytest.mark.parametrize("case", PARALLEL)
def test_chunks_read_by_processes_of_their_own_agree(
    tampered_store: Store, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of four ids (the first chunk ends at NAME's fourth event), two processes."""
    monkeypatch.setattr(ledger, "_FAST_PARALLEL_IDS", 1)
    monkeypatch.setattr(ledger, "_FAST_CHUNK_IDS", 4)
    monkeypatch.setattr(ledger, "_FAST_MAX_PROCESSES", 2)
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the chunks are read here")
    with tampered_store.engine.connect() as conn:
        query = select(ledger_event.c.id, ledger_event.c.seq).where(text(ECO))
        ids = dict(conn.execute(query, {"name": NAME}).all())
    firsts = [min(s for i, s in ids.items() if lo <= i < lo + 4) for lo in range(1, 17, 4)]
    assert firsts == [1, 4, 7, 11]
    steps, kind = TAMPERING[case]
    _tamper(tampered_store, steps)
    spans: list[Any] = []
    scan_all = ledger._scan_all

    def spy(*args: Any) -> Any:
        spans.extend(scan_all(*args))
        return spans

    monkeypatch.setattr(ledger, "_scan_all", spy)
    fast, walk = _checks(tampered_store)
    assert len(spans) > 1 and all(s.seen is not None for s in spans)
    assert (fast.path, walk.path) == ("fast", "walk")
    assert fast == walk
    assert (fast.broken.kind if fast.broken else None) == kind


def test_an_empty_ledger_and_a_store_in_memory(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'glia.db'}") as store:
        _ecosystem(store)
        fast, walk = _checks(store)
        assert fast == walk == LedgerCheck(NAME, 0, GENESIS, None)
        assert fast.path == "fast"
        _tamper(
            store,
            ["UPDATE ecosystem SET counts = json_set(counts, '$.ledger', 2) WHERE name = :name"],
        )
        fast, walk = _checks(store)
        assert fast == walk and fast.broken is not None and fast.broken.kind == "removed"
    memory = Store(make_engine("sqlite://", poolclass=StaticPool))
    migrate(memory.engine)
    _ecosystem(memory)
    memory.record(NAME, [_work(0)])
    assert memory.check_ledger(NAME).path == "walk"


def test_a_transaction_that_wrote_events_sees_them(
    tampered_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events written in the caller's transaction, not yet committed: read in that
    transaction below the threshold; above it, the processes of their own do not see
    them, and the check walks instead."""
    with tampered_store.engine.begin() as conn:
        ledger.record(conn, NAME, [_work(20)])
        found = ledger.check(conn, NAME)
        assert (found.path, found.events, found.intact) == ("fast", N_EVENTS + 1, True)
        monkeypatch.setattr(ledger, "_FAST_PARALLEL_IDS", 1)
        monkeypatch.setattr(ledger, "_FAST_CHUNK_IDS", 8)
        monkeypatch.setattr(ledger, "_FAST_MAX_PROCESSES", 2)
        found = ledger.check(conn, NAME)
        assert (found.events, found.intact) == (N_EVENTS + 1, True)
        assert found.path == ("walk" if (os.cpu_count() or 1) > 1 else "fast")
    # The processes read through a SQLite of their own, never in this process: writing
    # goes on, and the database stays sound.
    tampered_store.record(NAME, [_work(21)])
    found = tampered_store.check_ledger(NAME)
    assert (found.events, found.intact) == (N_EVENTS + 2, True)
    with tampered_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


# -- the migration ----------------------------------------------------------------------------
def test_a_ledger_written_before_the_index_verifies_fast(tmp_path: Path) -> None:
    """Amounts stored as given (``7.50``, ``-0.000``, ``100``) under revision 0002,
    then the upgrade: the index is there, and the fast path finds the chain intact."""
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'glia.db'}")
    try:
        migrate(engine, "0002")
        store = Store(engine)
        _ecosystem(store)
        amounts = ["7.50", "-0.000", "1E+2", "0.100000", "-12.340"]
        store.record(
            NAME, [_work(i, quantity=Decimal(a), value=Decimal(a)) for i, a in enumerate(amounts)]
        )
        with engine.connect() as conn:
            stored = conn.execute(select(ledger_event.c.quantity).order_by(ledger_event.c.seq))
            assert [str(q) for (q,) in stored] == ["7.50", "-0.000", "100", "0.100000", "-12.340"]
        migrate(engine)
        with engine.connect() as conn:
            indexes = {
                i["name"]: i["column_names"] for i in inspect(conn).get_indexes("ledger_event")
            }
        assert indexes["ix_ledger_event_opportunity"] == ["ecosystem_id", "opportunity", "seq"]
        fast, walk = _checks(store)
        assert fast.path == "fast" and fast == walk and fast.intact and fast.events == 5
    finally:
        engine.dispose()


# -- the benchmark's ledger is what the store writes ------------------------------------------
def test_the_benchmark_writes_what_the_store_writes(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_ledger as bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    n, opportunities, participants = 700, 7, 20
    built = bench.build(tmp_path / "bench.db", n, opportunities, participants, quiet=True)
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.import_ecosystem(bench.ecosystem_map(opportunities, participants))
        specs = list(bench.plan(n, opportunities, participants))
        recorded = store.record(bench.ECOSYSTEM, [bench.new_event(s) for s in specs])
        assert recorded[-1].hash == built["last_hash"] and len(recorded) == built["events"]
        actions = {s.action for s in specs}
        assert {"work", "deliverService", "transfer", "income", "use", "cite", "help"} <= actions
        assert sum(s.reverses is not None for s in specs) == n // 200
    columns = ", ".join(c.name for c in ledger_event.columns if c.name != "id")
    tables = []
    for db in ("bench.db", "store.db"):
        engine = create_engine(f"sqlite:///{tmp_path / db}")
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f"SELECT {columns} FROM ledger_event ORDER BY id").all()
            counts = conn.exec_driver_sql("SELECT counts FROM ecosystem").scalar()
            tables.append((rows, json.loads(counts)))
        engine.dispose()
    assert tables[0] == tables[1]
    assert tables[0][1]["ledger"] == n
    with Store.open(f"sqlite:///{tmp_path / 'bench.db'}") as store:
        assert store.check_ledger(bench.ECOSYSTEM) == LedgerCheck(
            bench.ECOSYSTEM, n, built["last_hash"], None
        )


def test_a_script_without_a_main_guard_can_verify_fast(tmp_path: Path) -> None:
    """The verifying processes are not started by multiprocessing: a script that does its
    work at import (no ``if __name__ == "__main__"``) is not run again."""
    with Store.open(f"sqlite:///{tmp_path / 'glia.db'}") as store:
        _ecosystem(store)
        store.record(NAME, [_work(i) for i in range(6)])
    script = tmp_path / "script.py"
    script.write_text(
        "from glia.store import Store, _ledger\n"
        "_ledger._FAST_PARALLEL_IDS, _ledger._FAST_CHUNK_IDS = 1, 2\n"
        f"with Store.open({str('sqlite:///' + str(tmp_path / 'glia.db'))!r}) as store:\n"
        f"    found = store.check_ledger({NAME!r})\n"
        "print(found.path, found.events, found.intact)\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fast", "6", "True"]
