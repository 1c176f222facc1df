"""The ledger in the store, on SQLite and PostgreSQL: recording, reversing, and tampering
found by verification (the tampering is done with SQL, behind the store's back)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, event, insert, select, text, update

from glia.ledger import GENESIS, chain, verify
from glia.model import Ecosystem, InvalidInput
from glia.store import (
    LedgerError,
    NewEvent,
    Store,
    UnknownEcosystem,
    make_engine,
    migrate,
    schema_revision,
)
from glia.store._engine import _config
from glia.store._tables import ecosystem, ledger_event

NAME = "Northbridge"
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def _ecosystem(store: Store, name: str = NAME, currency: str | None = "EUR") -> None:
    eco = Ecosystem.model_validate(
        {
            "ecosystem": name,
            "currency": currency,
            "participants": [{"id": "ann"}, {"id": "bob"}, {"id": "cat"}],
        }
    )
    store.import_ecosystem(eco)


def _work(i: int, **changes: Any) -> NewEvent:
    made = NewEvent(
        action=("work", "use", "transfer", "income", "help")[i % 5],
        agent=("ann", "bob", "cat")[i % 3],
        recorded_by="nrda",
        opportunity="coop-traceability" if i % 2 == 0 else "farm-data",
        quantity=Decimal("7.50") + i,
        unit="hour",
        value=Decimal("600.10") * (i + 1),
        currency="EUR",
        note=f"contribution {i}",
        evidence=f"https://example.org/{i}",
        recorded_at=T0 + dt.timedelta(hours=i),
    )
    return replace(made, **changes)


@pytest.fixture
def ledger(store: Store) -> Store:
    """A store holding Northbridge with five events."""
    _ecosystem(store)
    store.record(NAME, [_work(i) for i in range(5)])
    return store


def _sql(store: Store, *statements: Any) -> None:
    """Run statements straight on the database, in one transaction."""
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement) if isinstance(statement, str) else statement)


# -- recording ---------------------------------------------------------------------------
def test_events_round_trip_with_exact_decimals_and_times(store: Store) -> None:
    _ecosystem(store)
    given = [
        _work(0, quantity=Decimal("7.50"), value=Decimal("123456789012345678.000001")),
        _work(1, quantity=Decimal("-0.000001"), value=Decimal("0.10"), opportunity=None),
        NewEvent(
            "help",
            "cat",
            "nrda",
            recorded_at=dt.datetime.fromisoformat("2025-03-01T10:30:00.123456+02:00"),
        ),
    ]
    recorded = store.record(NAME, given)
    read = store.events(NAME)
    assert read == recorded
    assert [str(e.quantity) for e in read] == ["7.50", "-0.000001", "None"]
    assert [str(e.value) for e in read] == ["123456789012345678.000001", "0.10", "None"]
    assert read[2].recorded_at == dt.datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=dt.UTC)
    assert read[2].recorded_at.tzinfo == dt.UTC
    assert read[1].opportunity is None and read[2].unit is None
    assert all(e.ecosystem == NAME for e in read)


def test_seq_numbers_and_the_chain_continue_across_calls(store: Store) -> None:
    _ecosystem(store)
    first = store.record(NAME, [_work(0), _work(1)])
    second = store.record(NAME, [_work(2)])
    assert [e.seq for e in first + second] == [1, 2, 3]
    assert first[0].prev_hash == GENESIS
    assert second[0].prev_hash == first[1].hash
    events = store.events(NAME)
    assert verify(events) is None
    # The stored hashes are those of the documented chain over the same fields.
    raw = [replace(e, prev_hash=GENESIS, hash="") for e in events]
    assert chain(raw) == events
    assert store.verify_ledger(NAME) is None
    check = store.check_ledger(NAME)
    assert (check.events, check.last_hash, check.intact) == (3, second[0].hash, True)
    assert store.summary(NAME).info.counts["ledger"] == 3


def test_ledgers_of_two_ecosystems_are_separate_chains(store: Store) -> None:
    _ecosystem(store)
    _ecosystem(store, "Other")
    store.record(NAME, [_work(0), _work(1)])
    (other,) = store.record("Other", [_work(0)])
    assert other.seq == 1 and other.prev_hash == GENESIS and other.ecosystem == "Other"
    assert [e.seq for e in store.events(NAME)] == [1, 2]


def test_a_bad_event_writes_nothing_and_every_problem_is_named(store: Store) -> None:
    _ecosystem(store)
    store.record(NAME, [_work(0)])
    before = store.events(NAME)
    bad = [
        _work(1),
        _work(2, action="wrk"),
        _work(3, agent="", quantity=7.5),  # a float: inexact
        _work(4, recorded_at=dt.datetime(2025, 3, 1), currency="euro", reverses=9),
    ]
    with pytest.raises(LedgerError) as caught:
        store.record(NAME, bad)
    found = [(p.event, p.field) for p in caught.value.problems]
    assert found == [
        (2, "action"),
        (3, "agent"),
        (3, "quantity"),
        (4, "recorded_at"),
        (4, "currency"),
        (4, "reverses"),
    ]
    message = str(caught.value)
    assert "6 problems in the events; nothing was written" in message
    assert "event 2, field action: got 'wrk', expected one of work, deliverService" in message
    assert "event 3, field quantity: got 7.5, expected an exact decimal number" in message
    assert "event 4, field reverses: got 9, expected the seq of an earlier event" in message
    assert isinstance(caught.value, ValueError)
    assert store.events(NAME) == before
    assert store.summary(NAME).info.counts["ledger"] == 1
    assert store.verify_ledger(NAME) is None


def test_a_value_takes_the_ecosystems_currency_or_needs_one(store: Store) -> None:
    _ecosystem(store)
    _ecosystem(store, "Moneyless", currency=None)
    (event,) = store.record(NAME, [_work(0, currency=None)])
    assert event.currency == "EUR" and store.events(NAME)[0].currency == "EUR"
    with pytest.raises(LedgerError) as caught:
        store.record("Moneyless", [_work(0, currency=None)])
    assert [(p.event, p.field) for p in caught.value.problems] == [(1, "currency")]
    assert "the ecosystem has none to default to" in str(caught.value)
    # No value, no currency needed.
    store.record("Moneyless", [_work(0, currency=None, value=None)])


def test_amounts_must_be_finite_and_within_the_columns_precision(store: Store) -> None:
    _ecosystem(store)
    bad = [
        _work(0, quantity=Decimal("NaN")),
        _work(1, value=Decimal("0.0000001")),
        _work(2, value=Decimal("1E+18")),
    ]
    with pytest.raises(LedgerError) as caught:
        store.record(NAME, bad)
    assert [p.expected for p in caught.value.problems] == [
        "a finite decimal number",
        "at most 6 decimal places",
        "at most 18 digits before the point",
    ]
    # Trailing zeros beyond six places are still exact, and kept as given.
    (event,) = store.record(NAME, [_work(0, value=Decimal("1.50000000"))])
    assert str(store.events(NAME)[0].value) == "1.50000000" == str(event.value)


def test_unknown_ecosystems_are_named(store: Store) -> None:
    _ecosystem(store)
    for call in (
        lambda: store.record("Nowhere", [_work(0)]),
        lambda: store.events("Nowhere"),
        lambda: store.verify_ledger("Nowhere"),
        lambda: store.reverse("Nowhere", 1, "nrda"),
    ):
        with pytest.raises(UnknownEcosystem, match="no ecosystem named 'Nowhere'; known: "):
            call()


def test_events_of_one_opportunity_come_in_one_query(ledger: Store) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(ledger.engine, "before_cursor_execute", count)
    try:
        chosen = ledger.events(NAME, opportunity="coop-traceability")
        everything = ledger.events(NAME)
    finally:
        event.remove(ledger.engine, "before_cursor_execute", count)
    assert [e.seq for e in chosen] == [1, 3, 5]
    assert [e.seq for e in everything] == [1, 2, 3, 4, 5]
    # One read of the events per call, beside the ecosystem's id.
    assert sum("FROM ledger_event" in s for s in statements) == 2


# -- reversing ---------------------------------------------------------------------------
def test_a_reversal_appends_the_opposite_and_edits_nothing(ledger: Store) -> None:
    before = ledger.events(NAME)
    undo = ledger.reverse(NAME, 2, "nrda", "hours entered twice")
    original = before[1]
    assert undo.seq == 6 and undo.reverses == 2 and undo.prev_hash == before[-1].hash
    assert (undo.action, undo.agent, undo.opportunity, undo.unit, undo.currency) == (
        original.action,
        original.agent,
        original.opportunity,
        original.unit,
        original.currency,
    )
    assert original.quantity is not None and original.value is not None
    assert undo.quantity == -original.quantity and undo.value == -original.value
    assert undo.note == "hours entered twice" and undo.recorded_by == "nrda"
    after = ledger.events(NAME)
    assert after[:5] == before and after[5] == undo
    assert sum(e.value for e in after if e.agent == original.agent and e.value) == sum(
        e.value for e in before if e.agent == original.agent and e.value and e.seq != 2
    )
    assert ledger.verify_ledger(NAME) is None


def test_an_event_is_reversed_once_and_only_events_that_exist(ledger: Store) -> None:
    ledger.reverse(NAME, 2, "nrda", "wrong")
    with pytest.raises(LedgerError, match=r"cannot reverse event 2 of Northbridge: .*event 6"):
        ledger.reverse(NAME, 2, "nrda", "again")
    with pytest.raises(LedgerError, match="cannot reverse event 9: no such event"):
        ledger.reverse(NAME, 9, "nrda", "nothing there")
    with pytest.raises(LedgerError) as caught:
        ledger.record(NAME, [_work(0, reverses=2)])
    assert "an event not yet reversed (event 6 reverses it)" in str(caught.value)
    # A reversal recorded by hand may name an event of the same batch.
    done = ledger.record(NAME, [_work(0), _work(0, reverses=7, value=Decimal("-600.10"))])
    assert [(e.seq, e.reverses) for e in done] == [(7, None), (8, 7)]
    assert len(ledger.events(NAME)) == 8


# -- deleting and replacing --------------------------------------------------------------
def test_deleting_an_ecosystem_removes_its_ledger(ledger: Store) -> None:
    _ecosystem(ledger, "Other")
    ledger.record("Other", [_work(0)])
    ledger.delete(NAME)
    with ledger.engine.connect() as conn:
        left = conn.execute(select(ledger_event.c.seq)).scalars().all()
    assert left == [1]
    _ecosystem(ledger)  # the name is free again; a new ledger starts at 1
    (first,) = ledger.record(NAME, [_work(0)])
    assert first.seq == 1 and first.prev_hash == GENESIS


def test_replacing_the_map_never_drops_the_ledger(ledger: Store) -> None:
    before = ledger.events(NAME)
    eco = Ecosystem.model_validate({"ecosystem": NAME, "participants": [{"id": "ann"}]})
    # Replacing the map keeps the ecosystem's row, its ledger and the ledger's count.
    ledger.import_ecosystem(eco, replace=True)
    assert [p.id for p in ledger.load(NAME).participants] == ["ann"]
    assert ledger.events(NAME) == before
    assert ledger.verify_ledger(NAME) is None


# -- concurrency and migrations ----------------------------------------------------------
def test_concurrent_appends_do_not_fork_the_chain(db_url: str) -> None:
    with Store.open(db_url) as store:
        _ecosystem(store)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            with Store.open(db_url, migrate_schema=False) as mine:
                for i in range(8):
                    mine.record(NAME, [_work(i, note=f"worker {worker}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store.open(db_url) as store:
        events = store.events(NAME)
        assert [e.seq for e in events] == list(range(1, 25))
        assert store.verify_ledger(NAME) is None


def test_migrate_brings_a_0001_database_to_the_ledger(db_url: str) -> None:
    engine: Engine = make_engine(db_url)
    try:
        migrate(engine, "0001")
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(ecosystem).values(
                    name="Old",
                    currency="EUR",
                    attributes={},
                    counts={"participants": 0},
                    created_at=now,
                    updated_at=now,
                )
            )
        assert schema_revision(engine) == ("0001", "0006")
        migrate(engine)
        assert schema_revision(engine) == ("0006", "0006")
        store = Store(engine)
        (first,) = store.record("Old", [_work(0, currency=None)])
        assert (first.seq, first.currency) == (1, "EUR")
        assert store.verify_ledger("Old") is None
        store.delete("Old")
        with engine.begin() as conn:
            command.downgrade(_config(conn), "0001")
        assert schema_revision(engine) == ("0001", "0006")
        with engine.connect() as conn:
            tables = engine.dialect.get_table_names(conn)
        assert "ledger_event" not in tables and "ecosystem" in tables
    finally:
        engine.dispose()


# -- tampering, behind the store's back --------------------------------------------------
def _broken(store: Store) -> tuple[int, str, str]:
    found = store.verify_ledger(NAME)
    assert found is not None
    return found.seq, found.kind, found.message


def test_a_changed_amount_is_named(ledger: Store) -> None:
    _sql(ledger, "UPDATE ledger_event SET value = 601 WHERE seq = 3")
    assert _broken(ledger) == (3, "altered", "event 3 altered: its hash does not match")


def test_a_changed_agent_or_time_is_named(ledger: Store) -> None:
    _sql(ledger, "UPDATE ledger_event SET agent = 'eve' WHERE seq = 4")
    assert _broken(ledger)[:2] == (4, "altered")


def test_a_removed_event_is_named(ledger: Store) -> None:
    _sql(ledger, "DELETE FROM ledger_event WHERE seq = 2")
    assert _broken(ledger) == (2, "removed", "event 2 removed (next is 3)")


def test_a_removed_tail_is_named(ledger: Store) -> None:
    _sql(ledger, "DELETE FROM ledger_event WHERE seq >= 4")
    seq, kind, message = _broken(ledger)
    assert (seq, kind) == (4, "removed")
    assert message.startswith("events 4 to 5 removed: 5 events were recorded")
    _sql(ledger, "DELETE FROM ledger_event WHERE seq = 3")
    assert _broken(ledger)[:2] == (3, "removed")


def test_an_event_inserted_behind_the_ledgers_back_is_named(ledger: Store) -> None:
    last = ledger.events(NAME)[-1]
    forged = chain([replace(last, seq=6, agent="eve", hash="")], last.hash)[0]
    row = {
        c.name: getattr(forged, c.name)
        for c in ledger_event.c
        if c.name not in ("id", "ecosystem_id")
    }
    with ledger.engine.connect() as conn:
        eco = conn.execute(select(ecosystem.c.id).where(ecosystem.c.name == NAME)).scalar_one()
    _sql(ledger, insert(ledger_event).values(ecosystem_id=eco, **row))
    assert _broken(ledger)[:2] == (6, "added")


def test_swapped_contents_are_named(ledger: Store) -> None:
    """Every column but the surrogate key swapped between the rows of events 2 and 3."""
    columns = [c for c in ledger_event.c if c.name != "id"]
    with ledger.engine.connect() as conn:
        rows = {
            r.seq: r
            for r in conn.execute(
                select(ledger_event.c.id, *columns).where(ledger_event.c.seq.in_([2, 3]))
            )
        }
    two, three = rows[2], rows[3]

    def contents(r: Any, seq: int) -> dict[str, Any]:
        return {c.name: getattr(r, c.name) for c in columns} | {"seq": seq}

    _sql(
        ledger,
        update(ledger_event).where(ledger_event.c.id == two.id).values(seq=-1),
        update(ledger_event).where(ledger_event.c.id == three.id).values(**contents(two, 2)),
        update(ledger_event).where(ledger_event.c.id == two.id).values(**contents(three, 3)),
    )
    # Read by seq the events look untouched; read as stored, they are out of order.
    assert verify(ledger.events(NAME)) is None
    assert _broken(ledger) == (2, "reordered", "event 2 reordered: stored after event 3")


def test_swapped_seq_numbers_are_named(ledger: Store) -> None:
    _sql(
        ledger,
        "UPDATE ledger_event SET seq = -1 WHERE seq = 4",
        "UPDATE ledger_event SET seq = 4 WHERE seq = 5",
        "UPDATE ledger_event SET seq = 5 WHERE seq = -1",
    )
    assert _broken(ledger) == (4, "reordered", "event 4 reordered: stored after event 5")


def test_a_chain_rehashed_after_a_change_is_caught_by_the_last_hash(ledger: Store) -> None:
    """Whoever re-hashes the whole tail leaves a valid chain: the last hash, kept
    elsewhere, is what shows it (``glia ledger verify`` prints it)."""
    kept = ledger.check_ledger(NAME).last_hash
    events = ledger.events(NAME)
    _sql(ledger, "UPDATE ledger_event SET value = 601 WHERE seq = 3")
    assert _broken(ledger)[:2] == (3, "altered")
    changed = replace(events[2], value=Decimal("601"), hash="")
    rehashed = chain([changed, *(replace(e, hash="") for e in events[3:])], events[1].hash)
    statements = [
        update(ledger_event)
        .where(ledger_event.c.seq == e.seq)
        .values(prev_hash=e.prev_hash, hash=e.hash)
        for e in rehashed[1:]
    ]
    _sql(ledger, update(ledger_event).where(ledger_event.c.seq == 3).values(hash=rehashed[0].hash))
    _sql(ledger, *statements)
    assert ledger.verify_ledger(NAME) is None
    assert ledger.check_ledger(NAME).last_hash != kept
    # Re-hashing only the changed event is caught where the next one no longer follows.
    _sql(
        ledger,
        update(ledger_event).where(ledger_event.c.seq == 4).values(prev_hash=events[3].prev_hash),
    )
    assert _broken(ledger)[:2] == (4, "altered")


# -- importing a CSV file ----------------------------------------------------------------
def test_a_csv_file_is_recorded_whole_or_not_at_all(store: Store, tmp_path: Path) -> None:
    _ecosystem(store)
    good = tmp_path / "good.csv"
    good.write_text(
        "action,agent,quantity,unit,value,currency,opportunity,note,recorded_at\n"
        "work,ann,7.50,hour,600,EUR,coop-traceability,design,2025-03-01T09:30:00+01:00\n"
        'use,bob,,,"1,5",,,"a note, with a comma",\n',
        encoding="utf-8",
    )
    bad_amount = store.events(NAME)
    with pytest.raises(InvalidInput) as caught:
        store.import_events(NAME, good, recorded_by="nrda")
    assert [(p.location.row, p.column) for p in caught.value.problems] == [(3, "value")]
    assert store.events(NAME) == bad_amount == []
    good.write_text(good.read_text().replace('"1,5"', "1.5"), encoding="utf-8")
    events = store.import_events(NAME, good, recorded_by="nrda")
    assert [(e.seq, e.agent, e.value, e.currency, e.recorded_by) for e in events] == [
        (1, "ann", Decimal("600"), "EUR", "nrda"),
        (2, "bob", Decimal("1.5"), "EUR", "nrda"),
    ]
    assert events[0].recorded_at == dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)
    assert events[1].note == "a note, with a comma"
    assert store.events(NAME) == events


def test_a_csv_file_reports_every_problem_with_row_and_column(store: Store, tmp_path: Path) -> None:
    _ecosystem(store, currency=None)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "action,agent,recorded_by,quantity,value,currency,reverses,recorded_at\n"
        "work,ann,nrda,7.5,,,,\n"
        "wrk,bob,nrda,seven,,,,\n"
        "work,,,1,100,,1,2025-03-01\n"
        "\n"
        "help,cat,nrda,,,eur,5,yesterday\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        store.import_events(NAME, bad, recorded_by=None)
    found = [(p.location.source, p.location.row, p.column) for p in caught.value.problems]
    source = str(bad)
    assert found == [
        (source, 3, "action"),
        (source, 3, "quantity"),
        (source, 4, "agent"),
        (source, 4, "recorded_by"),
        (source, 4, "currency"),
        (source, 4, "recorded_at"),
        (source, 6, "currency"),
        (source, 6, "reverses"),
        (source, 6, "recorded_at"),
    ]
    text_ = "\n".join(str(p) for p in caught.value.problems)
    assert "row 3, column quantity: got 'seven', expected a decimal number" in text_
    assert "row 6, column reverses: got 5, expected the seq of an earlier event" in text_
    assert store.events(NAME) == []


def test_a_csv_header_must_name_known_columns(store: Store, tmp_path: Path) -> None:
    _ecosystem(store)
    bad = tmp_path / "bad.csv"
    bad.write_text("Action;Who;Quantity\nwork;ann;1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        store.import_events(NAME, bad, recorded_by="nrda")
    assert [(p.location.row, p.column) for p in caught.value.problems] == [
        (1, "who"),
        (1, "agent"),
    ]
