"""analyze(): the engines composed, its JSON keys, its refusals, the report and the command."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

import glia
from glia.analysis import AnalysisError, analyze
from glia.cli import app
from glia.model import Ecosystem, Participant, Tie
from glia.report import findings, html_report

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


@pytest.fixture(scope="module")
def northbridge():
    return glia.read(EXAMPLE)


@pytest.fixture(scope="module")
def result(northbridge):
    return analyze(northbridge)


def test_participant_measures_are_layer_qualified_and_match_networkx(northbridge, result) -> None:
    data = result.to_json()
    assert data["glia_analysis"] == 1
    assert set(data["participants"]) == {p.id for p in northbridge.participants}
    graph = nx.Graph()
    graph.add_nodes_from(p.id for p in northbridge.participants)
    graph.add_edges_from((t.source, t.target) for t in northbridge.ties if t.layer == "informal")
    expected = nx.betweenness_centrality(graph)
    for pid, value in expected.items():
        assert data["participants"][pid]["betweenness.informal"] == pytest.approx(value, abs=1e-9)
        assert data["participants"][pid]["degree.informal"] == graph.degree(pid)
    for key in ("community", "brokerage.liaison", "ei_index", "micmac.quadrant", "money_net"):
        assert key in data["participants"]["nrda"], key


def test_json_is_strict_json(result) -> None:
    text = json.dumps(result.to_json(), allow_nan=False)
    assert json.loads(text)["ecosystem"] == "Northbridge"


def test_to_pandas_has_one_row_per_participant(northbridge, result) -> None:
    df = result.to_pandas()
    assert list(df.index) == [p.id for p in northbridge.participants]
    assert df.loc["nrda", "degree.combined"] == result.centrality["combined"].degree[0]


def test_html_report_is_self_contained(result) -> None:
    page = html_report(result)
    assert page.startswith("<!doctype html>")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "stroke-dasharray" in page  # intangible deliverables are dashed
    assert page.count("<svg") >= 5
    for section in findings(result):
        assert len(section.lines) >= 2, section.key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"layers": ["trust"]},
            "unknown layer 'trust': expected one of formal, informal, combined, exchange",
        ),
        ({"group": "office"}, "unknown grouping 'office'"),
        ({"group": "attribute:nothing"}, "no participant has the attribute 'nothing'"),
        ({"method": "louvain"}, "louvain"),
        ({"resolution": 0.0}, "resolution"),
        ({"pivots": 1}, "pivots must be at least 2 (got 1)"),
        ({"exact_limit": -1}, "exact_limit must be 0 or more (got -1)"),
    ],
)
def test_bad_arguments_get_a_clear_message(northbridge, kwargs, message) -> None:
    with pytest.raises(AnalysisError, match=message.replace("(", r"\(").replace(")", r"\)")):
        analyze(northbridge, **kwargs)


def _eco(ties: list[Tie], n: int = 4) -> Ecosystem:
    return Ecosystem(
        glia=1,
        ecosystem="Tiny",
        participants=[Participant(id=f"p{i}") for i in range(n)],
        ties=ties,
    )


def test_every_stage_is_timed_in_order(result) -> None:
    # the engines on the second thread are timed too, and listed in the stages' order
    assert list(result.timings) == [
        "snapshot",
        "layers",
        "centrality.formal",
        "centrality.informal",
        "centrality.combined",
        "centrality.exchange",
        "micmac",
        "communities",
        "brokerage",
        "sweet_spot",
        "value_network",
        "loops",
        "flows",
        "health",
        "failures",
    ]


def test_an_ecosystem_with_no_ties_is_refused_clearly() -> None:
    with pytest.raises(AnalysisError, match="no ties"):
        analyze(_eco([]))


def test_disconnected_graph_with_zero_weights_and_no_exchanges_has_a_defined_result() -> None:
    ties = [
        Tie.model_validate({"from": "p0", "to": "p1", "layer": "informal", "weight": 0}),
        Tie.model_validate({"from": "p2", "to": "p3", "layer": "formal"}),
    ]
    result = analyze(_eco(ties), group="kind")
    data = result.to_json()
    assert data["value_network"] is None and data["health"] is None
    assert any("no exchanges" in note for note in data["notes"])
    assert data["participants"]["p0"]["degree.informal"] == 1
    assert data["participants"]["p0"]["strength.informal"] == 0
    html_report(result)


def test_command_writes_json_and_html(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "report.json"
    done = runner.invoke(app, ["analyze", str(EXAMPLE), "--format", "json", "-o", str(out)])
    assert done.exit_code == 0, done.output
    written = json.loads(out.read_text())
    assert written["participants"]["nrda"]["degree.combined"] > 0
    expected = analyze(EXAMPLE).to_json()
    for data in (written, expected):
        del data["timings"]
    assert written == expected  # the text read back is the documented JSON
    assert out.read_text().endswith("}\n")
    page = tmp_path / "report.html"
    done = runner.invoke(app, ["analyze", str(EXAMPLE), "-f", "html", "-o", str(page)])
    assert done.exit_code == 0, done.output
    assert "Single points of failure" in page.read_text()


def test_command_reads_the_store_and_names_bad_input(tmp_path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(tmp_path / "ws")]
    assert runner.invoke(app, ["import", str(EXAMPLE), *ws]).exit_code == 0
    done = runner.invoke(app, ["analyze", "Northbridge", "--group", "region", *ws])
    assert done.exit_code == 0, done.output
    assert "Connectors" in done.output
    done = runner.invoke(app, ["analyze", "Nowhere", *ws])
    assert done.exit_code == 2 and "Nowhere" in done.output
    done = runner.invoke(app, ["analyze", "Northbridge", "--layers", "trust", *ws])
    assert done.exit_code == 2 and "unknown layer 'trust'" in done.output
    done = runner.invoke(
        app, ["analyze", "Northbridge", "--group", "attribute:sector", "-f", "json", *ws]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["settings"]["group"] == "attribute:sector"


def test_value_loops_around_the_busiest_role_by_default(result) -> None:
    loops = result.to_json()["loops"]
    vna = result.value_network
    busiest = vna.node_ids[int(vna.transactions.argmax())]
    assert loops["focal"] == busiest and loops["max_length"] == 4
    assert loops["loop_count"] >= len(loops["loops"]) > 0


def test_an_unknown_focal_is_refused(northbridge) -> None:
    with pytest.raises(AnalysisError, match="nobody"):
        analyze(northbridge, focal="nobody")
