"""Value network analysis (Verna Allee): exchange, impact and value creation analysis.

Allee's value network has **roles** as nodes and one-way **transactions**,
each carrying one named deliverable, tangible or intangible, as links
(Allee, *Value Networks and the True Nature of Collaboration*, online book,
valuenetworksandcollaboration.com, chapters on analysis; Allee 2000, "The
value evolution", Journal of Intellectual Capital 1(1)). Allee prescribes
the questions, not the numbers: every rule below that turns a question
into a number is Glia's own, and stated where it is made.

Nodes
    Every role of the ecosystem, then every participant that is itself an
    endpoint of some exchange (Allee's participant-based, "collaborative",
    view mixed into the role view). Such a participant is a node of kind
    ``participant`` named by its id, even when it also plays roles: its
    direct exchanges are its own, not its roles'.
Outside the network
    A participant node whose participant plays no role: the role network
    does not contain it, so what flows to it is value created *beyond* the
    network (Glia's reading of Allee's "value created beyond the network").

**Exchange analysis** (per node and for the whole network):

- ``deliverables_in``/``deliverables_out``; tangible and intangible counts
  each way; ``tangible_ratio`` = tangible / intangible (NaN with no
  intangible).
- ``partners``: distinct nodes exchanged with, either way (the degree).
  ``reciprocity``: the share of partners with flows both ways (NaN with no
  partner). One-way flows: ordered pairs ``a -> b`` with nothing ``b -> a``.
- **Overburdened** (Glia's rule): a node whose transactions (in + out)
  exceed the mean plus one standard deviation (population) of the
  transactions of nodes that take part in any exchange.
- **Structural dependency**: variance and coefficient of variation
  (std / mean) of the degrees of all nodes; high means a few very central
  nodes carry the network.
- **Missing links** (Glia's rule): pairs of roles with no exchange either
  way that share at least one partner, ranked by the number of partners
  they share (most first; ties by role order), the top ``missing_top``.
- **Agility**: the mean shortest-path distance (in exchanges, ignoring
  direction) between nodes that take part in any exchange and reach each
  other; a high value means too few hubs. Exact up to 1,000 such nodes,
  else from ``agility_sources`` sampled sources (seeded; stated in the
  result).

**Impact analysis** (per input, i.e. per exchange at its receiver): asset
impact on the four kinds (financial, human competence, internal structure,
business relationships; -2..+2) and perceived value (-5..+5), Glia's
scales. Per node, Glia compares the **annualised money value of its
inputs** (``value_received``) with the **annualised cost of its outputs**
(``cost_sent``): ``covers_cost`` is ``value_received >= cost_sent``. The
perceived value received (``perceived_received``) is shown beside it and
not added: it is a rating, not money.

**Value creation** (per node, on its outputs): how many deliverables it
sends, their annualised money value (``value_delivered``) and perceived
value (``perceived_delivered``), and the same for outputs that go outside
the network (``outside_*``).

Money values here are the value of every deliverable that has one (any
type), annualised as in :mod:`glia.analysis.flows` (value x frequency x
periods per year), in the ecosystem currency only; costs likewise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from ..model import ASSET_KINDS
from ..store import Snapshot
from ._common import AnalysisError, frame, jsonable
from .flows import _annual, _currency_mask, _nodes

__all__ = ["ValueNetwork", "value_network"]

Int = npt.NDArray[np.int32]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

_EXACT_AGILITY = 1_000


@dataclass(frozen=True, eq=False)
class ValueNetwork:
    """Allee's three analyses of one value network (see the module's notes).

    Per node (index = position in ``node_ids``): the exchange, impact and
    value-creation columns. Per exchange (index = the snapshot's exchange
    number): ``exchange_source``/``exchange_target`` (nodes), and the input
    columns of the impact analysis. Network-wide: the scalars and pair lists.
    """

    node_ids: list[str]
    node_kinds: list[str]
    node_names: list[str | None]
    currency: str | None
    # exchange analysis
    deliverables_in: Int
    deliverables_out: Int
    tangible_in: Int
    tangible_out: Int
    intangible_in: Int
    intangible_out: Int
    partners: Int
    reciprocity: Float
    transactions: Int
    overburdened: Bool
    overburden_threshold: float
    degree_variance: float
    degree_cv: float
    one_way_source: Int
    one_way_target: Int
    missing_a: Int
    missing_b: Int
    missing_shared: Int
    agility: float
    agility_reachable: float
    agility_sources: int
    agility_exact: bool
    # impact analysis (per exchange, then per node)
    exchange_source: Int
    exchange_target: Int
    deliverables: list[str]
    tangible: Bool
    perceived_value: Float
    impact: Float
    annual_value: Float
    annual_cost: Float
    perceived_received: Float
    value_received: Float
    cost_sent: Float
    covers_cost: Bool
    impact_received: Float
    # value creation
    value_delivered: Float
    perceived_delivered: Float
    outside: Bool
    outside_outputs: Int
    outside_value: Float
    outside_perceived: Float

    @property
    def tangible_ratio(self) -> Float:
        """Tangible : intangible deliverables (in and out) per node; NaN with no intangible."""
        tangible = (self.tangible_in + self.tangible_out).astype(np.float64)
        intangible = (self.intangible_in + self.intangible_out).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(intangible > 0, tangible / np.maximum(intangible, 1), np.nan)

    def columns(self) -> dict[str, Any]:
        """Every per-node column of the three analyses, by name."""
        cols: dict[str, Any] = {
            "kind": self.node_kinds,
            "name": self.node_names,
            "deliverables_in": self.deliverables_in,
            "deliverables_out": self.deliverables_out,
            "tangible_in": self.tangible_in,
            "tangible_out": self.tangible_out,
            "intangible_in": self.intangible_in,
            "intangible_out": self.intangible_out,
            "tangible_ratio": self.tangible_ratio,
            "partners": self.partners,
            "reciprocity": self.reciprocity,
            "transactions": self.transactions,
            "overburdened": self.overburdened,
            "perceived_received": self.perceived_received,
            "value_received": self.value_received,
            "cost_sent": self.cost_sent,
            "covers_cost": self.covers_cost,
        }
        for k, asset in enumerate(ASSET_KINDS):
            cols[f"impact_{asset}"] = self.impact_received[:, k]
        cols |= {
            "value_delivered": self.value_delivered,
            "perceived_delivered": self.perceived_delivered,
            "outside": self.outside,
            "outside_outputs": self.outside_outputs,
            "outside_value": self.outside_value,
            "outside_perceived": self.outside_perceived,
        }
        return cols

    def to_pandas(self) -> Any:
        """One row per node (index: node id): the :meth:`columns`."""
        return frame(self.columns(), self.node_ids, "node")

    def inputs_frame(self) -> Any:
        """Impact analysis, one row per input (exchange), in the snapshot's order."""
        ids = self.node_ids
        cols: dict[str, Any] = {
            "deliverable": self.deliverables,
            "from": [ids[v] for v in self.exchange_source.tolist()],
            "to": [ids[v] for v in self.exchange_target.tolist()],
            "kind": np.where(self.tangible, "tangible", "intangible"),
            "perceived_value": self.perceived_value,
        }
        for k, asset in enumerate(ASSET_KINDS):
            cols[asset] = self.impact[:, k]
        cols |= {"annual_value": self.annual_value, "annual_cost": self.annual_cost}
        return frame(cols, None).rename_axis("exchange")

    def one_way(self) -> list[tuple[str, str]]:
        """Ordered pairs ``(a, b)`` with flows ``a -> b`` and none back."""
        ids = self.node_ids
        return [
            (ids[a], ids[b])
            for a, b in zip(self.one_way_source.tolist(), self.one_way_target.tolist(), strict=True)
        ]

    def missing_links(self) -> list[tuple[str, str, int]]:
        """``(role, role, shared partners)``, most shared first."""
        ids = self.node_ids
        return [
            (ids[a], ids[b], s)
            for a, b, s in zip(
                self.missing_a.tolist(),
                self.missing_b.tolist(),
                self.missing_shared.tolist(),
                strict=True,
            )
        ]

    def to_json(self) -> dict[str, Any]:
        columns = {k: jsonable(v) for k, v in self.columns().items()}
        result: dict[str, Any] = jsonable(
            {
                "currency": self.currency,
                "nodes": {
                    node: {k: values[i] for k, values in columns.items()}
                    for i, node in enumerate(self.node_ids)
                },
                "overburden_threshold": self.overburden_threshold,
                "degree_variance": self.degree_variance,
                "degree_cv": self.degree_cv,
                "one_way": [list(p) for p in self.one_way()],
                "missing_links": [list(m) for m in self.missing_links()],
                "agility": self.agility,
                "agility_reachable": self.agility_reachable,
                "agility_sources": self.agility_sources,
                "agility_exact": self.agility_exact,
            }
        )
        return result


def _count(where: npt.NDArray[np.int32], n: int, mask: Bool | None = None) -> Int:
    w = where if mask is None else where[mask]
    return np.bincount(w, minlength=n).astype(np.int32)


def _sum(where: npt.NDArray[np.int32], n: int, values: Float) -> Float:
    ok = np.isfinite(values)
    return np.bincount(where[ok], weights=values[ok], minlength=n).astype(np.float64)


def _missing_links(
    adjacency: sp.csr_array, edges: npt.NDArray[np.int64], n_roles: int, top: int
) -> tuple[Int, Int, Int]:
    """Top pairs of roles with no direct exchange, by shared partners.

    ``A_roles A_roles^T`` a block of rows at a time, keeping only the pairs
    that can still enter the top (a running threshold), so memory stays at
    one block however many roles there are.
    """
    empty = np.zeros(0, np.int32)
    if top <= 0 or n_roles < 2:
        return empty, empty, empty
    n = adjacency.shape[0]
    roles = adjacency[:n_roles]
    roles_t = roles.T.tocsr()
    best_a, best_b, best_s = empty, empty, empty
    threshold = 1
    chunk = max(1, 2_000_000 // n_roles)
    for lo in range(0, n_roles, chunk):
        hi = min(n_roles, lo + chunk)
        shared = roles[lo:hi] @ roles_t
        s = np.rint(shared.data).astype(np.int64)
        a = np.repeat(np.arange(lo, hi, dtype=np.int64), np.diff(shared.indptr))
        b = shared.indices.astype(np.int64)
        keep = (s >= threshold) & (a < b)
        a, b, s = a[keep], b[keep], s[keep]
        key = a * n + b
        at = np.minimum(np.searchsorted(edges, key), max(len(edges) - 1, 0))
        direct = edges[at] == key if len(edges) else np.zeros(len(key), np.bool_)
        a = np.concatenate([best_a, a[~direct]])
        b = np.concatenate([best_b, b[~direct]])
        s = np.concatenate([best_s, s[~direct]])
        order = np.lexsort((b, a, -s))[:top]
        best_a, best_b, best_s = (x[order].astype(np.int32) for x in (a, b, s))
        if len(best_s) == top:
            threshold = int(best_s[-1])
    return best_a, best_b, best_s


def _agility(adjacency: sp.csr_array, active: Bool, sources: int) -> tuple[float, float, int, bool]:
    """Mean distance between active nodes that reach each other, share reachable, sources."""
    nodes = np.flatnonzero(active)
    k = len(nodes)
    if k < 2:
        return float("nan"), float("nan"), 0, True
    exact = k <= _EXACT_AGILITY
    if exact:
        chosen = nodes
    else:
        chosen = np.sort(
            np.random.default_rng(0).choice(nodes, size=min(sources, k), replace=False)
        )
    total = 0.0
    reached = 0
    for lo in range(0, len(chosen), 32):
        batch = chosen[lo : lo + 32]
        dist = shortest_path(adjacency, directed=False, unweighted=True, indices=batch)
        dist = dist[:, nodes]
        ok = np.isfinite(dist) & (dist > 0)
        total += float(dist[ok].sum())
        reached += int(ok.sum())
    pairs = len(chosen) * (k - 1)
    mean = total / reached if reached else float("nan")
    return mean, reached / pairs, len(chosen), exact


def value_network(
    snapshot: Snapshot,
    *,
    currency: str | None = None,
    missing_top: int = 20,
    agility_sources: int = 128,
) -> ValueNetwork:
    """Exchange, impact and value creation analysis of the value network (Allee).

    Parameters
    ----------
    snapshot
        The ecosystem; it needs at least one exchange.
    currency
        The ecosystem currency (``None``: the one most valued exchanges name);
        money values and costs in other currencies are left out.
    missing_top
        How many missing links to keep.
    agility_sources
        Sources sampled for agility when more than 1,000 nodes exchange.

    Examples
    --------
    >>> import glia
    >>> from glia.store import snapshot_of
    >>> vna = value_network(snapshot_of(glia.read("examples/northbridge.yaml")))
    >>> vna.node_ids[int(vna.transactions.argmax())]
    'integrator'
    """
    n_ex = len(snapshot.exchange_source)
    if n_ex == 0:
        raise AnalysisError(
            "no exchanges: value network analysis needs at least one exchange between roles "
            "or participants"
        )
    nodes = _nodes(snapshot)
    n, src, dst = nodes.n, nodes.source, nodes.target
    tangible = snapshot.exchange_kind == snapshot.exchange_kinds.index("tangible")

    # -- exchange analysis ------------------------------------------------------------------
    d_in, d_out = _count(dst, n), _count(src, n)
    transactions = d_in + d_out
    arcs = np.unique(src.astype(np.int64) * n + dst)
    a, b = arcs // n, arcs % n
    back = np.isin(b * n + a, arcs)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    edges, first = np.unique(lo * n + hi, return_index=True)
    eu, ev = (edges // n).astype(np.int32), (edges % n).astype(np.int32)
    mutual = back[first]
    partners = (np.bincount(eu, minlength=n) + np.bincount(ev, minlength=n)).astype(np.int32)
    both = (np.bincount(eu[mutual], minlength=n) + np.bincount(ev[mutual], minlength=n)).astype(
        np.float64
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        reciprocity = np.where(partners > 0, both / np.maximum(partners, 1), np.nan)
    active = transactions > 0
    t_active = transactions[active].astype(np.float64)
    threshold = float(t_active.mean() + t_active.std())
    degree = partners.astype(np.float64)
    mean_degree = float(degree.mean())
    variance = float(degree.var())
    cv = float(np.sqrt(variance) / mean_degree) if mean_degree > 0 else float("nan")
    adjacency = sp.csr_array(
        (np.ones(2 * len(eu)), (np.concatenate([eu, ev]), np.concatenate([ev, eu]))),
        shape=(n, n),
    )
    missing = _missing_links(adjacency, edges, nodes.n_roles, missing_top)
    agility = _agility(adjacency, active, agility_sources)

    # -- impact analysis ------------------------------------------------------------------
    value = np.asarray(snapshot.exchange_value, dtype=np.float64)
    cost = np.asarray(snapshot.exchange_cost, dtype=np.float64)
    currency, in_currency, _ = _currency_mask(snapshot, np.isfinite(value), currency)
    # a cost is in the exchange's currency: the ecosystem's, or none named
    _, same, _ = _currency_mask(snapshot, np.ones(n_ex, np.bool_), currency)
    annual_value = np.where(in_currency, _annual(snapshot, value), np.nan)
    annual_cost = np.where(same & np.isfinite(cost), _annual(snapshot, cost), np.nan)
    perceived = np.asarray(snapshot.exchange_perceived_value, dtype=np.float64)
    impact = np.asarray(snapshot.exchange_impact, dtype=np.float64).reshape(n_ex, 4)
    value_received = _sum(dst, n, annual_value)
    cost_sent = _sum(src, n, annual_cost)
    impact_received = np.stack([_sum(dst, n, impact[:, k]) for k in range(4)], axis=1)

    # -- value creation ------------------------------------------------------------------
    goes_out = nodes.outside[dst]
    return ValueNetwork(
        node_ids=nodes.ids,
        node_kinds=nodes.kinds,
        node_names=nodes.names,
        currency=currency,
        deliverables_in=d_in,
        deliverables_out=d_out,
        tangible_in=_count(dst, n, tangible),
        tangible_out=_count(src, n, tangible),
        intangible_in=_count(dst, n, ~tangible),
        intangible_out=_count(src, n, ~tangible),
        partners=partners,
        reciprocity=reciprocity,
        transactions=transactions.astype(np.int32),
        overburdened=transactions > threshold,
        overburden_threshold=threshold,
        degree_variance=variance,
        degree_cv=cv,
        one_way_source=a[~back].astype(np.int32),
        one_way_target=b[~back].astype(np.int32),
        missing_a=missing[0],
        missing_b=missing[1],
        missing_shared=missing[2],
        agility=agility[0],
        agility_reachable=agility[1],
        agility_sources=agility[2],
        agility_exact=agility[3],
        exchange_source=src,
        exchange_target=dst,
        deliverables=snapshot.exchange_deliverable,
        tangible=tangible,
        perceived_value=perceived,
        impact=impact,
        annual_value=annual_value,
        annual_cost=annual_cost,
        perceived_received=_sum(dst, n, perceived),
        value_received=value_received,
        cost_sent=cost_sent,
        covers_cost=value_received >= cost_sent,
        impact_received=impact_received,
        value_delivered=_sum(src, n, annual_value),
        perceived_delivered=_sum(src, n, perceived),
        outside=nodes.outside,
        outside_outputs=_count(src, n, goes_out),
        outside_value=_sum(src[goes_out], n, annual_value[goes_out]),
        outside_perceived=_sum(src[goes_out], n, perceived[goes_out]),
    )
