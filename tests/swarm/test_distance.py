"""Capped pairwise shortest paths: both algorithms against NetworkX and SciPy."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from glia.swarm import _distance as distance
from glia.swarm._distance import pairwise

Edges = dict[tuple[int, int], float]
HORIZONS = [None, 1.5, 2, 3.7, 6]


def matrix(n: int, edges: Edges) -> sp.csr_array:
    """Both triangles, as ``Layer.edge_matrix`` stores them."""
    rows = [u for u, _ in edges] + [v for u, v in edges if u != v]
    cols = [v for _, v in edges] + [u for u, v in edges if u != v]
    data = list(edges.values()) + [w for (u, v), w in edges.items() if u != v]
    return sp.csr_array((data, (rows, cols)), shape=(n, n), dtype=np.float64)


def networkx_distances(
    n: int, edges: Edges, nodes: list[int], horizon: float | None
) -> npt.NDArray[np.float64]:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from((u, v, w) for (u, v), w in edges.items())
    cap = math.inf if horizon is None else horizon
    out = np.empty((len(nodes), len(nodes)))
    for a, source in enumerate(nodes):
        reach = nx.single_source_dijkstra_path_length(g, source)
        for b, target in enumerate(nodes):
            out[a, b] = min(reach.get(target, math.inf), cap)
    return out


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, Edges]:
    """Up to 40 nodes, sparse enough to fall apart, costs in [1, 5] (ties included)."""
    n = draw(st.integers(1, 40))
    cost = st.one_of(st.integers(1, 5).map(float), st.floats(1.0, 5.0))
    drawn = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), cost)))
    edges: Edges = {}
    for u, v, w in drawn:
        key = (min(u, v), max(u, v))
        edges[key] = min(w, edges.get(key, math.inf))
    return n, edges


@st.composite
def cases(draw: st.DrawFn) -> tuple[int, Edges, list[int], float | None]:
    n, edges = draw(graphs())
    nodes = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return n, edges, nodes, draw(st.sampled_from(HORIZONS))


def check(n: int, edges: Edges, nodes: list[int], horizon: float | None) -> None:
    got = pairwise(matrix(n, edges), np.array(nodes), horizon)
    assert got.dtype == np.float64
    assert got.shape == (len(nodes), len(nodes))
    assert np.array_equal(got, got.T)
    assert np.all(np.diag(got) == 0.0)
    want = networkx_distances(n, edges, nodes, horizon)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@contextmanager
def join_only(**constants: Any) -> Iterator[None]:
    """Force the meet-in-the-middle for every finite horizon, and prove it ran."""

    def no_direct(graph: Any, idx: Any, cap: float) -> Any:
        if math.isinf(cap):
            return direct(graph, idx, cap)
        raise AssertionError("the direct search ran instead of the join")

    direct = distance._direct
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(distance, "DIRECT_LIMIT_NODES", 0)
        mp.setattr(distance, "EXTENSION_COST", 0.0)
        mp.setattr(distance, "PAIR_COST", 0.0)
        mp.setattr(distance, "_direct", no_direct)
        for name, value in constants.items():
            mp.setattr(distance, name, value)
        yield


# -- properties ------------------------------------------------------------------------


@settings(max_examples=300)
@given(cases())
def test_matches_networkx_capped(case: tuple[int, Edges, list[int], float | None]) -> None:
    check(*case)


@settings(max_examples=300)
@given(cases())
def test_meet_in_the_middle_matches_networkx(
    case: tuple[int, Edges, list[int], float | None],
) -> None:
    with join_only():
        check(*case)


@settings(max_examples=150)
@given(cases())
def test_meet_in_the_middle_in_tiny_chunks(
    case: tuple[int, Edges, list[int], float | None],
) -> None:
    with join_only(_CHUNK=3):
        check(*case)


@settings(max_examples=100)
@given(cases())
def test_falls_back_to_the_direct_search(
    case: tuple[int, Edges, list[int], float | None],
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(distance, "DIRECT_LIMIT_NODES", 0)
        mp.setattr(distance, "PAIR_COST", 1e12)
        check(*case)
        mp.setattr(distance, "PAIR_COST", 0.0)
        mp.setattr(distance, "_MAX_BALL_CELLS", 0)
        check(*case)
        mp.setattr(distance, "_MAX_BALL_CELLS", 10**9)
        mp.setattr(distance, "_MAX_BALL_ENTRIES", 0)
        check(*case)


@pytest.mark.parametrize("horizon", [2.0, 3.0, 4.0, 6.0, 9.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_scipy_on_a_larger_small_world(seed: int, horizon: float) -> None:
    """3000 nodes, costs 1/strength: above DIRECT_LIMIT_NODES, so the join (or its fallback) runs."""
    rng = np.random.default_rng(seed)
    n = 3000
    ring = np.arange(n)
    u = np.concatenate([ring, ring, rng.integers(0, n, 4 * n)])
    v = np.concatenate([(ring + 1) % n, (ring + 2) % n, rng.integers(0, n, 4 * n)])
    keep = u != v
    w = 1.0 / np.clip(rng.random(keep.sum()), 0.05, 1.0)
    graph = sp.csr_array(
        (np.r_[w, w], (np.r_[u[keep], v[keep]], np.r_[v[keep], u[keep]])), shape=(n, n)
    )
    graph.sum_duplicates()
    nodes = rng.choice(n, 60, replace=False)
    want = np.minimum(csgraph.dijkstra(graph, directed=False, indices=nodes)[:, nodes], horizon)
    np.testing.assert_allclose(pairwise(graph, nodes, horizon), want, rtol=1e-9)


# -- edge cases ------------------------------------------------------------------------


def test_one_candidate_is_at_distance_zero() -> None:
    got = pairwise(matrix(3, {(0, 1): 1.0}), np.array([2]), 4.0)
    assert got.dtype == np.float64
    assert got.tolist() == [[0.0]]


def test_no_candidates() -> None:
    assert pairwise(matrix(3, {(0, 1): 1.0}), np.array([], dtype=np.int64), 4.0).shape == (0, 0)


@pytest.mark.parametrize("force_join", [False, True])
def test_a_node_without_edges_is_a_stranger_to_all(force_join: bool) -> None:
    graph = matrix(4, {(0, 1): 1.0, (1, 2): 1.0})
    nodes = np.array([3, 0, 2])
    with pytest.MonkeyPatch.context() as mp:
        if force_join:
            mp.setattr(distance, "DIRECT_LIMIT_NODES", 0)
        assert pairwise(graph, nodes, 5.0).tolist() == [
            [0.0, 5.0, 5.0],
            [5.0, 0.0, 2.0],
            [5.0, 2.0, 0.0],
        ]
        assert pairwise(graph, nodes).tolist() == [
            [0.0, math.inf, math.inf],
            [math.inf, 0.0, 2.0],
            [math.inf, 2.0, 0.0],
        ]


@pytest.mark.parametrize("force_join", [False, True])
def test_beyond_the_horizon_everyone_is_equally_a_stranger(force_join: bool) -> None:
    # A path 0 - 1 - 2 - 3 - 4 of unit costs: a pair at exactly H keeps H, farther ones get H.
    graph = matrix(5, {(i, i + 1): 1.0 for i in range(4)})
    with pytest.MonkeyPatch.context() as mp:
        if force_join:
            mp.setattr(distance, "DIRECT_LIMIT_NODES", 0)
        got = pairwise(graph, np.array([0, 2, 4]), 2)
    assert got.dtype == np.float64
    assert got.tolist() == [[0.0, 2.0, 2.0], [2.0, 0.0, 2.0], [2.0, 2.0, 0.0]]


def test_an_integer_horizon_gives_float_distances() -> None:
    graph = matrix(3, {(0, 1): 1.25, (1, 2): 1.5})
    with join_only():
        got = pairwise(graph, np.array([0, 1, 2]), 3)
    assert got.dtype == np.float64
    assert got[0].tolist() == [0.0, 1.25, 2.75]


def test_horizon_zero_makes_everyone_a_stranger() -> None:
    graph = matrix(3, {(0, 1): 1.0, (1, 2): 1.0})
    assert np.array_equal(pairwise(graph, np.array([0, 1, 2]), 0.0), np.zeros((3, 3)))


def test_an_explicit_zero_is_a_free_edge_as_in_scipy() -> None:
    graph = sp.csr_array(
        (np.array([0.0, 0.0, 1.0, 1.0]), np.array([1, 0, 2, 1]), np.array([0, 1, 3, 4])),
        shape=(3, 3),
    )
    assert graph.nnz == 4
    for force_join in (False, True):
        with pytest.MonkeyPatch.context() as mp:
            if force_join:
                mp.setattr(distance, "DIRECT_LIMIT_NODES", 0)
            assert pairwise(graph, np.array([0, 2]), 5.0).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_other_sparse_formats_are_accepted() -> None:
    graph = matrix(3, {(0, 1): 1.0, (1, 2): 2.0})
    for same in (sp.coo_array(graph), sp.csr_matrix(graph), sp.csc_array(graph)):
        assert pairwise(same, [0, 2], 10.0).tolist() == [[0.0, 3.0], [3.0, 0.0]]


@pytest.mark.parametrize(
    ("graph", "nodes", "horizon", "message"),
    [
        (sp.csr_array((2, 3)), [0], None, "graph must be a square matrix, not of shape (2, 3)"),
        (matrix(3, {}), [[0, 1]], None, "nodes must be one-dimensional, not of shape (1, 2)"),
        (matrix(3, {}), [0.0, 1.0], None, "nodes must be integers, not float64"),
        (matrix(3, {}), [0, 3], None, "nodes must lie in [0, 3), not in [0, 3]"),
        (matrix(3, {}), [-1, 1], None, "nodes must lie in [0, 3), not in [-1, 1]"),
        (matrix(3, {}), [1, 1], None, "nodes must be distinct"),
        (matrix(3, {}), [0, 1], -1.0, "horizon must be >= 0 or None, not -1.0"),
        (matrix(3, {}), [0, 1], math.nan, "horizon must be >= 0 or None, not nan"),
        (matrix(3, {(0, 1): -1.0}), [0, 1], 2.0, "graph has a negative or NaN edge cost"),
        (
            sp.csr_array(sp.triu(matrix(3, {(0, 1): 1.0, (1, 2): 1.0}))),
            [0, 2],
            2.0,
            "graph must be symmetric: entry (0, 1) has no equal entry (1, 0); "
            "store both triangles, e.g. graph.maximum(graph.T)",
        ),
    ],
)
def test_bad_input_is_refused(graph: Any, nodes: Any, horizon: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        pairwise(graph, nodes, horizon)
    assert str(raised.value) == message
