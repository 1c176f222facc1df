"""GraphML export: NetworkX reads back exactly the nodes, edges and attributes written."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from glia.io import (
    GRAPHML_LAYERS,
    dump_graphml,
    graphml_lines,
    graphml_node_id,
    write_graphml,
)
from glia.model import ASSET_KINDS, Ecosystem

from strategies import ecosystems

NS = "{http://graphml.graphdrawing.org/xmlns}"
NMTOKEN = re.compile(r"[A-Za-z0-9._:-]+")
# What XML 1.0 cannot carry; the writer replaces it with U+FFFD.
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def full_ecosystem() -> Ecosystem:
    """Every field of every record the GraphML export carries, set at least once."""
    return Ecosystem.model_validate(
        {
            "glia": 1,
            "ecosystem": "Northbridge",
            "description": "A test region",
            "currency": "EUR",
            "attributes": {"steward": "RDA", "workshops": 4},
            "clusters": [
                {"id": "northbridge", "kind": "regional", "name": "Northbridge City"},
                {"id": "data", "kind": "knowledge", "description": "Data people"},
                # A cluster may share its id with a participant.
                {"id": "ana", "kind": "guild", "attributes": {"founded": 2019}},
            ],
            "participants": [
                {
                    "id": "ana",
                    "name": "Ana Ruiz",
                    "kind": "person",
                    "region": "northbridge",
                    "clusters": ["northbridge", "data", "ana"],
                    "capabilities": {"data-engineering": 4, "facilitation": 3},
                    "capacity_hours_per_week": 10.5,
                    "rate_per_hour": "95.50",
                    "capital_available": "0.10",
                    "description": "Data engineer",
                    "attributes": {"mixed": 1, "ratio": 2, "flag": True, "big": 2**40},
                },
                {
                    "id": "acme",
                    "name": "Acme Farms",
                    "kind": "organization",
                    "clusters": ["northbridge"],
                    "capabilities": {"agronomy": 5},
                    "attributes": {"mixed": "many", "ratio": 0.5, "flag": False},
                },
                {"id": "ben"},
            ],
            "roles": [
                {"id": "integrator", "name": "Solution integrator", "played_by": ["ana"]},
                {
                    "id": "client",
                    "played_by": ["acme", "ben"],
                    "description": "Buys",
                    "attributes": {"tier": "gold"},
                },
            ],
            "ties": [
                {"from": "ana", "to": "acme", "layer": "formal", "type": "contract"},
                # A parallel tie on the other layer, directed, with dates.
                {
                    "from": "ana",
                    "to": "acme",
                    "layer": "informal",
                    "type": "trust",
                    "weight": 0.8,
                    "directed": True,
                    "since": "2021-03-01",
                    "until": "2024-12-31",
                    "attributes": {"source": "survey"},
                },
                {"from": "ben", "to": "ana", "layer": "informal", "weight": 0.25},
            ],
            "exchanges": [
                {
                    "id": "platform",
                    "from": "integrator",
                    "to": "client",
                    "deliverable": "Working data platform",
                    "kind": "tangible",
                    "type": "goods",
                    "value": "120000.00",
                    "currency": "USD",
                    "frequency": 1,
                    "period": "once",
                    "perceived_value": 5,
                    "cost": "80000",
                    "impact": {"financial": 2, "business_relationships": -1},
                    "sequence": 1,
                    "description": "The product",
                    "attributes": {"risk": "low"},
                },
                {
                    "from": "client",
                    "to": "integrator",
                    "deliverable": "Field know-how",
                    "kind": "intangible",
                    "type": "knowledge",
                    "frequency": 4,
                    "period": "year",
                },
                # Participant to role, participant to participant, and parallel.
                {"from": "ben", "to": "integrator", "deliverable": "Fee", "kind": "tangible"},
                {"from": "ana", "to": "ben", "deliverable": "Advice", "kind": "intangible"},
                {"from": "ana", "to": "ben", "deliverable": "Advice", "kind": "intangible"},
            ],
            "opportunities": [{"id": "farm-data", "client": "acme", "budget": 80000}],
        }
    )


def node_key(eco: Ecosystem, ident: str) -> tuple[str, str]:
    """An exchange endpoint as (node_type, id), derived from the records."""
    return ("role", ident) if ident in {r.id for r in eco.roles} else ("participant", ident)


def expected_nodes(eco: Ecosystem) -> set[tuple[str, str]]:
    return (
        {("participant", p.id) for p in eco.participants}
        | {("role", r.id) for r in eco.roles}
        | {("cluster", c.id) for c in eco.clusters}
    )


def expected_edges(eco: Ecosystem) -> Counter[tuple[Any, ...]]:
    edges: Counter[tuple[Any, ...]] = Counter()
    for t in eco.ties:
        edges[t.layer, ("participant", t.source), ("participant", t.target)] += 1
    for p in eco.participants:
        for c in p.clusters:
            edges["membership", ("participant", p.id), ("cluster", c)] += 1
    for r in eco.roles:
        for who in r.played_by:
            edges["plays", ("participant", who), ("role", r.id)] += 1
    for e in eco.exchanges:
        edges["exchange", node_key(eco, e.source), node_key(eco, e.target)] += 1
    return edges


def read_back(path: Path) -> nx.MultiDiGraph:
    graph = nx.read_graphml(path, force_multigraph=True)
    assert isinstance(graph, nx.MultiDiGraph)
    return graph


def found_nodes(graph: nx.MultiDiGraph) -> set[tuple[str, str]]:
    return {(d["node_type"], d["glia_id"]) for _, d in graph.nodes(data=True)}


def found_edges(graph: nx.MultiDiGraph) -> Counter[tuple[Any, ...]]:
    nodes = graph.nodes
    edges: Counter[tuple[Any, ...]] = Counter()
    for u, v, d in graph.edges(data=True):
        source = (nodes[u]["node_type"], nodes[u]["glia_id"])
        target = (nodes[v]["node_type"], nodes[v]["glia_id"])
        edges[d["layer"], source, target] += 1
    return edges


def declared_keys(path: Path) -> dict[tuple[str, str], str]:
    """(domain, attribute name) -> declared attr.type, read with ElementTree."""
    root = ET.parse(path).getroot()
    return {
        (k.get("for", ""), k.get("attr.name", "")): k.get("attr.type", "")
        for k in root.iter(f"{NS}key")
    }


# -- the full ecosystem ----------------------------------------------------------------


def test_nodes_and_edges_are_exactly_the_records(tmp_path: Path) -> None:
    eco = full_ecosystem()
    path = tmp_path / "out" / "eco.graphml"
    counts = write_graphml(eco, path)

    # Parallel edges are present, so NetworkX builds a multigraph on its own.
    graph = nx.read_graphml(path)
    assert isinstance(graph, nx.MultiDiGraph)
    assert found_nodes(graph) == expected_nodes(eco)
    assert graph.number_of_nodes() == len(expected_nodes(eco))
    assert found_edges(graph) == expected_edges(eco)
    layers = Counter(layer for layer, _, _ in expected_edges(eco).elements())
    assert {layer for _, _, layer in graph.edges(data="layer")} == set(layers)
    assert set(layers) == set(GRAPHML_LAYERS)

    assert counts == {
        "nodes": 8,
        "edges": graph.number_of_edges(),
        "participants": 3,
        "roles": 2,
        "clusters": 3,
        "ties": 3,
        "memberships": 4,
        "plays": 3,
        "exchanges": 5,
    }
    # A cluster and a participant share the id "ana": the node ids tell them apart.
    assert {"participant:ana", "cluster:ana", "role:client"} <= set(graph.nodes)
    # Every edge id is unique and becomes the multigraph key.
    keys = [k for _, _, k in graph.edges(keys=True)]
    assert len(keys) == len(set(keys))
    assert "tie:1" in keys and "exchange:5" in keys


def test_attribute_values_and_types_come_back(tmp_path: Path) -> None:
    eco = full_ecosystem()
    path = tmp_path / "eco.graphml"
    write_graphml(eco, path)
    graph = read_back(path)

    assert graph.graph["name"] == "Northbridge"
    assert graph.graph["currency"] == "EUR"
    assert graph.graph["attr.workshops"] == 4

    ana = graph.nodes["participant:ana"]
    assert ana["label"] == "Ana Ruiz"
    assert ana["kind"] == "person"
    assert ana["region"] == "northbridge"
    assert ana["capability.data-engineering"] == 4
    assert type(ana["capability.data-engineering"]) is int
    assert ana["capacity_hours_per_week"] == 10.5
    assert ana["rate_per_hour"] == float(Decimal("95.50"))
    assert ana["capital_available"] == 0.1
    assert ana["description"] == "Data engineer"
    # int on one node, str on another: declared string.
    assert ana["attr.mixed"] == "1"
    assert graph.nodes["participant:acme"]["attr.mixed"] == "many"
    # int and float: declared double, no precision lost.
    assert ana["attr.ratio"] == 2.0
    assert type(ana["attr.ratio"]) is float
    assert ana["attr.flag"] is True
    assert graph.nodes["participant:acme"]["attr.flag"] is False
    assert ana["attr.big"] == 2**40

    ben = graph.nodes["participant:ben"]
    assert ben["label"] == "ben"
    assert "name" not in ben
    assert not any(k.startswith("capability.") for k in ben)

    cluster = graph.nodes["cluster:ana"]
    assert cluster["kind"] == "guild" and cluster["label"] == "ana"
    assert cluster["attr.founded"] == 2019
    role = graph.nodes["role:client"]
    assert role["description"] == "Buys" and role["attr.tier"] == "gold"

    ties = {k: d for _, _, k, d in graph.edges(keys=True, data=True) if k.startswith("tie:")}
    assert ties["tie:1"]["weight"] == 1.0
    assert type(ties["tie:1"]["weight"]) is float
    assert ties["tie:1"]["directed"] is False
    assert ties["tie:1"]["type"] == "contract"
    assert ties["tie:2"]["directed"] is True
    assert ties["tie:2"]["weight"] == 0.8
    assert ties["tie:2"]["since"] == "2021-03-01"
    assert ties["tie:2"]["until"] == "2024-12-31"
    assert ties["tie:2"]["attr.source"] == "survey"
    assert "type" not in ties["tie:3"]

    edges = {k: d for _, _, k, d in graph.edges(keys=True, data=True)}
    platform = edges["exchange:1"]
    assert platform["glia_id"] == "platform"
    assert platform["deliverable"] == "Working data platform"
    assert platform["kind"] == "tangible" and platform["type"] == "goods"
    assert platform["value"] == 120000.0
    assert platform["currency"] == "USD"
    assert platform["cost"] == 80000.0
    assert platform["frequency"] == 1.0 and platform["period"] == "once"
    assert platform["perceived_value"] == 5 and type(platform["perceived_value"]) is int
    assert platform["impact.financial"] == 2
    assert platform["impact.business_relationships"] == -1
    assert "impact.human_competence" not in platform
    assert platform["sequence"] == 1
    assert platform["attr.risk"] == "low"
    # The ecosystem's currency is the default.
    assert "value" not in edges["exchange:2"]
    assert edges["exchange:2"]["currency"] == "EUR"
    assert edges["exchange:2"]["frequency"] == 4.0
    for key in ("membership:1", "plays:1", "exchange:3"):
        assert edges[key]["directed"] is True

    types = declared_keys(path)
    assert types["node", "capability.data-engineering"] == "int"
    assert types["node", "attr.mixed"] == "string"
    assert types["node", "attr.ratio"] == "double"
    assert types["node", "attr.flag"] == "boolean"
    assert types["node", "attr.big"] == "long"
    assert types["node", "rate_per_hour"] == "double"
    assert types["edge", "weight"] == "double"
    assert types["edge", "directed"] == "boolean"
    assert types["edge", "since"] == "string"
    assert all(types["edge", f"impact.{a}"] == "int" for a in ("financial",))


def test_document_is_schema_shaped(tmp_path: Path) -> None:
    """Keys come first, ids are NMTOKENs, no edge carries the XML directed attribute."""
    path = tmp_path / "eco.graphml"
    write_graphml(full_ecosystem(), path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{NS}graphml"
    children = [child.tag for child in root]
    assert children[-1] == f"{NS}graph"
    assert set(children[:-1]) == {f"{NS}key"}
    graph = root.find(f"{NS}graph")
    assert graph is not None and graph.get("edgedefault") == "directed"
    ids = [k.get("id", "") for k in root.iter(f"{NS}key")]
    ids += [n.get("id", "") for n in root.iter(f"{NS}node")]
    for edge in root.iter(f"{NS}edge"):
        assert edge.get("directed") is None
        ids += [edge.get("id", ""), edge.get("source", ""), edge.get("target", "")]
    assert all(NMTOKEN.fullmatch(i) for i in ids)
    key_ids = [k.get("id") for k in root.iter(f"{NS}key")]
    assert len(key_ids) == len(set(key_ids))
    # Gephi reads these attribute names as the node label and the edge weight.
    types = declared_keys(path)
    assert ("node", "label") in types and ("edge", "weight") in types


def test_lines_stream_the_same_document(tmp_path: Path) -> None:
    eco = full_ecosystem()
    path = tmp_path / "eco.graphml"
    write_graphml(eco, path)
    lines = graphml_lines(eco)
    assert not isinstance(lines, list | tuple | str)
    text = "".join(lines)
    assert text == path.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert all(line.endswith("\n") for line in graphml_lines(eco))

    import io

    buffer = io.StringIO()
    counts = dump_graphml(eco, buffer)
    assert buffer.getvalue() == text
    assert counts["nodes"] == 8


# -- text that XML must escape ---------------------------------------------------------


def tricky_ecosystem() -> Ecosystem:
    quote = "Say \"hi\" & <b>bold</b> 'single' ]]> end"
    return Ecosystem.model_validate(
        {
            "ecosystem": 'Tricky <&> "eco"',
            "clusters": [{"id": "a.b", "kind": "business", "name": "Zürich & Genève"}],
            "participants": [
                {
                    "id": "Ana Ruiz",
                    "name": quote,
                    "clusters": ["a.b"],
                    "capabilities": {"data & <ai>": 3},
                    "description": "line one\nline two\r\nthree\ttab \x01bell\x0b\ufffe",
                    "attributes": {"note <1>": "日本語 🌍 עברית", "e&m": 'a"b'},
                },
                {"id": "x:y/z?%", "name": "  spaced  "},
                {"id": "a.2e.b"},
            ],
            "roles": [{"id": "rôle 1", "played_by": ["Ana Ruiz"]}],
            "ties": [{"from": "Ana Ruiz", "to": "x:y/z?%", "layer": "informal", "type": "trust"}],
            "exchanges": [
                {
                    "from": "rôle 1",
                    "to": "x:y/z?%",
                    "deliverable": '<data> & "more"',
                    "kind": "intangible",
                    "description": "\x1f\x7f\u0085\u2028",
                }
            ],
        }
    )


def test_tricky_text_is_escaped_and_read_back(tmp_path: Path) -> None:
    eco = tricky_ecosystem()
    path = tmp_path / "tricky.graphml"
    write_graphml(eco, path)
    ET.parse(path)  # well-formed XML
    graph = read_back(path)
    assert found_nodes(graph) == expected_nodes(eco)
    assert found_edges(graph) == expected_edges(eco)

    assert graph.graph["name"] == 'Tricky <&> "eco"'
    ana = graph.nodes[graphml_node_id("participant", "Ana Ruiz")]
    assert ana["glia_id"] == "Ana Ruiz"
    assert ana["name"] == "Say \"hi\" & <b>bold</b> 'single' ]]> end"
    assert ana["capability.data & <ai>"] == 3
    assert ana["attr.note <1>"] == "日本語 🌍 עברית"
    assert ana["attr.e&m"] == 'a"b'
    # Forbidden characters become U+FFFD; tabs, newlines and CR survive.
    assert ana["description"] == "line one\nline two\r\nthree\ttab \ufffdbell\ufffd\ufffd"
    other = graph.nodes[graphml_node_id("participant", "x:y/z?%")]
    assert other["name"] == "  spaced  "
    cluster = graph.nodes[graphml_node_id("cluster", "a.b")]
    assert cluster["label"] == "Zürich & Genève"
    (exchange,) = [d for _, _, d in graph.edges(data=True) if d["layer"] == "exchange"]
    assert exchange["deliverable"] == '<data> & "more"'
    assert exchange["description"] == "\ufffd\x7f\u0085\u2028"


def test_node_ids_are_readable_unique_tokens() -> None:
    assert graphml_node_id("participant", "ana") == "participant:ana"
    assert graphml_node_id("role", "agri_tech-2") == "role:agri_tech-2"
    assert graphml_node_id("cluster", "Ana Ruiz") == "cluster:Ana.20.Ruiz"
    assert graphml_node_id("participant", "a.b") == "participant:a.2e.b"
    assert graphml_node_id("participant", "zürich") == "participant:z.fc.rich"
    assert graphml_node_id("participant", "🌍") == "participant:.1f30d."
    tricky = ["a.b", "a.2e.b", "a b", "a.20.b", "a:b", "a.3a.b", "ab", "a_b", "a-b"]
    ids = [graphml_node_id("participant", t) for t in tricky]
    assert len(set(ids)) == len(tricky)
    assert all(NMTOKEN.fullmatch(i) for i in ids)


def test_empty_ecosystem(tmp_path: Path) -> None:
    path = tmp_path / "empty.graphml"
    counts = write_graphml(Ecosystem.model_validate({"ecosystem": "Empty"}), path)
    assert counts["nodes"] == counts["edges"] == 0
    graph = nx.read_graphml(path)
    assert graph.number_of_nodes() == 0
    assert graph.is_directed()
    assert graph.graph["name"] == "Empty"


def test_huge_and_mixed_attributes(tmp_path: Path) -> None:
    eco = Ecosystem.model_validate(
        {
            "ecosystem": "Edge",
            "participants": [
                {"id": "a", "attributes": {"f": 2, "g": 0.25, "h": 10**30}},
                {"id": "b", "attributes": {"f": 1.5, "g": 1.5, "h": 1}},
            ],
        }
    )
    path = tmp_path / "edge.graphml"
    write_graphml(eco, path)
    types = declared_keys(path)
    assert types["node", "attr.f"] == "double"  # ints mixed with floats
    assert types["node", "attr.h"] == "string"  # beyond 64 bits
    graph = read_back(path)
    assert graph.nodes["participant:a"]["attr.f"] == 2.0
    assert graph.nodes["participant:b"]["attr.g"] == 1.5
    assert graph.nodes["participant:a"]["attr.h"] == str(10**30)
    assert graph.nodes["participant:b"]["attr.h"] == "1"


def test_non_finite_attributes_are_refused_before_any_export() -> None:
    with pytest.raises(ValidationError, match="finite number"):
        Ecosystem.model_validate(
            {"ecosystem": "Edge", "participants": [{"id": "a", "attributes": {"f": math.inf}}]}
        )


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from glia.io import graphml

    def broken(eco: Ecosystem) -> Any:
        yield "<?xml"
        raise RuntimeError("disk full")

    path = tmp_path / "eco.graphml"
    path.write_text("previous")
    monkeypatch.setattr(graphml._Writer, "lines", lambda self: broken(self.eco))
    with pytest.raises(RuntimeError):
        write_graphml(full_ecosystem(), path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["eco.graphml"]


def test_igraph_reads_it_when_installed(tmp_path: Path) -> None:
    igraph = pytest.importorskip("igraph")
    eco = full_ecosystem()
    path = tmp_path / "eco.graphml"
    write_graphml(eco, path)
    graph = igraph.Graph.Read_GraphML(str(path))
    assert graph.is_directed()
    assert graph.vcount() == len(expected_nodes(eco))
    assert graph.ecount() == sum(expected_edges(eco).values())
    assert set(graph.vs["node_type"]) == {"participant", "role", "cluster"}


# -- any valid ecosystem ---------------------------------------------------------------


def _expected_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _clean(text: str) -> str:
    return FORBIDDEN.sub("\ufffd", text)


def _expected(value: Any, declared: str) -> Any:
    """What NetworkX gives back for a value under its key's declared type."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if declared == "string":
        return _clean(_expected_text(value))
    if declared == "double":
        return float(value)
    return value


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eco=ecosystems())
def test_any_ecosystem_reads_back(eco: Ecosystem, tmp_path: Path) -> None:
    path = tmp_path / "any.graphml"
    write_graphml(eco, path)
    graph = read_back(path)
    assert found_nodes(graph) == expected_nodes(eco)
    assert found_edges(graph) == expected_edges(eco)
    types = declared_keys(path)

    def check(domain: str, data: dict[str, Any], name: str, value: Any) -> None:
        if value is None:
            assert name not in data
            return
        got, want = data[name], _expected(value, types[domain, name])
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == want, (name, value)
            assert type(got) is type(want), (name, value)

    for p in eco.participants:
        data = graph.nodes[graphml_node_id("participant", p.id)]
        check("node", data, "name", p.name)
        check("node", data, "kind", p.kind)
        check("node", data, "region", p.region)
        check("node", data, "capacity_hours_per_week", p.capacity_hours_per_week)
        check("node", data, "rate_per_hour", p.rate_per_hour)
        check("node", data, "capital_available", p.capital_available)
        check("node", data, "description", p.description)
        for capability, level in p.capabilities.items():
            check("node", data, f"capability.{capability}", level)
        for key, value in p.attributes.items():
            check("node", data, f"attr.{key}", value)
    for c in eco.clusters:
        data = graph.nodes[graphml_node_id("cluster", c.id)]
        check("node", data, "kind", c.kind)
        check("node", data, "name", c.name)
        for key, value in c.attributes.items():
            check("node", data, f"attr.{key}", value)
    edges = {k: d for _, _, k, d in graph.edges(keys=True, data=True)}
    for n, t in enumerate(eco.ties, 1):
        data = edges[f"tie:{n}"]
        for name in ("type", "weight", "directed", "since", "until"):
            check("edge", data, name, getattr(t, name))
        for key, value in t.attributes.items():
            check("edge", data, f"attr.{key}", value)
    for n, e in enumerate(eco.exchanges, 1):
        data = edges[f"exchange:{n}"]
        check("edge", data, "glia_id", e.id)
        check("edge", data, "currency", e.currency or eco.currency)
        for name in ("deliverable", "kind", "type", "value", "frequency", "period"):
            check("edge", data, name, getattr(e, name))
        for name in ("perceived_value", "cost", "sequence", "description"):
            check("edge", data, name, getattr(e, name))
        for asset in ASSET_KINDS:
            impact = getattr(e.impact, asset) if e.impact is not None else None
            check("edge", data, f"impact.{asset}", impact)
        for key, value in e.attributes.items():
            check("edge", data, f"attr.{key}", value)
