"""Brokerage and boundary roles: Gould-Fernandez, the E-I index, Cross-Parker roles.

**Gould-Fernandez brokerage** (Gould and Fernandez 1989, "Structures of
mediation", Sociological Methodology 19:89-126), exactly as R's
``sna::brokerage`` (Butts; checked against its R code and the C routine
``brokerage_R`` in ``gli.c``). Arcs are binary (a tie of weight 0 is a tie).
Participant ``v`` brokers the ordered pair ``(a, b)`` when ``a -> v -> b``,
``a != b`` and there is no arc ``a -> b``. With group labels ``g``, the five
roles, in sna's column order:

============== ======== ==================================
role           sna      groups
============== ======== ==================================
coordinator    ``w_I``  ``g(a) = g(v) = g(b)``
itinerant      ``w_O``  ``g(a) = g(b) != g(v)``
representative ``b_IO`` ``g(a) = g(v) != g(b)``
gatekeeper     ``b_OI`` ``g(a) != g(v) = g(b)``
liaison        ``b_O``  all three differ
============== ======== ==================================

plus ``total``. Expected counts and variances are sna's, under random
assignment of arcs with density ``d = m / (N (N - 1))`` (``m`` arcs, ``N``
participants) and the observed group sizes ``n_i``; with
``D = d^2 (1 - d)`` and ``A = d^3 (1 - d)^3``, for a broker in group ``i``:
``E[w_I] = D (n_i - 1)(n_i - 2)``, ``E[w_O] = D sum_{j != i} n_j (n_j - 1)``,
``E[b_IO] = E[b_OI] = D (N - n_i)(n_i - 1)``,
``E[b_O] = D ((sum_{j != i} n_j)^2 - sum_{j != i} n_j^2)``,
``E[t] = D (N - 1)(N - 2)``, each variance ``E (1 - D)`` plus a term in ``A``
(see :func:`_group_moments`); the network-level moments add terms in
``d^4 (1 - d)^2`` and ``d^5 (1 - d)`` (see :func:`_global_moments`). sna's
double and triple sums over groups are rewritten here as single sums (same
values, tested against a direct transcription), so thousands of groups cost
nothing. ``z = (observed - expected) / sd``; NaN where ``sd`` is 0.

Participants without a group (label ``-1``) take no part: brokerage is that of
the subgraph of grouped participants (``N``, ``m`` and ``d`` are counted there),
and their rows are 0 with NaN expectations. One group is a defined case: every
brokerage is coordination, and the other roles have expectation 0 and ``z``
NaN.

Counting scales: per broker, the in-neighbour x out-neighbour pairs are
classified from group counts (in-degree, out-degree, same-group in and out
degree, and same-group pairs through sparse products by group), less the pairs
``a = b`` (reciprocated arcs), less the closed pairs (``a -> b`` present),
which are found by enumerating the triangles of the underlying undirected graph
(degree-ordered, vectorised in chunks, each closing edge looked up in a CSR
matrix of edge numbers). Time on 2 cores, the generated ecosystems' combined
layers grouped by cluster: 100k participants / 1.5M arcs 1.1 s; 1M / 15M
arcs 16 s, 0.8 GB at the peak on top of the layer (27 s and 1.5 GB before the
CSR look-ups). :func:`gould_fernandez_counts` is the slow part on its own.

**E-I index** (Krackhardt and Stern 1988, "Informal networks and
organizational crises: an experimental simulation", Social Psychology
Quarterly 51(2):123-140): ``(EL - IL) / (EL + IL)`` on the layer's undirected
edges, counted once each, unweighted. ``IL``: ties inside the group (for a
participant: to its own group); ``EL``: ties to another group (for a group,
each tie leaving it). Ties with an ungrouped participant count for neither.
NaN with no ties. ``ei_overall`` counts every edge once over the network.

**Cross-Parker roles** (Cross and Parker 2002, "The people who make
organizations go - or stop", Harvard Business Review 80(6)). The article gives
no formula; Glia's rules are in :data:`ROLE_RULES` and are computed over the
*population*: participants with a group and at least one tie. Percentiles are
NumPy's linear ones over that population; "top decile" means at or above the
90th percentile *and* above 0. Degree counts every neighbour on the layer,
``IL`` and ``EL`` only the grouped ones (as for the E-I index). Betweenness
and constraint are taken as given (Glia's centrality computes them as
NetworkX does); the thresholds used are kept in :attr:`Brokerage.thresholds`.
A participant may hold several roles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..graph import Grouping, Layer
from ._common import AnalysisError, entries, frame, jsonable

__all__ = [
    "GF_ROLES",
    "ROLE_RULES",
    "SNA_NAMES",
    "Brokerage",
    "brokerage",
    "gould_fernandez_counts",
]

Int = npt.NDArray[np.int32]
Int64 = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

#: Gould-Fernandez roles in sna's column order, then the total.
GF_ROLES = ("coordinator", "itinerant", "representative", "gatekeeper", "liaison", "total")
#: sna's names for the same columns.
SNA_NAMES = ("w_I", "w_O", "b_IO", "b_OI", "b_O", "t")

#: Glia's rule for each Cross-Parker role (the article gives none).
ROLE_RULES = {
    "central_connector": (
        "ties inside one's own group (IL) in the top decile of the population, and IL > 0"
    ),
    "boundary_spanner": (
        "E-I index > 0 and ties to other groups (EL) in the top decile of the population"
    ),
    "information_broker": (
        "betweenness in the top decile of the population, constraint at or below the"
        " population median, and neighbours in at least two different communities"
    ),
    "peripheral_specialist": (
        "at least one tie and degree at most min(2, 10th percentile of the population's degree)"
    ),
}

#: Candidate 2-paths examined per chunk when enumerating triangles.
_CHUNK = 4_000_000


@dataclass(frozen=True, eq=False)
class Brokerage:
    """Gould-Fernandez brokerage, E-I index and Cross-Parker roles of one layer and grouping.

    Arrays of six columns follow :data:`GF_ROLES`. Per-participant arrays have
    one row per participant; per-group arrays one row per group name.
    """

    layer: str
    grouping: str
    group_names: list[str]
    labels: Int
    ids: list[str] | None
    # -- Gould-Fernandez
    counts: Int64
    expected: Float
    sd: Float
    z: Float
    total: Int64
    total_expected: Float
    total_sd: Float
    total_z: Float
    group_expected: Float
    group_sd: Float
    density: float
    n_grouped: int
    n_arcs: int
    # -- E-I
    internal: Int64
    external: Int64
    ei: Float
    group_internal: Int64
    group_external: Int64
    group_ei: Float
    ei_overall: float
    # -- Cross-Parker
    central_connector: Bool
    boundary_spanner: Bool
    information_broker: Bool
    peripheral_specialist: Bool
    thresholds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _names(self) -> list[str]:
        return self.ids if self.ids is not None else [str(i) for i in range(len(self.labels))]

    def columns(self) -> dict[str, Any]:
        """Per-participant columns: group, ``brokerage.<role>`` counts and ``_z`` scores,
        E-I (``internal_ties``, ``external_ties``, ``ei_index``) and the four roles."""
        cols: dict[str, Any] = {
            "group": [self.group_names[g] if g >= 0 else None for g in self.labels.tolist()]
        }
        for k, role in enumerate(GF_ROLES):
            cols[f"brokerage.{role}"] = self.counts[:, k]
        for k, role in enumerate(GF_ROLES):
            cols[f"brokerage.{role}_z"] = self.z[:, k]
        cols.update(internal_ties=self.internal, external_ties=self.external, ei_index=self.ei)
        for role in ROLE_RULES:
            cols[role] = getattr(self, role)
        return cols

    def to_pandas(self) -> Any:
        """One row per participant: :meth:`columns`, with expected counts after the z-scores."""
        cols = self.columns()
        for k, role in enumerate(GF_ROLES):
            cols[f"brokerage.{role}_expected"] = self.expected[:, k]
        return frame(cols, index=self._names())

    def groups_to_pandas(self) -> Any:
        """One row per group: size, E-I, and expected brokerage of a member."""
        sizes = np.bincount(self.labels[self.labels >= 0], minlength=len(self.group_names))
        cols: dict[str, Any] = {
            "size": sizes,
            "internal": self.group_internal,
            "external": self.group_external,
            "ei": self.group_ei,
        }
        for k, role in enumerate(GF_ROLES):
            cols[f"{role}_expected"] = self.group_expected[:, k]
        for k, role in enumerate(GF_ROLES):
            cols[f"{role}_sd"] = self.group_sd[:, k]
        return frame(cols, index=self.group_names, index_name="group")

    def to_json(self, *, participants: bool = False) -> dict[str, Any]:
        """Network and group summaries; with ``participants``, :meth:`to_records` too."""
        out: dict[str, Any] = {
            "layer": self.layer,
            "grouping": self.grouping,
            "groups": self.group_names,
            "n_grouped": self.n_grouped,
            "n_arcs": self.n_arcs,
            "density": self.density,
            "gould_fernandez": {
                role: {
                    "sna": SNA_NAMES[k],
                    "observed": self.total[k],
                    "expected": self.total_expected[k],
                    "sd": self.total_sd[k],
                    "z": self.total_z[k],
                }
                for k, role in enumerate(GF_ROLES)
            },
            "ei_overall": self.ei_overall,
            "group_ei": [
                {"group": name, "internal": i, "external": e, "ei": x}
                for name, i, e, x in zip(
                    self.group_names,
                    self.group_internal.tolist(),
                    self.group_external.tolist(),
                    self.group_ei.tolist(),
                    strict=True,
                )
            ],
            "roles": {r: int(getattr(self, r).sum()) for r in ROLE_RULES},
            "role_rules": ROLE_RULES,
            "thresholds": self.thresholds,
            "notes": self.notes,
        }
        if participants:
            out["participants"] = self.to_records()
        result: dict[str, Any] = jsonable(out)
        return result

    def to_records(self) -> list[dict[str, Any]]:
        """Per participant: counts, expected and z by role, E-I and roles."""
        names = self._names()
        rows = []
        for i in range(len(self.labels)):
            g = int(self.labels[i])
            rows.append(
                {
                    "id": names[i],
                    "group": self.group_names[g] if g >= 0 else None,
                    "brokerage": {
                        role: {
                            "observed": int(self.counts[i, k]),
                            "expected": float(self.expected[i, k]),
                            "z": float(self.z[i, k]),
                        }
                        for k, role in enumerate(GF_ROLES)
                    },
                    "internal": int(self.internal[i]),
                    "external": int(self.external[i]),
                    "ei": float(self.ei[i]),
                    "roles": [r for r in ROLE_RULES if bool(getattr(self, r)[i])],
                }
            )
        result: list[dict[str, Any]] = jsonable(rows)
        return result


# -- Gould-Fernandez: counts -----------------------------------------------------------


def _role(ga: Int64, gv: Int64, gb: Int64) -> Int64:
    """Role code (index into :data:`GF_ROLES`) of ``a -> v -> b`` from the three groups."""
    return np.where(
        ga == gv,
        np.where(gv == gb, 0, 2),  # coordinator / representative
        np.where(gv == gb, 3, np.where(ga == gb, 1, 4)),  # gatekeeper / itinerant / liaison
    ).astype(np.int64)


def _closed_counts(n: int, s: Int64, t: Int64, g: Int64, mutual: Bool) -> Int64:
    """Per broker and role, the pairs ``a -> v -> b`` with ``a != b`` and ``a -> b`` present.

    Every such triple lies on a triangle of the underlying undirected graph;
    triangles are enumerated once each by the degree-ordered forward
    algorithm (Schank and Wagner 2005), vectorised over chunks of candidate
    wedges, and every ordering of each triangle is checked. ``mutual`` says
    which arcs have their reverse. The undirected edges come from the arcs
    (one per arc ``s < t``, and one per arc ``s > t`` without reverse), and
    SciPy's COO to CSR conversion orders them (no sort of all the keys: at 1M
    participants this stage held 1.5 GB at its peak with them, 0.6 GB without).
    """
    out = np.zeros(n * 5, dtype=np.int64)
    if len(s) == 0:
        return out.reshape(n, 5)
    up = s < t
    keep = up | ~mutual
    eu = np.where(up, s, t)[keep]
    ev = np.where(up, t, s)[keep]
    fwd = up[keep]  # arc eu -> ev (eu < ev)
    bwd = np.where(up, mutual, True)[keep]  # arc ev -> eu
    del up, keep
    degree = np.bincount(eu, minlength=n) + np.bincount(ev, minlength=n)
    order = np.lexsort((np.arange(n), degree))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    # orient each edge from lower to higher rank
    swap = rank[eu] > rank[ev]
    low = np.where(swap, ev, eu)
    high = np.where(swap, eu, ev)
    number = np.arange(1, len(eu) + 1, dtype=np.int64)  # edge number plus one
    del eu, ev, swap
    # row ``low``, sorted by the rank of ``high``: the candidates' order
    by_rank = sp.csr_array((number, (low, rank[high])), shape=(n, n))
    by_rank.sum_duplicates()  # sorts each row (the pairs are unique)
    ptr = by_rank.indptr.astype(np.int64)
    a = np.repeat(np.arange(n, dtype=np.int64), np.diff(ptr))
    b = order[by_rank.indices]
    eid = by_rank.data - 1
    del by_rank
    # the oriented edges as a CSR matrix of edge numbers plus one (row low, column
    # high): SciPy's element look-up is a binary search within one row (at most
    # sqrt(2m) long), faster than one in the sorted list of all edge keys
    lookup = sp.csr_array((number, (low, high)), shape=(n, n))
    lookup.sum_duplicates()
    del low, high, number
    # candidates: position p (edge a[p] -> b[p]) pairs with every later position of a[p]
    count = ptr[a + 1] - np.arange(len(a)) - 1
    cum = np.cumsum(count)
    start = 0
    while start < len(a):
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + _CHUNK, side="right"))
        stop = max(stop, start + 1)
        pos = np.arange(start, stop, dtype=np.int64)
        c = count[pos]
        start = stop
        if c.sum() == 0:
            continue
        p = np.repeat(pos, c)
        offset = np.arange(len(p)) - np.repeat(np.cumsum(c) - c, c)
        q = p + 1 + offset
        entry = entries(lookup, b[p], b[q])
        found = entry > 0
        if not found.any():
            continue
        p, q, third = p[found], q[found], entry[found] - 1
        nodes = (a[p], b[p], b[q])
        # the edge of each pair of triangle corners: (0, 1), (0, 2), (1, 2)
        edges = {(0, 1): eid[p], (0, 2): eid[q], (1, 2): third}
        arcs = {}
        for (i, j), e in edges.items():
            first = nodes[i] < nodes[j]
            arcs[i, j] = np.where(first, fwd[e], bwd[e])
            arcs[j, i] = np.where(first, bwd[e], fwd[e])
        for ia, iv, ib in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
            closed = arcs[ia, iv] & arcs[iv, ib] & arcs[ia, ib]
            if not closed.any():
                continue
            va, vv, vb = nodes[ia][closed], nodes[iv][closed], nodes[ib][closed]
            out += np.bincount(vv * 5 + _role(g[va], g[vv], g[vb]), minlength=n * 5)
    return out.reshape(n, 5)


def _gf_counts(n: int, s: Int64, t: Int64, g: Int64) -> Int64:
    """Per participant, brokered pairs by role (``n x 5``); arcs unique, no self-loops.

    ``g`` labels every participant on an arc (``>= 0``).
    """
    ones = np.ones(len(s), dtype=np.int64)
    indeg = np.bincount(t, minlength=n).astype(np.int64)
    outdeg = np.bincount(s, minlength=n).astype(np.int64)
    same = g[s] == g[t]
    in_same = np.bincount(t[same], minlength=n).astype(np.int64)
    out_same = np.bincount(s[same], minlength=n).astype(np.int64)
    k = int(g.max()) + 1 if len(g) else 1
    # pairs (a in in(v), b in out(v)) with g(a) = g(b), a = b included
    into = sp.csr_array((ones, (t, g[s])), shape=(n, k))
    outof = sp.csr_array((ones, (s, g[t])), shape=(n, k))
    matched = np.asarray(into.multiply(outof).sum(axis=1)).ravel().astype(np.int64)
    counts = np.empty((n, 5), dtype=np.int64)
    counts[:, 0] = in_same * out_same
    counts[:, 1] = matched - in_same * out_same
    counts[:, 2] = in_same * (outdeg - out_same)
    counts[:, 3] = (indeg - in_same) * out_same
    counts[:, 4] = (indeg - in_same) * (outdeg - out_same) - counts[:, 1]
    # pairs a = b: reciprocated arcs v <-> a. The arcs come sorted by (s, t): as a
    # CSR matrix, SciPy looks each reverse arc up by a binary search in its row
    # (at 1M participants 1 s, where one search in all 15M arc keys took 15 s)
    arcs = sp.csr_array(
        (np.ones(len(s), dtype=np.int8), t, np.concatenate([[0], np.cumsum(outdeg)])),
        shape=(n, n),
    )
    mutual = entries(arcs, t, s) > 0  # arcs whose reverse exists; counted at s
    del arcs
    counts[:, 0] -= np.bincount(s[mutual & same], minlength=n)
    counts[:, 1] -= np.bincount(s[mutual & ~same], minlength=n)
    counts -= _closed_counts(n, s, t, g, mutual)
    return counts


# -- Gould-Fernandez: moments (sna) ----------------------------------------------------


def _choose2(x: Float) -> Float:
    return x * (x - 1.0) / 2.0


def _group_moments(sizes: Float, big_n: float, d: float) -> tuple[Float, Float]:
    """sna's expected count and variance by the broker's group (``groups x 6``)."""
    n = sizes
    dd = d * d * (1 - d)
    a3 = d**3 * (1 - d) ** 3
    p1, p2 = n.sum(), (n * n).sum()
    rest1, rest2 = p1 - n, p2 - n * n
    nn1 = n * (n - 1)
    nn12 = nn1 * (n - 2)
    e = np.empty((len(n), 6))
    v = np.empty((len(n), 6))
    e[:, 0] = dd * (n - 1) * (n - 2)
    v[:, 0] = e[:, 0] * (1 - dd) + 2 * (n - 1) * (n - 2) * (n - 3) * a3
    e[:, 1] = dd * (nn1.sum() - nn1)
    v[:, 1] = e[:, 1] * (1 - dd) + 2 * (nn12.sum() - nn12) * a3
    e[:, 2] = dd * (big_n - n) * (n - 1)
    v[:, 2] = (
        e[:, 2] * (1 - dd)
        + 2 * ((n - 1) * _choose2(big_n - n) + (big_n - n) * _choose2(n - 1)) * a3
    )
    e[:, 3], v[:, 3] = e[:, 2], v[:, 2]
    e[:, 4] = dd * (rest1 * rest1 - rest2)
    # sum_{j != i} n_j C(M - n_j, 2) with M = N - n_i, expanded in powers of n_j
    p3 = (n**3).sum()
    m = big_n - n
    all_j = (m * m * p1 - 2 * m * p2 + p3 - m * p1 + p2) / 2.0
    v[:, 4] = e[:, 4] * (1 - dd) + 4 * (all_j - n * _choose2(big_n - 2 * n)) * a3
    e[:, 5] = dd * (big_n - 1) * (big_n - 2)
    v[:, 5] = e[:, 5] * (1 - dd) + 2 * (big_n - 1) * (big_n - 2) * (big_n - 3) * a3
    return e, v


def _global_moments(sizes: Float, big_n: float, d: float) -> tuple[Float, Float]:
    """sna's network-level expected counts and variances (6 values)."""
    n = sizes
    dd = d * d * (1 - d)
    a3 = d**3 * (1 - d) ** 3
    b4 = d**4 * (1 - d) ** 2
    c5 = d**5 * (1 - d)
    p1, p2 = n.sum(), (n * n).sum()
    e = np.empty(6)
    v = np.empty(6)
    nn12 = n * (n - 1) * (n - 2)
    e[0] = dd * nn12.sum()
    v[0] = e[0] * (1 - dd) + (nn12 * ((4 * n - 10) * a3 - 4 * (n - 3) * b4 + (n - 3) * c5)).sum()
    e[1] = dd * (n * (big_n - n) * (n - 1)).sum()
    # sum_{x,y} x y (x-1) ((2x + 2y - 6) A + (N - x - 1) C), split by powers of y
    xx = n * (n - 1)
    outer = (xx * ((2 * n - 6) * a3 + (big_n - n - 1) * c5)).sum() * p1 + (xx * 2 * a3).sum() * p2
    diag = (n * n * (n - 1) * ((4 * n - 6) * a3 + (big_n - n - 1) * c5)).sum()
    v[1] = e[1] * (1 - dd) + outer - diag
    e[2] = dd * (n * (big_n - n) * (n - 1)).sum()
    v[2] = e[2] * (1 - dd) + (n * (big_n - n) * (n - 1) * ((big_n - 3) * a3 + (n - 2) * c5)).sum()
    e[3], v[3] = e[2], v[2]
    e[4] = dd * (big_n * p1 * p1 - 2 * p1 * p2 - (n * n * (big_n - 2 * n)).sum())
    # sum over distinct ordered groups (i, j, k) of n_i n_j n_k (linear in the n's):
    # t0 = sum n_i n_j n_k, t1 = sum n_i^2 n_j n_k (any one position squared)
    others = (p1 - n) ** 2 - (p2 - n * n)
    t0 = (n * others).sum()
    t1 = (n * n * others).sum()
    v[4] = (
        e[4] * (1 - dd)
        + (a3 - b4) * ((4 * big_n - 2) * t0 - 8 * t1)
        + c5 * ((big_n - 1) * t0 - 2 * t1)
    )
    e[5] = dd * big_n * (big_n - 1) * (big_n - 2)
    v[5] = e[5] * (1 - dd) + big_n * (big_n - 1) * (big_n - 2) * (
        (4 * big_n - 10) * a3 - 4 * (big_n - 3) * b4 + (big_n - 3) * c5
    )
    return e, v


def _z(observed: npt.ArrayLike, expected: Float, variance: Float) -> tuple[Float, Float]:
    sd = np.sqrt(np.where(variance > 0, variance, np.where(variance == 0, 0.0, np.nan)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (np.asarray(observed, np.float64) - expected) / sd, np.nan)
    return sd, z


# -- E-I --------------------------------------------------------------------------------


def _ratio(external: Int64, internal: Int64) -> Float:
    total = external + internal
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (external - internal) / total, np.nan)


# -- Cross-Parker ------------------------------------------------------------------------


def _top_decile(values: Float, population: Bool) -> tuple[Bool, float]:
    pool = values[population & np.isfinite(values)]
    if len(pool) == 0:
        return np.zeros(len(values), dtype=np.bool_), math.nan
    cut = float(np.percentile(pool, 90))
    return population & (values >= cut) & (values > 0), cut


def _community_reach(layer: Layer, communities: Int64) -> Int64:
    """Number of distinct communities (``>= 0``) among each participant's neighbours.

    The (participant, community) pairs of the neighbour lists as a sparse
    matrix: SciPy's conversion merges the repeats row by row (at 1M
    participants a third of the time and memory of ``numpy.unique`` on pair keys).
    """
    indptr, indices = layer.adjacency
    comm = communities[indices]
    keep = comm >= 0
    rows = np.repeat(np.arange(layer.n, dtype=np.int32), np.diff(indptr))[keep]
    k = int(communities.max()) + 1 if len(communities) else 1
    pairs = sp.csr_array(
        (np.ones(len(rows), dtype=np.bool_), (rows, comm[keep])), shape=(layer.n, max(k, 1))
    )
    pairs.sum_duplicates()
    reach: Int64 = np.diff(pairs.indptr).astype(np.int64)
    return reach


def _vector(name: str, values: Any, n: int) -> Float:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise AnalysisError(f"{name} must have one value per participant ({n}), not {arr.shape}")
    return arr


# -- the analysis -------------------------------------------------------------------------


def _checked_labels(layer: Layer, groups: Grouping) -> Int:
    """The grouping's labels, or :class:`AnalysisError` saying why brokerage cannot run."""
    n = layer.n
    labels = np.asarray(groups.labels, dtype=np.int32)
    if labels.shape != (n,):
        raise AnalysisError(
            f"grouping {groups.spec!r} labels {len(labels)} participants, the layer has {n}"
        )
    if layer.n_arcs == 0:
        raise AnalysisError(f"layer {layer.name!r} has no ties: brokerage needs ties")
    if not (labels >= 0).any():
        raise AnalysisError(
            f"no participant has a group in grouping {groups.spec!r}: brokerage compares groups"
        )
    return labels


def _grouped_arcs(layer: Layer, labels: Int) -> tuple[Int64, Int64]:
    """The arcs between grouped participants (``label >= 0``), sorted."""
    grouped = labels >= 0
    s, t = layer.source.astype(np.int64), layer.target.astype(np.int64)
    inside = grouped[s] & grouped[t]
    return s[inside], t[inside]


def gould_fernandez_counts(layer: Layer, groups: Grouping) -> Int64:
    """Brokered pairs per participant and role (``n x 5``, :data:`GF_ROLES` without total).

    The slow part of :func:`brokerage` (triangles of the whole layer), on its
    own so that a caller can run it beside other work and hand the result to
    :func:`brokerage` as ``counts`` (``glia.analyze`` does).
    """
    labels = _checked_labels(layer, groups)
    s, t = _grouped_arcs(layer, labels)
    return _gf_counts(layer.n, s, t, np.where(labels >= 0, labels, 0).astype(np.int64))


def brokerage(
    layer: Layer,
    groups: Grouping,
    *,
    betweenness: npt.ArrayLike | None = None,
    constraint: npt.ArrayLike | None = None,
    communities_labels: npt.ArrayLike | None = None,
    ids: Sequence[str] | None = None,
    counts: npt.ArrayLike | None = None,
) -> Brokerage:
    """Gould-Fernandez brokerage, E-I index and Cross-Parker roles (see the module).

    ``betweenness`` and ``constraint`` (one value per participant, computed
    elsewhere) are needed for the information-broker role, which is skipped
    with a note without them. ``communities_labels`` (``-1``: none) are the
    communities a broker must reach; without them the groups stand in, with a
    note. ``ids`` names the participants. ``counts`` are
    :func:`gould_fernandez_counts` of the same layer and grouping, when
    already computed.
    """
    n = layer.n
    labels = _checked_labels(layer, groups)
    if ids is not None and len(ids) != n:
        raise AnalysisError(f"{len(ids)} ids given for {n} participants")
    grouped = labels >= 0
    k = max(len(groups.names), int(labels.max()) + 1)
    g64 = labels.astype(np.int64)

    # Gould-Fernandez on the subgraph of grouped participants
    s, t = _grouped_arcs(layer, labels)
    big_n = int(grouped.sum())
    m = len(s)
    del s, t
    d = m / (big_n * (big_n - 1.0)) if big_n > 1 else 0.0
    if counts is None:
        counts = gould_fernandez_counts(layer, groups)
    observed = np.asarray(counts, dtype=np.int64)
    if observed.shape != (n, 5):
        raise AnalysisError(
            f"counts must be participants x 5 roles ({n} x 5), not {observed.shape}"
        )
    counts = np.zeros((n, 6), dtype=np.int64)
    counts[:, :5] = observed
    counts[:, 5] = counts[:, :5].sum(axis=1)
    sizes = np.bincount(labels[grouped], minlength=k).astype(np.float64)
    g_exp, g_var = _group_moments(sizes, float(big_n), d)
    g_exp[sizes == 0] = np.nan
    g_var[sizes == 0] = np.nan
    expected = np.full((n, 6), np.nan)
    variance = np.full((n, 6), np.nan)
    expected[grouped] = g_exp[labels[grouped]]
    variance[grouped] = g_var[labels[grouped]]
    sd, z = _z(counts, expected, variance)
    g_sd, _ = _z(np.zeros_like(g_exp), g_exp, g_var)
    total = counts.sum(axis=0)
    t_exp, t_var = _global_moments(sizes, float(big_n), d)
    t_sd, t_z = _z(total, t_exp, t_var)

    # E-I on the edges between grouped participants
    eu, ev = layer.edge_u.astype(np.int64), layer.edge_v.astype(np.int64)
    both = grouped[eu] & grouped[ev]
    eu, ev = eu[both], ev[both]
    same = g64[eu] == g64[ev]
    internal = (np.bincount(eu[same], minlength=n) + np.bincount(ev[same], minlength=n)).astype(
        np.int64
    )
    external = (np.bincount(eu[~same], minlength=n) + np.bincount(ev[~same], minlength=n)).astype(
        np.int64
    )
    ei = np.where(grouped, _ratio(external, internal), np.nan)
    group_internal = np.bincount(g64[eu[same]], minlength=k).astype(np.int64)
    group_external = (
        np.bincount(g64[eu[~same]], minlength=k) + np.bincount(g64[ev[~same]], minlength=k)
    ).astype(np.int64)
    group_ei = _ratio(group_external, group_internal)
    n_ext, n_int = int((~same).sum()), int(same.sum())
    ei_overall = (n_ext - n_int) / (n_ext + n_int) if n_ext + n_int else math.nan

    # Cross-Parker
    degree = layer.degree.astype(np.int64)
    population = grouped & (degree > 0)
    notes: list[str] = []
    thresholds: dict[str, float] = {}
    connector, cut = _top_decile(internal.astype(np.float64), population)
    thresholds["central_connector.internal_ties_p90"] = cut
    spanner, cut = _top_decile(external.astype(np.float64), population)
    spanner &= ei > 0
    thresholds["boundary_spanner.external_ties_p90"] = cut
    pool = degree[population]
    cut = min(2.0, float(np.percentile(pool, 10))) if len(pool) else 2.0
    thresholds["peripheral_specialist.degree_max"] = cut
    peripheral = population & (degree <= cut)
    broker = np.zeros(n, dtype=np.bool_)
    if betweenness is None or constraint is None:
        missing = " and ".join(
            x for x, v in (("betweenness", betweenness), ("constraint", constraint)) if v is None
        )
        notes.append(f"information brokers not computed: no {missing} given")
    else:
        btw = _vector("betweenness", betweenness, n)
        con = _vector("constraint", constraint, n)
        if communities_labels is None:
            comm = g64
            notes.append(
                f"information brokers: no communities given, groups of {groups.spec!r} stand in"
            )
        else:
            comm = np.asarray(communities_labels, dtype=np.int64)
            if comm.shape != (n,):
                raise AnalysisError(f"communities_labels must have one label per participant ({n})")
        top, cut = _top_decile(btw, population)
        thresholds["information_broker.betweenness_p90"] = cut
        finite = population & np.isfinite(con)
        median = float(np.median(con[finite])) if finite.any() else math.nan
        thresholds["information_broker.constraint_median"] = median
        low = np.isfinite(con) & (con <= median)
        broker = top & low & (_community_reach(layer, comm) >= 2)

    return Brokerage(
        layer=layer.name,
        grouping=groups.spec,
        group_names=list(groups.names) + [str(x) for x in range(len(groups.names), k)],
        labels=labels,
        ids=list(ids) if ids is not None else None,
        counts=counts,
        expected=expected,
        sd=sd,
        z=z,
        total=total,
        total_expected=t_exp,
        total_sd=t_sd,
        total_z=t_z,
        group_expected=g_exp,
        group_sd=g_sd,
        density=d,
        n_grouped=big_n,
        n_arcs=m,
        internal=internal,
        external=external,
        ei=ei,
        group_internal=group_internal,
        group_external=group_external,
        group_ei=group_ei,
        ei_overall=ei_overall,
        central_connector=connector,
        boundary_spanner=spanner,
        information_broker=broker,
        peripheral_specialist=peripheral,
        thresholds=thresholds,
        notes=notes,
    )
