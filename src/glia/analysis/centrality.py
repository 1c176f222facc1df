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
  same sweep gives the distances for harmonic closeness. Each level's
  product is pushed from the rows on the level or pulled into the rows that
  can take part, whichever touches fewer edges (direction-optimising BFS,
  Beamer et al. 2012), so that only the two or three middle levels cost a
  whole product (see :func:`_brandes_block`). That is several times faster
  than networkit here and keeps every source's contribution, hence an
  error. Each level still costs a pass over the rows involved, so components
  whose double-sweep diameter estimate exceeds 16 use networkit's exact
  ``Betweenness``/``HarmonicCloseness`` (exact runs) or a
  one-source-at-a-time NumPy Brandes over SciPy BFS distances (sampled).
- *Burt's measures*: NetworkX's sparse path forms dense ``n x n`` products
  (and has the bug above); its loop path is pure Python. Both sums run
  over pairs of neighbours that are themselves tied, i.e. over triangles, so
  Glia lists the triangles once (the degree-ordered "forward" algorithm,
  Schank and Wagner 2005, vectorised in chunks, each closing edge looked up
  in a CSR matrix of edge numbers) and adds every term with ``bincount``.
  Hubs with 10^4 neighbours cost nothing extra: a node's out-degree in the
  degree order is at most ``sqrt(2m)``, and memory stays bounded by the
  chunk size.
- *Reach*: no library counts two-step neighbourhoods. Boolean sparse
  products ``A[rows] @ A`` in row blocks (SciPy, one block per thread) list
  them, at a cost of ``deg(w)^2`` per middle node ``w``: a hub of a million
  leaves would cost 10^12. When a cost model of the degrees says so, Glia
  ORs the neighbourhoods of such hubs as bit sets instead (``n / 64`` words
  per visit). On the generated ecosystems (100k and 1M participants) the
  products alone are cheaper and are used.
- *Eigenvector*: NetworkX's function refuses disconnected graphs (see
  above); SciPy's ``eigsh`` does the work, per dominant component, its
  products split over the cores (:class:`_Split`).
- *PageRank*: SciPy sparse products, as NetworkX's own ``_pagerank_scipy``,
  without building a NetworkX graph, split over the cores.

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

Cost on the generated ecosystems' combined layers (2 cores, nothing else
running, the default pivots): at 100k nodes / 856k edges (largest degree
1,178), harmonic closeness and betweenness from 256 pivots 2.4 s, reach
0.9 s, Burt's measures 0.3 s, eigenvector 0.3 s, PageRank 0.1 s, core
numbers 0.1 s: about 4 s in all (10 s before the pushed and pulled levels,
the boolean reach products, the split products and the threaded triangles).
At 1M nodes / 8.6M edges (largest degree 3,890): paths from 58 pivots
14.5 s, reach 22 s, Burt's measures 4.7 s, eigenvector 7 s, PageRank 3.2 s,
core numbers 1.5 s, 60 s in all (98 s before). The bounds at 100k:
betweenness 0.025 against a largest value of 0.023, ``harmonic_norm`` 0.039
against 0.40; at 1M (58 pivots) 0.094 against 0.029 and 0.100 against 0.38.
They shrink as ``1 / sqrt(pivots)``: at these sizes the default pivots rank
the brokers only roughly, and ``pivots`` should grow when the values
themselves matter.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from scipy.special import ndtri

from ..graph import Layer
from ._common import AnalysisError, entries, frame, jsonable, symmetric_components

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
    reach_count = _reach(layer)
    constraint, effective_size, efficiency = _structural_holes(layer)
    harmonic_norm = harmonic / (n - 1) if n > 1 else np.zeros(n)
    reach = reach_count / (n - 1) if n > 1 else np.zeros(n)
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


class _Split:
    """``matrix @ x`` on the pool's threads, the rows cut where the stored entries split evenly.

    SciPy's sparse product runs on one core and releases the GIL; the parts
    share the matrix's arrays, and each row's sum is the one a single product
    gives (same order), so the results are identical. Used by the iterative
    solvers (PageRank, the eigensolver): at 1M nodes / 15M arcs a product took
    0.085 s on one core, 0.05 s on two.
    """

    def __init__(self, matrix: Any, pool: ThreadPoolExecutor | None) -> None:
        self.shape = matrix.shape
        self.pool = pool
        parts = _threads() if pool is not None else 1
        indptr = matrix.indptr
        cuts = np.searchsorted(indptr, np.linspace(0, indptr[-1], parts + 1)[1:-1])
        bounds = [0, *sorted({int(c) for c in cuts}), matrix.shape[0]]
        self.parts = [
            (
                lo,
                hi,
                sp.csr_array(
                    (
                        matrix.data[indptr[lo] : indptr[hi]],
                        matrix.indices[indptr[lo] : indptr[hi]],
                        indptr[lo : hi + 1] - indptr[lo],
                    ),
                    shape=(hi - lo, matrix.shape[1]),
                    copy=False,
                ),
            )
            for lo, hi in itertools.pairwise(bounds)
            if hi > lo
        ]

    def __call__(self, x: Float) -> Float:
        if self.pool is None or len(self.parts) < 2:
            return np.concatenate([part @ x for _, _, part in self.parts])
        out = np.empty(self.shape[0], dtype=np.float64)

        def run(item: tuple[int, int, Any]) -> None:
            lo, hi, part = item
            out[lo:hi] = part @ x

        list(self.pool.map(run, self.parts))
        return out


def _pool() -> ThreadPoolExecutor | None:
    threads = _threads()
    return ThreadPoolExecutor(threads) if threads > 1 else None


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
    ncomp, labels_ = symmetric_components(_pattern(layer))
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
    """Sources per batch (see :func:`_brandes_block`).

    Small graphs: a block of about 2 MB (``n x batch`` floats, cache-sized;
    at 4,000 nodes batches of 128 ran twice as slow as 64). From about 16k
    nodes that gives too few sources per product, and a batch holds 16, or 8
    above 200k nodes. Measured here, per source, on generated ecosystems'
    layers: at 100k nodes / 856k edges 29 ms with 4 sources per batch, 24 with
    8, 21 with 16, 24 with 32 (a larger batch widens the union of its
    frontiers, so fewer levels can be pushed or pulled from a few rows); at
    1M nodes / 8.6M edges 400 ms with 4, 282 with 8, 327 with 16 (a block of
    16 sources, 128 MB, no longer stays in cache between passes). Graphs too
    large for ``_BATCH_BYTES`` take fewer.
    """
    size = 262_144 // max(n, 1)
    floor = min(16 if n <= 200_000 else 8, max(1, _BATCH_BYTES // (64 * max(n, 1))))
    return int(min(256, max(floor, 1 << max(size.bit_length() - 1, 0))))


def _on_inverse(s: Float, on: Bool) -> Float:
    """``1 / s`` where ``on``, 0 elsewhere, in ``s``'s place (``s >= 1`` where ``on``).

    Three plain passes: NumPy's ``where=`` loops are slower.
    """
    np.maximum(s, 1.0, out=s)  # path counts are >= 1 where on; no division by 0 elsewhere
    np.divide(on, s, out=s)
    return s


def _row_counts(mask: Bool) -> Int:
    """True entries per row of a boolean block (popcounts of 64-bit words when rows are).

    ``count_nonzero(axis=1)`` reads a byte at a time: 2 ms for 100k x 16 here,
    the popcounts 1.3 ms.
    """
    counter = getattr(np, "bitwise_count", None)
    if counter is not None and mask.shape[1] % 8 == 0 and mask.flags.c_contiguous:
        result: Int = counter(mask.view(np.uint64)).sum(axis=1, dtype=np.int64)
    else:
        result = np.count_nonzero(mask, axis=1).astype(np.int64)
    return result


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
    degree = np.diff(a.indptr).astype(np.int64)
    size = _batch_size(m)
    batches = [local[i : i + size] for i in range(0, len(local), size)]
    total = _Sums(m)
    # a batch holds about 64 bytes per node and source (blocks and level masks)
    workers = min(_threads(), len(batches), max(1, _BATCH_BYTES // (64 * m * size)))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts: Iterator[tuple[Float, Float, Float, Float]] = pool.map(
                lambda b: _brandes_block(a, degree, b), batches
            )
            for part in parts:
                total.add(slice(None), part)
    else:
        for b in batches:
            total.add(slice(None), _brandes_block(a, degree, b))
    target = slice(None) if full else nodes
    sums.add(target, (total.h, total.h2, total.d, total.d2))


#: A level touching more than this share of the rows is done on whole arrays
#: (a gather and a scatter of most rows would cost more than the rows saved).
_WHOLE = 0.6


def _brandes_block(a: Any, degree: Int, sources: Int) -> tuple[Float, Float, Float, Float]:
    """Sums over ``sources`` of ``1/d``, ``1/d^2``, ``delta`` and ``delta^2`` per node.

    ``a`` is the symmetric 0/1 adjacency (CSR), ``degree`` its row lengths.
    Forward: ``sigma`` (shortest-path counts, ``nodes x sources``) level by
    level, ``sigma_l = A @ sigma_{l-1}`` kept where a node is new to a source.
    Backward (Brandes' accumulation): ``delta_s(v) = sum_{w: v pred of w}
    sigma_v / sigma_w (1 + delta_s(w))``, i.e. ``delta = sigma * (A @ T)`` with
    ``T = (1 + delta) / sigma`` on the next level, masked to the level.

    Each product is done the cheaper way (as in direction-optimising BFS,
    Beamer, Asanović and Patterson 2012): *pushed* from the rows that hold
    the known level (``A[rows].T @ block``) or *pulled* into the rows that can
    receive (``A[rows] @ block``: forward, the rows with a source still to
    reach; backward, the rows on the level), costed by the summed degree of
    the rows. Only the middle levels, where most rows are both, cost a whole
    product; the per-level bookkeeping runs on those rows only. On the
    generated 100k and 1M ecosystems' combined layers this did the work of
    about 3 whole products per batch of 16 sources instead of 12 to 14 (the
    sweep of every level), and cut the time per source 2 to 2.5 times (the
    same sums, to rounding: relative differences of 1e-17).
    """
    m = a.shape[0]
    b = len(sources)
    whole = _WHOLE * m
    sigma = np.zeros((m, b))
    sigma[sources, np.arange(b)] = 1.0
    h = np.zeros(m)
    h2 = np.zeros(m)
    seen = np.zeros(m, np.int64)  # per row, the sources that have arrived
    seen[sources] = 1
    front_rows = np.unique(sources)
    front = sigma[front_rows]
    scratch = np.zeros((m, b))  # a block on a few rows, zero elsewhere (pulls)
    levels: list[tuple[Int, Bool]] = []  # per level >= 1: its rows and its entries there
    level = 0
    while len(front_rows):
        level += 1
        rows = np.flatnonzero(seen < b)
        everything = len(rows) > whole
        if degree[front_rows].sum() <= degree[rows].sum():  # push
            sub = a[front_rows]
            reached = sub.T @ front
            if everything:
                nxt = reached
            else:
                mark = np.zeros(m, np.bool_)
                mark[sub.indices] = True
                mark[seen == b] = False
                rows = np.flatnonzero(mark)
                nxt = reached[rows]
        else:  # pull
            scratch[front_rows] = front
            nxt = a @ scratch if everything else a[rows] @ scratch
            scratch[front_rows] = 0.0
        s = sigma if everything else sigma[rows]
        nxt *= s == 0  # paths to nodes the sources had not reached
        new = nxt > 0
        count = _row_counts(new)
        hit = count > 0
        if not hit.any():
            break
        s += nxt
        if everything:
            seen += count
            front_rows = np.flatnonzero(hit)
        else:
            sigma[rows] = s
            seen[rows] += count
            front_rows = rows[hit]
        c = count[hit]
        h[front_rows] += c / level
        h2[front_rows] += c / (level * level)
        front = nxt[hit]
        levels.append((front_rows, new[hit]))
    d = np.zeros(m)
    d2 = np.zeros(m)
    if len(levels) >= 2:
        rows, on = levels[-1]
        t = _on_inverse(sigma[rows], on)
        for level in range(len(levels) - 1, 0, -1):
            below, on = levels[level - 1]
            if degree[rows].sum() <= degree[below].sum():  # push
                back = (a[rows].T @ t)[below]
            else:  # pull
                scratch[rows] = t
                back = (a @ scratch)[below] if len(below) > whole else a[below] @ scratch
                scratch[rows] = 0.0
            back *= on
            s = sigma[below]
            delta = back * s
            d[below] += np.einsum("ij->i", delta)  # not delta @ 1: no BLAS threads here
            d2[below] += np.einsum("ij,ij->i", delta, delta)
            # the next T: (1 + delta) / sigma = back + 1 / sigma, on the level
            back += _on_inverse(s, on)
            t, rows = back, below
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
    if len(u) == layer.n_edges:  # every tie weighs something: the layer's own matrix
        mat = layer.edge_matrix
    else:
        mat = sp.csr_array(
            (np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
            shape=(n, n),
        )
    ncomp, labels_ = symmetric_components(mat)
    labels = labels_.astype(np.int64)
    strength = np.bincount(u, weights=w, minlength=n) + np.bincount(v, weights=w, minlength=n)
    square = np.bincount(u, weights=w * w, minlength=n) + np.bincount(v, weights=w * w, minlength=n)
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
        nodes = order[starts[c] : starts[c + 1]]  # sorted
        if len(nodes) < 2:
            continue
        # a component's rows hold only its own columns: renumbered, still sorted
        rows = mat[nodes]
        position = np.full(n, -1, np.int64)
        position[nodes] = np.arange(len(nodes))
        sub = sp.csr_array(
            (rows.data, position[rows.indices], rows.indptr), shape=(len(nodes), len(nodes))
        )
        value, vector = _perron(sub)
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
        pool = _pool() if sub.nnz > 1_000_000 else None
        try:
            product = _Split(sub.astype(np.float64, copy=False), pool)
            matrix = LinearOperator((size, size), matvec=product, dtype=np.float64)
            try:
                values, vectors = eigsh(matrix, k=1, which="LA", v0=np.ones(size), tol=0)
            except ArpackNoConvergence:  # a tiny spectral gap: a wider Krylov space
                try:
                    values, vectors = eigsh(
                        matrix,
                        k=1,
                        which="LA",
                        v0=np.ones(size),
                        ncv=min(size - 1, 200),
                        tol=1e-12,
                    )
                except ArpackNoConvergence as exc:
                    raise AnalysisError(
                        f"the eigenvector of a component of {size} nodes did not converge "
                        "(its two largest eigenvalues are too close)"
                    ) from exc
        finally:
            if pool is not None:
                pool.shutdown()
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
    pool = _pool()
    try:
        product = _Split(m, pool)
        for _ in range(10_000):  # converges as alpha^k: about 150 steps to 1e-11
            lost = float(x[dangling].sum())
            nxt = alpha * (product(x) + lost / n) + (1.0 - alpha) / n
            change = float(np.abs(nxt - x).sum())
            x = nxt
            if change < tol:
                break
    finally:
        if pool is not None:
            pool.shutdown()
    result: Float = x / x.sum()
    return result


# -- core number ----------------------------------------------------------------------
def _core_number(layer: Layer) -> Int:
    n = layer.n
    if layer.n_edges == 0:
        return np.zeros(n, np.int64)
    import networkit as nk

    graph = layer.networkit(keep=False)  # used once, so not kept (220 MB at 8.6M edges)
    scores = nk.centrality.CoreDecomposition(graph).run().scores()  # graph held until here
    result: Int = np.rint(np.asarray(scores, np.float64)).astype(np.int64)
    return result


# -- Burt's structural holes ----------------------------------------------------------
def _triangles(
    n: int, u: Int, v: Int, chunk: int = 2_000_000
) -> list[Callable[[], tuple[Int, Int, Int]]]:
    """Triangles as edge-index triples ``(ab, ac, bc)`` of the edges ``(u[i], v[i])``,
    in parts of about ``chunk`` candidate wedges: each part a function to call
    (from any thread).

    Degree-ordered forward algorithm: orient every edge from the lower-ranked
    end (by degree, then id), then for each oriented edge ``a -> b`` and each
    later out-neighbour ``c`` of ``a``, look ``b -> c`` up. Node ``a`` is the
    lowest-ranked of the triangle, ``b`` the middle one. The look-up reads the
    oriented edges as a CSR matrix whose entries are edge numbers (SciPy's
    element indexing: a binary search in row ``b``, at most ``sqrt(2m)``
    long); a binary search in the sorted list of all edge keys took 7 times
    as long at 1M nodes / 8.6M edges.
    """
    if len(u) == 0:
        return []
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    rank = np.empty(n, np.int64)
    rank[np.lexsort((np.arange(n), degree))] = np.arange(n)
    ru, rv = rank[u], rank[v]
    lo, hi = np.minimum(ru, rv), np.maximum(ru, rv)
    order = np.argsort(lo * n + hi)
    lo, hi = lo[order], hi[order]
    edges = len(lo)
    # row lo, column hi, entry: the edge's position in this order plus one
    oriented = sp.csr_array(
        (np.arange(1, edges + 1, dtype=np.int64), hi, np.searchsorted(lo, np.arange(n + 1))),
        shape=(n, n),
    )
    end = np.searchsorted(lo, lo, side="right")  # end of each edge's row
    later = end - np.arange(edges) - 1  # out-neighbours after this one
    cumulative = np.cumsum(later)

    def part(start: int, stop: int) -> tuple[Int, Int, Int]:
        first = np.arange(start, stop)
        counts = later[first]
        ab = np.repeat(first, counts)
        ac = ab + 1 + np.arange(len(ab)) - np.repeat(np.cumsum(counts) - counts, counts)
        found = entries(oriented, hi[ab], hi[ac])
        hit = found > 0
        return order[ab[hit]], order[ac[hit]], order[found[hit] - 1]

    parts: list[Callable[[], tuple[Int, Int, Int]]] = []
    start = 0
    while start < edges:
        base = cumulative[start - 1] if start else 0
        stop = int(np.searchsorted(cumulative, base + chunk, side="right"))
        stop = max(stop, start + 1)
        if cumulative[stop - 1] > base:  # some wedge to look at
            parts.append(functools.partial(part, start, stop))
        start = stop
    return parts


def _structural_holes(layer: Layer) -> tuple[Float, Float, Float]:
    """Burt's constraint, effective size and efficiency on ties of positive weight."""
    n = layer.n
    u, v, w = _positive_edges(layer)
    size = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    strength = np.bincount(u, weights=w, minlength=n) + np.bincount(v, weights=w, minlength=n)
    top = np.zeros(n)
    np.maximum.at(top, u, w)
    np.maximum.at(top, v, w)
    parts = _triangles(n, u, v)
    groups = 2  # fixed, whatever the cores, so that the sums are the same everywhere

    def worker(k: int) -> tuple[Float, Float]:
        """Sums over the parts ``k, k + groups, ...``, in order."""
        shared = np.zeros(len(u))  # T_uv = sum_{w common} w_uw w_wv / s_w, symmetric
        redundancy = np.zeros(n)  # sum_w p_uw sum_{v in N(u)} m_vw, per node
        for find in parts[k::groups]:
            ab, ac, bc = find()
            p, q, r = u[ab], v[ab], u[ac]
            a = np.where((p == r) | (p == v[ac]), p, q)  # the corner the two edges share
            b = np.where(a == p, q, p)
            c = np.where(r == a, v[ac], r)
            wab, wac, wbc = w[ab], w[ac], w[bc]
            # one bincount per array and part (each allocates its full length)
            shared += np.bincount(
                np.concatenate([ab, ac, bc]),
                weights=np.concatenate(
                    [wac * wbc / strength[c], wab * wbc / strength[b], wab * wac / strength[a]]
                ),
                minlength=len(u),
            )
            redundancy += np.bincount(
                np.concatenate([a, b, c]),
                weights=np.concatenate(
                    [
                        wbc * (wab / top[c] + wac / top[b]) / strength[a],
                        wac * (wab / top[c] + wbc / top[a]) / strength[b],
                        wab * (wac / top[b] + wbc / top[a]) / strength[c],
                    ]
                ),
                minlength=n,
            )
        return shared, redundancy

    # the groups split over the cores (NumPy releases the GIL in these loops)
    workers = min(_threads(), groups)
    if workers > 1 and len(parts) > 1:
        with ThreadPoolExecutor(workers) as pool:
            sums = list(pool.map(worker, range(groups)))
    else:
        sums = [worker(k) for k in range(groups)]
    shared = np.sum([x for x, _ in sums], axis=0)
    redundancy = np.sum([y for _, y in sums], axis=0)
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
#: Work per row block of the two-step products (steps of the sparse product).
_REACH_BLOCK = 2_000_000.0
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
    # boolean products: only the pattern counts, and SciPy's boolean product is
    # 1.8 times faster than float32's here (1M nodes / 8.6M edges)
    a = sp.csr_array((np.ones(len(indices), np.bool_), indices, indptr), shape=(n, n))
    light = ~heavy[np.repeat(np.arange(n), degree)]
    # A with heavy rows emptied, plus the identity: A[rows] @ it = two steps + one step
    light_rows = sp.csr_array(
        (
            a.data[light],
            indices[light],
            np.concatenate([[0], np.cumsum(np.where(heavy, 0, degree))]),
        ),
        shape=(n, n),
    ) + sp.eye_array(n, dtype=np.bool_, format="csr")
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
    light_work = _row_sums(indptr, np.where(heavy, 0, degree)[indices]) + degree
    hub_visits = _row_sums(indptr, heavy[indices])
    bounds = _blocks(light_work + hub_visits * words * _WORD_COST, _REACH_BLOCK)

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


def _row_sums(indptr: Int, values: npt.NDArray[Any]) -> Float:
    """Sum of ``values`` (one per stored entry) over each row of a CSR structure."""
    total = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    result: Float = total[indptr[1:]] - total[indptr[:-1]]
    return result


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
