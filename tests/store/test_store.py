"""The store, on SQLite and on PostgreSQL: imports, round trips, snapshots, migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from sqlalchemy import event, select

from glia.io import read, write_native
from glia.model import Ecosystem, InvalidInput
from glia.store import Store, metadata, schema_revision
from glia.store._tables import CONTENT_TABLES, ecosystem

from conftest import EXAMPLE
from strategies import ecosystems


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: the database's whole state."""
    with store.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(str(v) for v in row) for row in conn.execute(select(table))),
            )
            for table in (ecosystem, *CONTENT_TABLES)
        }


def _renamed(eco: Ecosystem, name: str) -> Ecosystem:
    return eco.model_copy(update={"ecosystem": name})


def test_the_example_round_trips_through_the_store(store: Store) -> None:
    eco = read(EXAMPLE)
    store.import_ecosystem(eco)
    assert store.load(eco.name) == eco


def test_import_export_import_gives_an_equal_ecosystem(store: Store, tmp_path: Path) -> None:
    first = store.import_file(EXAMPLE)
    exported = tmp_path / "exported.yaml"
    write_native(exported, store.load(first.ecosystem))
    second = store.import_file(exported, name="Northbridge again")
    assert second.counts == first.counts
    again = store.load("Northbridge again")
    assert again == _renamed(store.load(first.ecosystem), "Northbridge again")


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eco=ecosystems())
def test_any_valid_ecosystem_round_trips(store: Store, eco: Ecosystem) -> None:
    result = store.import_ecosystem(eco, name="generated", replace=True)
    assert store.load("generated") == _renamed(eco, "generated")
    assert result.counts == eco.counts()


def test_a_bad_import_changes_nothing(store: Store, tmp_path: Path) -> None:
    store.import_file(EXAMPLE)
    before = _dump(store)
    bad = tmp_path / "bad.yaml"
    write_native(bad, read(EXAMPLE))
    # Valid up to the last record, so earlier sections were already written when
    # the problem shows: the transaction must take them back.
    with bad.open("a", encoding="utf-8") as f:
        f.write("  - {id: broken-opportunity, client: nobody-at-all}\n")
    with pytest.raises(InvalidInput) as caught:
        store.import_file(bad, name="Northbridge copy")
    assert [p.column for p in caught.value.problems] == ["client"]
    assert _dump(store) == before
    with pytest.raises(InvalidInput):
        store.import_file(bad, name="Northbridge", replace=True)
    assert _dump(store) == before


def test_an_existing_name_needs_replace(store: Store) -> None:
    store.import_file(EXAMPLE)
    before = _dump(store)
    with pytest.raises(InvalidInput) as caught:
        store.import_file(EXAMPLE)
    assert "use --replace" in str(caught.value.problems[0])
    assert _dump(store) == before
    result = store.import_file(EXAMPLE, replace=True)
    assert result.replaced
    assert [e.name for e in store.list()] == ["Northbridge"]


def test_many_ecosystems_live_side_by_side(store: Store) -> None:
    eco = read(EXAMPLE)
    small = Ecosystem.model_validate(
        {
            "ecosystem": "Small",
            "participants": [{"id": "ana"}, {"id": "ben"}],
            "ties": [{"from": "ben", "to": "ana", "layer": "formal"}],
        }
    )
    store.import_ecosystem(eco)
    store.import_ecosystem(small)
    assert [e.name for e in store.list()] == ["Northbridge", "Small"]
    assert store.load("Small") == small
    assert store.load("Northbridge") == eco
    store.delete("Small")
    assert [e.name for e in store.list()] == ["Northbridge"]
    assert store.load("Northbridge") == eco


def test_the_snapshot_holds_the_records_as_arrays(store: Store) -> None:
    eco = read(EXAMPLE)
    store.import_ecosystem(eco)
    snap = store.snapshot(eco.name)
    ids = [p.id for p in eco.participants]
    assert snap.participant_ids == ids
    position = {p: i for i, p in enumerate(ids)}
    assert snap.tie_source.tolist() == [position[t.source] for t in eco.ties]
    assert snap.tie_target.tolist() == [position[t.target] for t in eco.ties]
    assert [snap.layers[c] for c in snap.tie_layer] == [t.layer for t in eco.ties]
    assert [snap.tie_types[c] if c >= 0 else None for c in snap.tie_type] == [
        t.type for t in eco.ties
    ]
    np.testing.assert_allclose(snap.tie_weight, [t.weight for t in eco.ties])
    assert snap.tie_directed.tolist() == [t.directed for t in eco.ties]
    since = [None if np.isnat(d) else d.astype(object) for d in snap.tie_since]
    assert since == [t.since for t in eco.ties]
    members = sorted(
        zip(snap.member_participant.tolist(), snap.member_cluster.tolist(), strict=False)
    )
    cluster_pos = {c.id: i for i, c in enumerate(eco.clusters)}
    expected = sorted(
        (position[p.id], cluster_pos[c]) for p in eco.participants for c in p.clusters
    )
    assert members == expected
    held = {
        (ids[p], snap.capabilities[c], int(level))
        for p, c, level in zip(
            snap.holder_participant, snap.holder_capability, snap.holder_level, strict=False
        )
    }
    assert held == {(p.id, c, lv) for p in eco.participants for c, lv in p.capabilities.items()}
    rates = [
        np.nan if p.rate_per_hour is None else float(p.rate_per_hour) for p in eco.participants
    ]
    np.testing.assert_array_equal(snap.participant_rate, rates)
    values = [np.nan if e.value is None else float(e.value) for e in eco.exchanges]
    np.testing.assert_array_equal(snap.exchange_value, values)
    assert snap.exchange_impact.shape == (len(eco.exchanges), 4)
    assert snap.participant_kind.dtype == np.int8 and snap.tie_source.dtype == np.int32


def test_imports_write_in_bulk(store: Store) -> None:
    n = 3000
    eco = Ecosystem.model_validate(
        {
            "ecosystem": "Bulk",
            "participants": [{"id": f"p{i}", "capabilities": {"x": 1}} for i in range(n)],
            "ties": [
                {"from": f"p{i}", "to": f"p{(i + 1) % n}", "layer": "informal", "type": "trust"}
                for i in range(n)
            ],
        }
    )
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    store.import_ecosystem(eco)
    event.remove(store.engine, "before_cursor_execute", count)
    # A handful of statements per table and batch, never one per row.
    assert len(statements) < 40, statements
    assert store.snapshot("Bulk").n_ties == n


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    current, head = schema_revision(store.engine)
    assert current == head == "0006"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    with Store.open(workspace=tmp_path) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "glia.db").exists()


def test_the_database_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "elsewhere.db"
    monkeypatch.setenv("GLIA_DATABASE_URL", f"sqlite:///{target}")
    with Store.open(workspace=tmp_path / "ignored") as store:
        store.import_file(EXAMPLE)
    assert target.exists()
    assert not (tmp_path / "ignored" / "glia.db").exists()


def test_the_name_given_wins_and_a_missing_name_is_a_problem(store: Store, tmp_path: Path) -> None:
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("glia: 1\nparticipants: [{id: ana}]\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        store.import_file(nameless)
    assert [(p.column, p.expected) for p in caught.value.problems] == [
        ("ecosystem", "the ecosystem's name")
    ]
    assert store.list() == []
    result = store.import_file(nameless, name="Given")
    assert result.ecosystem == "Given"
    assert store.load("Given").participants[0].id == "ana"
