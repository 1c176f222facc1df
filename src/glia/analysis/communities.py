"""Communities: Leiden partitions of a layer, and how they meet the declared clusters.

Leiden (Traag, Waltman and van Eck 2019, "From Louvain to Leiden: guaranteeing
well-connected communities", Scientific Reports 9:5233) maximises either
modularity (Newman and Girvan 2004) or the Constant Potts Model (CPM). Glia runs
it through ``graspologic-native`` (MIT licence) on the layer's undirected
edges, weighted by the merged tie weights.

Definitions Glia fixes:

- **Nodes** are participants ``0..n-1``; a participant with no edge of
  positive weight is a community of its own.
- **Zero-weight edges** are left out of the partition: they add nothing to
  modularity or CPM (``graspologic-native`` also refuses a network whose total
  weight is 0, by a Rust panic). A layer whose edges all weigh 0 is refused.
- **Labels** are renumbered by size: community 0 is the largest; equal sizes
  are ordered by their smallest participant number.
- **quality** is the value of the maximised function exactly as
  ``graspologic-native`` reports it (for modularity, the modularity at the
  chosen resolution). **modularity** is computed here, weighted, always at
  resolution 1, so runs with different methods or resolutions compare:
  ``Q = sum_c [ W_c / W - (S_c / 2W)^2 ]`` with ``W`` the total edge weight,
  ``W_c`` the weight inside community ``c`` and ``S_c`` the summed strength of
  its members (checked against ``networkx.community.modularity``).
- **Comparison with declared clusters**: normalised mutual information (NMI,
  arithmetic normalisation ``MI / ((H(U) + H(V)) / 2)``, as scikit-learn's
  default, Strehl and Ghosh 2002) and the adjusted Rand index (ARI, Hubert and
  Arabie 1985), both from one contingency table, over the participants whose
  declared label is not ``-1``; scikit-learn's limit cases are kept (NMI 1
  when both sides have one group, 0 when the mutual information is 0; ARI 1
  when the two agree on every pair). Clusters overlap, so each cluster is also
  matched on its own: the community holding most of its members (ties: the
  larger community) and the share of its members it holds.

Time (2 cores, the generated ecosystems' combined layers, seed 0, the two
iterations of :data:`LEIDEN_ITERATIONS`): 100k participants / 856k edges
2.8 s, modularity 0.574 (one run of ``leiden`` on a list of string edges
took 3.3 to 5.5 s for 0.561 to 0.564 over seeds 0-3); 1M / 8.6M edges 40 s,
modularity 0.617 (one iteration: 28 s, 0.592), with about 2.2 GB at the peak
on top of the layer. ``networkit.community.ParallelLeiden`` does 1M / 10M in
about 10 s (modularity only, no CPM), should that scale matter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..graph import Grouping, Layer
from ._common import AnalysisError, frame, jsonable

__all__ = ["METHODS", "Communities", "adjusted_rand", "communities", "normalized_mutual_info"]

Int = npt.NDArray[np.int32]
Int64 = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]

#: Functions Leiden can maximise.
METHODS = ("modularity", "cpm")

#: Full Leiden cycles, each starting from the last one's partition (see ``_leiden``).
LEIDEN_ITERATIONS = 2


@dataclass(frozen=True, eq=False)
class Communities:
    """A Leiden partition of one layer (see the module for every definition)."""

    layer: str
    method: str
    resolution: float
    seed: int
    #: ``labels[i]``: participant ``i``'s community; 0 is the largest.
    labels: Int
    #: ``sizes[c]``: members of community ``c`` (non-increasing).
    sizes: Int64
    quality: float
    modularity: float
    #: Participant ids, when given; otherwise rows are named by number.
    ids: list[str] | None = None
    #: Spec of the declared grouping compared with (``None``: none given).
    declared: str | None = None
    nmi: float = math.nan
    ari: float = math.nan
    #: Participants compared (declared label not ``-1``).
    n_compared: int = 0
    cluster_ids: list[str] | None = None
    #: Members of each declared cluster.
    cluster_size: Int64 | None = None
    #: The community holding most of each cluster's members (``-1``: empty cluster).
    cluster_community: Int | None = None
    #: The share of the cluster's members in that community (NaN: empty cluster).
    cluster_share: Float | None = None

    @property
    def n_communities(self) -> int:
        return len(self.sizes)

    def _names(self) -> list[str]:
        return self.ids if self.ids is not None else [str(i) for i in range(len(self.labels))]

    def columns(self) -> dict[str, Any]:
        """Per-participant columns: ``community``."""
        return {"community": self.labels}

    def to_pandas(self) -> Any:
        """One row per participant: its community and that community's size."""
        return frame(
            {"community": self.labels, "community_size": self.sizes[self.labels]},
            index=self._names(),
        )

    def clusters_to_pandas(self) -> Any:
        """One row per declared cluster: size, best-matching community, share held."""
        if self.cluster_ids is None:
            raise AnalysisError("no declared clusters were given: pass membership to communities()")
        return frame(
            {
                "size": self.cluster_size,
                "community": self.cluster_community,
                "share": self.cluster_share,
            },
            index=self.cluster_ids,
            index_name="cluster",
        )

    def to_json(self, *, participants: bool = False) -> dict[str, Any]:
        """The partition's summary; with ``participants``, each one's community too."""
        out: dict[str, Any] = {
            "layer": self.layer,
            "method": self.method,
            "resolution": self.resolution,
            "seed": self.seed,
            "quality": self.quality,
            "modularity": self.modularity,
            "n_communities": self.n_communities,
            "sizes": self.sizes,
            "declared": self.declared,
            "nmi": self.nmi,
            "ari": self.ari,
            "n_compared": self.n_compared,
        }
        if participants:
            out["communities"] = dict(zip(self._names(), self.labels.tolist(), strict=True))
        if self.cluster_ids is not None:
            assert self.cluster_size is not None and self.cluster_community is not None
            assert self.cluster_share is not None
            out["clusters"] = [
                {"id": c, "size": s, "community": k if k >= 0 else None, "share": f}
                for c, s, k, f in zip(
                    self.cluster_ids,
                    self.cluster_size.tolist(),
                    self.cluster_community.tolist(),
                    self.cluster_share.tolist(),
                    strict=True,
                )
            ]
        result: dict[str, Any] = jsonable(out)
        return result


# -- comparing partitions ------------------------------------------------------------


def _contingency(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[Int64, Int64, Int64, Int64, Int64]:
    """Non-zero cells of the contingency table (row, column, count), and its margins."""
    x = np.unique(np.asarray(a), return_inverse=True)[1].ravel().astype(np.int64)
    y = np.unique(np.asarray(b), return_inverse=True)[1].ravel().astype(np.int64)
    if len(x) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty, empty
    ny = int(y.max()) + 1
    keys, counts = np.unique(x * ny + y, return_counts=True)
    rows = np.bincount(x).astype(np.int64)
    cols = np.bincount(y).astype(np.int64)
    return keys // ny, keys % ny, counts.astype(np.int64), rows, cols


def _entropy(counts: Int64, total: float) -> float:
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """NMI of two labelings, arithmetic normalisation (scikit-learn's default and limit cases).

    NaN when there is nothing to compare (no labels).
    """
    ri, ci, cells, rows, cols = _contingency(a, b)
    if len(rows) == 0:
        return math.nan
    if len(rows) == len(cols) == 1:
        return 1.0
    if len(rows) == 1 or len(cols) == 1:
        return 0.0
    n = float(rows.sum())
    # MI = sum_ij p_ij log(p_ij / (p_i p_j)), over the non-zero cells
    expected = rows[ri].astype(np.float64) * cols[ci]
    mi = float((cells / n * np.log(cells * n / expected)).sum())
    if mi < 1e-15:
        return 0.0
    return mi / ((_entropy(rows, n) + _entropy(cols, n)) / 2.0)


def adjusted_rand(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Adjusted Rand index (Hubert and Arabie 1985) from the pair counts, as scikit-learn.

    NaN when there is nothing to compare (no labels).
    """
    _, _, cells, rows, cols = _contingency(a, b)
    if len(rows) == 0:
        return math.nan
    # exact integer pair counts (Python ints: n^4 overflows int64 at a million)
    n = int(rows.sum())
    sum_sq = int((cells * cells).sum())
    sum_rows = int((rows * rows).sum())
    sum_cols = int((cols * cols).sum())
    tp = sum_sq - n
    # ordered pairs: together in b but not in a (fp), in a but not in b (fn)
    fp = sum_cols - sum_sq
    fn = sum_rows - sum_sq
    tn = n * n - fp - fn - sum_sq
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


# -- the partition ------------------------------------------------------------------


def _leiden(layer: Layer, method: str, resolution: float, seed: int) -> tuple[float, Int]:
    """Raw Leiden labels (``-1``: participant on no edge of positive weight).

    The network handed to ``graspologic_native.leiden_csr`` is the layer's
    positive edges as a symmetric CSR matrix on the participants that have
    one (renumbered in order), read in place with the GIL released, where
    ``leiden`` would take a list of ``(str, str, float)`` tuples (15 s and 2 GB
    for ten million edges). Isolated participants stay out, as they did from
    the edge list: CPM's quality counts every node of the network. Two
    iterations (the second starts from the first's partition) find a higher
    modularity than one run of ``leiden``: on the generated 100k ecosystem's
    combined layer, 0.570 to 0.575 over seeds 0-3, against 0.561 to 0.564,
    and in less time.
    """
    import graspologic_native as gn

    positive = layer.edge_weight > 0
    u = layer.edge_u[positive].astype(np.int64)
    v = layer.edge_v[positive].astype(np.int64)
    w = layer.edge_weight[positive]
    on_edge = (np.bincount(u, minlength=layer.n) + np.bincount(v, minlength=layer.n)) > 0
    nodes = np.flatnonzero(on_edge)
    position = np.full(layer.n, -1, dtype=np.int64)
    position[nodes] = np.arange(len(nodes))
    pu, pv = position[u], position[v]
    matrix = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([pu, pv]), np.concatenate([pv, pu]))),
        shape=(len(nodes), len(nodes)),
    )
    matrix.sort_indices()
    options: dict[str, Any] = {
        "resolution": resolution,
        "use_modularity": method == "modularity",
        "seed": seed,
        "iterations": LEIDEN_ITERATIONS,
    }
    quality, partition = gn.leiden_csr(  # graspologic-native 1.3 and later
        matrix.indptr.astype(np.int64),
        matrix.indices.astype(np.int32),
        matrix.data.astype(np.float64),
        len(nodes),
        **options,
    )
    labels = np.full(layer.n, -1, dtype=np.int64)
    found = np.fromiter(partition.keys(), dtype=np.int64, count=len(partition))
    labels[nodes[found]] = np.fromiter(partition.values(), dtype=np.int64, count=len(partition))
    return float(quality), labels.astype(np.int32)


def _by_size(raw: Int) -> tuple[Int, Int64]:
    """Labels renumbered by size (largest 0; ties by smallest member); singletons for ``-1``."""
    labels = raw.astype(np.int64)
    alone = labels < 0
    top = int(labels.max()) + 1 if len(labels) else 0
    labels[alone] = top + np.arange(int(alone.sum()))
    _, first, inverse, sizes = np.unique(
        labels, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()].astype(np.int32), sizes[order].astype(np.int64)


def modularity(layer: Layer, labels: npt.ArrayLike, resolution: float = 1.0) -> float:
    """Weighted modularity of a partition of the layer's edges (Newman and Girvan 2004)."""
    lab = np.asarray(labels, dtype=np.int64)
    w = layer.edge_weight
    total = float(w.sum())
    if total <= 0:
        return math.nan
    k = int(lab.max()) + 1
    inside = lab[layer.edge_u] == lab[layer.edge_v]
    w_in = np.bincount(lab[layer.edge_u[inside]], weights=w[inside], minlength=k)
    strength = np.bincount(layer.edge_u, weights=w, minlength=layer.n) + np.bincount(
        layer.edge_v, weights=w, minlength=layer.n
    )
    s = np.bincount(lab, weights=strength, minlength=k)
    return float((w_in / total).sum() - resolution * ((s / (2.0 * total)) ** 2).sum())


def _cluster_match(membership: Any, labels: Int, n_communities: int) -> tuple[Int64, Int, Float]:
    m = sp.csr_array(membership, dtype=np.float64)
    m.sum_duplicates()
    m.data[:] = 1.0
    onehot = sp.csr_array(
        (np.ones(len(labels)), (np.arange(len(labels)), labels)),
        shape=(len(labels), n_communities),
    )
    table = (m.T @ onehot).tocoo()
    n_clusters = m.shape[1]
    size = np.asarray(m.sum(axis=0)).ravel().astype(np.int64)
    best = np.full(n_clusters, -1, dtype=np.int32)
    share = np.full(n_clusters, math.nan)
    if table.nnz:
        row, col, val = table.row, table.col, table.data
        # per cluster, the largest count; ties go to the lower (larger) community
        order = np.lexsort((col, -val, row))
        row, col, val = row[order], col[order], val[order]
        first = np.ones(len(row), dtype=np.bool_)
        first[1:] = row[1:] != row[:-1]
        best[row[first]] = col[first]
        share[row[first]] = val[first] / size[row[first]]
    return size, best, share


def communities(
    layer: Layer,
    *,
    method: Literal["modularity", "cpm"] = "modularity",
    resolution: float = 1.0,
    seed: int = 0,
    declared: Grouping | None = None,
    membership: Any = None,
    cluster_ids: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
) -> Communities:
    """Leiden communities of ``layer``'s edges, compared with declared clusters when given.

    ``declared`` is a grouping (one label per participant, ``-1`` none);
    ``membership`` a participants x clusters 0/1 matrix (clusters overlap) with
    ``cluster_ids`` naming its columns; ``ids`` names the participants.
    """
    if method not in METHODS:
        raise AnalysisError(f"unknown community method {method!r}: expected one of modularity, cpm")
    if not (isinstance(resolution, (int, float)) and math.isfinite(resolution) and resolution > 0):
        raise AnalysisError(f"resolution must be a number above 0, not {resolution!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise AnalysisError(f"seed must be a whole number from 0 to 2**64 - 1, not {seed!r}")
    if layer.n_edges == 0:
        raise AnalysisError(f"layer {layer.name!r} has no ties: communities need at least one")
    if (layer.edge_weight < 0).any():
        raise AnalysisError(
            f"layer {layer.name!r} has negative tie weights: Leiden needs weights >= 0"
        )
    if not (layer.edge_weight > 0).any():
        raise AnalysisError(
            f"every tie of layer {layer.name!r} has weight 0: communities need a positive weight"
        )
    if ids is not None and len(ids) != layer.n:
        raise AnalysisError(f"{len(ids)} ids given for {layer.n} participants")
    if declared is not None and len(declared.labels) != layer.n:
        raise AnalysisError(
            f"grouping {declared.spec!r} labels {len(declared.labels)} participants,"
            f" the layer has {layer.n}"
        )

    quality, raw = _leiden(layer, method, float(resolution), int(seed))
    labels, sizes = _by_size(raw)
    extra: dict[str, Any] = {}
    if declared is not None:
        keep = declared.labels >= 0
        extra.update(
            declared=declared.spec,
            nmi=normalized_mutual_info(declared.labels[keep], labels[keep]),
            ari=adjusted_rand(declared.labels[keep], labels[keep]),
            n_compared=int(keep.sum()),
        )
    if membership is not None:
        if membership.shape[0] != layer.n:
            raise AnalysisError(
                f"membership has {membership.shape[0]} rows, the layer {layer.n} participants"
            )
        n_clusters = membership.shape[1]
        names = [str(c) for c in range(n_clusters)] if cluster_ids is None else list(cluster_ids)
        if len(names) != n_clusters:
            raise AnalysisError(f"{len(names)} cluster ids given for {n_clusters} clusters")
        size, best, share = _cluster_match(membership, labels, len(sizes))
        extra.update(
            cluster_ids=names, cluster_size=size, cluster_community=best, cluster_share=share
        )
    return Communities(
        layer=layer.name,
        method=method,
        resolution=float(resolution),
        seed=int(seed),
        labels=labels,
        sizes=sizes,
        quality=quality,
        modularity=modularity(layer, labels),
        ids=list(ids) if ids is not None else None,
        **extra,
    )
