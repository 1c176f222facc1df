"""Centrality of the nodes of one layer: who is central, and in what sense.

Which view of the layer each measure reads (see :mod:`glia.graph._layer`):

- **arcs** (directed, merged): ``in_degree``/``out_degree`` (distinct
  partners), ``in_strength``/``out_strength`` (summed weights), ``pagerank``
  (weighted);
- **edges** (undirected, merged), *unweighted*: ``degree`` (distinct
  neighbours), ``harmonic``/``harmonic_norm``, ``betweenness``,
  ``core_number``, ``reach``/``reach_efficiency``;
- **edges**, *weighted*: ``strength``, ``eigenvector``, ``constraint``,
  ``effective_size``, ``efficiency``.

The rule: direction matters only where a measure is about sending or
receiving (degree in and out, PageRank); measures of position read the
undirected edges; weights count where the measure is defined on them.
A tie of weight 0 is a tie for unweighted measures and absent for weighted
ones (it adds nothing to a strength, carries no PageRank, and is no contact
in Burt's measures). Negative or non-finite weights are refused
(:class:`~glia.analysis.AnalysisError`).

Definitions, each checked in the tests against NetworkX 3.6 (to 1e-6) or, for
reach, a brute-force search:

``harmonic``
    ``networkx.harmonic_centrality`` on the undirected graph:
    ``h(v) = sum_{u != v} 1 / d(u, v)`` (unreachable: 0, unweighted hops);
    ``harmonic_norm = h / (n - 1)``.
``betweenness``
    ``networkx.betweenness_centrality(G, normalized=True)`` on the
    undirected graph: ``sigma_st(v) / sigma_st`` summed over unordered pairs
    ``{s, t}`` without ``v``, divided by their number ``(n - 1)(n - 2) / 2``.
``eigenvector``
    ``networkx.eigenvector_centrality_numpy(G, weight="weight")``: the
    Perron vector of the weighted adjacency, unit Euclidean norm, entries
    >= 0. NetworkX refuses a disconnected graph (``AmbiguousSolution``,
    its issue 6888: the eigensolver's answer is arbitrary when two
    components tie); Glia defines one: the
    components (on ties of positive weight) whose largest eigenvalue is the
    graph's largest each get their own Perron vector, scaled by
    ``1 / sqrt(number of such components)``; every other node gets 0 (its
    component's share vanishes in the power iteration). No ties of positive
    weight: all zeros. On a connected graph this is NetworkX's answer; on a
    disconnected one with a single dominant component it is the limit of
    ``networkx.eigenvector_centrality`` (power iteration).
``pagerank``
    ``networkx.pagerank(G, alpha=0.85, weight="weight")``: arcs weighted,
    a node with no outgoing weight (dangling) spreads its rank uniformly;
    power iteration by SciPy sparse products until the L1 change is below
    1e-11 (NetworkX's default stops at ``n * 1e-6``).
``core_number``
    ``networkx.core_number`` (networkit ``CoreDecomposition``).
``constraint``, ``effective_size``, ``efficiency``
    Burt (1992), *Structural Holes*, ch. 2, as ``networkx.constraint`` and
    ``networkx.effective_size(G, nodes=G, weight="weight")`` compute them
    (for the latter, NetworkX's iterative path: the sparse path it takes for
    a whole graph divides by the wrong row maximum on weighted graphs in
    3.6, networkx/networkx#8906): with ``p_uv = w_uv / s_u``
    (``s_u`` the strength) and ``m_vw = w_vw / max_x w_vx``,
    ``constraint(u) = sum_{v in N(u)} (p_uv + sum_w p_uw p_wv)^2``,
    ``effective_size(u) = sum_{v in N(u)} (1 - sum_w p_uw m_vw)``,
    ``efficiency = effective_size / |N(u)|`` (Burt's efficiency, NetworkX's
    documented recipe). ``N(u)`` are the ties of positive weight; a node
    without one gets NaN, as NetworkX gives isolated nodes.
``reach``, ``reach_efficiency``
    Kumu's "two-step reach" (docs.kumu.io, *Metrics*): the share of the
    other ``n - 1`` nodes within two steps of a node (neighbours and their
    neighbours), and "reach efficiency", reach divided by the node's size
    (Kumu: neighbours plus the node itself, ``degree + 1``). One node:
    reach 0.

Why hand-written code, where libraries exist:

- *Betweenness and harmonic closeness*: networkit's exact ``Betweenness``
  ran here at about 60 ns per node x edge on 2 cores (1.1 s at 2k nodes /
  10k edges, 5.0 s at 4k / 20k, 29 s at 10k / 50k), and its
  ``EstimateBetweenness`` uses a linearly scaled estimator and reports no
  spread, so its error cannot be stated. Glia runs Brandes' algorithm
  (Brandes 2001, "A faster algorithm for betweenness centrality") for many
  sources at once as sparse-matrix by dense-block products (the "algebraic"
  batched form, as in Buluç and Gilbert's Combinatorial BLAS): path counts
  go forward level by level, dependencies come back the same way, and the
  same sweep gives the distances for harmonic closeness. That is four to
  five times faster than networkit here and keeps every source's
  contribution, hence an error. Its cost grows with the number of BFS
  levels, so components whose double-sweep diameter estimate exceeds 16 use
  networkit's exact ``Betweenness``/``HarmonicCloseness`` (exact runs) or a
  one-source-at-a-time NumPy Brandes over SciPy BFS distances (sampled).
- *Burt's measures*: NetworkX's sparse path forms dense ``n x n`` products
  (and has the bug above); its loop path is pure Python. Both sums run
  over pairs of neighbours that are themselves tied, i.e. over triangles, so
  Glia lists the triangles once (the degree-ordered "forward" algorithm,
  Schank and Wagner 2005, vectorised in chunks) and adds every term with
  ``bincount``. Hubs with 10^4 neighbours cost nothing extra: a node's
  out-degree in the degree order is at most ``sqrt(2m)``, and memory stays
  bounded by the chunk size.
- *Reach*: no library counts two-step neighbourhoods. Sparse products
  ``A[rows] @ A`` in row blocks (SciPy, one block per thread) list them, at
  a cost of ``deg(w)^2`` per middle node ``w``: a hub of a million leaves
  would cost 10^12. When a cost model of the degrees says so, Glia ORs the
  neighbourhoods of such hubs as bit sets instead (``n / 64`` words per
  visit). At 100k nodes / 1M edges (largest degree 6,900) the products
  alone are cheaper and are used.
- *Eigenvector*: NetworkX's function refuses disconnected graphs (see
  above); SciPy's ``eigsh`` does the work, per dominant component.
- *PageRank*: SciPy sparse products, as NetworkX's own ``_pagerank_scipy``,
  without building a NetworkX graph.

Exact or sampled. One breadth-first search per node costs about
``n x m``; when ``sum over components of nodes x edges`` exceeds
``exact_limit`` (see :data:`EXACT_LIMIT` for the measurement), harmonic
closeness and betweenness are estimated from ``pivots`` sources drawn
uniformly without replacement (seeded), each source's contribution scaled
by ``n / pivots`` (Brandes and Pich 2007, "Centrality estimation in large
networks"; both estimators are unbiased).

The reported error (``error``, one number per sampled measure, in the
measure's units) is a simultaneous 95% bound: ``z * max_v se(v)``, with
``se(v)`` the standard error of node ``v``'s estimate (the spread of the
pivots' contributions, with the finite-population correction) and ``z``
the normal quantile Bonferroni-corrected for ``n`` nodes,
``Phi^-1(1 - 0.025 / n)`` (4.1 at 1,200 nodes, 5.0 at 100,000). Meaning:
with about 95% confidence every node's estimate is within ``error`` of its
exact value. Checked against exact values on a generated 1,200-node
ecosystem with 150 pivots: over 12 seeds the largest true error was 1.9 to
2.5 times below the bound for harmonic closeness and 2.8 to 5.5 times below
it for betweenness (the tests assert the bound for 4 seeds). The per-node
``standard_error`` is weaker than the bound: ``+-1.96 se`` covered about
93% of nodes for harmonic closeness but only about 66% for betweenness,
because a node whose betweenness comes from a few sources (the neighbour of
a leaf gets ``n - 2`` from the leaf alone) shows no spread until one of
them is drawn. Those misses are small in absolute terms; the bound, set by
the hubs, covers them.

Cost at 100k nodes / 1M edges (Chung-Lu, largest degree 6,900; two runs on
the 2 cores while other jobs ran): harmonic closeness and betweenness from
256 pivots 10.3-12.3 s, reach 3.8-5.1 s, Burt's measures 0.6-0.9 s,
eigenvector 0.4-1.2 s, PageRank 0.15-0.2 s, core numbers 0.03-0.7 s,
degrees and strengths negligible: 14.4-20.9 s in all. The bounds there:
betweenness 0.042 against a largest value of 0.098, ``harmonic_norm``
0.047 against 0.52; they shrink as ``1 / sqrt(pivots)``. A generated
100k-participant ecosystem's combined layer (855k edges, largest degree
1,066) took 19.6 s, with a betweenness bound of 0.023 against a largest
value of 0.016: at that size 256 pivots rank the brokers only roughly, and
``pivots`` should grow when the values themselves matter.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.sparse.linalg import ArpackNoConvergence, eigsh
from scipy.special import ndtri

from ..graph import Layer
from ._common import AnalysisError, frame, jsonable

__all__ = ["CONFIDENCE", "EXACT_LIMIT", "MEASURES", "PIVOTS", "Centrality", "centrality"]

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

#: Largest ``sum over components of nodes x edges`` computed exactly. Measured
#: on this project's 2-core machine (best of 4, Chung-Lu graphs of mean degree
#: 10, both cores): exact harmonic closeness and betweenness took 0.25 s at 2k
#: nodes / 10k edges (2e7), 1.0 s at 4k / 20k (8e7) and 4.1 s at 8k / 40k
#: (3.2e8), about 12.5 ns per node x edge (up to 3 times more while other jobs
#: ran); denser graphs cost less per node x edge (fewer BFS levels). The
#: limit keeps exact runs to about 2.5 seconds.
EXACT_LIMIT = 200_000_000

#: Sources sampled above the limit (10 s for both measures at 100k nodes / 1M
#: edges; see the module docstring for the error this buys).
PIVOTS = 256

#: Confidence of the simultaneous error bound of sampled measures.
CONFIDENCE = 0.95

#: Memory the batched shortest-path sweeps may hold at once, all threads.
_BATCH_BYTES = 2 << 30

#: Components whose estimated diameter exceeds this use the per-source
#: engines (the batched one costs a full sparse product per BFS level).
_DEEP = 16

#: NetworkX-style measure names, in the order of :meth:`Centrality.columns`.
MEASURES = (
    "degree",
    "in_degree",
    "out_degree",
    "strength",
    "in_strength",
    "out_strength",
    "harmonic",
    "harmonic_norm",
    "betweenness",
    "eigenvector",
    "pagerank",
    "core_number",
    "constraint",
    "effective_size",
    "efficiency",
    "reach",
    "reach_efficiency",
)


@dataclass(frozen=True, eq=False)
class Centrality:
    """Node measures of one layer, one array entry per node (see the module doc)."""

    layer: str
    n: int
    degree: Int
    in_degree: Int
    out_degree: Int
    strength: Float
    in_strength: Float
    out_strength: Float
    harmonic: Float
    harmonic_norm: Float
    betweenness: Float
    eigenvector: Float
    pagerank: Float
    core_number: Int
    constraint: Float
    effective_size: Float
    efficiency: Float
    reach: Float
    reach_efficiency: Float
    #: Whether harmonic closeness and betweenness were estimated from pivots.
    sampled: bool = False
    #: Sources whose shortest paths were counted (``n`` when exact).
    sample_size: int = 0
    #: Simultaneous bound on the absolute error, per sampled measure (0 if exact).
    error: dict[str, float] = field(default_factory=dict)
    #: Per-node standard errors of the sampled measures (zeros if exact).
    standard_error: dict[str, Float] = field(default_factory=dict)
    confidence: float = CONFIDENCE
    seed: int = 0
    exact_limit: int = EXACT_LIMIT
    pivots: int = PIVOTS

    def columns(self) -> dict[str, Any]:
        """Every per-node measure, by name, in a stable order."""
        return {name: getattr(self, name) for name in MEASURES}

    def meta(self) -> dict[str, Any]:
        """How the measures were computed (JSON-safe)."""
        result: dict[str, Any] = jsonable(
            {
                "layer": self.layer,
                "n": self.n,
                "sampled": self.sampled,
                "sample_size": self.sample_size,
                "error": self.error,
                "confidence": self.confidence,
                "seed": self.seed,
                "exact_limit": self.exact_limit,
                "pivots": self.pivots,
            }
        )
        return result

    def to_pandas(self, ids: Sequence[str] | None = None) -> Any:
        """One row per node (index: ``ids`` when given), one column per measure.

        Sampled runs add ``harmonic_se`` and ``betweenness_se`` (standard errors).
        """
        columns = self.columns()
        if self.sampled:
            columns["harmonic_se"] = self.standard_error["harmonic"]
            columns["betweenness_se"] = self.standard_error["betweenness"]
        return frame(columns, ids)

    def to_json(self) -> dict[str, Any]:
        """:meth:`meta`, and ``measures``: measure name -> list (NaN as ``None``)."""
        return {**self.meta(), "measures": jsonable(self.columns())}


def centrality(
    layer: Layer,
    *,
    exact_limit: int = EXACT_LIMIT,
    pivots: int = PIVOTS,
    seed: int = 0,
) -> Centrality:
    """Every node measure of ``layer`` (see the module docstring for definitions).

    Harmonic closeness and betweenness are exact when the layer's
    ``sum over components of nodes x edges`` is at most ``exact_limit``
    (or ``pivots >= n``), and otherwise estimated from ``pivots`` sources
    drawn with ``seed``; ``sampled``, ``sample_size``, ``error`` and
    ``standard_error`` say which and how well.
    """
    if pivots < 2:
        raise AnalysisError(f"pivots must be at least 2 (got {pivots})")
    if exact_limit < 0:
        raise AnalysisError(f"exact_limit must be 0 or more (got {exact_limit})")
    for what, w in (("arc", layer.weight), ("edge", layer.edge_weight)):
        if len(w) and not (np.all(np.isfinite(w)) and w.min() >= 0):
            raise AnalysisError(
                f"layer {layer.name!r} has a negative or non-finite {what} weight: "
                "weighted measures need weights of 0 or more"
            )
    n = layer.n
    degree = layer.degree.astype(np.int64)
    harmonic, betweenness, paths = _paths(layer, exact_limit, pivots, seed)
    harmonic_norm = harmonic / (n - 1) if n > 1 else np.zeros(n)
    reach_count = _reach(layer)
    reach = reach_count / (n - 1) if n > 1 else np.zeros(n)
    constraint, effective_size, efficiency = _structural_holes(layer)
    if paths.sampled:
        scale = 1.0 / (n - 1)
        error = {
            "harmonic": paths.harmonic_error,
            "harmonic_norm": paths.harmonic_error * scale,
            "betweenness": paths.betweenness_error,
        }
        standard_error = {
            "harmonic": paths.harmonic_se,
            "harmonic_norm": paths.harmonic_se * scale,
            "betweenness": paths.betweenness_se,
        }
    else:
        error = {"harmonic": 0.0, "harmonic_norm": 0.0, "betweenness": 0.0}
        standard_error = {k: np.zeros(n) for k in error}
    return Centrality(
        layer=layer.name,
        n=n,
        degree=degree,
        in_degree=np.bincount(layer.target, minlength=n).astype(np.int64),
        out_degree=np.bincount(layer.source, minlength=n).astype(np.int64),
        strength=_strength(layer),
        in_strength=np.bincount(layer.target, weights=layer.weight, minlength=n).astype(np.float64),
        out_strength=np.bincount(layer.source, weights=layer.weight, minlength=n).astype(
            np.float64
        ),
        harmonic=harmonic,
        harmonic_norm=harmonic_norm,
        betweenness=betweenness,
        eigenvector=_eigenvector(layer),
        pagerank=_pagerank(layer),
        core_number=_core_number(layer),
        constraint=constraint,
        effective_size=effective_size,
        efficiency=efficiency,
        reach=reach,
        reach_efficiency=reach / (degree + 1.0),
        sampled=paths.sampled,
        sample_size=paths.sample_size,
        error=error,
        standard_error=standard_error,
        seed=seed,
        exact_limit=exact_limit,
        pivots=pivots,
    )


# -- helpers --------------------------------------------------------------------------
def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _strength(layer: Layer) -> Float:
    n = layer.n
    w = layer.edge_weight
    return (
        np.bincount(layer.edge_u, weights=w, minlength=n)
        + np.bincount(layer.edge_v, weights=w, minlength=n)
    ).astype(np.float64)


def _pattern(layer: Layer) -> Any:
    """The unweighted symmetric adjacency as a float64 CSR matrix."""
    indptr, indices = layer.adjacency
    return sp.csr_array(
        (np.ones(len(indices)), indices, indptr), shape=(layer.n, layer.n), copy=False
    )


def _positive_edges(layer: Layer) -> tuple[Int, Int, Float]:
    keep = layer.edge_weight > 0
    return (
        layer.edge_u[keep].astype(np.int64),
        layer.edge_v[keep].astype(np.int64),
        layer.edge_weight[keep],
    )


# -- shortest paths: harmonic closeness and betweenness ------------------------------
@dataclass
class _Paths:
    sampled: bool
    sample_size: int
    harmonic_se: Float
    betweenness_se: Float
    harmonic_error: float = 0.0
    betweenness_error: float = 0.0


class _Sums:
    """Per-node sums over sources of ``1/d(s, v)`` and ``delta_s(v)`` (and squares)."""

    def __init__(self, n: int) -> None:
        self.h = np.zeros(n)
        self.h2 = np.zeros(n)
        self.d = np.zeros(n)
        self.d2 = np.zeros(n)

    def add(self, nodes: Int | slice, part: tuple[Float, Float, Float, Float]) -> None:
        self.h[nodes] += part[0]
        self.h2[nodes] += part[1]
        self.d[nodes] += part[2]
        self.d2[nodes] += part[3]


def _bfs_levels(indptr: Int, indices: npt.NDArray[np.int32], n: int, starts: Int) -> Int:
    """Hop distance of every node from the nearest of ``starts`` (-1: unreachable).

    Level-synchronous with a sparse frontier: O(edges + levels) NumPy work.
    """
    dist = np.full(n, -1, np.int64)
    dist[starts] = 0
    frontier = np.unique(starts)
    level = 0
    while len(frontier):
        level += 1
        lo, hi = indptr[frontier], indptr[frontier + 1]
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            break
        offsets = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
        reached = indices[offsets].astype(np.int64)
        nxt = np.unique(reached[dist[reached] < 0])
        dist[nxt] = level
        frontier = nxt
    return dist


def _component_depths(layer: Layer, labels: Int, ncomp: int) -> Int:
    """A double-sweep estimate of each component's diameter (a lower bound)."""
    n = layer.n
    indptr, indices = layer.adjacency
    degree = layer.degree
    # the node of largest degree in each component starts the first sweep
    order = np.lexsort((degree, labels))
    last = np.searchsorted(labels[order], np.arange(ncomp), side="right") - 1
    starts = order[last]
    dist = _bfs_levels(indptr, indices, n, starts)
    order = np.lexsort((dist, labels))
    far = order[np.searchsorted(labels[order], np.arange(ncomp), side="right") - 1]
    dist = _bfs_levels(indptr, indices, n, far)
    depth = np.zeros(ncomp, np.int64)
    np.maximum.at(depth, labels, dist)
    return depth


def _paths(layer: Layer, exact_limit: int, pivots: int, seed: int) -> tuple[Float, Float, _Paths]:
    n = layer.n
    zeros = np.zeros(n)
    if n == 0 or layer.n_edges == 0:
        return zeros, zeros.copy(), _Paths(False, n, zeros.copy(), zeros.copy())
    ncomp, labels_ = csgraph.connected_components(_pattern(layer), directed=False)
    labels = labels_.astype(np.int64)
    sizes = np.bincount(labels, minlength=ncomp)
    edges = np.bincount(labels[layer.edge_u], minlength=ncomp)
    work = int((sizes * edges).sum())
    sampled = work > exact_limit and pivots < n
    if sampled:
        rng = np.random.default_rng(seed)
        sources = np.sort(rng.choice(n, size=pivots, replace=False)).astype(np.int64)
    else:
        sources = np.flatnonzero(sizes[labels] > 1).astype(np.int64)
    depth = _component_depths(layer, labels, ncomp)
    deep_node = depth[labels] > _DEEP
    sums = _Sums(n)
    shallow_sources = sources[~deep_node[sources]]
    if len(shallow_sources):
        _batched_paths(layer, ~deep_node, shallow_sources, labels, sums)
    if deep_node.any():
        deep_sources = sources[deep_node[sources]]
        if sampled:
            _single_paths(layer, deep_sources, sums)
        else:
            _networkit_paths(layer, deep_node, sums)
    k = len(sources) if sampled else n
    if not sampled:
        harmonic = sums.h
        pairs = (n - 1) * (n - 2)
        betweenness = sums.d / pairs if n > 2 else zeros.copy()
        return harmonic, betweenness, _Paths(False, n, zeros.copy(), zeros.copy())
    # Pivot estimates: per-source contributions x_s(v) = n * value_s(v); mean over k.
    fpc = (n - k) / (n - 1)
    z = float(ndtri(1.0 - (1.0 - CONFIDENCE) / (2.0 * n)))

    def estimate(total: Float, squares: Float, unit: float) -> tuple[Float, Float, float]:
        mean = total * (n * unit / k)
        second = squares * ((n * unit) ** 2 / k)
        var = np.maximum(second - mean * mean, 0.0) * (k / (k - 1))
        se = np.sqrt(var / k * fpc)
        return mean, se, z * float(se.max())

    harmonic, h_se, h_err = estimate(sums.h, sums.h2, 1.0)
    b_unit = 1.0 / ((n - 1) * (n - 2)) if n > 2 else 0.0
    betweenness, b_se, b_err = estimate(sums.d, sums.d2, b_unit)
    return harmonic, betweenness, _Paths(True, k, h_se, b_se, h_err, b_err)


def _batch_size(n: int) -> int:
    """Sources per batch: an ``n x batch`` float block of about 2 MB (cache-sized).

    Measured: at 4,000 nodes, batches of 128 (4 MB blocks) ran twice as slow as 64.
    """
    size = 262_144 // max(n, 1)
    floor = min(16, max(1, _BATCH_BYTES // (64 * max(n, 1))))  # huge graphs: fewer
    return int(min(256, max(floor, 1 << max(size.bit_length() - 1, 0))))


def _batched_paths(layer: Layer, keep: Bool, sources: Int, labels: Int, sums: _Sums) -> None:
    """Brandes from many sources at once, on the subgraph of ``keep`` nodes."""
    nodes = np.flatnonzero(keep)
    full = len(nodes) == layer.n
    a = _pattern(layer)
    if not full:
        a = a[nodes][:, nodes].tocsr()
        position = np.full(layer.n, -1, np.int64)
        position[nodes] = np.arange(len(nodes))
        local = position[sources]
    else:
        local = sources
    # sources of one component together: a batch's BFS depth is its deepest source's
    local = local[np.argsort(labels[sources], kind="stable")]
    m = a.shape[0]
    size = _batch_size(m)
    batches = [local[i : i + size] for i in range(0, len(local), size)]
    total = _Sums(m)
    # a batch holds about 64 bytes per node and source (blocks and level masks)
    workers = min(_threads(), len(batches), max(1, _BATCH_BYTES // (64 * m * size)))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts: Iterator[tuple[Float, Float, Float, Float]] = pool.map(
                lambda b: _brandes_block(a, b), batches
            )
            for part in parts:
                total.add(slice(None), part)
    else:
        for b in batches:
            total.add(slice(None), _brandes_block(a, b))
    target = slice(None) if full else nodes
    sums.add(target, (total.h, total.h2, total.d, total.d2))


def _brandes_block(a: Any, sources: Int) -> tuple[Float, Float, Float, Float]:
    """Sums over ``sources`` of ``1/d``, ``1/d^2``, ``delta`` and ``delta^2`` per node.

    Forward: ``sigma`` (shortest-path counts) level by level, one sparse
    product per level for all sources. Backward (Brandes' accumulation):
    ``delta_s(v) = sum_{w: v pred of w} sigma_v / sigma_w (1 + delta_s(w))``,
    written as ``delta = sigma * (A @ T)`` with ``T = (1 + delta) / sigma``
    on the next level, masked to the level.
    """
    m = a.shape[0]
    b = len(sources)
    cols = np.arange(b)
    ones = np.ones(b)
    unvisited = np.ones((m, b), np.bool_)
    unvisited[sources, cols] = False
    sigma = np.zeros((m, b))
    sigma[sources, cols] = 1.0
    front = sigma.copy()
    h = np.zeros(m)
    h2 = np.zeros(m)
    masks: list[Bool] = []
    while True:
        nxt = a @ front
        new = nxt > 0
        new &= unvisited
        count = np.count_nonzero(new, axis=1)
        if not count.any():
            break
        level = len(masks) + 1
        unvisited ^= new
        nxt *= new
        front = nxt
        sigma += front
        h += count / level
        h2 += count / (level * level)
        masks.append(new)
    d = np.zeros(m)
    d2 = np.zeros(m)
    if len(masks) >= 2:
        inverse = np.divide(1.0, sigma, out=np.zeros_like(sigma), where=sigma > 0)
        t = inverse * masks[-1]
        for level in range(len(masks) - 1, 0, -1):
            mask = masks[level - 1]
            back = a @ t
            back *= mask
            delta = back * sigma
            d += delta @ ones
            d2 += np.einsum("ij,ij->i", delta, delta)
            back += inverse
            back *= mask
            t = back
    return h, h2, d, d2


def _single_paths(layer: Layer, sources: Int, sums: _Sums) -> None:
    """Brandes one source at a time: SciPy BFS distances, NumPy per level.

    For deep components, where the batched form would pay a full sparse
    product per level.
    """
    n = layer.n
    a = _pattern(layer)
    indptr, indices = layer.adjacency
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    cols = indices.astype(np.int64)

    def one(s: int) -> tuple[Float, Float]:
        dist = csgraph.shortest_path(a, directed=True, unweighted=True, indices=s)
        seen = np.isfinite(dist)
        level = np.where(seen, dist, -1).astype(np.int64)
        lx = level[rows]
        dag = (lx >= 0) & (level[cols] == lx + 1)
        x, y, ly = rows[dag], cols[dag], lx[dag] + 1
        order = np.argsort(ly, kind="stable")
        x, y, ly = x[order], y[order], ly[order]
        depth = int(ly[-1]) if len(ly) else 0
        bounds = np.searchsorted(ly, np.arange(1, depth + 2))
        sigma = np.zeros(n)
        sigma[s] = 1.0
        for i in range(depth):
            lo, hi = bounds[i], bounds[i + 1]
            np.add.at(sigma, y[lo:hi], sigma[x[lo:hi]])
        delta = np.zeros(n)
        for i in range(depth - 1, 0, -1):
            lo, hi = bounds[i], bounds[i + 1]
            xs, ys = x[lo:hi], y[lo:hi]
            np.add.at(delta, xs, sigma[xs] / sigma[ys] * (1.0 + delta[ys]))
        inverse = np.zeros(n)
        np.divide(1.0, dist, out=inverse, where=seen & (dist > 0))
        return inverse, delta

    for s in sources.tolist():
        inverse, delta = one(int(s))
        sums.add(slice(None), (inverse, inverse * inverse, delta, delta * delta))


def _networkit_paths(layer: Layer, keep: Bool, sums: _Sums) -> None:
    """Exact sums on the ``keep`` subgraph by networkit (deep components, exact runs)."""
    import networkit as nk

    nodes = np.flatnonzero(keep)
    position = np.full(layer.n, -1, np.int64)
    position[nodes] = np.arange(len(nodes))
    inside = keep[layer.edge_u]
    u = position[layer.edge_u[inside]].astype(np.uint64)
    v = position[layer.edge_v[inside]].astype(np.uint64)
    graph = nk.GraphFromCoo((np.ones(len(u)), (u, v)), n=len(nodes), directed=False)
    # networkit's raw undirected betweenness counts ordered pairs: sum_s delta_s(v)
    between = np.asarray(nk.centrality.Betweenness(graph).run().scores())
    harmonic = np.asarray(nk.centrality.HarmonicCloseness(graph, normalized=False).run().scores())
    zero = np.zeros(len(nodes))
    sums.add(nodes, (harmonic, zero, between, zero))


# -- eigenvector ----------------------------------------------------------------------
def _eigenvector(layer: Layer) -> Float:
    n = layer.n
    result = np.zeros(n)
    u, v, w = _positive_edges(layer)
    if len(u) == 0:
        return result
    mat = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(n, n),
    )
    ncomp, labels_ = csgraph.connected_components(mat, directed=False)
    labels = labels_.astype(np.int64)
    strength = np.asarray(mat.sum(axis=1)).ravel()
    square = np.asarray(mat.multiply(mat).sum(axis=1)).ravel()
    upper = np.zeros(ncomp)
    np.maximum.at(upper, labels, strength)  # Perron root <= largest row sum
    lower = np.zeros(ncomp)
    np.maximum.at(lower, labels, np.sqrt(square))  # >= sqrt((A^2)_ii)
    best_lower = float(lower.max())
    candidates = np.flatnonzero(upper >= best_lower * (1 - 1e-9))
    found: list[tuple[float, Int, Float]] = []
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(ncomp + 1))
    for c in candidates[np.argsort(-upper[candidates], kind="stable")].tolist():
        if found and upper[c] < max(f[0] for f in found) * (1 - 1e-9):
            break
        nodes = order[starts[c] : starts[c + 1]]
        if len(nodes) < 2:
            continue
        value, vector = _perron(mat[nodes][:, nodes])
        found.append((value, nodes, vector))
    if not found:
        return result
    top = max(f[0] for f in found)
    winners = [f for f in found if f[0] >= top * (1 - 1e-9)]
    scale = 1.0 / np.sqrt(len(winners))
    for _, nodes, vector in winners:
        result[nodes] = vector * scale
    return result


def _perron(sub: Any) -> tuple[float, Float]:
    """Largest eigenvalue and its unit, non-negative eigenvector (connected, symmetric)."""
    size = sub.shape[0]
    if size <= 64:
        values, vectors = np.linalg.eigh(sub.toarray())
        value, vector = float(values[-1]), vectors[:, -1]
    else:
        matrix = sub.astype(np.float64)
        try:
            values, vectors = eigsh(matrix, k=1, which="LA", v0=np.ones(size), tol=0)
        except ArpackNoConvergence:  # a tiny spectral gap: a wider Krylov space
            try:
                values, vectors = eigsh(
                    matrix, k=1, which="LA", v0=np.ones(size), ncv=min(size - 1, 200), tol=1e-12
                )
            except ArpackNoConvergence as exc:
                raise AnalysisError(
                    f"the eigenvector of a component of {size} nodes did not converge "
                    "(its two largest eigenvalues are too close)"
                ) from exc
        value, vector = float(values[0]), vectors[:, 0]
    vector = vector * (1.0 if vector.sum() >= 0 else -1.0)
    vector = np.abs(vector)
    result: Float = vector / np.linalg.norm(vector)
    return value, result


# -- PageRank -------------------------------------------------------------------------
def _pagerank(layer: Layer, alpha: float = 0.85, tol: float = 1e-11) -> Float:
    """PageRank by power iteration with SciPy (``networkx._pagerank_scipy``'s recipe)."""
    n = layer.n
    if n == 0:
        return np.zeros(0)
    out = np.bincount(layer.source, weights=layer.weight, minlength=n)
    inverse = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    # transposed, row-stochastic on nodes with outgoing weight: x_new = alpha * M @ x + ...
    m = sp.csr_array(
        (layer.weight * inverse[layer.source], (layer.target, layer.source)), shape=(n, n)
    )
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(10_000):  # converges as alpha^k: about 150 steps to 1e-11
        lost = float(x[dangling].sum())
        nxt = alpha * (m @ x + lost / n) + (1.0 - alpha) / n
        change = float(np.abs(nxt - x).sum())
        x = nxt
        if change < tol:
            break
    result: Float = x / x.sum()
    return result


# -- core number ----------------------------------------------------------------------
def _core_number(layer: Layer) -> Int:
    n = layer.n
    if layer.n_edges == 0:
        return np.zeros(n, np.int64)
    import networkit as nk

    scores = nk.centrality.CoreDecomposition(layer.networkit()).run().scores()
    result: Int = np.rint(np.asarray(scores, np.float64)).astype(np.int64)
    return result


# -- Burt's structural holes ----------------------------------------------------------
def _triangles(n: int, u: Int, v: Int, chunk: int = 2_000_000) -> Iterator[tuple[Int, Int, Int]]:
    """Triangles as edge-index triples ``(ab, ac, bc)`` of the edges ``(u[i], v[i])``.

    Degree-ordered forward algorithm: orient every edge from the lower-ranked
    end (by degree, then id), then for each oriented edge ``a -> b`` and each
    later out-neighbour ``c`` of ``a``, look ``b -> c`` up. Node ``a`` is the
    lowest-ranked of the triangle, ``b`` the middle one.
    """
    if len(u) == 0:
        return
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    rank = np.empty(n, np.int64)
    rank[np.lexsort((np.arange(n), degree))] = np.arange(n)
    ru, rv = rank[u], rank[v]
    lo, hi = np.minimum(ru, rv), np.maximum(ru, rv)
    key = lo * n + hi
    order = np.argsort(key)
    key, lo, hi = key[order], lo[order], hi[order]
    end = np.searchsorted(lo, lo, side="right")  # end of each edge's row
    later = end - np.arange(len(lo)) - 1  # out-neighbours after this one
    cumulative = np.cumsum(later)
    start = 0
    edges = len(lo)
    while start < edges:
        base = cumulative[start - 1] if start else 0
        stop = int(np.searchsorted(cumulative, base + chunk, side="right"))
        stop = max(stop, start + 1)
        first = np.arange(start, stop)
        counts = later[first]
        total = int(counts.sum())
        start = stop
        if total == 0:
            continue
        ab = np.repeat(first, counts)
        ac = ab + 1 + np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        wanted = hi[ab] * n + hi[ac]
        bc = np.minimum(np.searchsorted(key, wanted), edges - 1)
        hit = key[bc] == wanted
        yield order[ab[hit]], order[ac[hit]], order[bc[hit]]


def _structural_holes(layer: Layer) -> tuple[Float, Float, Float]:
    """Burt's constraint, effective size and efficiency on ties of positive weight."""
    n = layer.n
    u, v, w = _positive_edges(layer)
    size = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    strength = np.bincount(u, weights=w, minlength=n) + np.bincount(v, weights=w, minlength=n)
    top = np.zeros(n)
    np.maximum.at(top, u, w)
    np.maximum.at(top, v, w)
    shared = np.zeros(len(u))  # T_uv = sum_{w common} w_uw w_wv / s_w, symmetric
    redundancy = np.zeros(n)  # sum_w p_uw sum_{v in N(u)} m_vw, per node
    for ab, ac, bc in _triangles(n, u, v):
        p, q, r = u[ab], v[ab], u[ac]
        a = np.where((p == r) | (p == v[ac]), p, q)  # the corner the two edges share
        b = np.where(a == p, q, p)
        c = np.where(r == a, v[ac], r)
        wab, wac, wbc = w[ab], w[ac], w[bc]
        e = len(u)
        shared += np.bincount(ab, weights=wac * wbc / strength[c], minlength=e)
        shared += np.bincount(ac, weights=wab * wbc / strength[b], minlength=e)
        shared += np.bincount(bc, weights=wab * wac / strength[a], minlength=e)
        redundancy += np.bincount(
            a, weights=wbc * (wab / top[c] + wac / top[b]) / strength[a], minlength=n
        )
        redundancy += np.bincount(
            b, weights=wac * (wab / top[c] + wbc / top[a]) / strength[b], minlength=n
        )
        redundancy += np.bincount(
            c, weights=wab * (wac / top[b] + wbc / top[a]) / strength[c], minlength=n
        )
    local = (w + shared) ** 2  # (s_u (p_uv + sum_w p_uw p_wv))^2, same for both ends
    isolated = size == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        constraint = (
            np.bincount(u, weights=local, minlength=n) + np.bincount(v, weights=local, minlength=n)
        ) / strength**2
        effective = size - redundancy
        efficiency = effective / size
    constraint[isolated] = np.nan
    effective = effective.astype(np.float64)
    effective[isolated] = np.nan
    efficiency[isolated] = np.nan
    return constraint, effective, efficiency


# -- two-step reach -------------------------------------------------------------------
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)

#: Cost of one OR-ed 64-bit word, in steps of a sparse product (measured here:
#: a step of SciPy's sparse product ~15 ns, a word gathered, OR-ed and
#: scattered by NumPy ~5 ns).
_WORD_COST = 0.35
#: Extra cost per light step when bit sets are in play: each listed target of
#: a row with a hub neighbour is looked up in the row's bit set (~20 ns).
_CHECK_COST = 1.3


def _popcount_rows(words: npt.NDArray[np.uint64]) -> Float:
    counter = getattr(np, "bitwise_count", None)
    if counter is not None:
        return np.asarray(counter(words).sum(axis=1), np.float64)
    return np.asarray(_POPCOUNT[words.view(np.uint8)].sum(axis=1), np.float64)


def _reach(layer: Layer) -> Float:
    """Number of other nodes within two steps of each node (undirected).

    ``N(u) | N(N(u))`` minus ``u``, counted per row block. Through a light
    middle node ``w`` (degree <= tau) the pattern of ``A[rows] @ A_light``
    lists the targets (work ``deg(w)`` per visit); through a heavy one its
    neighbourhood bit set is OR-ed (``n / 64`` words per visit). ``tau``
    minimises the summed cost for the graph's degrees.
    """
    n = layer.n
    indptr, indices = layer.adjacency
    degree = np.diff(indptr)
    if layer.n_edges == 0:
        return np.zeros(n)
    words = (n + 63) // 64
    tau = _heavy_threshold(degree, words)
    heavy = degree > tau
    a = sp.csr_array((np.ones(len(indices), np.float32), indices, indptr), shape=(n, n))
    light = ~heavy[np.repeat(np.arange(n), degree)]
    # A with heavy rows emptied, plus the identity: A[rows] @ it = two steps + one step
    light_rows = sp.csr_array(
        (
            a.data[light],
            indices[light],
            np.concatenate([[0], np.cumsum(np.where(heavy, 0, degree))]),
        ),
        shape=(n, n),
    ) + sp.eye_array(n, dtype=np.float32, format="csr")
    heavy_ids = np.flatnonzero(heavy)
    hub_index = np.full(n, -1, np.int64)
    hub_index[heavy_ids] = np.arange(len(heavy_ids))
    hub_bits = np.zeros((len(heavy_ids), words), np.uint64)
    if len(heavy_ids):
        dense = np.zeros((len(heavy_ids), words * 64), np.bool_)
        owner = np.repeat(np.arange(len(heavy_ids)), degree[heavy_ids])
        members = np.concatenate([indices[indptr[h] : indptr[h + 1]] for h in heavy_ids])
        dense[owner, members] = True
        hub_bits = np.packbits(dense, axis=1, bitorder="little").view(np.uint64)
        del dense
    light_work = a @ np.where(heavy, 0, degree).astype(np.float64) + degree
    hub_visits = a @ heavy.astype(np.float64)
    bounds = _blocks(light_work + hub_visits * words * _WORD_COST, 2_000_000.0)

    def block_counts(lo: int, hi: int) -> Float:
        block = a[lo:hi]
        pattern = (block @ light_rows).tocsr()
        count: Float = np.diff(pattern.indptr).astype(np.float64)
        mids = block.indices
        is_hub = heavy[mids]
        if not is_hub.any():
            return count
        rows = np.repeat(np.arange(hi - lo), np.diff(block.indptr))[is_hub]
        hubs = hub_index[mids[is_hub]]
        with_hub, first, per_row = np.unique(rows, return_index=True, return_counts=True)
        slot = np.full(hi - lo, -1, np.int64)
        slot[with_hub] = np.arange(len(with_hub))
        ors = hub_bits[hubs[first]]
        # the j-th hub of every row at once, j = 1, 2, ...
        nth = np.arange(len(rows)) - np.repeat(first, per_row)
        order = np.argsort(nth, kind="stable")
        cuts = np.searchsorted(nth[order], np.arange(1, int(per_row.max()) + 1))
        for j in range(1, len(cuts)):
            pick = order[cuts[j - 1] : cuts[j]]
            target = slot[rows[pick]]
            ors[target] |= hub_bits[hubs[pick]]
        count[with_hub] += _popcount_rows(ors)
        entry_row = np.repeat(np.arange(hi - lo), np.diff(pattern.indptr))
        s = slot[entry_row]
        hit = s >= 0
        cols = pattern.indices[hit].astype(np.int64)
        bit = (ors.view(np.uint8)[s[hit], cols >> 3] >> (cols & 7)) & 1
        count -= np.bincount(entry_row[hit], weights=bit, minlength=hi - lo)
        return count

    spans = list(itertools.pairwise(bounds))
    counts = np.zeros(n)
    workers = min(_threads(), len(spans))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            for (lo, hi), part in zip(
                spans, pool.map(lambda s: block_counts(*s), spans), strict=True
            ):
                counts[lo:hi] = part
    else:
        for lo, hi in spans:
            counts[lo:hi] = block_counts(lo, hi)
    counts -= degree > 0  # a node is a neighbour of its neighbours
    return counts


def _heavy_threshold(degree: Int, words: int) -> int:
    """Degree above which a middle node is OR-ed as a bit set (cost model, see _reach).

    The products alone cost ``sum deg^2``; with bit sets for the nodes above
    ``tau`` the light steps cost ``1 + _CHECK_COST`` each and every visit to a
    heavy node ``words * _WORD_COST``. Bit sets are used only when the model
    says they save a third or more (the model is rough; hubs of huge degree
    are what they are for).
    """
    d = np.sort(degree.astype(np.float64))
    light = np.cumsum(d * d)  # nodes 0..i light
    heavy = (d.sum() - np.cumsum(d)) * words * _WORD_COST  # the rest heavy
    mixed = (1.0 + _CHECK_COST) * light + heavy
    i = int(np.argmin(mixed))
    if mixed[i] * 1.5 >= light[-1]:
        return int(d[-1])  # products only
    return int(d[i])


def _blocks(cost: Float, budget: float) -> list[int]:
    """Row boundaries so that each block's summed ``cost`` is about ``budget``."""
    n = len(cost)
    cumulative = np.cumsum(cost)
    bounds = [0]
    while bounds[-1] < n:
        start = bounds[-1]
        base = cumulative[start - 1] if start else 0.0
        stop = int(np.searchsorted(cumulative, base + budget, side="right"))
        bounds.append(min(n, max(stop, start + 1)))
    return bounds
