"""The graph layer: merged arcs and edges, the multiplex of an ecosystem, groupings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glia
from glia.graph import Layer, UnknownGrouping, UnknownLayer, build, grouping
from glia.store import snapshot_of

EXAMPLE = Path(__file__).parents[2] / "examples" / "northbridge.yaml"


@pytest.fixture(scope="module")
def northbridge() -> glia.records.Ecosystem:
    return glia.read(EXAMPLE)


@pytest.fixture(scope="module")
def snap(northbridge):
    return snapshot_of(northbridge)


def test_parallel_ties_merge_and_undirected_ties_go_both_ways() -> None:
    # 0-1 undirected 0.5, 0->1 directed 0.25, 2->0 directed 1.0, 1-1 a self-loop
    layer = Layer.from_ties(
        "t", 3, [0, 0, 2, 1], [1, 1, 0, 1], [0.5, 0.25, 1.0, 0.3], [False, True, True, False]
    )
    arcs = {
        (int(a), int(b)): float(w)
        for a, b, w in zip(layer.source, layer.target, layer.weight, strict=True)
    }
    assert arcs == {(0, 1): 0.75, (1, 0): 0.5, (2, 0): 1.0}
    edges = {
        (int(a), int(b)): float(w)
        for a, b, w in zip(layer.edge_u, layer.edge_v, layer.edge_weight, strict=True)
    }
    assert edges == {(0, 1): 0.75, (0, 2): 1.0}
    assert layer.self_loops == 1
    assert layer.degree.tolist() == [2, 1, 1]
    assert layer.edge_matrix.toarray().tolist() == [[0, 0.75, 1.0], [0.75, 0, 0], [1.0, 0, 0]]


def test_a_tie_of_weight_zero_is_still_a_tie() -> None:
    layer = Layer.from_ties("t", 2, [0], [1], [0.0])
    assert layer.n_edges == 1 and layer.degree.tolist() == [1, 1]


def test_endpoints_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match=r"node numbers 0\.\.2"):
        Layer.from_ties("t", 3, [0], [3])


@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0, 1), st.booleans()
                ),
                max_size=30,
            ),
        )
    )
)
def test_arcs_and_edges_equal_a_dense_sum(case) -> None:
    n, ties = case
    arcs = np.zeros((n, n))
    edges = np.zeros((n, n))
    for a, b, w, d in ties:
        if a == b:
            continue
        arcs[a, b] += w
        if not d:
            arcs[b, a] += w
        edges[min(a, b), max(a, b)] += w
    src, dst, w, d = (list(c) for c in zip(*ties, strict=True)) if ties else ([], [], [], [])
    layer = Layer.from_ties("t", n, src, dst, w, d)
    np.testing.assert_allclose(layer.arc_matrix.toarray(), arcs, atol=1e-12)
    np.testing.assert_allclose(layer.edge_matrix.toarray(), edges + edges.T, atol=1e-12)
    present = {(a, b) for a, b, _, _ in ties if a != b}
    assert layer.n_arcs == len(present | {(b, a) for a, b, _, d in ties if a != b and not d})


def test_layers_of_the_example(northbridge, snap) -> None:
    mx = build(snap)
    index = {p.id: i for i, p in enumerate(northbridge.participants)}
    assert mx.ids == [p.id for p in northbridge.participants]

    def pairs(layer: str | None) -> set[tuple[int, int]]:
        found = set()
        for t in northbridge.ties:
            if layer is None or t.layer == layer:
                a, b = index[t.source], index[t.target]
                found.add((min(a, b), max(a, b)))
        return found

    for name, expected in (
        ("formal", pairs("formal")),
        ("informal", pairs("informal")),
        ("combined", pairs(None)),
    ):
        layer = mx.layer(name)
        assert set(zip(layer.edge_u.tolist(), layer.edge_v.tolist(), strict=True)) == expected, name


def test_exchange_layer_carries_roles_onto_their_players(northbridge, snap) -> None:
    mx = build(snap)
    index = {p.id: i for i, p in enumerate(northbridge.participants)}
    players = {r.id: [index[p] for p in r.played_by] for r in northbridge.roles}
    expected: dict[tuple[int, int], float] = {}
    for x in northbridge.exchanges:
        senders = players.get(x.source, [index.get(x.source)])
        receivers = players.get(x.target, [index.get(x.target)])
        for a in senders:
            for b in receivers:
                if a is not None and b is not None and a != b:
                    expected[(a, b)] = expected.get((a, b), 0) + 1
    layer = mx.exchange
    got = {
        (int(a), int(b)): float(w)
        for a, b, w in zip(layer.source, layer.target, layer.weight, strict=True)
    }
    assert got == expected


def test_ties_at_a_date_are_those_alive_then(northbridge, snap) -> None:
    day = dt.date(2023, 6, 30)
    alive = [
        t
        for t in northbridge.ties
        if (t.since is None or t.since <= day) and (t.until is None or t.until >= day)
    ]
    assert 0 < len(alive) <= len(northbridge.ties)
    mx = build(snap, at=day)
    index = {p.id: i for i, p in enumerate(northbridge.participants)}
    expected = {tuple(sorted((index[t.source], index[t.target]))) for t in alive}
    got = set(zip(mx.combined.edge_u.tolist(), mx.combined.edge_v.tolist(), strict=True))
    assert got == expected


def test_unknown_layer_names_the_choices(snap) -> None:
    with pytest.raises(
        UnknownLayer,
        match="unknown layer 'trust': expected one of formal, informal, combined, exchange",
    ):
        build(snap).layer("trust")


def test_cluster_projection_counts_shared_members(northbridge, snap) -> None:
    proj = build(snap).clusters
    members = {c.id: set() for c in northbridge.clusters}
    for p in northbridge.participants:
        for c in p.clusters:
            members[c].add(p.id)
    ids = proj.ids
    shared = proj.shared.toarray()
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            assert shared[i, j] == len(members[a] & members[b])


def test_groupings(northbridge, snap) -> None:
    region = grouping(snap, "region")
    assert [region.names[g] for g in region.labels] == [p.region for p in northbridge.participants]
    business = grouping(snap, "cluster:business")
    kinds = {c.id: c.kind for c in northbridge.clusters}
    for p, g in zip(northbridge.participants, business.labels, strict=True):
        first = next((c for c in p.clusters if kinds[c] == "business"), None)
        assert (business.names[g] if g >= 0 else None) == first
    with pytest.raises(UnknownGrouping, match="no cluster has kind 'guild'"):
        grouping(snap, "cluster:guild")
    with pytest.raises(UnknownGrouping, match="expected one of region, kind, cluster"):
        grouping(snap, "office")
    sector = grouping(
        snap,
        "attribute:sector",
        attribute=lambda name: [p.attributes.get(name) for p in northbridge.participants],
    )
    assert "municipality" in sector.names
