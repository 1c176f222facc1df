"""Shortest-path distances between a few candidates, capped at a horizon.

A swarm request compares every pair of its 30-80 candidates by how far apart
they sit in the network, and it must answer within about 200 ms. Beyond a
horizon ``H`` the exact distance no longer matters: everyone farther than ``H``
is equally a stranger and gets exactly ``H``.

SciPy has no capped multi-target shortest path. ``csgraph.dijkstra(graph,
indices=nodes, limit=H)`` is exact, but it explores the whole ball of radius
``H`` around every candidate: on the 100k-node benchmark graph (1.7M stored
entries) that is about 165 ms for 60 candidates at ``H = 4`` and 900 ms at
``H = 5`` (twice that with ``directed=False``, which transposes the graph on
every call), because a small-world ball grows steeply with its radius. This
module meets in the middle instead: it grows balls of radius ``H/2`` only
(tens to hundreds of nodes each), on the subgraph they cover, and joins them
pairwise, which takes 5 ms and 30 ms for the same two requests. See
:func:`pairwise` for the algorithm and why it is exact.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["DIRECT_LIMIT_NODES", "EXTENSION_COST", "PAIR_COST", "pairwise"]

Float = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]

#: Graphs with at most this many nodes always take the direct search, which
#: has fewer steps: on them both take a few milliseconds at most (measured for
#: 30-60 candidates on 1000 nodes: direct 0.1-3.5 ms, join 0.3-1.6 ms). Tests
#: set it to 0 to force the meet-in-the-middle.
DIRECT_LIMIT_NODES = 1000

#: The cost model that picks the algorithm, in units of one stored entry
#: scanned by Dijkstra (about 28 ns on the benchmark machine). The direct
#: search costs at most ``k * graph.nnz`` units (``k`` whole-graph searches);
#: the join costs ``EXTENSION_COST`` per one-edge extension of a ball (step 2)
#: and ``PAIR_COST`` per joined pair (step 3), both measured (45 and 90 ns).
EXTENSION_COST = 1.6
PAIR_COST = 3.2

#: The join falls back to the direct search when its ``k x |U|`` ball matrices
#: would hold more cells than this (13 bytes each), or its balls more entries
#: than the next (about 56 bytes each).
_MAX_BALL_CELLS = 4_000_000
_MAX_BALL_ENTRIES = 1_000_000

#: The direct search runs on blocks of candidates of at most this many cells
#: (8 bytes each) of ``csgraph.dijkstra`` output.
_MAX_DIRECT_CELLS = 8_000_000

#: At most this many extensions, and this many pairs, exist at once (with
#: what they lead to, about 200 bytes per extension while it lives).
_CHUNK = 500_000

#: Stored entries whose mirror image :func:`pairwise` checks.
_SYMMETRY_SAMPLES = 32


def pairwise(
    graph: sp.csr_array,
    nodes: npt.ArrayLike,
    horizon: float | None = None,
) -> Float:
    """Shortest-path costs between ``nodes``, capped at ``horizon``.

    Parameters
    ----------
    graph
        ``n x n`` CSR matrix of edge costs: symmetric (``graph[a, b] ==
        graph[b, a]``, both triangles stored, as ``Layer.edge_matrix`` is) and
        non-negative. Every stored entry is an edge, as in
        :func:`scipy.sparse.csgraph.dijkstra`: an explicit 0 is a free edge.
        Only the stored direction is followed, so a matrix holding one triangle
        would give wrong answers; a sample of stored entries is checked and
        such a matrix is refused with :class:`ValueError`.
    nodes
        ``k`` distinct node indices, ``0 <= nodes[a] < n``.
    horizon
        The cap ``H >= 0``; ``None`` (or ``math.inf``) for none.

    Returns
    -------
    numpy.ndarray
        ``float64`` ``(k, k)``, symmetric, zero on the diagonal:
        ``D[a, b] = min(d(nodes[a], nodes[b]), H)``. A pair farther apart than
        ``H``, or not connected at all, gets exactly ``H``; with no horizon an
        unconnected pair gets ``inf``. This equals ``np.minimum(csgraph.dijkstra(
        graph, directed=False, indices=nodes)[:, nodes], H)`` up to rounding
        (sums of the same costs, added in another order).

    Algorithm
    ---------
    *Direct*: ``csgraph.dijkstra(graph, indices=nodes, limit=H)`` (on blocks of
    candidates, to bound its ``k x n`` output). It is taken when there is no
    horizon, when ``n <= DIRECT_LIMIT_NODES``, and when the join gives up: when
    the balls of radius ``H/2`` are too big to hold (``_MAX_BALL_CELLS``,
    ``_MAX_BALL_ENTRIES``), or when the cost model (:data:`EXTENSION_COST`,
    :data:`PAIR_COST`) puts the join above ``k * graph.nnz``, the cost of ``k``
    whole-graph searches and so a bound on the direct one. The cost of the
    extensions is known once the balls are; the pairs are counted as they are
    formed, so a join that gives up has spent at most about that bound. All of
    this happens only when the balls of radius ``H/2`` cover much of the graph
    (on the benchmark graph, with costs of 1 and more: from ``H = 8`` or so).
    Otherwise *meet in the middle*:

    1. One multi-source Dijkstra limited to ``H/2`` finds ``U``, the nodes
       within ``H/2`` of some candidate; ``G`` is the subgraph induced on
       ``U``. ``B[i, v] = d(i, v)`` for ``v`` in ``ball_i`` (the nodes within
       ``H/2`` of candidate ``i``) is computed on ``G``: a shortest path to a
       node of ``ball_i`` stays inside ``ball_i``, so these are exact.
    2. ``E[i, b]`` for ``b`` in ``U`` is ``ball_i`` extended by one edge:
       ``min(B[i, b], min over edges (a, b) of G with a in ball_i of
       B[i, a] + w(a, b))``.
    3. ``D[i, j] = min(H, min over b of E[i, b] + B[j, b])`` for ``i < j``,
       mirrored; the diagonal is 0.

    Why it is exact: every value formed in step 3 is the length of a walk from
    ``i`` to ``j``, so it is at least ``d(i, j)``. Conversely take a shortest
    path from ``i`` to ``j`` of length ``L <= H`` and let ``a`` be its last
    vertex with ``d(i, a) <= L/2`` (so ``a`` is in ``ball_i``). If ``a = j``
    then ``E[i, j] <= L`` and ``B[j, j] = 0``. Otherwise the next vertex ``b``
    has ``d(i, b) > L/2``, hence ``d(b, j) = L - d(i, b) < L/2 <= H/2``:
    ``b`` is in ``ball_j`` (so in ``U``), ``E[i, b] <= d(i, a) + w(a, b) =
    d(i, b)`` and ``E[i, b] + B[j, b] <= L``. The argument holds for either
    orientation of the pair, which is why step 3 only forms ``i < j``. Pairs
    with ``L > H`` are capped at ``H`` either way. A node at exactly ``H/2``
    that rounding puts outside a ball changes a result by a rounding error
    only (the pair is then within rounding of ``H``).

    The join costs a Dijkstra over the balls of radius ``H/2``, one pass over
    their edges, and one step per (``E`` entry, ``B`` entry) pair sharing a
    node; the direct search costs a Dijkstra over the balls of radius ``H``.
    Beyond the graph itself the join holds at most about 110 MB of balls and
    100 MB of chunks, plus some 35 bytes per stored entry in the rows of ``U``
    while it builds ``G`` (140 MB in all at the largest horizon the benchmark
    graph keeps on the join); the direct search holds at most 64 MB of output.
    """
    if graph.ndim != 2 or graph.shape[0] != graph.shape[1]:
        raise ValueError(f"graph must be a square matrix, not of shape {graph.shape}")
    if graph.format != "csr":
        graph = sp.csr_array(graph)
    n = int(graph.shape[0])
    idx = _check_nodes(nodes, n)
    cap = _check_horizon(horizon)
    if graph.nnz and not float(graph.data.min()) >= 0.0:
        raise ValueError("graph has a negative or NaN edge cost")
    _check_symmetric(graph)
    k = idx.shape[0]
    if k <= 1:
        return np.zeros((k, k), dtype=np.float64)
    if math.isinf(cap) or n <= DIRECT_LIMIT_NODES:
        return _direct(graph, idx, cap)
    meet = _meet_in_the_middle(graph, idx, cap)
    return _direct(graph, idx, cap) if meet is None else meet


# -- checks ----------------------------------------------------------------------------


def _check_nodes(nodes: npt.ArrayLike, n: int) -> Index:
    arr = np.asarray(nodes)
    if arr.ndim != 1:
        raise ValueError(f"nodes must be one-dimensional, not of shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"nodes must be integers, not {arr.dtype}")
    idx = arr.astype(np.int64)
    low, high = int(idx.min()), int(idx.max())
    if low < 0 or high >= n:
        raise ValueError(f"nodes must lie in [0, {n}), not in [{low}, {high}]")
    if np.unique(idx).shape[0] != idx.shape[0]:
        raise ValueError("nodes must be distinct")
    return idx


def _check_horizon(horizon: float | None) -> float:
    if horizon is None:
        return math.inf
    cap = float(horizon)
    if not cap >= 0.0:
        raise ValueError(f"horizon must be >= 0 or None, not {horizon!r}")
    return cap


def _check_symmetric(graph: sp.csr_array) -> None:
    """Refuse a graph whose sampled stored entries lack an equal mirror image.

    Catches the usual mistake (one triangle stored) for the price of a few
    dozen row scans; a full check would cost as much as the search itself.
    """
    nnz = int(graph.nnz)
    if nnz == 0:
        return
    indptr, indices, data = graph.indptr, graph.indices, graph.data
    samples = min(nnz, _SYMMETRY_SAMPLES)
    positions = np.unique(np.linspace(0, nnz - 1, num=samples, dtype=np.int64))
    rows = np.searchsorted(indptr, positions, side="right") - 1
    cols = indices[positions]
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        forward = data[indptr[r] : indptr[r + 1]][indices[indptr[r] : indptr[r + 1]] == c]
        back = data[indptr[c] : indptr[c + 1]][indices[indptr[c] : indptr[c + 1]] == r]
        if back.shape[0] == 0 or float(back.min()) != float(forward.min()):
            raise ValueError(
                f"graph must be symmetric: entry ({r}, {c}) has no equal entry ({c}, {r}); "
                "store both triangles, e.g. graph.maximum(graph.T)"
            )


# -- the two algorithms ---------------------------------------------------------------


def _direct(graph: sp.csr_array, idx: Index, cap: float) -> Float:
    """``csgraph.dijkstra`` from every candidate, limited to the horizon."""
    k = idx.shape[0]
    block = max(1, _MAX_DIRECT_CELLS // max(int(graph.shape[0]), 1))
    out: Float = np.empty((k, k), dtype=np.float64)
    for lo in range(0, k, block):
        rows = csgraph.dijkstra(graph, directed=True, indices=idx[lo : lo + block], limit=cap)
        out[lo : lo + block] = rows[:, idx]
    np.minimum(out, cap, out=out)
    out = np.minimum(out, out.T)  # the same sums, added in two orders
    np.fill_diagonal(out, 0.0)
    return out


def _expand(starts: Index, counts: Index) -> Index:
    """Concatenation of ``arange(s, s + c)`` over ``zip(starts, counts)``."""
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    out: Index = np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)
    return out


def _chunks(sizes: Index) -> list[tuple[int, int]]:
    """Consecutive ``(lo, hi)`` ranges with ``sizes[lo:hi].sum() <= _CHUNK`` (or one item)."""
    ends = np.cumsum(sizes)
    ranges = []
    lo = 0
    while lo < sizes.shape[0]:
        base = int(ends[lo - 1]) if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, base + _CHUNK, side="right")))
        ranges.append((lo, hi))
        lo = hi
    return ranges


def _meet_in_the_middle(graph: sp.csr_array, idx: Index, cap: float) -> Float | None:
    """Steps 1-3 of :func:`pairwise`; ``None`` where the direct search is cheaper."""
    n = int(graph.shape[0])
    k = idx.shape[0]
    half = 0.5 * cap
    budget = float(k) * max(int(graph.nnz), 1)

    # 1. U, the union of the balls, and the subgraph G induced on it.
    near = csgraph.dijkstra(graph, directed=True, indices=idx, limit=half, min_only=True)
    union = np.flatnonzero(near <= half)
    m = union.shape[0]
    if k * m > _MAX_BALL_CELLS:
        return None
    in_union = np.zeros(n, dtype=np.bool_)
    in_union[union] = True
    local = np.zeros(n, dtype=np.int64)
    local[union] = np.arange(m, dtype=np.int64)
    row_start = graph.indptr[union].astype(np.int64)
    row_len = graph.indptr[union + 1].astype(np.int64) - row_start
    pos = _expand(row_start, row_len)
    inside = in_union[graph.indices[pos]]
    pos = pos[inside]
    g_len = np.bincount(np.repeat(np.arange(m), row_len)[inside], minlength=m).astype(np.int64)
    g_ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(g_len, out=g_ptr[1:])
    g_col = local[graph.indices[pos]]
    g_cost = np.asarray(graph.data[pos], dtype=np.float64)
    sub = sp.csr_array((g_cost, g_col, g_ptr), shape=(m, m))

    # The balls. Before anything proportional to their entries is built, the
    # cost of the extensions and a floor on the pairs (those between two ball
    # entries alone) are weighed against the direct search.
    ball = csgraph.dijkstra(sub, directed=True, indices=local[idx], limit=half)
    in_ball = ball <= half
    count = in_ball.sum(axis=0, dtype=np.int64)  # how many balls hold each node
    entries = int(count.sum())
    spent = EXTENSION_COST * float(count @ g_len)
    floor = PAIR_COST * float(count @ (count - 1)) / 2.0
    if entries > _MAX_BALL_ENTRIES or spent + floor > budget:
        return None

    # The balls as (candidate, node, distance) triples sorted by candidate,
    # and again sorted by (node, candidate).
    flat_ball = ball.ravel()
    flat = np.flatnonzero(in_ball.ravel())
    b_cand, b_node = np.divmod(flat, m)
    b_dist = flat_ball[flat]
    by_node = np.argsort(b_node, kind="stable")
    s_cand = b_cand[by_node]
    s_dist = b_dist[by_node]
    first = np.cumsum(count) - count
    # rank[i, b]: how many candidates j <= i have b in their ball. The entries of
    # node b with j > i are the last count[b] - rank[i, b] of its group.
    rank = np.cumsum(in_ball, axis=0, dtype=np.int32).ravel()
    del in_ball, flat, by_node
    degree = g_len[b_node]

    out = np.full(k * k, cap, dtype=np.float64)
    for lo, hi in _chunks(degree):
        # 2. E: these ball entries and their one-edge extensions that improve on B.
        at = _expand(g_ptr[b_node[lo:hi]], degree[lo:hi])
        x_cand = np.repeat(b_cand[lo:hi], degree[lo:hi])
        x_node = g_col[at]
        x_dist = np.repeat(b_dist[lo:hi], degree[lo:hi]) + g_cost[at]
        better = x_dist < flat_ball[x_cand * m + x_node]
        e_cand = np.concatenate([b_cand[lo:hi], x_cand[better]])
        e_node = np.concatenate([b_node[lo:hi], x_node[better]])
        e_dist = np.concatenate([b_dist[lo:hi], x_dist[better]])
        # 3. Join E[i, b] with B[j, b] for j > i.
        before = rank[e_cand * m + e_node].astype(np.int64)
        take = count[e_node] - before
        spent += PAIR_COST * float(take.sum())
        if spent > budget:
            return None
        keep = take > 0
        e_start = (first[e_node] + before)[keep]
        e_key = e_cand[keep] * k
        e_dist = e_dist[keep]
        take = take[keep]
        for a, z in _chunks(take):
            at = _expand(e_start[a:z], take[a:z])
            key = np.repeat(e_key[a:z], take[a:z]) + s_cand[at]
            np.minimum.at(out, key, np.repeat(e_dist[a:z], take[a:z]) + s_dist[at])
    result = out.reshape(k, k)
    result = np.minimum(result, result.T)
    np.fill_diagonal(result, 0.0)
    return result
