"""What if someone left: lost connectivity, flows, capabilities and needs; single points of failure.

:func:`remove` takes participants (or a whole cluster) out of the ecosystem
and reports what goes with them:

- **connectivity**, on the combined layer (formal and informal ties, either
  direction): the pairs of *remaining* participants that were connected (by
  some path) before and are not after, their share of the remaining pairs
  that were connected, and the number of connected components before and
  after (isolated participants count as components);
- **flows**: the exchanges that touch the removed (an endpoint is a removed
  participant, or a role one of them plays), those lost outright (an
  endpoint has no one left: the participant, or every player of the role),
  and the annual money that touched them (the money matrix of
  :func:`glia.analysis.flows.money_flows`, roles split equally among
  players);
- **capabilities** no one else covers: for each capability a removed
  participant holds, the best level among the removed and among those
  left (0: none); it is uncovered at level ``L`` when the removed reached
  ``L`` and no one left does;
- **needs** of opportunities that become unmeetable: a need (capability,
  level, count) is met when at least ``count`` participants hold the
  capability at ``level`` or above (anyone, the client included: Glia's
  rule here, the swarm decides who may staff); the needs met before and
  not after, and the opportunities whose client was removed.

:func:`single_points_of_failure` ranks the participants whose departure
alone would do the most harm: articulation points of the combined layer by
the pairs of remaining participants they disconnect, then sole holders of
capabilities. The disconnected pairs of *every* participant come from one
block-cut tree (:func:`disconnected_pairs`), not from re-running components
once per participant: blocks from networkit's ``BiconnectedComponents``
(Tarjan 1972; Hopcroft and Tarjan 1973), subtree sizes of the tree by one sparse
triangular solve. If removing ``v`` splits its component (``S`` members)
into pieces of sizes ``s_1 .. s_k`` (summing to ``S - 1``), it disconnects
``sum_{a<b} s_a s_b = ((S-1)^2 - sum s_a^2) / 2`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scipy.sparse.linalg import spsolve_triangular

from ..graph import Layer, Multiplex, endpoints
from ._common import AnalysisError, frame, jsonable
from .flows import MoneyFlows, money_flows

__all__ = [
    "Failures",
    "Removal",
    "disconnected_pairs",
    "remove",
    "single_points_of_failure",
]

Int = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


def _pairs(sizes: I64) -> int:
    s = sizes.astype(np.int64)
    return int((s * (s - 1) // 2).sum())


def _components(layer: Layer) -> tuple[int, I64]:
    """Number of connected components of ``layer`` (isolated nodes too) and each node's."""
    import networkit as nk

    if layer.n == 0:
        return 0, np.zeros(0, np.int64)
    found = nk.components.ConnectedComponents(layer.networkit())
    found.run()
    labels = np.asarray(found.getPartition().getVector(), dtype=np.int64)
    return int(found.numberOfComponents()), labels


def _components_without(layer: Layer, keep: Bool) -> tuple[int, I64]:
    """Components and their sizes among the nodes in ``keep``, ties to others dropped."""
    k = int(keep.sum())
    if k == 0:
        return 0, np.zeros(0, np.int64)
    ok = keep[layer.edge_u] & keep[layer.edge_v]
    renumber = np.cumsum(keep) - 1
    u, v = renumber[layer.edge_u[ok]], renumber[layer.edge_v[ok]]
    # each edge once (u < v): weak components of these arcs are the components
    m = sp.csr_array((np.ones(len(u), dtype=np.int8), (u, v)), shape=(k, k))
    count, labels = connected_components(m, directed=True, connection="weak")
    return int(count), np.bincount(labels, minlength=count).astype(np.int64)


# -- single points of failure -------------------------------------------------------------
def disconnected_pairs(layer: Layer) -> tuple[I64, Bool]:
    """For each node: pairs of other nodes it alone keeps connected, and whether it is a cut node.

    ``lost[v]`` is the number of unordered pairs of nodes other than ``v``
    that are connected in ``layer`` (its edges, direction ignored) and would
    not be without ``v``; nonzero exactly at articulation points. Linear in
    nodes and edges: one biconnected decomposition (networkit), one
    block-cut tree, one sparse triangular solve for its subtree sizes.
    """
    import networkit as nk

    n = layer.n
    lost = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=np.bool_)
    if layer.n_edges == 0:
        return lost, cut
    bcc = nk.components.BiconnectedComponents(layer.networkit())
    bcc.run()
    blocks = bcc.getComponents()
    sizes = np.fromiter((len(b) for b in blocks), dtype=np.int64, count=len(blocks))
    members = np.fromiter((v for b in blocks for v in b), dtype=np.int64, count=int(sizes.sum()))
    block_of = np.repeat(np.arange(len(blocks), dtype=np.int64), sizes)
    count = np.bincount(members, minlength=n)
    cut = count >= 2
    n_blocks = len(blocks)
    cut_ids = np.flatnonzero(cut)
    if len(cut_ids) == 0:
        return lost, cut
    # block-cut tree: blocks 0..b-1, cut nodes b..b+c-1, a super-root b+c joined to
    # one block of each tree so one breadth-first search orders the whole forest
    tree_id = np.full(n, -1, dtype=np.int64)
    tree_id[cut_ids] = n_blocks + np.arange(len(cut_ids))
    on_cut = cut[members]
    t_block, t_cut = block_of[on_cut], tree_id[members[on_cut]]
    size = n_blocks + len(cut_ids) + 1
    root = size - 1
    weight = np.zeros(size, dtype=np.float64)
    weight[:n_blocks] = np.bincount(block_of[~on_cut], minlength=n_blocks)
    weight[n_blocks:root] = 1.0
    forest = sp.csr_array((np.ones(len(t_block)), (t_block, t_cut)), shape=(size, size))
    n_trees, tree_of = connected_components(forest[:root, :root], directed=False)
    # every tree holds a block (a cut node joins two); the first one roots it
    _, first = np.unique(tree_of[:n_blocks], return_index=True)
    first_block = first.astype(np.int64)
    rows = np.concatenate([t_block, t_cut, np.full(n_trees, root), first_block])
    cols = np.concatenate([t_cut, t_block, first_block, np.full(n_trees, root)])
    graph = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    order, parent = breadth_first_order(graph, root, directed=False, return_predecessors=True)
    # subtree weights: sub = weight + sum of the children's sub; in BFS order the
    # system (I - children) sub = weight is upper triangular
    position = np.empty(size, dtype=np.int64)
    position[order] = np.arange(size)
    child = np.flatnonzero(parent >= 0)
    tri = sp.csr_array(
        (
            np.concatenate([np.ones(size), -np.ones(len(child))]),
            (
                np.concatenate([np.arange(size), position[parent[child]]]),
                np.concatenate([np.arange(size), position[child]]),
            ),
        ),
        shape=(size, size),
    )
    sub_pos = spsolve_triangular(tri, weight[order], lower=False)
    sub = np.rint(np.asarray(sub_pos)[position]).astype(np.int64)
    # pieces left when a cut node goes: its children's subtrees and the rest of its tree
    tree_total = sub[first_block]
    cut_nodes = np.arange(n_blocks, root)
    children = child[(parent[child] >= n_blocks) & (parent[child] < root)]
    squares = np.bincount(
        parent[children] - n_blocks,
        weights=sub[children].astype(np.float64) ** 2,
        minlength=len(cut_ids),
    )
    total = tree_total[tree_of[cut_nodes]]
    rest = total - sub[cut_nodes]
    squares = squares + rest.astype(np.float64) ** 2
    others = (total - 1).astype(np.float64)
    lost[cut_ids] = np.rint((others**2 - squares) / 2).astype(np.int64)
    return lost, cut


@dataclass(frozen=True, eq=False)
class Failures:
    """Participants whose departure alone does the most harm, ranked.

    Every participant: ``lost_pairs`` (pairs of others it alone keeps
    connected on the combined layer), ``articulation``, ``sole`` (the
    capabilities it alone holds, at any level). ``ranked``: participant
    numbers of the ``top`` worst, by lost pairs, then sole capabilities,
    then participant order; only those with something to lose.
    """

    participant_ids: list[str]
    lost_pairs: I64
    articulation: Bool
    sole: list[list[str]]
    connected_pairs: int
    ranked: I64

    def to_pandas(self) -> Any:
        r = self.ranked
        pairs = self.connected_pairs
        share = self.lost_pairs[r] / pairs if pairs else np.full(len(r), np.nan)
        return frame(
            {
                "lost_pairs": self.lost_pairs[r],
                "lost_share": share,
                "articulation": self.articulation[r],
                "sole_capabilities": [self.sole[i] for i in r.tolist()],
            },
            [self.participant_ids[i] for i in r.tolist()],
            "participant",
        )

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(
            {
                "connected_pairs": self.connected_pairs,
                "ranked": [
                    {
                        "participant": self.participant_ids[i],
                        "lost_pairs": self.lost_pairs[i],
                        "articulation": self.articulation[i],
                        "sole_capabilities": self.sole[i],
                    }
                    for i in self.ranked.tolist()
                ],
            }
        )
        return result


def _sole_holders(multiplex: Multiplex) -> list[list[str]]:
    s = multiplex.snapshot
    pairs = np.unique(
        s.holder_capability.astype(np.int64) * max(1, s.n_participants) + s.holder_participant
    )
    cap, who = pairs // max(1, s.n_participants), pairs % max(1, s.n_participants)
    holders = np.bincount(cap, minlength=len(s.capabilities))
    alone = holders[cap] == 1
    sole: list[list[str]] = [[] for _ in range(s.n_participants)]
    for c, p in zip(cap[alone].tolist(), who[alone].tolist(), strict=True):
        sole[p].append(s.capabilities[c])
    for names in sole:
        names.sort()
    return sole


def single_points_of_failure(multiplex: Multiplex, top: int = 10) -> Failures:
    """The ``top`` participants whose departure alone disconnects the most, or loses a capability.

    Examples
    --------
    >>> import glia
    >>> from glia.graph import build
    >>> from glia.store import snapshot_of
    >>> mx = build(snapshot_of(glia.read("examples/northbridge.yaml")))
    >>> spof = single_points_of_failure(mx, top=3)
    >>> len(spof.ranked) <= 3
    True
    """
    if not isinstance(top, int | np.integer) or top < 0:
        raise AnalysisError(f"top must be a whole number, 0 or more, not {top}")
    layer = multiplex.combined
    lost, cut = disconnected_pairs(layer)
    sole = _sole_holders(multiplex)
    n_sole = np.fromiter((len(x) for x in sole), dtype=np.int64, count=len(sole))
    count, labels = _components(layer)
    sizes = np.bincount(labels, minlength=count)
    candidates = np.flatnonzero((lost > 0) | (n_sole > 0))
    order = np.lexsort((candidates, -n_sole[candidates], -lost[candidates]))
    return Failures(
        participant_ids=multiplex.ids,
        lost_pairs=lost,
        articulation=cut,
        sole=sole,
        connected_pairs=_pairs(sizes),
        ranked=candidates[order][: int(top)].astype(np.int64),
    )


# -- removal ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Removal:
    """What goes when ``removed`` leave (see the module's notes).

    Connectivity: ``pairs_before`` (pairs of remaining participants connected
    before), ``pairs_after``, ``lost_pairs`` = before - after, ``lost_share``;
    ``components_before`` (all participants) and ``components_after``
    (remaining). Flows: ``exchanges_touched``, ``exchanges_lost`` (exchange
    numbers), ``money_lost`` (annual), ``money_share`` (of the total).
    Capabilities: one entry per capability a removed participant holds,
    ``capabilities`` (names), ``capability_removed_level`` and
    ``capability_remaining_level`` (best level, 0: none). Needs met before
    and not after, one entry each: ``need_opportunity`` (opportunity
    number), ``need_capability``, ``need_level``, ``need_count``,
    ``need_holders_before``, ``need_holders_after``. ``clients_removed``:
    opportunity numbers whose client left.
    """

    participant_ids: list[str]
    removed: I64
    pairs_before: int
    pairs_after: int
    components_before: int
    components_after: int
    exchanges_touched: I64
    exchanges_lost: I64
    money_lost: float
    money_total: float
    currency: str | None
    capabilities: list[str]
    capability_removed_level: npt.NDArray[np.int8]
    capability_remaining_level: npt.NDArray[np.int8]
    opportunity_ids: list[str]
    need_opportunity: I64
    need_capability: list[str]
    need_level: I64
    need_count: I64
    need_holders_before: I64
    need_holders_after: I64
    clients_removed: I64

    @property
    def lost_pairs(self) -> int:
        return self.pairs_before - self.pairs_after

    @property
    def lost_share(self) -> float:
        return self.lost_pairs / self.pairs_before if self.pairs_before else float("nan")

    @property
    def money_share(self) -> float:
        return self.money_lost / self.money_total if self.money_total else float("nan")

    @property
    def uncovered(self) -> list[str]:
        """Capabilities no one left holds at any level."""
        return self.uncovered_at(1)

    def uncovered_at(self, level: int) -> list[str]:
        """Capabilities the removed held at ``level`` or above and no one left does."""
        gone = (self.capability_removed_level >= level) & (self.capability_remaining_level < level)
        return [c for c, g in zip(self.capabilities, gone.tolist(), strict=True) if g]

    def capabilities_frame(self) -> Any:
        return frame(
            {
                "removed_level": self.capability_removed_level,
                "remaining_level": self.capability_remaining_level,
            },
            self.capabilities,
            "capability",
        )

    def needs(self) -> dict[str, Any]:
        """The needs that become unmeetable, as columns."""
        return {
            "opportunity": [self.opportunity_ids[o] for o in self.need_opportunity.tolist()],
            "capability": self.need_capability,
            "level": self.need_level,
            "count": self.need_count,
            "holders_before": self.need_holders_before,
            "holders_after": self.need_holders_after,
        }

    def needs_frame(self) -> Any:
        return frame(self.needs())

    def to_pandas(self) -> Any:
        """The capabilities table (the richest part); see also :meth:`needs_frame`."""
        return self.capabilities_frame()

    def to_json(self) -> dict[str, Any]:
        needs = {k: jsonable(v) for k, v in self.needs().items()}
        result: dict[str, Any] = jsonable(
            {
                "removed": [self.participant_ids[i] for i in self.removed.tolist()],
                "connectivity": {
                    "pairs_before": self.pairs_before,
                    "pairs_after": self.pairs_after,
                    "lost_pairs": self.lost_pairs,
                    "lost_share": self.lost_share,
                    "components_before": self.components_before,
                    "components_after": self.components_after,
                },
                "flows": {
                    "exchanges_touched": len(self.exchanges_touched),
                    "exchanges_lost": len(self.exchanges_lost),
                    "money_lost": self.money_lost,
                    "money_share": self.money_share,
                    "currency": self.currency,
                },
                "capabilities": {
                    c: {"removed_level": r, "remaining_level": k}
                    for c, r, k in zip(
                        self.capabilities,
                        self.capability_removed_level.tolist(),
                        self.capability_remaining_level.tolist(),
                        strict=True,
                    )
                },
                "uncovered": self.uncovered,
                "unmet_needs": [
                    dict(zip(needs, row, strict=True)) for row in zip(*needs.values(), strict=True)
                ],
                "clients_removed": [self.opportunity_ids[o] for o in self.clients_removed.tolist()],
            }
        )
        return result


def _who(multiplex: Multiplex, participants: Sequence[str] | None, cluster: str | None) -> I64:
    s = multiplex.snapshot
    chosen: list[int] = []
    if participants is not None:
        if isinstance(participants, str):
            participants = [participants]
        index = multiplex.index
        unknown = [p for p in participants if p not in index]
        if unknown:
            raise AnalysisError(
                f"unknown participant {', '.join(map(repr, unknown))}: expected ids of "
                f"participants of {s.ecosystem!r}"
            )
        chosen.extend(index[p] for p in participants)
    if cluster is not None:
        if cluster not in s.cluster_ids:
            known = ", ".join(s.cluster_ids[:20]) or "none"
            raise AnalysisError(f"unknown cluster {cluster!r}: expected one of {known}")
        c = s.cluster_ids.index(cluster)
        chosen.extend(s.member_participant[s.member_cluster == c].tolist())
    if participants is None and cluster is None:
        raise AnalysisError("nothing to remove: give participants=[...] or cluster=...")
    return np.unique(np.asarray(chosen, dtype=np.int64))


def _best_level(s: Any, mask: Bool) -> npt.NDArray[np.int8]:
    """Best level of each capability among the holders in ``mask`` (0: none)."""
    best = np.zeros(len(s.capabilities), dtype=np.int8)
    keep = mask[s.holder_participant] if len(s.holder_participant) else np.zeros(0, np.bool_)
    np.maximum.at(best, s.holder_capability[keep], s.holder_level[keep])
    return best


def _holders_at(s: Any, mask: Bool) -> I64:
    """``counts[c, L]``: participants in ``mask`` holding capability ``c`` at level >= L (0..5)."""
    counts = np.zeros((len(s.capabilities), 7), dtype=np.int64)
    keep = mask[s.holder_participant] if len(s.holder_participant) else np.zeros(0, np.bool_)
    np.add.at(counts, (s.holder_capability[keep], s.holder_level[keep].astype(np.int64)), 1)
    return np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]


def remove(
    multiplex: Multiplex,
    participants: Sequence[str] | None = None,
    *,
    cluster: str | None = None,
    flows: MoneyFlows | None = None,
) -> Removal:
    """What the ecosystem loses if ``participants`` (or the members of ``cluster``) leave.

    Parameters
    ----------
    multiplex
        The ecosystem's layers.
    participants, cluster
        Who leaves: participant ids, the members of a cluster, or both.
    flows
        Money flows already computed (else :func:`~glia.analysis.flows.money_flows`).

    Examples
    --------
    >>> import glia
    >>> from glia.graph import build
    >>> from glia.store import snapshot_of
    >>> mx = build(snapshot_of(glia.read("examples/northbridge.yaml")))
    >>> r = remove(mx, ["nrda"])
    >>> r.components_after >= r.components_before
    True
    """
    s = multiplex.snapshot
    gone = _who(multiplex, participants, cluster)
    n = multiplex.n
    left = np.ones(n, dtype=np.bool_)
    left[gone] = False
    is_gone = ~left

    # connectivity among those left
    layer = multiplex.combined
    count_before, labels = _components(layer)
    remaining_sizes = np.bincount(labels[left], minlength=count_before)
    count_after, sizes_after = _components_without(layer, left)

    # flows
    ex_s, who_s = endpoints(s, s.exchange_source_kind, s.exchange_source)
    ex_t, who_t = endpoints(s, s.exchange_target_kind, s.exchange_target)
    n_ex = len(s.exchange_source)
    touched = np.zeros(n_ex, dtype=np.bool_)
    touched[ex_s[is_gone[who_s]]] = True
    touched[ex_t[is_gone[who_t]]] = True
    alive_s = np.bincount(ex_s[left[who_s]], minlength=n_ex)
    alive_t = np.bincount(ex_t[left[who_t]], minlength=n_ex)
    lost_ex = touched & ((alive_s == 0) | (alive_t == 0))
    if flows is None:
        flows = money_flows(s)
    coo = flows.matrix.tocoo()
    money_lost = float(coo.data[is_gone[coo.row] | is_gone[coo.col]].sum())

    # capabilities
    removed_level = _best_level(s, is_gone)
    remaining_level = _best_level(s, left)
    held = np.flatnonzero(removed_level > 0)

    # needs
    before = _holders_at(s, np.ones(n, dtype=np.bool_))
    after = _holders_at(s, left)
    nc, nl = s.need_capability.astype(np.int64), np.clip(s.need_level.astype(np.int64), 0, 6)
    count = s.need_count.astype(np.int64)
    h_before, h_after = before[nc, nl], after[nc, nl]
    unmet = np.flatnonzero((h_before >= count) & (h_after < count))
    clients = (
        np.flatnonzero(is_gone[s.opportunity_client])
        if len(s.opportunity_client)
        else (np.zeros(0, np.int64))
    )
    return Removal(
        participant_ids=multiplex.ids,
        removed=gone,
        pairs_before=_pairs(remaining_sizes),
        pairs_after=_pairs(sizes_after),
        components_before=count_before,
        components_after=count_after,
        exchanges_touched=np.flatnonzero(touched).astype(np.int64),
        exchanges_lost=np.flatnonzero(lost_ex).astype(np.int64),
        money_lost=money_lost,
        money_total=flows.tst,
        currency=flows.currency,
        capabilities=[s.capabilities[c] for c in held.tolist()],
        capability_removed_level=removed_level[held],
        capability_remaining_level=remaining_level[held],
        opportunity_ids=s.opportunity_ids,
        need_opportunity=s.need_opportunity[unmet].astype(np.int64),
        need_capability=[s.capabilities[c] for c in nc[unmet].tolist()],
        need_level=nl[unmet],
        need_count=count[unmet],
        need_holders_before=h_before[unmet],
        need_holders_after=h_after[unmet],
        clients_removed=clients.astype(np.int64),
    )
