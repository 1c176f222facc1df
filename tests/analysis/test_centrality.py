"""Centrality against independent answers: NetworkX, brute force, and exact values."""

from __future__ import annotations

import csv
import importlib
import json
import math
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import glia
from glia.analysis._common import AnalysisError
from glia.analysis.centrality import MEASURES, Centrality, centrality
from glia.generate import write_generated
from glia.graph import Layer, build
from glia.store import snapshot_of

DATA = Path(__file__).parents[2] / ".." / "shared" / "data"
# the module, not the function that glia.analysis exports under the same name
engine = importlib.import_module("glia.analysis.centrality")


# -- building layers and oracles from the same arrays -------------------------------------
def layer_of(graph: nx.Graph, name: str = "g", *, directed: bool = False) -> Layer:
    nodes = list(graph.nodes())
    index = {node: i for i, node in enumerate(nodes)}
    ties = list(graph.edges(data=True))
    return Layer.from_ties(
        name,
        len(nodes),
        [index[a] for a, _, _ in ties],
        [index[b] for _, b, _ in ties],
        [d.get("weight", 1.0) for _, _, d in ties],
        directed,
    )


def undirected(layer: Layer, *, positive: bool = False) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(layer.n))
    keep = layer.edge_weight > 0 if positive else np.ones(layer.n_edges, bool)
    g.add_weighted_edges_from(
        zip(
            layer.edge_u[keep].tolist(),
            layer.edge_v[keep].tolist(),
            layer.edge_weight[keep].tolist(),
            strict=True,
        )
    )
    return g


def directed(layer: Layer) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(layer.n))
    g.add_weighted_edges_from(
        zip(layer.source.tolist(), layer.target.tolist(), layer.weight.tolist(), strict=True)
    )
    return g


def values(d: dict[int, float], n: int) -> np.ndarray:
    return np.array([d[i] for i in range(n)], dtype=float)


def brute_reach(layer: Layer) -> np.ndarray:
    """Other nodes within two hops, by breadth-first search on Python sets."""
    neighbours: list[set[int]] = [set() for _ in range(layer.n)]
    for a, b in zip(layer.edge_u.tolist(), layer.edge_v.tolist(), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    out = np.zeros(layer.n)
    for u in range(layer.n):
        seen = {u}
        frontier = {u}
        for _ in range(2):
            frontier = {w for v in frontier for w in neighbours[v]} - seen
            seen |= frontier
        out[u] = len(seen) - 1
    return out


def dense_effective_size(graph: nx.Graph) -> np.ndarray:
    """Burt's effective size as NetworkX's sparse path computes it, dense, with the
    row maximum on the right axis (NetworkX 3.6 divides by the column's maximum on
    weighted graphs, networkx/networkx#8906; its iterative path is right but slow,
    and is checked separately on the small graphs)."""
    w = nx.to_numpy_array(graph, nodelist=range(len(graph)), weight="weight")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = w / w.sum(axis=1, keepdims=True)
        m = w / w.max(axis=1, keepdims=True)
        size = np.where(w > 0, 1.0 - np.nan_to_num(p) @ np.nan_to_num(m).T, 0.0).sum(axis=1)
    size[w.sum(axis=1) == 0] = np.nan
    return size


def oracle(layer: Layer) -> dict[str, np.ndarray]:
    """Every measure NetworkX computes (or brute force, for reach), from the layer's arrays."""
    n = layer.n
    g = undirected(layer)
    gp = undirected(layer, positive=True)  # weighted measures ignore ties of weight 0
    d = directed(layer)
    degree = values(dict(g.degree()), n)
    positive_degree = values(dict(gp.degree()), n)
    harmonic = values(nx.harmonic_centrality(g), n)
    effective = dense_effective_size(gp)
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = effective / positive_degree
    reach = brute_reach(layer) / (n - 1) if n > 1 else np.zeros(n)
    result = {
        "degree": degree,
        "in_degree": values(dict(d.in_degree()), n),
        "out_degree": values(dict(d.out_degree()), n),
        "strength": values(dict(g.degree(weight="weight")), n),
        "in_strength": values(dict(d.in_degree(weight="weight")), n),
        "out_strength": values(dict(d.out_degree(weight="weight")), n),
        "harmonic": harmonic,
        "harmonic_norm": harmonic / (n - 1) if n > 1 else np.zeros(n),
        "betweenness": values(nx.betweenness_centrality(g), n),
        "pagerank": values(nx.pagerank(d, alpha=0.85, tol=1e-13, max_iter=10_000), n),
        "core_number": values(nx.core_number(g), n),
        "constraint": values(nx.constraint(gp, weight="weight"), n),
        "effective_size": effective,
        "efficiency": efficiency,
        "reach": reach,
        "reach_efficiency": reach / (degree + 1),
    }
    if gp.number_of_edges() and nx.is_connected(gp):
        result["eigenvector"] = values(nx.eigenvector_centrality_numpy(gp, weight="weight"), n)
    return result


def assert_matches(result: Centrality, reference: dict[str, np.ndarray]) -> None:
    for name, expected in reference.items():
        got = np.asarray(getattr(result, name), dtype=float)
        assert got.shape == expected.shape, name
        np.testing.assert_allclose(
            got, expected, rtol=1e-6, atol=1e-9, equal_nan=True, err_msg=f"{name} of {result.layer}"
        )


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ecosystem(tmp_path_factory: pytest.TempPathFactory) -> glia.graph.Multiplex:
    path = tmp_path_factory.mktemp("eco") / "eco.yaml"
    write_generated(path, 160, seed=11)
    return build(snapshot_of(glia.read(path)))


@pytest.fixture(scope="module")
def midsize(tmp_path_factory: pytest.TempPathFactory) -> Layer:
    """The one mid-size graph: a generated ecosystem's combined layer (1,200 nodes)."""
    path = tmp_path_factory.mktemp("mid") / "eco.yaml"
    write_generated(path, 1200, seed=5)
    layer: Layer = build(snapshot_of(glia.read(path))).combined
    return layer


def disconnected() -> Layer:
    """A long path (a deep component), a triangle, a star, isolated nodes, and a clump."""
    parts: list[tuple[list[int], list[int], int]] = [
        (list(range(39)), list(range(1, 40)), 40),
        ([0, 1, 2], [1, 2, 0], 3),
        ([0] * 5, [1, 2, 3, 4, 5], 6),
        ([], [], 3),
    ]
    clump = nx.gnm_random_graph(60, 150, seed=3)
    parts.append(([a for a, _ in clump.edges()], [b for _, b in clump.edges()], 60))
    source: list[int] = []
    target: list[int] = []
    offset = 0
    for a, b, size in parts:
        source += [x + offset for x in a]
        target += [x + offset for x in b]
        offset += size
    weight = np.random.default_rng(2).uniform(0.1, 2.0, len(source))
    return Layer.from_ties("parts", offset, source, target, weight)


def weighted_directed() -> Layer:
    g = nx.gnp_random_graph(70, 0.06, directed=True, seed=4)
    rng = np.random.default_rng(4)
    src = [a for a, _ in g.edges()]
    dst = [b for _, b in g.edges()]
    weight = rng.uniform(0.0, 3.0, len(src))
    weight[:5] = 0.0  # ties of weight 0: present, but carrying nothing
    return Layer.from_ties("directed", 70, src, dst, weight, True)


def karate() -> Layer:
    return layer_of(nx.karate_club_graph(), "karate")


CASES: dict[str, Callable[[], Layer]] = {
    "florentine": lambda: layer_of(nx.florentine_families_graph(), "florentine"),
    "karate": karate,
    "davis": lambda: layer_of(nx.Graph(nx.davis_southern_women_graph()), "davis"),
    "directed": weighted_directed,
    "disconnected": disconnected,
}


# -- agreement with NetworkX --------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_measures_match_networkx(case: str) -> None:
    layer = CASES[case]()
    result = centrality(layer)
    assert not result.sampled and result.sample_size == layer.n
    assert_matches(result, oracle(layer))


@pytest.mark.parametrize("case", ["florentine", "karate", "davis"])
def test_effective_size_matches_networkx_iterative_path(case: str) -> None:
    layer = CASES[case]()
    graph = undirected(layer)
    expected = values(nx.effective_size(graph, nodes=list(graph), weight="weight"), layer.n)
    np.testing.assert_allclose(centrality(layer).effective_size, expected, rtol=1e-9)
    np.testing.assert_allclose(dense_effective_size(graph), expected, rtol=1e-9)


@pytest.mark.parametrize("name", ["formal", "informal", "combined", "exchange"])
def test_generated_ecosystem_layers_match_networkx(
    ecosystem: glia.graph.Multiplex, name: str
) -> None:
    layer = ecosystem.layer(name)
    assert_matches(centrality(layer), oracle(layer))


def _reference_layers(folder: str) -> dict[str, Layer]:
    path = DATA / folder / "ties.csv"
    if not path.exists():
        pytest.skip(f"reference data {path} is not present")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    nodes = sorted({r["from"] for r in rows} | {r["to"] for r in rows})
    index = {node: i for i, node in enumerate(nodes)}
    if folder == "krackhardt":
        relations = {
            k: [r for r in rows if r[k] == "1"] for k in ("advice", "friendship", "reports_to")
        }
    else:
        relations = {
            k: [r for r in rows if r["relation"] == k] for k in {r["relation"] for r in rows}
        }
    return {
        k: Layer.from_ties(
            k,
            len(nodes),
            [index[r["from"]] for r in rs],
            [index[r["to"]] for r in rs],
            None,
            True,
        )
        for k, rs in relations.items()
    }


@pytest.mark.parametrize("folder", ["krackhardt", "lazega"])
def test_reference_networks_match_networkx(folder: str) -> None:
    for layer in _reference_layers(folder).values():
        assert_matches(centrality(layer), oracle(layer))


def test_a_disconnected_graph_gives_no_eigenvector_to_weaker_components() -> None:
    # a triangle (largest eigenvalue 2) and a separate edge (1): NetworkX refuses
    # disconnected graphs (AmbiguousSolution); Glia gives the triangle its own
    # vector and the edge 0, the limit of the power iteration
    layer = Layer.from_ties("t", 5, [0, 1, 2, 3], [1, 2, 0, 4])
    got = centrality(layer).eigenvector
    with pytest.raises(nx.AmbiguousSolution):
        nx.eigenvector_centrality_numpy(undirected(layer))
    triangle = nx.eigenvector_centrality_numpy(undirected(layer).subgraph([0, 1, 2]))
    np.testing.assert_allclose(got, [*values(triangle, 3), 0, 0], atol=1e-9)
    power = nx.eigenvector_centrality(undirected(layer), max_iter=1000, tol=1e-12)
    np.testing.assert_allclose(got, values(power, 5), atol=1e-6)


def test_tied_components_share_the_eigenvector_equally() -> None:
    layer = Layer.from_ties("t", 7, [0, 1, 2, 3, 4, 5], [1, 2, 0, 4, 5, 3])  # two triangles
    got = centrality(layer).eigenvector
    np.testing.assert_allclose(got, [6**-0.5] * 6 + [0.0], atol=1e-12)
    assert np.linalg.norm(got) == pytest.approx(1.0)


def test_large_components_use_the_sparse_eigensolver() -> None:
    g = nx.connected_watts_strogatz_graph(300, 6, 0.2, seed=1)
    for a, b in g.edges():
        g[a][b]["weight"] = 1.0 + (a * b) % 7
    layer = layer_of(g)
    expected = values(nx.eigenvector_centrality_numpy(undirected(layer), weight="weight"), 300)
    np.testing.assert_allclose(centrality(layer).eigenvector, expected, atol=1e-9)


# -- reach --------------------------------------------------------------------------------
def test_reach_counts_two_steps_through_hubs(monkeypatch: pytest.MonkeyPatch) -> None:
    g = nx.barabasi_albert_graph(400, 3, seed=2)
    g.add_edges_from((0, k) for k in range(100, 400, 2))  # a hub
    layer = layer_of(g)
    expected = brute_reach(layer)
    np.testing.assert_array_equal(engine._reach(layer), expected)
    # all middle nodes as bit sets, then none: the same counts
    monkeypatch.setattr(engine, "_heavy_threshold", lambda degree, words: 0)
    np.testing.assert_array_equal(engine._reach(layer), expected)
    monkeypatch.setattr(engine, "_heavy_threshold", lambda degree, words: 10**9)
    np.testing.assert_array_equal(engine._reach(layer), expected)


def test_reach_efficiency_divides_by_size() -> None:
    # star 0-1, 0-2 plus 2-3: node 1 reaches 0 and 2 (2 of 3), size 2
    result = centrality(Layer.from_ties("s", 4, [0, 0, 2], [1, 2, 3]))
    np.testing.assert_allclose(result.reach, [1.0, 2 / 3, 1.0, 2 / 3])
    np.testing.assert_allclose(result.reach_efficiency, [1 / 3, 1 / 3, 1 / 3, 1 / 3])


# -- sampling -----------------------------------------------------------------------------
def test_sampled_error_bound_holds_against_exact(midsize: Layer) -> None:
    exact = centrality(midsize)
    assert not exact.sampled
    n = midsize.n
    for seed in range(4):
        sampled = centrality(midsize, exact_limit=0, pivots=150, seed=seed)
        assert sampled.sampled and sampled.sample_size == 150
        for measure in ("harmonic", "harmonic_norm", "betweenness"):
            err = np.abs(getattr(sampled, measure) - getattr(exact, measure))
            bound = sampled.error[measure]
            # the stated meaning: every node within the bound (95% simultaneous)
            assert err.max() <= bound, (measure, seed, err.max(), bound)
            # and the bound is informative, not vacuous
            assert bound < 8 * err.max(), (measure, seed, err.max(), bound)
            se = sampled.standard_error[measure]
            assert se.shape == (n,) and np.all(se >= 0)
        assert sampled.error["betweenness"] < 0.05


def test_sampling_is_seeded_and_unbiased_on_average(midsize: Layer) -> None:
    exact = centrality(midsize).betweenness
    one = centrality(midsize, exact_limit=0, pivots=100, seed=3)
    again = centrality(midsize, exact_limit=0, pivots=100, seed=3)
    np.testing.assert_array_equal(one.betweenness, again.betweenness)
    runs = [centrality(midsize, exact_limit=0, pivots=100, seed=s).betweenness for s in range(6)]
    top = np.argsort(exact)[-20:]
    mean = np.mean(runs, axis=0)[top]
    se = np.std(runs, axis=0)[top] / math.sqrt(len(runs))
    assert np.all(np.abs(mean - exact[top]) <= 5 * se + 1e-12)


def test_deep_components_sample_one_source_at_a_time() -> None:
    layer = disconnected()  # its 40-node path is deeper than the batched engine takes
    exact = centrality(layer)
    sums = engine._Sums(layer.n)
    engine._single_paths(layer, np.arange(layer.n, dtype=np.int64), sums)
    n = layer.n
    np.testing.assert_allclose(sums.h, exact.harmonic, atol=1e-9)
    np.testing.assert_allclose(sums.d / ((n - 1) * (n - 2)), exact.betweenness, atol=1e-12)
    for seed in range(3):
        sampled = centrality(layer, exact_limit=0, pivots=60, seed=seed)
        assert np.abs(sampled.betweenness - exact.betweenness).max() <= sampled.error["betweenness"]
        assert np.abs(sampled.harmonic - exact.harmonic).max() <= sampled.error["harmonic"]


def test_enough_pivots_means_exact() -> None:
    layer = karate()
    result = centrality(layer, exact_limit=0, pivots=34)
    assert not result.sampled and result.error["betweenness"] == 0.0
    np.testing.assert_allclose(result.betweenness, centrality(layer).betweenness)


# -- edge cases ---------------------------------------------------------------------------
def test_no_edges() -> None:
    result = centrality(Layer.from_ties("empty", 4, [], []))
    for name in ("degree", "strength", "harmonic", "betweenness", "eigenvector", "reach"):
        assert np.all(getattr(result, name) == 0), name
    np.testing.assert_allclose(result.pagerank, 0.25)
    assert np.all(result.core_number == 0)
    assert np.all(np.isnan(result.constraint)) and np.all(np.isnan(result.efficiency))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_layers(n: int) -> None:
    src, dst = ([0], [1]) if n == 2 else ([], [])
    result = centrality(Layer.from_ties("tiny", n, src, dst))
    for name in MEASURES:
        assert len(getattr(result, name)) == n
    if n == 1:
        assert result.pagerank.tolist() == [1.0] and result.reach.tolist() == [0.0]
    if n == 2:
        assert result.betweenness.tolist() == [0.0, 0.0]
        np.testing.assert_allclose(result.harmonic, [1.0, 1.0])
        np.testing.assert_allclose(result.constraint, [1.0, 1.0])
        np.testing.assert_allclose(result.eigenvector, [2**-0.5, 2**-0.5])
    json.dumps(result.to_json(), allow_nan=False)


def test_zero_weights_are_ties_without_weight() -> None:
    # a 4-cycle where one tie weighs 0: unweighted measures see the cycle,
    # weighted ones see a path
    layer = Layer.from_ties("z", 4, [0, 1, 2, 3], [1, 2, 3, 0], [1.0, 1.0, 1.0, 0.0])
    result = centrality(layer)
    np.testing.assert_allclose(
        result.betweenness, values(nx.betweenness_centrality(nx.cycle_graph(4)), 4)
    )
    path = nx.path_graph([3, 2, 1, 0])
    np.testing.assert_allclose(result.constraint, values(nx.constraint(path), 4))
    np.testing.assert_allclose(result.efficiency, [1.0, 1.0, 1.0, 1.0])
    assert result.strength.tolist() == [1.0, 2.0, 2.0, 1.0]
    everything_zero = centrality(Layer.from_ties("z", 3, [0, 1], [1, 2], [0.0, 0.0]))
    assert np.all(everything_zero.eigenvector == 0)
    assert np.all(np.isnan(everything_zero.constraint))
    np.testing.assert_allclose(everything_zero.pagerank, 1 / 3)  # every node dangles
    assert everything_zero.degree.tolist() == [1, 2, 1]


def test_bad_input_is_refused() -> None:
    for weight in (-1.0, float("nan"), float("inf")):
        with pytest.raises(AnalysisError, match="negative or non-finite arc weight"):
            centrality(Layer.from_ties("bad", 2, [0], [1], [weight]))
    with pytest.raises(AnalysisError, match="pivots must be at least 2"):
        centrality(karate(), pivots=1)


# -- outputs ------------------------------------------------------------------------------
def test_tables_and_json() -> None:
    layer = disconnected()
    result = centrality(layer, exact_limit=0, pivots=40)
    df = result.to_pandas(ids=[f"p{i}" for i in range(layer.n)])
    assert list(df.columns) == [*MEASURES, "harmonic_se", "betweenness_se"]
    assert df.index.name == "id" and df.index[0] == "p0"
    data = result.to_json()
    text = json.dumps(data, allow_nan=False)
    assert set(data["measures"]) == set(MEASURES)
    assert data["sampled"] is True and data["sample_size"] == 40
    assert set(data["error"]) == {"harmonic", "harmonic_norm", "betweenness"}
    assert data["measures"]["constraint"][layer.n - 1] is not None
    isolated = 40 + 3 + 6  # the three isolated nodes come after path, triangle, star
    assert data["measures"]["constraint"][isolated] is None and "NaN" not in text
    assert list(result.columns()) == list(MEASURES)
    assert result.meta()["layer"] == "parts"
