"""The ``glia`` command, driven as a user drives it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glia.cli import app
from glia.io import read
from glia.store import Store

from conftest import EXAMPLE

runner = CliRunner()


def glia(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def _database_state(workspace: Path) -> str:
    """The whole database as SQL text: equal text, equal state."""
    import sqlite3

    conn = sqlite3.connect(workspace / "glia.db")
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def _bad_file(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "glia: 1\n"
        "ecosystem: Broken\n"
        "participants:\n"
        "  - {id: ana, capabilities: {agronomy: 9}}\n"
        "  - {id: ana}\n"
        "ties:\n"
        "  - {from: ana, to: nobody, layer: informal}\n"
        "  - {from: ana, to: ana, layer: sideways}\n",
        encoding="utf-8",
    )
    return bad


def test_version() -> None:
    code, out, _ = glia("--version")
    assert code == 0 and out.strip() == "glia 0.1.0"


@pytest.mark.parametrize(
    "command",
    [
        "init",
        "import",
        "export",
        "list",
        "show",
        "validate",
        "schema",
        "generate",
        "demo",
        "analyze",
        "swarm",
        "ledger record",
        "ledger import",
        "ledger verify",
        "ledger list",
        "ledger reverse",
    ],
)
def test_every_command_has_help_with_an_example(command: str) -> None:
    code, out, _ = glia(*command.split(), "--help")
    assert code == 0
    assert "Example: glia" in out


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    bad = _bad_file(tmp_path)
    code, out, err = glia("validate", bad)
    assert code == 2
    assert "4 problems found" in err
    for fragment in (
        "participants, row 1, line 4, column capabilities.agronomy: got 9",
        "participants, row 2, line 5, column id: got 'ana', expected an id not used before",
        "ties, row 1, line 7, column to: got 'nobody'",
        "ties, row 2, line 8, column layer: got 'sideways'",
    ):
        assert fragment in err.replace("\n", " ").replace("  ", " ") or fragment in err
    code, out, _ = glia("validate", bad, "--json")
    payload = json.loads(out)
    assert code == 2 and payload["valid"] is False and payload["total"] == 4
    assert {(p["section"], p["row"], p["column"]) for p in payload["problems"]} == {
        ("participants", 1, "capabilities.agronomy"),
        ("participants", 2, "id"),
        ("ties", 1, "to"),
        ("ties", 2, "layer"),
    }


def test_import_of_a_bad_file_changes_nothing(tmp_path: Path, workspace: Path) -> None:
    assert glia("import", EXAMPLE, "-w", workspace)[0] == 0
    before = _database_state(workspace)
    code, _, err = glia("import", _bad_file(tmp_path), "-w", workspace)
    assert code == 2
    assert "nothing was written" in err
    assert _database_state(workspace) == before


def test_round_trip_through_the_commands(tmp_path: Path, workspace: Path) -> None:
    assert glia("import", EXAMPLE, "-w", workspace)[0] == 0
    exported = tmp_path / "northbridge-export.yaml"
    code, _, _ = glia("export", "Northbridge", "--format", "yaml", "-o", exported, "-w", workspace)
    assert code == 0
    code, out, _ = glia("import", exported, "--ecosystem", "Copy", "-w", workspace)
    assert code == 0 and "Imported Copy" in out
    with Store.open(workspace=workspace) as store:
        original, copy = store.load("Northbridge"), store.load("Copy")
    assert copy == original.model_copy(update={"ecosystem": "Copy"})
    assert original == read(EXAMPLE)


def test_list_show_and_unknown_names(workspace: Path) -> None:
    code, out, _ = glia("list", "-w", workspace)
    assert code == 0 and "No ecosystems yet" in out
    glia("import", EXAMPLE, "-w", workspace)
    code, out, _ = glia("list", "-w", workspace)
    assert code == 0 and "Northbridge" in out
    eco = read(EXAMPLE)
    code, out, _ = glia("show", "Northbridge", "-w", workspace)
    assert code == 0
    for heading in ("Counts by kind", "Clusters", "Layers", "Exchanges"):
        assert heading in out
    assert f"{len(eco.participants)}" in out
    code, _, err = glia("show", "Nowhere", "-w", workspace)
    assert code == 2 and "no ecosystem named 'Nowhere'" in err and "Northbridge" in err
    code, _, err = glia("export", "Nowhere", "-o", workspace / "x.yaml", "-w", workspace)
    assert code == 2


def test_export_rejects_an_unknown_format(workspace: Path) -> None:
    code, _, err = glia("export", "Northbridge", "--format", "pdf", "-w", workspace)
    assert code == 2 and "unknown format 'pdf'" in err


def test_schema_describes_the_format() -> None:
    code, out, _ = glia("schema")
    schema = json.loads(out)
    assert code == 0
    assert set(schema["properties"]) >= {
        "glia",
        "ecosystem",
        "clusters",
        "participants",
        "roles",
        "ties",
        "exchanges",
        "opportunities",
    }
    tie = schema["$defs"]["Tie"]
    assert set(tie["required"]) == {"from", "to", "layer"}
    assert tie["properties"]["weight"]["maximum"] == 1


def test_demo_imports_the_example_and_shows_it(workspace: Path) -> None:
    code, out, _ = glia("demo", "--workspace", workspace)
    assert code == 0
    assert "Northbridge" in out and "Layers" in out
    assert "Single points of failure" in out
    assert "<svg" in (workspace / "northbridge-report.html").read_text()
    assert "every party consented" in out and "C6 violated" in out
    assert "violated: We keep at least nine in ten of the promises" in out  # the review pack
    assert "ben / northbridge-demo  (orchestrator)" in out  # the demo login
    example = read(EXAMPLE)
    with Store.open(workspace=workspace) as store:
        eco = store.load("Northbridge")
        assert store.opportunity("Northbridge", "coop-traceability").stage == "reviewed"
        assert store.check_ledger("Northbridge").intact
        ben = store.authenticate("ben", "northbridge-demo")
        assert ben is not None and store.principal(ben.id).roles["Northbridge"].role == (
            "orchestrator"
        )
    # The loop taught the map: only collaboration ties and the engagement's exchanges changed.
    assert eco.participants == example.participants
    old = {(t.source, t.target, t.type): t for t in example.ties}
    changed = [t for t in eco.ties if old.get((t.source, t.target, t.type)) != t]
    assert changed and all(t.type == "collaboration" for t in changed)
    assert all(t.weight >= old[(t.source, t.target, t.type)].weight for t in changed
               if (t.source, t.target, t.type) in old)  # fmt: skip
    new = [e for e in eco.exchanges if e not in example.exchanges]
    assert new and {e.attributes["opportunity"] for e in new} == {"coop-traceability"}


def test_the_installed_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "glia", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "glia 0.1.0"


def test_graphml_export_of_the_example_opens_in_networkx(tmp_path: Path, workspace: Path) -> None:
    import networkx as nx

    glia("import", EXAMPLE, "-w", workspace)
    out = tmp_path / "northbridge.graphml"
    code, _, _ = glia("export", "Northbridge", "--format", "graphml", "-o", out, "-w", workspace)
    assert code == 0
    graph = nx.read_graphml(out)
    eco = read(EXAMPLE)
    nodes = (
        {f"participant:{p.id}" for p in eco.participants}
        | {f"role:{r.id}" for r in eco.roles}
        | {f"cluster:{c.id}" for c in eco.clusters}
    )
    assert set(graph.nodes) == nodes
    endpoint = {p.id: f"participant:{p.id}" for p in eco.participants} | {
        r.id: f"role:{r.id}" for r in eco.roles
    }
    expected = sorted(
        [(f"participant:{t.source}", f"participant:{t.target}", t.layer) for t in eco.ties]
        + [
            (f"participant:{p.id}", f"cluster:{c}", "membership")
            for p in eco.participants
            for c in p.clusters
        ]
        + [
            (f"participant:{who}", f"role:{r.id}", "plays")
            for r in eco.roles
            for who in r.played_by
        ]
        + [(endpoint[e.source], endpoint[e.target], "exchange") for e in eco.exchanges]
    )
    edges = sorted((u, v, d["layer"]) for u, v, d in graph.edges(data=True))
    assert edges == expected
    weights = sorted(d["weight"] for _, _, d in graph.edges(data=True) if d["layer"] == "informal")
    assert weights == sorted(t.weight for t in eco.ties if t.layer == "informal")
