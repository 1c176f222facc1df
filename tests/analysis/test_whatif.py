"""What-if removal worked by hand; single points of failure against brute force (networkx)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.whatif import disconnected_pairs, remove, single_points_of_failure
from glia.graph import Layer, build
from glia.model import Ecosystem
from glia.store import snapshot_of

from strategies import ecosystems

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


def mx(**sections: Any) -> glia.graph.Multiplex:
    return build(snapshot_of(Ecosystem.model_validate({"ecosystem": "T", **sections})))


def brute_force_lost_pairs(g: nx.Graph) -> dict[int, int]:
    """Pairs of other nodes connected in ``g`` and not once the node is gone."""

    def pairs(h: nx.Graph, without: int | None = None) -> int:
        total = 0
        for comp in nx.connected_components(h):
            k = len(comp) - (without in comp)
            total += k * (k - 1) // 2
        return total

    lost = {}
    for v in g.nodes:
        h = g.copy()
        h.remove_node(v)
        lost[v] = pairs(g, v) - pairs(h)
    return lost


def test_lost_pairs_match_brute_force_on_random_graphs() -> None:
    rng = random.Random(3)
    articulations = 0
    for _ in range(120):
        n = rng.randint(1, 20)
        m = rng.randint(0, 2 * n)
        a = [rng.randrange(n) for _ in range(m)]
        b = [rng.randrange(n) for _ in range(m)]
        layer = Layer.from_ties("t", n, a, b)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(layer.edge_u.tolist(), layer.edge_v.tolist(), strict=True))
        lost, cut = disconnected_pairs(layer)
        assert lost.tolist() == [brute_force_lost_pairs(g)[v] for v in range(n)]
        assert set(np.flatnonzero(cut).tolist()) == set(nx.articulation_points(g))
        articulations += int(cut.sum())
    assert articulations > 80


@pytest.mark.parametrize(
    ("edges", "n", "expected"),
    [
        # a path 0-1-2-3-4: removing 1 parts {0} from {2,3,4}: 3 pairs; removing 2: 2 x 2
        ([(0, 1), (1, 2), (2, 3), (3, 4)], 5, [0, 3, 4, 3, 0]),
        # a star with centre 0 and 4 leaves: C(4, 2) = 6
        ([(0, 1), (0, 2), (0, 3), (0, 4)], 5, [6, 0, 0, 0, 0]),
        # triangles 0-1-2 and 3-4-5 joined by the bridge 2-3; node 6 alone: without 2,
        # {0, 1} and {3, 4, 5} part: 2 x 3 = 6 pairs; the same without 3
        ([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3)], 7, [0, 0, 6, 6, 0, 0, 0]),
        # no edges at all
        ([], 3, [0, 0, 0]),
    ],
)
def test_lost_pairs_by_hand(edges: list[tuple[int, int]], n: int, expected: list[int]) -> None:
    layer = Layer.from_ties("t", n, [e[0] for e in edges], [e[1] for e in edges])
    lost, cut = disconnected_pairs(layer)
    assert lost.tolist() == expected
    assert cut.tolist() == [x > 0 for x in expected]


def _tie(a: str, b: str) -> dict[str, str]:
    return {"from": a, "to": b, "layer": "informal"}


def _pay(a: str, b: str, value: float) -> dict[str, Any]:
    return {
        "from": a,
        "to": b,
        "deliverable": "payment",
        "kind": "tangible",
        "type": "money",
        "value": value,
        "currency": "EUR",
    }


@pytest.fixture(scope="module")
def chain() -> glia.graph.Multiplex:
    # a - b - c - d in a chain, e alone; the role R is played by b and c
    return mx(
        clusters=[{"id": "middle", "kind": "business"}],
        participants=[
            {"id": "a"},
            {"id": "b", "clusters": ["middle"], "capabilities": {"x": 4, "y": 5}},
            {"id": "c", "clusters": ["middle"], "capabilities": {"y": 3}},
            {"id": "d", "capabilities": {"w": 2}},
            {"id": "e"},
        ],
        roles=[{"id": "R", "played_by": ["b", "c"]}],
        ties=[_tie("a", "b"), _tie("b", "c"), _tie("c", "d")],
        exchanges=[
            _pay("R", "a", 100),  # 50 from b, 50 from c
            _pay("a", "b", 50),
            {"from": "c", "to": "d", "deliverable": "advice", "kind": "intangible"},
        ],
        opportunities=[
            {
                "id": "o1",
                "client": "a",
                "needs": [
                    {"capability": "y", "level": 3, "count": 2},  # b and c: met; then c alone
                    {"capability": "x", "level": 1},  # b alone
                    {"capability": "w", "level": 1},  # d: still met
                    {"capability": "z", "level": 1},  # no one, ever: not listed
                ],
            },
            {"id": "o2", "client": "b"},
        ],
    )


def test_remove_by_hand(chain: glia.graph.Multiplex) -> None:
    r = remove(chain, ["b"])
    # left: a, c, d, e; connected before: a-c, a-d, c-d = 3 pairs; after: c-d only
    assert (r.pairs_before, r.pairs_after, r.lost_pairs) == (3, 1, 2)
    assert r.lost_share == pytest.approx(2 / 3)
    assert (r.components_before, r.components_after) == (2, 3)  # {a,b,c,d},{e} -> {a},{c,d},{e}
    # R -> a is touched (b plays R) but c still plays it; a -> b is lost outright
    assert r.exchanges_touched.tolist() == [0, 1] and r.exchanges_lost.tolist() == [1]
    assert r.money_lost == 100 and r.money_total == 150
    assert r.money_share == pytest.approx(2 / 3)
    # b held x at 4 (alone) and y at 5 (c holds y at 3)
    assert r.capabilities == ["x", "y"]
    assert r.capability_removed_level.tolist() == [4, 5]
    assert r.capability_remaining_level.tolist() == [0, 3]
    assert r.uncovered == ["x"]
    assert r.uncovered_at(4) == ["x", "y"] and r.uncovered_at(5) == ["y"]
    needs = r.needs()
    assert needs["capability"] == ["y", "x"] and needs["opportunity"] == ["o1", "o1"]
    assert r.need_holders_before.tolist() == [2, 1] and r.need_holders_after.tolist() == [1, 0]
    assert [chain.snapshot.opportunity_ids[o] for o in r.clients_removed.tolist()] == ["o2"]
    data = json.loads(json.dumps(r.to_json()))
    assert data["removed"] == ["b"] and data["uncovered"] == ["x"]
    assert data["unmet_needs"][0] == {
        "opportunity": "o1",
        "capability": "y",
        "level": 3,
        "count": 2,
        "holders_before": 2,
        "holders_after": 1,
    }
    assert r.capabilities_frame().loc["y", "remaining_level"] == 3


def test_remove_a_cluster(chain: glia.graph.Multiplex) -> None:
    by_cluster = remove(chain, cluster="middle")
    by_name = remove(chain, ["c", "b"])
    assert by_cluster.removed.tolist() == by_name.removed.tolist() == [1, 2]
    assert by_cluster.exchanges_lost.tolist() == [0, 1, 2]  # R has no player left
    assert by_cluster.money_lost == 150 and by_cluster.lost_pairs == 1  # a-d
    assert remove(chain, ["b"], cluster="middle").removed.tolist() == [1, 2]


def test_bad_removals_are_refused(chain: glia.graph.Multiplex) -> None:
    with pytest.raises(AnalysisError, match="unknown participant 'zed', 'yan': expected ids"):
        remove(chain, ["a", "zed", "yan"])
    with pytest.raises(AnalysisError, match="unknown cluster 'edge': expected one of middle"):
        remove(chain, cluster="edge")
    with pytest.raises(AnalysisError, match="nothing to remove"):
        remove(chain)


def test_single_points_of_failure_ranked(chain: glia.graph.Multiplex) -> None:
    spof = single_points_of_failure(chain, top=10)
    # b and c each disconnect 2 pairs (a from c-d; a-b from d); b also holds x alone,
    # d holds w alone
    assert spof.lost_pairs.tolist() == [0, 2, 2, 0, 0]
    assert spof.sole == [[], ["x"], [], ["w"], []]
    assert [chain.ids[i] for i in spof.ranked.tolist()] == ["b", "c", "d"]
    assert spof.connected_pairs == 6
    table = spof.to_pandas()
    assert table.index.tolist() == ["b", "c", "d"]
    assert table.loc["b", "lost_share"] == pytest.approx(2 / 6)
    assert [x["participant"] for x in json.loads(json.dumps(spof.to_json()))["ranked"]] == [
        "b",
        "c",
        "d",
    ]
    assert len(single_points_of_failure(chain, top=1).ranked) == 1
    with pytest.raises(AnalysisError, match="top must be a whole number"):
        single_points_of_failure(chain, top=-2)


def test_northbridge_matches_brute_force() -> None:
    m = build(snapshot_of(glia.read(EXAMPLE)))
    layer = m.combined
    g = nx.Graph()
    g.add_nodes_from(range(m.n))
    g.add_edges_from(zip(layer.edge_u.tolist(), layer.edge_v.tolist(), strict=True))
    spof = single_points_of_failure(m)
    expected = brute_force_lost_pairs(g)
    assert spof.lost_pairs.tolist() == [expected[v] for v in range(m.n)]
    r = remove(m, ["nrda", "ben"])
    assert r.components_after >= r.components_before
    assert 0 < r.money_lost < r.money_total
    assert json.dumps(r.to_json())


@settings(max_examples=30)
@given(ecosystems())
def test_any_ecosystem_gives_removals_and_failures(eco: Ecosystem) -> None:
    s = snapshot_of(eco)
    m = build(s)
    spof = single_points_of_failure(m)
    assert json.dumps(spof.to_json())
    r = remove(m, s.participant_ids[:1])
    assert 0 <= r.lost_pairs <= r.pairs_before
    assert r.money_lost <= r.money_total + 1e-6
    assert json.dumps(r.to_json())
    for cluster in s.cluster_ids:
        assert json.dumps(remove(m, cluster=cluster).to_json())
