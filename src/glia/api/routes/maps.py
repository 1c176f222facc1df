"""Routes: the map (participants placed, ties and exchanges, clusters) and its participants.

``GET /ecosystems/{ecosystem}/map`` answers everything the web map draws in one
document: each participant with its position, clusters and three measures,
every tie (formal, informal) and every exchange carried onto participants.
Positions are computed here, on the server, so that the browser draws the
first frame without running a layout (see :func:`layout`).

Everything here is the ecosystem's common picture: ``guard.require("read",
eco, "map")``.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from scipy.sparse import csgraph

from ...store import Snapshot, Store, UnknownEcosystem
from .._deps import CurrentGuard
from .._pages import Page, PageQuery, paginate
from .._problems import ApiProblem

__all__ = [
    "MEASURES",
    "ClusterOut",
    "MapData",
    "MapOut",
    "ParticipantDetail",
    "ParticipantOut",
    "layout",
    "map_data",
    "participant_detail",
    "router",
]

router = APIRouter(tags=["map"])

#: Measures of the combined layer sent with each node (``Size by`` in the web map).
MEASURES = ("degree", "betweenness", "eigenvector")

Layer = Literal["formal", "informal", "exchange"]
Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]


# -- response models --------------------------------------------------------------------
class MapNode(BaseModel):
    id: str
    label: str = Field(description="The participant's name, or its id when it has none")
    kind: str = Field(description="person or organization")
    clusters: list[str] = Field(description="Ids of every cluster it belongs to, in order")
    cluster_kind: str | None = Field(
        description="Kind of its main cluster (its first cluster that is not regional, "
        "else its first): what the map colours it by; null when in no cluster"
    )
    region: str | None
    x: float
    y: float
    measures: dict[str, float | None] = Field(
        description="degree, betweenness and eigenvector centrality on the combined layer"
    )


class MapEdge(BaseModel):
    source: str
    target: str
    layer: Layer
    type: str | None = Field(
        description="The tie's type, or for an exchange its type (goods, service...) "
        "or kind (tangible, intangible)"
    )
    weight: float


class ClusterRef(BaseModel):
    id: str
    name: str | None
    kind: str | None


class MapOut(BaseModel):
    """The map: participants placed on the plane, their ties and exchanges."""

    nodes: list[MapNode]
    edges: list[MapEdge] = Field(
        description="One per tie (self-ties left out) and one per pair of participants an "
        "exchange links (a role's exchange links each of its players)"
    )
    clusters: list[ClusterRef]
    measures: list[str]


class ParticipantOut(BaseModel):
    id: str
    name: str | None
    label: str
    kind: str
    region: str | None
    clusters: list[str]
    cluster_kind: str | None


class ClusterOut(BaseModel):
    id: str
    name: str | None
    kind: str | None
    members: int


class CapabilityOut(BaseModel):
    name: str
    level: int


class TieOut(BaseModel):
    other: str = Field(description="The participant at the other end")
    other_label: str
    layer: Layer
    type: str | None
    weight: float
    direction: Literal["out", "in", "both"] = Field(
        description="out: from this participant; in: towards it; both: undirected"
    )


class ParticipantDetail(BaseModel):
    id: str
    name: str | None
    label: str
    kind: str
    region: str | None
    clusters: list[ClusterRef]
    cluster_kind: str | None
    capabilities: list[CapabilityOut]
    capacity_hours_per_week: float | None
    rate_per_hour: float | None
    capital_available: float | None
    ties: list[TieOut]
    measures: dict[str, float | None]


# -- the cached map ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MapData:
    """One ecosystem's map, computed once per import (see :func:`map_data`)."""

    snapshot: Snapshot
    index: dict[str, int]
    labels: list[str]
    cluster_names: dict[str, str | None]
    cluster_kinds: list[str]  # per cluster of the snapshot
    main_cluster: Int  # per participant: the cluster it is coloured by, -1 none
    memberships: list[list[int]]  # per participant: cluster numbers, in order
    measures: dict[str, Float]
    x: Float
    y: Float
    edge_source: Int
    edge_target: Int
    edge_layer: list[str]
    edge_type: list[str | None]
    edge_weight: Float
    edge_directed: npt.NDArray[np.bool_]
    body: bytes  # the MapOut document, JSON
    body_gzip: bytes
    seconds: float  # time taken to build it

    @property
    def n(self) -> int:
        return len(self.labels)

    def node(self, i: int) -> ParticipantOut:
        s = self.snapshot
        c = int(self.main_cluster[i])
        return ParticipantOut(
            id=s.participant_ids[i],
            name=s.participant_names[i],
            label=self.labels[i],
            kind=s.participant_kinds[int(s.participant_kind[i])],
            region=_region(s, i),
            clusters=[s.cluster_ids[k] for k in self.memberships[i]],
            cluster_kind=self.cluster_kinds[c] if c >= 0 else None,
        )


#: The largest map drawn: a browser shows no more, and the document would take
#: hundreds of megabytes (about 100 bytes an edge before compression).
MAX_NODES = 100_000
MAX_EDGES = 1_000_000

_CACHE: OrderedDict[tuple[str, int, Any], MapData] = OrderedDict()
_CACHE_SIZE = 8
_LOCK = threading.Lock()


def map_data(store: Store, ecosystem: str) -> MapData:
    """The map of ``ecosystem``, from the cache when the ecosystem has not changed.

    Why a cache: reading the snapshot, the measures, the positions and the
    document take about a second at 5,000 participants and 60,000 edges on
    the benchmark machine (a few seconds more the first time in a process, when
    networkit, and scikit-learn through it, are imported), while the map is the
    workspace's most opened page; a cached map is sent in milliseconds. What the map shows
    (participants, clusters, ties, exchanges) changes only when the ecosystem
    is imported again, which sets its ``updated_at``; the key is therefore
    (database, ecosystem id, ``updated_at``), so a new import is never served a
    stale map. At most :data:`_CACHE_SIZE` maps are kept (least recently used
    goes first); the lock makes concurrent first requests compute it once.
    """
    info = next((e for e in store.list() if e.name == ecosystem), None)
    if info is None:
        raise UnknownEcosystem(ecosystem, [])
    key = (store.url, info.id, info.updated_at)
    found = _CACHE.get(key)  # no lock: reading while another map is built
    if found is not None:
        return found
    participants = int(info.counts.get("participants", 0))
    ties = int(info.counts.get("ties", 0))
    if participants > MAX_NODES or ties > MAX_EDGES:
        raise ApiProblem(
            422,
            "Map too large",
            f"'{ecosystem}' has {participants:,} participants and {ties:,} ties; the map "
            f"draws up to {MAX_NODES:,} participants and {MAX_EDGES:,} ties (use the "
            "analysis, or export the graph with `glia export --format graphml`)",
            "map-too-large",
        )
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
        built = _build(store, ecosystem)
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return built


def _region(s: Snapshot, i: int) -> str | None:
    r = int(s.participant_region[i])
    return s.regions[r] if r >= 0 else None


def _number(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def _build(store: Store, ecosystem: str) -> MapData:
    from ...analysis._analyze import default_pivots
    from ...analysis.centrality import centrality
    from ...graph import build, exchange_pairs

    started = time.perf_counter()
    s = store.snapshot(ecosystem)
    names = {c["id"]: c.get("name") for c in store.summary(ecosystem).clusters}
    n = s.n_participants
    labels = [name or pid for pid, name in zip(s.participant_ids, s.participant_names, strict=True)]
    cluster_kinds = [s.cluster_kinds[k] if k >= 0 else "custom" for k in s.cluster_kind]

    memberships: list[list[int]] = [[] for _ in range(n)]
    for p, c in zip(s.member_participant.tolist(), s.member_cluster.tolist(), strict=True):
        if c not in memberships[p]:
            memberships[p].append(c)
    main = np.full(n, -1, dtype=np.int64)
    for p, cs in enumerate(memberships):
        if cs:
            main[p] = next((c for c in cs if cluster_kinds[c] != "regional"), cs[0])

    mx = build(s)
    measured: dict[str, Float] = {}
    if n:
        layer = mx.combined
        result = centrality(layer, pivots=default_pivots(layer.n_edges), seed=0)
        for name in MEASURES:
            measured[name] = np.asarray(getattr(result, name), dtype=np.float64)
    else:
        measured = {name: np.zeros(0) for name in MEASURES}

    # edges: every tie (not a self-tie), then every participant pair of an exchange
    keep = s.tie_source != s.tie_target
    t_src = s.tie_source[keep].astype(np.int64)
    t_dst = s.tie_target[keep].astype(np.int64)
    t_layer = [s.layers[k] for k in s.tie_layer[keep].tolist()]
    t_type = [s.tie_types[k] if k >= 0 else None for k in s.tie_type[keep].tolist()]
    t_weight = np.where(np.isfinite(s.tie_weight[keep]), s.tie_weight[keep], 1.0)
    ex, sender, receiver = exchange_pairs(s)
    pair = sender != receiver
    ex, sender, receiver = ex[pair], sender[pair].astype(np.int64), receiver[pair].astype(np.int64)
    x_type = [
        s.exchange_types[t] if t >= 0 else s.exchange_kinds[k]
        for t, k in zip(s.exchange_type[ex].tolist(), s.exchange_kind[ex].tolist(), strict=True)
    ]
    src = np.concatenate([t_src, sender])
    dst = np.concatenate([t_dst, receiver])
    layers = t_layer + ["exchange"] * len(ex)
    types = t_type + x_type
    weights = np.concatenate([t_weight, np.ones(len(ex))])

    x, y = layout(n, mx.combined.edge_u, mx.combined.edge_v, main)

    ids = s.participant_ids
    document = {
        "nodes": [
            {
                "id": ids[i],
                "label": labels[i],
                "kind": s.participant_kinds[int(s.participant_kind[i])],
                "clusters": [s.cluster_ids[c] for c in memberships[i]],
                "cluster_kind": cluster_kinds[main[i]] if main[i] >= 0 else None,
                "region": _region(s, i),
                "x": round(float(x[i]), 3),
                "y": round(float(y[i]), 3),
                "measures": {m: _number(measured[m][i]) for m in MEASURES},
            }
            for i in range(n)
        ],
        "edges": [
            {
                "source": ids[a],
                "target": ids[b],
                "layer": lay,
                "type": typ,
                "weight": float(w),
            }
            for a, b, lay, typ, w in zip(
                src.tolist(), dst.tolist(), layers, types, weights.tolist(), strict=True
            )
        ],
        "clusters": [
            {"id": c, "name": names.get(c), "kind": cluster_kinds[k]}
            for k, c in enumerate(s.cluster_ids)
        ],
        "measures": list(MEASURES),
    }
    # The document has MapOut's shape by construction (the tests validate it);
    # validating 60,000 edges through pydantic would double the build time.
    body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    return MapData(
        snapshot=s,
        index={pid: i for i, pid in enumerate(ids)},
        labels=labels,
        cluster_names=names,
        cluster_kinds=cluster_kinds,
        main_cluster=main,
        memberships=memberships,
        measures=measured,
        x=x,
        y=y,
        edge_source=src,
        edge_target=dst,
        edge_layer=layers,
        edge_type=types,
        edge_weight=weights,
        edge_directed=np.concatenate([s.tie_directed[keep], np.ones(len(ex), dtype=np.bool_)]),
        body=body,
        body_gzip=gzip.compress(body, compresslevel=5, mtime=0),
        seconds=time.perf_counter() - started,
    )


# -- layout -----------------------------------------------------------------------------
#: Most groups laid out as discs of their own; smaller ones share the last disc.
MAX_GROUPS = 200


def layout(
    n: int, u: npt.ArrayLike, v: npt.ArrayLike, group: npt.ArrayLike, seed: int = 0
) -> tuple[Float, Float]:
    """Positions of ``n`` nodes joined by edges ``u``-``v``, each cluster a disc of its own.

    Two levels, both linear or close to it, so 5,000 participants take tens of
    milliseconds (no force simulation, which costs seconds in NumPy):

    1. *Clusters.* Each group (``group[i]``: the node's main cluster, ``-1``
       none) is a disc of area proportional to its size. Discs are placed one
       by one, largest first and then the one with most ties to those placed,
       on the free spot touching a placed disc that is nearest to the discs it
       has ties with: clusters never overlap, and tied clusters are neighbours.
    2. *Inside a cluster.* Pivot MDS (Brandes and Pich 2006, "Eigensolver
       methods for progressive multidimensional scaling of large data") on the
       cluster's own ties: breadth-first distances from up to 32 pivots,
       double-centred, projected on the two leading eigenvectors. Radii are then
       evened out (a node keeps its angle and its rank in distance from the
       centre, and the disc is filled uniformly), and the disc is turned so that
       nodes tied to other clusters face them.

    Deterministic for given inputs and ``seed``.
    """
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    y = np.zeros(n)
    if n == 0:
        return x, y
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    raw = np.asarray(group, dtype=np.int64)
    # groups numbered 0..G-1 by size; the smallest beyond MAX_GROUPS share one
    _, g = np.unique(raw, return_inverse=True)
    sizes = np.bincount(g)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    g = np.minimum(rank[g], MAX_GROUPS - 1)
    n_groups = int(g.max()) + 1
    sizes = np.bincount(g, minlength=n_groups)
    radius = np.sqrt(sizes.astype(np.float64)) + 1.0

    gu, gv = g[u], g[v]
    cross = gu != gv
    affinity = np.zeros((n_groups, n_groups))
    np.add.at(affinity, (gu[cross], gv[cross]), 1.0)
    affinity += affinity.T
    centres = _place_discs(radius * 1.12 + 1.0, affinity)

    # direction from each node towards the clusters its outside ties go to
    pull = np.zeros((n, 2))
    for a, b in ((u[cross], v[cross]), (v[cross], u[cross])):
        d = centres[g[b]] - centres[g[a]]
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        np.add.at(pull, a, d)

    inner = u[~cross]
    inner_v = v[~cross]
    by_group = np.argsort(g, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    local = np.empty(n, dtype=np.int64)
    for k in range(n_groups):
        members = by_group[starts[k] : starts[k + 1]]
        local[members] = np.arange(len(members))
    edge_group = g[inner]
    edge_order = np.argsort(edge_group, kind="stable")
    edge_starts = np.searchsorted(edge_group[edge_order], np.arange(n_groups + 1))
    for k in range(n_groups):
        members = by_group[starts[k] : starts[k + 1]]
        picked = edge_order[edge_starts[k] : edge_starts[k + 1]]
        pos = _disc(len(members), local[inner[picked]], local[inner_v[picked]], rng)
        pos = _turn(pos, pull[members])
        x[members] = centres[k, 0] + radius[k] * pos[:, 0]
        y[members] = centres[k, 1] + radius[k] * pos[:, 1]
    return x, y


def _place_discs(radius: Float, affinity: Float, gap: float = 0.0) -> Float:
    """Centres of discs of ``radius`` (largest first), none overlapping, tied ones near."""
    count = len(radius)
    centres = np.zeros((count, 2))
    if count == 1:
        return centres
    placed = [0]
    todo = set(range(1, count))
    angles = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    while todo:
        rest = sorted(todo)
        tie = affinity[np.ix_(rest, placed)].sum(axis=1)
        k = rest[int(np.lexsort((np.array(rest), -radius[rest], -tie))[0])]
        todo.discard(k)
        at = centres[placed]
        r_at = radius[placed]
        # candidates: touching each placed disc, in 24 directions
        cand = (at[:, None, :] + (r_at + radius[k] + gap)[:, None, None] * ring[None]).reshape(
            -1, 2
        )
        dist = np.linalg.norm(cand[:, None, :] - at[None, :, :], axis=2)
        free = np.all(dist >= r_at[None, :] + radius[k] + gap - 1e-6, axis=1)
        weights = affinity[k, placed]
        if weights.sum() > 0:
            score = (dist * weights[None, :]).sum(axis=1) / weights.sum()
        else:
            score = np.zeros(len(cand))
        # stay compact: distance from the centre of mass of what is placed
        mass = (at * (r_at**2)[:, None]).sum(axis=0) / (r_at**2).sum()
        score = score + 0.5 * np.linalg.norm(cand - mass, axis=1)
        score[~free] = np.inf
        centres[k] = cand[int(np.argmin(score))]
        placed.append(k)
    return centres


def _disc(m: int, a: Int, b: Int, rng: np.random.Generator) -> Float:
    """Positions of ``m`` nodes (edges ``a``-``b``) filling the unit disc (pivot MDS)."""
    if m == 1:
        return np.zeros((1, 2))
    if m <= 3:
        t = 2 * np.pi * np.arange(m) / m
        return 0.5 * np.stack([np.cos(t), np.sin(t)], axis=1)
    graph = sp.csr_array((np.ones(len(a)), (a, b)), shape=(m, m))
    graph = (graph + graph.T).tocsr()
    # pivot MDS on the largest connected part; the rest is scattered across the disc
    _, part = csgraph.connected_components(graph, directed=False)
    main = np.flatnonzero(part == np.argmax(np.bincount(part)))
    pos = rng.normal(size=(m, 2))
    if len(main) > 3:
        sub = graph[main][:, main].tocsr()
        degree = np.diff(sub.indptr)
        k = min(32, len(main))
        first = int(np.argmax(degree))
        others = rng.choice(np.delete(np.arange(len(main)), first), size=k - 1, replace=False)
        pivots = np.concatenate([[first], others])
        dist = csgraph.shortest_path(sub, unweighted=True, indices=pivots, directed=False).T
        sq = dist**2
        c = -0.5 * (sq - sq.mean(axis=0) - sq.mean(axis=1, keepdims=True) + sq.mean())
        mds = c @ _leading_pair(np.einsum("ij,ik->jk", c, c), rng)
        spread = mds.std(axis=0)
        if np.all(np.isfinite(mds)) and np.all(spread > 0):
            pos[main] = (mds - mds.mean(axis=0)) / spread  # isotropic: no bow ties
    pos += rng.normal(scale=1e-6, size=pos.shape)
    # even out: keep each angle and the order of radii, fill the disc uniformly
    angle = np.arctan2(pos[:, 1], pos[:, 0])
    order = np.argsort(np.hypot(pos[:, 0], pos[:, 1]), kind="stable")
    r = np.empty(m)
    r[order] = np.sqrt((np.arange(m) + 0.5) / m)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)


def _leading_pair(gram: Float, rng: np.random.Generator, steps: int = 300) -> Float:
    """The two leading eigenvectors of a small symmetric matrix, by orthogonal iteration.

    A 32 x 32 matrix: LAPACK's ``eigh`` would be as fast alone, but it wakes
    OpenBLAS's threads, which on a busy machine costs tens of milliseconds a call.
    """
    q = rng.normal(size=(gram.shape[0], 2))
    for _ in range(steps):
        z = np.einsum("ij,jk->ik", gram, q)
        a = z[:, 0] / max(float(np.sqrt(z[:, 0] @ z[:, 0])), 1e-300)
        b = z[:, 1] - (a @ z[:, 1]) * a
        b = b / max(float(np.sqrt(b @ b)), 1e-300)
        done = abs(abs(float(a @ q[:, 0])) - 1) < 1e-10 and abs(abs(float(b @ q[:, 1])) - 1) < 1e-10
        q = np.stack([a, b], axis=1)
        if done:
            break
    return q


def _turn(pos: Float, pull: Float) -> Float:
    """``pos`` turned (and mirrored if better) so that pulled nodes face their pull."""
    if not np.any(pull):
        return pos
    best, best_score = pos, -np.inf
    for candidate in (pos, pos * np.array([1.0, -1.0])):
        dot = float((candidate * pull).sum())
        crossed = float((candidate[:, 0] * pull[:, 1] - candidate[:, 1] * pull[:, 0]).sum())
        theta = math.atan2(crossed, dot)
        cos, sin = math.cos(theta), math.sin(theta)
        turned = candidate @ np.array([[cos, sin], [-sin, cos]])
        score = float((turned * pull).sum())
        if score > best_score:
            best, best_score = turned, score
    return best


# -- participants -----------------------------------------------------------------------
def participant_detail(data: MapData, participant: str) -> ParticipantDetail:
    """Everything the map knows about one participant; 404 when it is not on the map."""
    i = data.index.get(participant)
    if i is None:
        raise ApiProblem(
            404,
            "Unknown participant",
            f"no participant '{participant}' in '{data.snapshot.ecosystem}'",
            "unknown-participant",
        )
    s = data.snapshot
    held = np.flatnonzero(s.holder_participant == i)
    capabilities = sorted(
        (
            CapabilityOut(
                name=s.capabilities[int(s.holder_capability[h])], level=int(s.holder_level[h])
            )
            for h in held
        ),
        key=lambda c: (-c.level, c.name),
    )
    ties: list[TieOut] = []
    ids = s.participant_ids
    directed = data.edge_directed
    for e in np.flatnonzero((data.edge_source == i) | (data.edge_target == i)).tolist():
        a, b = int(data.edge_source[e]), int(data.edge_target[e])
        out = a == i
        other = b if out else a
        ties.append(
            TieOut(
                other=ids[other],
                other_label=data.labels[other],
                layer=data.edge_layer[e],
                type=data.edge_type[e],
                weight=float(data.edge_weight[e]),
                direction=("out" if out else "in") if bool(directed[e]) else "both",
            )
        )
    ties.sort(key=lambda t: (("formal", "informal", "exchange").index(t.layer), t.other_label))
    summary = data.node(i)
    return ParticipantDetail(
        id=summary.id,
        name=summary.name,
        label=summary.label,
        kind=summary.kind,
        region=summary.region,
        clusters=[
            ClusterRef(
                id=s.cluster_ids[c],
                name=data.cluster_names.get(s.cluster_ids[c]),
                kind=data.cluster_kinds[c],
            )
            for c in data.memberships[i]
        ],
        cluster_kind=summary.cluster_kind,
        capabilities=capabilities,
        capacity_hours_per_week=_number(s.participant_capacity[i]),
        rate_per_hour=_number(s.participant_rate[i]),
        capital_available=_number(s.participant_capital[i]),
        ties=ties,
        measures={m: _number(data.measures[m][i]) for m in MEASURES},
    )


# -- routes -----------------------------------------------------------------------------
@router.get("/ecosystems/{ecosystem}/map", response_model=MapOut)
def get_map(ecosystem: str, guard: CurrentGuard, request: Request) -> Response:
    """The map for the web renderer: participants placed, ties, exchanges, clusters."""
    guard.require("read", ecosystem, "map")
    data = map_data(guard.store, ecosystem)
    headers = {"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(data.body_gzip, media_type="application/json", headers=headers)
    return Response(data.body, media_type="application/json", headers=headers)


@router.get("/ecosystems/{ecosystem}/participants", response_model=Page[ParticipantOut])
def list_participants(
    ecosystem: str,
    guard: CurrentGuard,
    page: PageQuery,
    request: Request,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Only those whose id or name contains this"),
    ] = None,
) -> Page[ParticipantOut]:
    """The participants, in map order; q searches their ids and names."""
    guard.require("read", ecosystem, "map")
    data = map_data(guard.store, ecosystem)
    s = data.snapshot
    chosen = list(range(data.n))
    if q and q.strip():
        needle = q.strip().casefold()
        chosen = [
            i
            for i in chosen
            if needle in s.participant_ids[i].casefold()
            or needle in (s.participant_names[i] or "").casefold()
        ]
    result = paginate(chosen, page, request)
    return Page[ParticipantOut](
        items=[data.node(i) for i in result.items],
        total=result.total,
        limit=result.limit,
        offset=result.offset,
        next=result.next,
    )


@router.get("/ecosystems/{ecosystem}/participants/{participant}", response_model=ParticipantDetail)
def get_participant(ecosystem: str, participant: str, guard: CurrentGuard) -> ParticipantDetail:
    """One participant: kind, region, capabilities, clusters, ties and measures."""
    guard.require("read", ecosystem, "map")
    return participant_detail(map_data(guard.store, ecosystem), participant)


@router.get("/ecosystems/{ecosystem}/clusters", response_model=Page[ClusterOut])
def list_clusters(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[ClusterOut]:
    """The clusters, with their number of members."""
    guard.require("read", ecosystem, "map")
    data = map_data(guard.store, ecosystem)
    s = data.snapshot
    counts = np.bincount(
        np.unique(s.member_cluster.astype(np.int64) * max(data.n, 1) + s.member_participant)
        // max(data.n, 1),
        minlength=len(s.cluster_ids),
    )
    items = [
        ClusterOut(
            id=c, name=data.cluster_names.get(c), kind=data.cluster_kinds[k], members=int(counts[k])
        )
        for k, c in enumerate(s.cluster_ids)
    ]
    return paginate(items, page, request)
