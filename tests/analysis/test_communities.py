"""Leiden communities: the partition, modularity (NetworkX), NMI and ARI (scikit-learn)."""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.communities import (
    adjusted_rand,
    communities,
    modularity,
    normalized_mutual_info,
)
from glia.graph import Grouping, Layer, build, grouping
from glia.store import snapshot_of

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


def clique(nodes: list[int]) -> list[tuple[int, int]]:
    return list(combinations(nodes, 2))


def layer_of(n: int, pairs: list[tuple[int, int]], weights: list[float] | None = None) -> Layer:
    a, b = zip(*pairs, strict=True)
    return Layer.from_ties("test", n, a, b, weights)


def nx_graph(layer: Layer) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(layer.n))
    for u, v, w in zip(
        layer.edge_u.tolist(), layer.edge_v.tolist(), layer.edge_weight.tolist(), strict=True
    ):
        g.add_edge(u, v, weight=w)
    return g


def parts(labels: np.ndarray) -> list[set[int]]:
    return [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]


@pytest.fixture(scope="module")
def mx():
    return build(snapshot_of(glia.read(EXAMPLE)))


def test_two_cliques_and_a_bridge_split_in_two_largest_first() -> None:
    # a 4-clique on 0..3 and a 5-clique on 4..8, joined by the edge 3-4;
    # node 9 has no tie and is a community of its own
    layer = layer_of(10, [*clique([0, 1, 2, 3]), *clique([4, 5, 6, 7, 8]), (3, 4)])
    found = communities(layer)
    assert found.labels.tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0, 2]
    assert found.sizes.tolist() == [5, 4, 1]
    assert found.n_communities == 3
    expected = nx.community.modularity(nx_graph(layer), parts(found.labels))
    assert found.modularity == pytest.approx(expected)
    # for modularity at resolution 1, Leiden's quality is that modularity
    assert found.quality == pytest.approx(expected)


def test_equal_sizes_are_ordered_by_their_smallest_member() -> None:
    # two triangles, the second one on the smaller numbers
    layer = layer_of(6, [*clique([3, 4, 5]), *clique([0, 1, 2])])
    assert communities(layer).labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_zero_weight_edges_are_left_out_and_isolated_nodes_stand_alone() -> None:
    # triangle 0-1-2 (weight 1) and triangle 3-4-5, tied by 2-3 of weight 0;
    # node 6 only has a weight-0 tie, to 0
    pairs = [*clique([0, 1, 2]), *clique([3, 4, 5]), (2, 3), (0, 6)]
    weights = [1.0] * 6 + [0.0, 0.0]
    found = communities(layer_of(7, pairs, weights))
    assert found.labels.tolist() == [0, 0, 0, 1, 1, 1, 2]
    # weight-0 ties add nothing: modularity of two disjoint triangles is 1/2
    assert found.modularity == pytest.approx(0.5)


def test_cpm_at_a_high_resolution_splits_more() -> None:
    layer = layer_of(8, [*clique([0, 1, 2, 3]), *clique([4, 5, 6, 7]), (3, 4)])
    coarse = communities(layer, method="cpm", resolution=0.05)
    fine = communities(layer, method="cpm", resolution=2.0)
    assert coarse.method == "cpm"
    # CPM rewards a community only when its density exceeds the resolution:
    # no pair has weight above 2, so at 2.0 everyone is alone
    assert fine.n_communities == 8
    assert coarse.n_communities <= 2


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=2, max_value=14).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    # no subnormal weights: NetworkX divides by the squared total
                    st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=3.0)),
                ),
                min_size=1,
                max_size=40,
            ),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
        )
    )
)
def test_modularity_equals_networkx(case) -> None:
    n, ties, labels = case
    a, b, w = zip(*ties, strict=True)
    layer = Layer.from_ties("x", n, a, b, w)
    if layer.edge_weight.sum() <= 0:
        return
    g = nx_graph(layer)
    lab = np.asarray(labels)
    for gamma in (1.0, 0.5):
        expected = nx.community.modularity(g, parts(lab), resolution=gamma)
        assert modularity(layer, lab, gamma) == pytest.approx(expected, abs=1e-12)


def test_modularity_of_leiden_on_a_random_graph_equals_networkx() -> None:
    rng = np.random.default_rng(4)
    n = 200
    a, b = rng.integers(0, n, 800), rng.integers(0, n, 800)
    layer = Layer.from_ties("x", n, a, b, rng.random(800))
    found = communities(layer, seed=3)
    expected = nx.community.modularity(nx_graph(layer), parts(found.labels))
    assert found.modularity == pytest.approx(expected)
    assert found.quality == pytest.approx(expected)
    again = communities(layer, seed=3)
    assert again.labels.tolist() == found.labels.tolist(), "the same seed gives the same result"
    assert np.all(np.diff(found.sizes) <= 0)
    assert found.sizes.tolist() == np.bincount(found.labels).tolist()


labelings = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(labelings)
def test_nmi_and_ari_equal_scikit_learn(case) -> None:
    a, b = case
    assert normalized_mutual_info(a, b) == pytest.approx(
        normalized_mutual_info_score(a, b), abs=1e-10
    )
    assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-10)


def test_nmi_and_ari_limit_cases() -> None:
    for a, b in [
        ([0, 0, 0], [5, 5, 5]),  # one group each: a perfect match
        ([0, 0, 1, 1], [1, 1, 0, 0]),  # same partition, other names
        ([0, 0, 0, 0], [0, 1, 2, 3]),  # one group against all apart
        ([0, 1, 2, 3], [0, 1, 2, 3]),
        ([0, 0, 1, 1], [0, 1, 0, 1]),  # ARI -0.5
    ]:
        assert normalized_mutual_info(a, b) == pytest.approx(normalized_mutual_info_score(a, b))
        assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b))
    assert adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert math.isnan(normalized_mutual_info([], []))
    assert math.isnan(adjusted_rand([], []))


def test_ari_does_not_overflow_at_a_million() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 50, 1_000_000)
    b = np.where(rng.random(1_000_000) < 0.7, a, rng.integers(0, 50, 1_000_000))
    assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), rel=1e-9)
    assert normalized_mutual_info(a, b) == pytest.approx(
        normalized_mutual_info_score(a, b), rel=1e-9
    )


def test_declared_grouping_is_compared_without_the_ungrouped() -> None:
    # two 4-cliques joined by 3-4: Leiden finds {0..3} and {4..7}
    layer = layer_of(8, [*clique([0, 1, 2, 3]), *clique([4, 5, 6, 7]), (3, 4)])
    labels = np.array([0, 0, 0, -1, 1, 1, 0, -1], dtype=np.int32)
    found = communities(layer, declared=Grouping("team", labels, ["x", "y"]))
    keep = labels >= 0
    assert found.declared == "team"
    assert found.n_compared == 6
    assert found.nmi == pytest.approx(
        normalized_mutual_info_score(labels[keep], found.labels[keep])
    )
    assert found.ari == pytest.approx(adjusted_rand_score(labels[keep], found.labels[keep]))
    assert 0 < found.nmi < 1


def test_each_declared_cluster_is_matched_to_the_community_holding_most_of_it() -> None:
    # a 5-clique on 0..4 (community 0) and a 4-clique on 5..8 (community 1), tied by 4-5
    layer = layer_of(9, [*clique([0, 1, 2, 3, 4]), *clique([5, 6, 7, 8]), (4, 5)])
    found0 = communities(layer)
    assert found0.labels.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    # clusters (overlapping): "a" = {0, 1, 5} -> 2 of 3 in community 0;
    # "b" = {4, 5, 6, 7} -> 3 of 4 in community 1; "c" = {1, 6} -> 1 each, the
    # tie goes to the larger community 0; "d" has no member
    members = {"a": [0, 1, 5], "b": [4, 5, 6, 7], "c": [1, 6], "d": []}
    rows = [p for c in members.values() for p in c]
    cols = [j for j, c in enumerate(members.values()) for _ in c]
    membership = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(9, 4))
    found = communities(layer, membership=membership, cluster_ids=list(members))
    assert found.cluster_ids == ["a", "b", "c", "d"]
    assert found.cluster_size.tolist() == [3, 4, 2, 0]
    assert found.cluster_community.tolist() == [0, 1, 0, -1]
    share = found.cluster_share
    assert share[:3].tolist() == pytest.approx([2 / 3, 3 / 4, 1 / 2])
    assert math.isnan(share[3])
    table = found.clusters_to_pandas()
    assert table.loc["b", "community"] == 1
    cells = found.to_json()["clusters"]
    assert cells[3] == {"id": "d", "size": 0, "community": None, "share": None}


def test_the_example_against_its_declared_clusters(mx) -> None:
    groups = grouping(mx.snapshot, "cluster")
    found = communities(
        mx.combined,
        declared=groups,
        membership=mx.clusters.membership,
        cluster_ids=mx.clusters.ids,
        ids=mx.ids,
    )
    keep = groups.labels >= 0
    assert found.nmi == pytest.approx(
        normalized_mutual_info_score(groups.labels[keep], found.labels[keep])
    )
    assert found.ari == pytest.approx(adjusted_rand_score(groups.labels[keep], found.labels[keep]))
    assert found.modularity == pytest.approx(
        nx.community.modularity(nx_graph(mx.combined), parts(found.labels))
    )
    # every cluster's best community holds at least as many members as any other
    m = mx.clusters.membership.toarray() > 0
    for j in range(len(mx.clusters.ids)):
        counts = np.bincount(found.labels[m[:, j]], minlength=found.n_communities)
        assert counts[found.cluster_community[j]] == counts.max()
        assert found.cluster_share[j] == pytest.approx(counts.max() / m[:, j].sum())
    data = found.to_json(participants=True)
    json.dumps(data, allow_nan=False)
    assert data["communities"]["nrda"] == int(found.labels[mx.index["nrda"]])
    assert "communities" not in found.to_json()
    table = found.to_pandas()
    assert list(table.index) == mx.ids
    assert table["community_size"].tolist() == found.sizes[found.labels].tolist()
    assert found.columns()["community"] is found.labels


def test_bad_input_is_refused_with_a_reason() -> None:
    layer = layer_of(4, [(0, 1), (2, 3)])
    with pytest.raises(AnalysisError, match="unknown community method 'louvain'"):
        communities(layer, method="louvain")  # type: ignore[arg-type]
    for bad in (0, -1.0, math.nan, math.inf):
        with pytest.raises(AnalysisError, match="resolution must be a number above 0"):
            communities(layer, resolution=bad)
    for bad_seed in (-1, 2**64, 1.5):
        with pytest.raises(AnalysisError, match="seed must be a whole number from 0"):
            communities(layer, seed=bad_seed)  # type: ignore[arg-type]
    with pytest.raises(AnalysisError, match="layer 'empty' has no ties"):
        communities(Layer.from_ties("empty", 3, [], []))
    with pytest.raises(AnalysisError, match="every tie of layer 'test' has weight 0"):
        communities(layer_of(3, [(0, 1)], [0.0]))
    with pytest.raises(AnalysisError, match="labels 3 participants, the layer has 4"):
        communities(layer, declared=Grouping("g", np.zeros(3, np.int32), ["a"]))
    with pytest.raises(AnalysisError, match="membership has 2 rows"):
        communities(layer, membership=sp.csr_array((2, 1)))
    with pytest.raises(AnalysisError, match="1 cluster ids given for 2 clusters"):
        communities(layer, membership=sp.csr_array((4, 2)), cluster_ids=["a"])
    with pytest.raises(AnalysisError, match="no declared clusters"):
        communities(layer).clusters_to_pandas()


def test_everyone_in_one_declared_group_or_none() -> None:
    layer = layer_of(6, [*clique([0, 1, 2]), *clique([3, 4, 5])])
    one = communities(layer, declared=Grouping("g", np.zeros(6, np.int32), ["all"]))
    # one declared group against two communities: nothing shared (scikit-learn: 0)
    assert one.nmi == 0.0 and one.ari == 0.0
    none = communities(layer, declared=Grouping("g", np.full(6, -1, np.int32), []))
    assert none.n_compared == 0 and math.isnan(none.nmi) and math.isnan(none.ari)
    json.dumps(none.to_json(), allow_nan=False)
