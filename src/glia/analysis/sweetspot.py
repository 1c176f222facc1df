"""The sweet spot: where the formal and the informal organisation overlap.

Charles Ehin (*Hidden Assets: Harnessing the Power of Informal Networks*,
2004; *The Organizational Sweet Spot*, 2009) calls the overlap of the formal
organisation (contracts, reporting lines, memberships) and the informal one
(advice, trust, friendship, collaboration) the "shared-access domain", where
most productive work and innovation happen. Ehin gives no formula: the
measures below are **Glia's own**, on the undirected edge sets ``F`` (formal
layer) and ``I`` (informal layer), a pair counted once whatever the direction
or number of its ties:

``overlap``
    the Jaccard index ``|F ∩ I| / |F ∪ I|`` (NaN when both are empty).
per cluster
    the same on the edges whose two endpoints are both members of the cluster
    (clusters overlap, so an edge may count for several).
per participant
    ``informal_share``: the share of its informal ties (distinct informal
    neighbours) that also have a formal edge; NaN with no informal tie.
informal ties without formal support
    informal edges with no formal edge that are either a **bridge** of the
    informal graph (removing it disconnects its endpoints; Tarjan's test on a
    breadth-first spanning forest, see ``_bridges``)
    or **cross groups** (both endpoints have a group, and the groups differ;
    only when ``groups`` is given). Counted, and the ``top`` heaviest listed
    (informal weight, then participant order).
formal ties with no informal life
    formal edges with no informal edge; counted, the ``top`` heaviest listed.
over time (``by="year"``)
    for every year from the earliest to the latest tie date (``since`` or
    ``until``), the overall numbers for the ties alive at the end of that year
    (31 December), by the rule of :func:`glia.graph.build` with ``at``: a tie
    is alive when it has no ``since`` or ``since <= day``, and no ``until`` or
    ``until >= day``. Empty when no tie has a date. Bridges are not tracked
    over time. The years are computed in one pass over tie events (start and
    end year of each tie), not by rebuilding the graph each year.

Time on 2 cores (the generated ecosystems, the layers' matrices already
built): 100k participants / 1M ties 0.6 s; 1M / 10M ties 11 s, with 0.7 GB at
the peak on top of the multiplex (21 s and 1.9 GB before the packed sort of
the years, the chunked cluster counts, the sorted look-ups and the
breadth-first bridges).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..graph import Grouping, Layer, Multiplex
from ..store import Snapshot
from ._common import AnalysisError, entries, frame, jsonable, symmetric_components

__all__ = ["SweetSpot", "sweet_spot"]

Int = npt.NDArray[np.int32]
Int64 = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class SweetSpot:
    """Overlap of the formal and informal layers (Glia's measures; see the module)."""

    ids: list[str]
    grouping: str | None
    top: int
    # overall
    n_formal: int
    n_informal: int
    n_both: int
    n_union: int
    overlap: float
    # per cluster
    cluster_ids: list[str]
    cluster_formal: Int64
    cluster_informal: Int64
    cluster_both: Int64
    cluster_union: Int64
    cluster_overlap: Float
    # per participant
    informal_ties: Int64
    informal_with_formal: Int64
    informal_share: Float
    formal_ties: Int64
    formal_with_informal: Int64
    # informal ties without formal support
    n_informal_bridges: int
    n_unsupported: int
    unsupported_u: Int
    unsupported_v: Int
    unsupported_weight: Float
    unsupported_bridge: Bool
    unsupported_crossing: Bool
    # formal ties with no informal life
    n_formal_only: int
    formal_only_u: Int
    formal_only_v: Int
    formal_only_weight: Float
    # over time
    years: Int64
    year_formal: Int64
    year_informal: Int64
    year_both: Int64
    year_union: Int64
    year_overlap: Float

    @property
    def n_informal_only(self) -> int:
        return self.n_informal - self.n_both

    @property
    def unsupported_pairs(self) -> list[tuple[str, str]]:
        """The listed informal ties without formal support, as id pairs."""
        pairs = zip(self.unsupported_u.tolist(), self.unsupported_v.tolist(), strict=True)
        return [(self.ids[u], self.ids[v]) for u, v in pairs]

    @property
    def formal_only_pairs(self) -> list[tuple[str, str]]:
        """The listed formal ties with no informal life, as id pairs."""
        pairs = zip(self.formal_only_u.tolist(), self.formal_only_v.tolist(), strict=True)
        return [(self.ids[u], self.ids[v]) for u, v in pairs]

    def columns(self) -> dict[str, Any]:
        """Per-participant columns, named ``sweet_spot.<measure>``."""
        return {
            "sweet_spot.informal_ties": self.informal_ties,
            "sweet_spot.informal_with_formal": self.informal_with_formal,
            "sweet_spot.informal_share": self.informal_share,
            "sweet_spot.formal_ties": self.formal_ties,
            "sweet_spot.formal_with_informal": self.formal_with_informal,
        }

    def to_pandas(self) -> Any:
        """One row per participant: informal and formal ties and how they overlap."""
        return frame(
            {k.removeprefix("sweet_spot."): v for k, v in self.columns().items()}, index=self.ids
        )

    def clusters_to_pandas(self) -> Any:
        """One row per cluster: edges inside it on each layer, and their overlap."""
        return frame(
            {
                "formal": self.cluster_formal,
                "informal": self.cluster_informal,
                "both": self.cluster_both,
                "union": self.cluster_union,
                "overlap": self.cluster_overlap,
            },
            index=self.cluster_ids,
            index_name="cluster",
        )

    def years_to_pandas(self) -> Any:
        """One row per year: the overall numbers at its end."""
        return frame(
            {
                "formal": self.year_formal,
                "informal": self.year_informal,
                "both": self.year_both,
                "union": self.year_union,
                "overlap": self.year_overlap,
            },
            index=[str(y) for y in self.years.tolist()],
            index_name="year",
        )

    def to_json(self, *, participants: bool = False) -> dict[str, Any]:
        """Overall, cluster, tie-list and yearly numbers; with ``participants``, theirs too."""
        out: dict[str, Any] = {
            "grouping": self.grouping,
            "formal": self.n_formal,
            "informal": self.n_informal,
            "both": self.n_both,
            "union": self.n_union,
            "overlap": self.overlap,
            "clusters": [
                {"id": c, "formal": f, "informal": i, "both": b, "union": u, "overlap": o}
                for c, f, i, b, u, o in zip(
                    self.cluster_ids,
                    self.cluster_formal.tolist(),
                    self.cluster_informal.tolist(),
                    self.cluster_both.tolist(),
                    self.cluster_union.tolist(),
                    self.cluster_overlap.tolist(),
                    strict=True,
                )
            ],
            "informal_bridges": self.n_informal_bridges,
            "unsupported": {
                "count": self.n_unsupported,
                "top": [
                    {"pair": list(p), "weight": w, "bridge": b, "crosses_groups": c}
                    for p, w, b, c in zip(
                        self.unsupported_pairs,
                        self.unsupported_weight.tolist(),
                        self.unsupported_bridge.tolist(),
                        self.unsupported_crossing.tolist(),
                        strict=True,
                    )
                ],
            },
            "formal_only": {
                "count": self.n_formal_only,
                "top": [
                    {"pair": list(p), "weight": w}
                    for p, w in zip(
                        self.formal_only_pairs, self.formal_only_weight.tolist(), strict=True
                    )
                ],
            },
            "years": [
                {"year": y, "formal": f, "informal": i, "both": b, "union": u, "overlap": o}
                for y, f, i, b, u, o in zip(
                    self.years.tolist(),
                    self.year_formal.tolist(),
                    self.year_informal.tolist(),
                    self.year_both.tolist(),
                    self.year_union.tolist(),
                    self.year_overlap.tolist(),
                    strict=True,
                )
            ],
        }
        if participants:
            out["participants"] = {
                pid: {"informal_ties": n, "with_formal": k, "share": x}
                for pid, n, k, x in zip(
                    self.ids,
                    self.informal_ties.tolist(),
                    self.informal_with_formal.tolist(),
                    self.informal_share.tolist(),
                    strict=True,
                )
            }
        result: dict[str, Any] = jsonable(out)
        return result


def _keys(layer: Layer) -> Int64:
    """Sorted unique keys ``u * n + v`` (``u < v``) of the layer's edges."""
    return layer.edge_u.astype(np.int64) * layer.n + layer.edge_v.astype(np.int64)


def _within(haystack: Int64, needles: Int64) -> Bool:
    """Whether each of the sorted ``needles`` is in the sorted ``haystack``.

    Sorted needles make ``searchsorted`` a walk through the haystack: at 10M
    keys several times faster than ``numpy.isin``, which sorts both again.
    """
    if len(haystack) == 0:
        return np.zeros(len(needles), dtype=np.bool_)
    at = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    found: Bool = haystack[at] == needles
    return found


def _ratio(part: Any, whole: Any) -> Any:
    """``part / whole``, NaN where ``whole`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.maximum(whole, 1), np.nan)


def _bridges(layer: Layer) -> Bool:
    """Whether each edge of the layer is a bridge (on no cycle).

    Tarjan's test ("A note on finding the bridges of a graph", Information
    Processing Letters 2(6), 1974), which holds for any rooted spanning
    forest numbered in preorder: the tree edge into ``c`` is a bridge when no
    non-tree edge leaves the subtree of ``c``, i.e. when the lowest and
    highest preorder numbers that the subtree's nodes reach by non-tree edges
    stay within ``[pre(c), pre(c) + size(c))``. The forest is a breadth-first
    one, every step vectorised over a whole level (NumPy, SciPy), where
    networkit's biconnected components run one depth-first search from Python
    and list every component: at 1M participants / 6.4M informal edges 4 s
    against 8 s.
    """
    n, m = layer.n, layer.n_edges
    flags = np.zeros(m, dtype=np.bool_)
    if m == 0:
        return flags
    indptr_, indices = layer.adjacency
    indptr = indptr_.astype(np.int64)
    degree = np.diff(indptr)
    pattern = sp.csr_array((np.ones(len(indices), np.bool_), indices, indptr), shape=(n, n))
    count, labels = symmetric_components(pattern)
    del pattern
    root = np.full(count, n, dtype=np.int64)
    np.minimum.at(root, labels, np.arange(n))
    # breadth-first forest: each node's parent, level by level
    parent = np.full(n, -1, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    seen[root] = True
    levels: list[Any] = [root]  # node ids by level (int32 or int64)
    while True:
        front = levels[-1]
        lo, width = indptr[front], degree[front]
        total = int(width.sum())
        if total == 0:
            break
        to = indices[np.repeat(lo - np.cumsum(width) + width, width) + np.arange(total)]
        new = ~seen[to]
        if not new.any():
            break
        to, first = np.unique(to[new], return_index=True)  # the first to reach a node wins
        parent[to] = np.repeat(front, width)[new][first]
        seen[to] = True
        levels.append(to)
    # subtree sizes, bottom-up
    size = np.ones(n, dtype=np.int64)
    for level in reversed(levels[1:]):
        np.add.at(size, parent[level], size[level])
    # preorder numbers, top-down: a parent's children in node order
    pre = np.zeros(n, dtype=np.int64)
    pre[root] = np.concatenate([[0], np.cumsum(size[root])[:-1]])
    for level in levels[1:]:
        by = np.lexsort((level, parent[level]))
        kids, up = level[by], parent[level][by]
        ends = np.cumsum(size[kids])
        group = np.searchsorted(up, up)  # first child of the same parent
        earlier = ends - size[kids] - np.where(group > 0, ends[group - 1], 0)
        pre[kids] = pre[up] + 1 + earlier
    # the lowest and highest preorder numbers each node reaches by an edge other
    # than the one to its parent (edges to its children stay in its subtree),
    # then over each subtree
    owner = np.repeat(np.arange(n), degree)
    reached = pre[indices]
    to_parent = indices == parent[owner]
    has = degree > 0
    starts = indptr[:-1][has]
    low, high = pre.copy(), pre.copy()
    low[has] = np.minimum(pre[has], np.minimum.reduceat(np.where(to_parent, n, reached), starts))
    high[has] = np.maximum(pre[has], np.maximum.reduceat(np.where(to_parent, -1, reached), starts))
    del owner, reached, to_parent
    for level in reversed(levels[1:]):
        np.minimum.at(low, parent[level], low[level])
        np.maximum.at(high, parent[level], high[level])
    child = np.flatnonzero(parent >= 0)
    child = child[(low[child] >= pre[child]) & (high[child] < pre[child] + size[child])]
    a, b = np.minimum(child, parent[child]), np.maximum(child, parent[child])
    flags[np.searchsorted(_keys(layer), a * n + b)] = True  # the edges are sorted by key
    return flags


def _heaviest(weight: Float, top: int) -> Int64:
    """Indices of the ``top`` largest weights (ties: earlier index first)."""
    return np.argsort(-weight, kind="stable")[:top].astype(np.int64)


def _per_cluster(
    membership: Any, u: Int64, v: Int64, in_f: Bool, in_i: Bool, chunk: int = 2_000_000
) -> tuple[Int64, Int64, Int64, Int64]:
    """Per cluster, the edges with both ends members, by layer (formal, informal, both, union).

    Each edge's ``u`` is expanded into its clusters, and ``v`` is looked up in
    each (a binary search in ``v``'s row of the membership matrix), edges in
    chunks: at 1M participants and 10M edges, 0.2 GB at the peak where the
    edges x clusters product took 1.2 GB.
    """
    m = sp.csr_array(membership, dtype=np.float64)
    m.sum_duplicates()
    m.data[:] = 1.0
    n_clusters = m.shape[1]
    counts = np.zeros((4, n_clusters))
    if len(u) == 0 or n_clusters == 0:
        z = np.zeros(n_clusters, dtype=np.int64)
        return z, z.copy(), z.copy(), z.copy()
    flags = np.stack([in_f, in_i, in_f & in_i, in_f | in_i])
    sizes = np.diff(m.indptr)
    for lo in range(0, len(u), chunk):
        eu, ev = u[lo : lo + chunk], v[lo : lo + chunk]
        per_edge = sizes[eu]
        edge = np.repeat(np.arange(len(eu)), per_edge)
        within = np.arange(len(edge)) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
        cluster = m.indices[m.indptr[eu][edge] + within]
        both = entries(m, ev[edge], cluster) > 0
        edge, cluster = edge[both] + lo, cluster[both]
        for k in range(4):
            counts[k] += np.bincount(cluster, weights=flags[k][edge], minlength=n_clusters)
    f, i, b, n = (np.rint(c).astype(np.int64) for c in counts)
    return f, i, b, n


def _years_of(days: npt.NDArray[np.datetime64]) -> Int64:
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def _timeline(snapshot: Snapshot) -> tuple[Int64, Int64, Int64, Int64, Int64]:
    """Per year end: formal, informal, both and union edge counts (years first)."""
    empty = np.zeros(0, dtype=np.int64)
    since, until = snapshot.tie_since, snapshot.tie_until
    has_since, has_until = ~np.isnat(since), ~np.isnat(until)
    if not (has_since.any() or has_until.any()):
        return empty, empty, empty, empty, empty
    dated = np.concatenate([_years_of(since[has_since]), _years_of(until[has_until])])
    first, last = int(dated.min()), int(dated.max())
    n_years = last - first + 1
    # alive at 31 Dec of Y: year(since) <= Y, and until >= 31 Dec Y
    start = np.where(has_since, _years_of(since), first)
    year_end = (until.astype("datetime64[Y]") + 1).astype("datetime64[D]") - 1
    stop = np.where(has_until, _years_of(until) + (until == year_end), last + 1)  # exclusive
    start = np.clip(start, first, last + 1)
    stop = np.clip(stop, first, last + 1)
    n = snapshot.n_participants
    a = snapshot.tie_source.astype(np.int64)
    b = snapshot.tie_target.astype(np.int64)
    keep = (start < stop) & (a != b)
    formal = (snapshot.tie_layer == snapshot.layers.index("formal"))[keep]
    key = (np.minimum(a, b) * n + np.maximum(a, b))[keep]
    start, stop = start[keep] - first, stop[keep] - first
    del a, b, keep
    # events: +1 at the first year alive, -1 at the first year no longer alive,
    # sorted on (pair, year). The order of events of one pair in one year does
    # not matter (the span between them is empty), so each event's sign and layer
    # ride in the two low bits of its key and a plain sort (vectorised in NumPy,
    # ten times an argsort's speed, and no index arrays) replaces a stable argsort
    span = n_years + 2
    if n * n * span * 4 >= 2**62:  # pragma: no cover - beyond 300 million participants
        key = np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)  # pair numbers
    k = len(key)
    events = np.empty(2 * k, dtype=np.int64)
    key *= span
    np.left_shift(key + start, 2, out=events[:k])
    events[:k] |= 2  # +1
    np.left_shift(key + stop, 2, out=events[k:])
    del key, start, stop
    events[:k] |= formal
    events[k:] |= formal
    del formal
    events.sort()
    ev_formal = (events & 1).astype(np.bool_)
    sign = np.where(events & 2, 1, -1).astype(np.int8)
    events >>= 2
    # each pair's events sum to 0, so a running sum is that pair's live tie count
    live_f = np.cumsum(np.where(ev_formal, sign, 0), dtype=np.int32) > 0
    live_i = np.cumsum(np.where(ev_formal, 0, sign), dtype=np.int32) > 0
    del ev_formal, sign
    year = (events % span).astype(np.int32)
    events //= span  # the pair
    seg = np.flatnonzero(events[:-1] == events[1:])  # [year_k, year_k+1) of the same pair
    del events
    lo, hi = year[seg], year[seg + 1]
    del year

    def count(flag: Bool) -> Int64:
        weight = flag[seg].astype(np.float64)
        diff = np.bincount(lo, weights=weight, minlength=n_years + 1) - np.bincount(
            hi, weights=weight, minlength=n_years + 1
        )
        return np.rint(np.cumsum(diff)[:n_years]).astype(np.int64)

    years = np.arange(first, last + 1, dtype=np.int64)
    return (
        years,
        count(live_f),
        count(live_i),
        count(live_f & live_i),
        count(live_f | live_i),
    )


def sweet_spot(
    multiplex: Multiplex,
    *,
    groups: Grouping | None = None,
    by: Literal["year"] = "year",
    top: int = 20,
) -> SweetSpot:
    """Where the formal and informal layers overlap (Glia's measures; see the module)."""
    if by != "year":
        raise AnalysisError(f"unknown period {by!r}: sweet spot changes are counted by year")
    if top < 0:
        raise AnalysisError(f"top must be 0 or more, not {top}")
    formal, informal = multiplex.formal, multiplex.informal
    n = multiplex.n
    if formal.n_edges == 0 and informal.n_edges == 0:
        raise AnalysisError(
            "the ecosystem has no formal or informal ties: the sweet spot needs ties"
        )
    if groups is not None and len(groups.labels) != n:
        raise AnalysisError(
            f"grouping {groups.spec!r} labels {len(groups.labels)} participants, there are {n}"
        )
    fk, ik = _keys(formal), _keys(informal)
    f_in_i = _within(ik, fk)
    i_in_f = _within(fk, ik)
    n_both = int(i_in_f.sum())
    n_union = len(fk) + len(ik) - n_both

    # per cluster, on the union of the edges
    uk = np.sort(np.concatenate([fk, ik]))  # both sorted and unique: merge, drop repeats
    uk = uk[np.concatenate([[True], uk[1:] != uk[:-1]])] if len(uk) else uk
    in_f = _within(fk, uk)
    in_i = _within(ik, uk)
    clusters = multiplex.clusters
    cf, ci, cb, cu = _per_cluster(clusters.membership, uk // n, uk % n, in_f, in_i)

    # per participant
    def degree(layer: Layer, mask: Bool) -> Int64:
        return (
            np.bincount(layer.edge_u[mask], minlength=n)
            + np.bincount(layer.edge_v[mask], minlength=n)
        ).astype(np.int64)

    informal_ties = degree(informal, np.ones(len(ik), dtype=np.bool_))
    informal_with_formal = degree(informal, i_in_f)
    formal_ties = degree(formal, np.ones(len(fk), dtype=np.bool_))
    formal_with_informal = degree(formal, f_in_i)

    # informal ties without formal support
    bridge = _bridges(informal)
    if groups is not None:
        gu, gv = groups.labels[informal.edge_u], groups.labels[informal.edge_v]
        crossing = (gu >= 0) & (gv >= 0) & (gu != gv)
    else:
        crossing = np.zeros(len(ik), dtype=np.bool_)
    unsupported = np.flatnonzero(~i_in_f & (bridge | crossing))
    pick = unsupported[_heaviest(informal.edge_weight[unsupported], top)]
    formal_only = np.flatnonzero(~f_in_i)
    fpick = formal_only[_heaviest(formal.edge_weight[formal_only], top)]

    years, yf, yi, yb, yu = _timeline(multiplex.snapshot)
    return SweetSpot(
        ids=list(multiplex.ids),
        grouping=groups.spec if groups is not None else None,
        top=top,
        n_formal=len(fk),
        n_informal=len(ik),
        n_both=n_both,
        n_union=n_union,
        overlap=n_both / n_union if n_union else math.nan,
        cluster_ids=list(clusters.ids),
        cluster_formal=cf,
        cluster_informal=ci,
        cluster_both=cb,
        cluster_union=cu,
        cluster_overlap=_ratio(cb, cu),
        informal_ties=informal_ties,
        informal_with_formal=informal_with_formal,
        informal_share=_ratio(informal_with_formal, informal_ties),
        formal_ties=formal_ties,
        formal_with_informal=formal_with_informal,
        n_informal_bridges=int(bridge.sum()),
        n_unsupported=len(unsupported),
        unsupported_u=informal.edge_u[pick],
        unsupported_v=informal.edge_v[pick],
        unsupported_weight=informal.edge_weight[pick],
        unsupported_bridge=bridge[pick],
        unsupported_crossing=crossing[pick],
        n_formal_only=len(formal_only),
        formal_only_u=formal.edge_u[fpick],
        formal_only_v=formal.edge_v[fpick],
        formal_only_weight=formal.edge_weight[fpick],
        years=years,
        year_formal=yf,
        year_informal=yi,
        year_both=yb,
        year_union=yu,
        year_overlap=_ratio(yb, yu),
    )
