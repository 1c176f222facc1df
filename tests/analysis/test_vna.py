"""Value network analysis on a network worked by hand, on a long chain, and on Northbridge."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.vna import value_network
from glia.model import Ecosystem
from glia.store import snapshot_of

from strategies import ecosystems

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


def snap(**sections: Any) -> glia.Snapshot:
    return snapshot_of(Ecosystem.model_validate({"ecosystem": "T", **sections}))


def ex(a: str, b: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"from": a, "to": b, "deliverable": f"{a} to {b}", "kind": kind, **extra}


@pytest.fixture(scope="module")
def small() -> glia.Snapshot:
    # Roles A, B, C, D; participant p plays no role (outside), q plays A.
    # Nodes: A B C D (roles), then p q (participants that are exchange endpoints).
    return snap(
        participants=[{"id": "p"}, {"id": "q"}],
        roles=[{"id": "A", "played_by": ["q"]}, {"id": "B"}, {"id": "C"}, {"id": "D"}],
        exchanges=[
            ex(
                "A",
                "B",
                "tangible",
                type="goods",
                value=100,
                currency="EUR",
                period="once",
                cost=60,
                perceived_value=4,
                impact={"financial": 1},
            ),
            ex(
                "B",
                "A",
                "tangible",
                type="money",
                value=100,
                currency="EUR",
                period="once",
                perceived_value=5,
                impact={"financial": 2},
            ),
            ex("A", "C", "intangible", perceived_value=3, impact={"human_competence": 2}),
            ex(
                "C",
                "D",
                "tangible",
                value=50,
                currency="EUR",
                period="month",
                cost=20,
                perceived_value=2,
            ),
            ex("D", "C", "intangible"),
            ex("A", "p", "intangible", perceived_value=5),
            ex("q", "B", "tangible", value=10, currency="USD"),
        ],
    )


def test_nodes_are_roles_then_participant_endpoints(small: glia.Snapshot) -> None:
    vna = value_network(small)
    assert vna.node_ids == ["A", "B", "C", "D", "p", "q"]
    assert vna.node_kinds == ["role"] * 4 + ["participant"] * 2
    assert vna.outside.tolist() == [False] * 4 + [True, False]  # q plays A: inside


def test_exchange_analysis_by_hand(small: glia.Snapshot) -> None:
    vna = value_network(small)
    assert vna.deliverables_in.tolist() == [1, 2, 2, 1, 1, 0]
    assert vna.deliverables_out.tolist() == [3, 1, 1, 1, 0, 1]
    assert vna.tangible_in.tolist() == [1, 2, 0, 1, 0, 0]
    assert vna.tangible_out.tolist() == [1, 1, 1, 0, 0, 1]
    assert vna.intangible_in.tolist() == [0, 0, 2, 0, 1, 0]
    assert vna.intangible_out.tolist() == [2, 0, 0, 1, 0, 0]
    # A: 2 tangible / 2 intangible; B none intangible; C 1/2; D 1/1; p 0/1; q 1/0
    np.testing.assert_array_equal(vna.tangible_ratio, [1.0, np.nan, 0.5, 1.0, 0.0, np.nan])
    # partners A {B, C, p}, B {A, q}, C {A, D}, D {C}, p {A}, q {B}
    assert vna.partners.tolist() == [3, 2, 2, 1, 1, 1]
    # both ways: A<->B and C<->D only
    assert vna.reciprocity.tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 2, 1, 0, 0])
    assert vna.one_way() == [("A", "C"), ("A", "p"), ("q", "B")]
    # transactions 4 3 3 2 1 1: mean 14/6, population std sqrt(7.3333/6)
    t = [4, 3, 3, 2, 1, 1]
    mean = sum(t) / 6
    std = math.sqrt(sum((x - mean) ** 2 for x in t) / 6)
    assert vna.overburden_threshold == pytest.approx(mean + std)  # 3.4389
    assert vna.overburdened.tolist() == [True, False, False, False, False, False]
    # degrees 3 2 2 1 1 1: mean 10/6, variance 0.5556, cv 0.4472
    d = [3, 2, 2, 1, 1, 1]
    dm = sum(d) / 6
    var = sum((x - dm) ** 2 for x in d) / 6
    assert vna.degree_variance == pytest.approx(var)
    assert vna.degree_cv == pytest.approx(math.sqrt(var) / dm)
    # roles with no exchange that share a partner: A-D (C), B-C (A); B-D share none
    assert vna.missing_links() == [("A", "D", 1), ("B", "C", 1)]


def test_agility_is_networkx_average_shortest_path(small: glia.Snapshot) -> None:
    vna = value_network(small)
    g = nx.Graph([("A", "B"), ("A", "C"), ("A", "p"), ("B", "q"), ("C", "D")])
    assert vna.agility == pytest.approx(nx.average_shortest_path_length(g))
    assert vna.agility_reachable == 1.0 and vna.agility_exact and vna.agility_sources == 6


def test_impact_and_value_creation_by_hand(small: glia.Snapshot) -> None:
    vna = value_network(small)
    assert vna.currency == "EUR"
    # in EUR, annualised: 100 once, 100 once, 50 a month = 600; the USD 10 left out
    np.testing.assert_array_equal(vna.annual_value, [100, 100, np.nan, 600, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(
        vna.annual_cost, [60, np.nan, np.nan, 240, np.nan, np.nan, np.nan]
    )
    assert vna.value_received.tolist() == [100, 100, 0, 600, 0, 0]
    assert vna.cost_sent.tolist() == [60, 0, 240, 0, 0, 0]
    assert vna.covers_cost.tolist() == [True, True, False, True, True, True]
    assert vna.perceived_received.tolist() == [5, 4, 3, 2, 5, 0]
    assert vna.impact_received[:, 0].tolist() == [2, 1, 0, 0, 0, 0]  # financial
    assert vna.impact_received[:, 1].tolist() == [0, 0, 2, 0, 0, 0]  # human competence
    assert vna.value_delivered.tolist() == [100, 100, 600, 0, 0, 0]
    assert vna.perceived_delivered.tolist() == [12, 5, 2, 0, 0, 0]
    assert vna.outside_outputs.tolist() == [1, 0, 0, 0, 0, 0]
    assert vna.outside_perceived.tolist() == [5, 0, 0, 0, 0, 0]
    assert vna.outside_value.tolist() == [0] * 6
    inputs = vna.inputs_frame()
    assert inputs.loc[0, "from"] == "A" and inputs.loc[0, "financial"] == 1
    assert inputs.loc[6, "kind"] == "tangible" and math.isnan(inputs.loc[6, "annual_value"])


def test_tables_and_json(small: glia.Snapshot) -> None:
    vna = value_network(small)
    table = vna.to_pandas()
    assert table.index.tolist() == vna.node_ids
    assert table.loc["A", "impact_financial"] == 2
    data = json.loads(json.dumps(vna.to_json()))
    assert data["nodes"]["B"]["tangible_ratio"] is None  # NaN: no intangible
    assert data["missing_links"] == [["A", "D", 1], ["B", "C", 1]]


def test_no_exchanges_is_refused() -> None:
    with pytest.raises(AnalysisError, match="no exchanges: value network analysis needs"):
        value_network(snap(participants=[{"id": "a"}]))


def test_agility_is_sampled_on_large_networks() -> None:
    # a chain of 1,200 participants: mean distance of a path of N nodes is (N + 1) / 3
    n = 1200
    s = snap(
        participants=[{"id": f"p{i}"} for i in range(n)],
        exchanges=[ex(f"p{i}", f"p{i + 1}", "intangible") for i in range(n - 1)],
    )
    vna = value_network(s, agility_sources=128)
    assert not vna.agility_exact and vna.agility_sources == 128
    assert vna.agility == pytest.approx((n + 1) / 3, rel=0.1)
    assert vna.agility_reachable == 1.0


def test_northbridge_tells_its_story() -> None:
    vna = value_network(snapshot_of(glia.read(EXAMPLE)))
    table = vna.to_pandas()
    # the integrator is the busiest role, and overburdened
    assert table["transactions"].idxmax() == "integrator"
    assert table.loc["integrator", "overburdened"]
    # Kate's introductions go to Grace, who plays no role: value beyond the network
    assert ("kate", "grace") in vna.one_way()
    assert table.loc["kate", "outside_outputs"] == 1
    # the orchestrator and the client never exchange, though both deal with the producer
    # and the integrator: the first missing link
    assert vna.missing_links()[0] == ("orchestrator", "client", 2)
    # producers receive the processor's negative "repeated audits" input
    inputs = vna.inputs_frame()
    audits = inputs[inputs["deliverable"] == "Repeated audits and paperwork demands"]
    assert audits["perceived_value"].tolist() == [-3] and audits["to"].tolist() == ["producer"]
    assert json.dumps(vna.to_json())


@settings(max_examples=30)
@given(ecosystems())
def test_any_ecosystem_gives_an_analysis_or_a_clear_refusal(eco: Ecosystem) -> None:
    s = snapshot_of(eco)
    try:
        vna = value_network(s)
    except AnalysisError:
        assert len(s.exchange_source) == 0
        return
    assert vna.deliverables_in.sum() == vna.deliverables_out.sum() == len(s.exchange_source)
    assert json.dumps(vna.to_json())
