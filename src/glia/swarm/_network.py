"""The network of practice as the swarm sees it, and a request turned into a pool.

:class:`Network` is built once per snapshot (a second or so at 100k
participants) and then answers many requests: the working-distance graph over
the trust-weighted multiplex, who holds which capability at which level, rates,
capacity, capital and cluster memberships as arrays. :meth:`Network.prepare`
turns a :class:`~glia.swarm.Request` into a :class:`~glia.swarm._pool.Pool` of
a few dozen candidates (top-m per need, capital providers, connectors), or
into shortfalls that say which need cannot be met and who comes closest.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..graph import alive_ties, exchange_pairs
from ..model import Need
from ..store import Snapshot
from ._distance import pairwise
from ._pool import Pool, load_penalty
from ._request import DISTRUST, LayerWeights, Request, RequestError, Weights, need_label

__all__ = [
    "EXACT_DISTANCE_LIMIT",
    "HORIZON",
    "PER_NEED",
    "Near",
    "Network",
    "Prepared",
    "Shortfall",
]

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

#: Candidates kept per need: the best ``PER_NEED`` holders by the objective's
#: own terms (cost, load, region, bridging), then by tie strength.
PER_NEED = 12
#: Working distance beyond which two people are equally strangers, on large
#: networks (a perfect tie costs 1, so 4 is about three good ties or two weak
#: ones). Capped distances are what keeps a request on 100k participants
#: within 200 ms: exact shortest paths from every candidate take seconds there.
HORIZON = 4.0
#: Networks up to this many participants get exact, uncapped distances when
#: the horizon is ``"auto"``; larger ones get :data:`HORIZON`.
EXACT_DISTANCE_LIMIT = 5_000
#: Without a budget, the cost component counts in thousands of the currency.
COST_UNIT = 1000.0


@dataclass(frozen=True)
class Near:
    """Someone who comes close to meeting a need, and what stops them."""

    id: str
    name: str | None
    level: int | None
    region: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.id} ({self.reason})"


@dataclass(frozen=True)
class Shortfall:
    """A need (or the capital, or a constraint) no team can meet."""

    need: str
    message: str
    nearest: tuple[Near, ...] = ()

    def __str__(self) -> str:
        if not self.nearest:
            return self.message
        return f"{self.message}; nearest: {', '.join(map(str, self.nearest))}"


@dataclass(frozen=True)
class Prepared:
    """A request made ready: the pool, its people (participant indices), shortfalls."""

    pool: Pool
    people: Int
    shortfalls: tuple[Shortfall, ...]
    request: Request
    weights: Weights


class Network:
    """Arrays of one snapshot that every request reuses.

    ``graph`` holds the working distance of each tied pair: ties of a pair
    combine as independent chances of effective collaboration,
    ``p = 1 - prod(1 - layer_weight * tie_weight)``, and the distance is
    ``1 / p``. Ties of type ``distrust`` carry no collaboration: they forbid
    the pair from sharing a team.
    """

    def __init__(
        self, snapshot: Snapshot, layers: LayerWeights | None = None, at: dt.date | None = None
    ) -> None:
        s = snapshot
        self.snapshot = s
        self.layers = layers or LayerWeights()
        n = s.n_participants
        self.n = n
        self.ids = s.participant_ids
        self.index = {pid: i for i, pid in enumerate(s.participant_ids)}
        # ties alive at ``at``, split into distrust and collaboration
        alive = alive_ties(s, at)
        distrust_code = s.tie_types.index(DISTRUST) if DISTRUST in s.tie_types else -2
        is_distrust = alive & (s.tie_type == distrust_code)
        working = alive & ~is_distrust
        formal = s.tie_layer == s.layers.index("formal")
        lam = np.where(formal, self.layers.formal, self.layers.informal)
        chance = np.clip(lam * np.clip(s.tie_weight, 0.0, 1.0), 0.0, 1.0)[working]
        u = s.tie_source[working].astype(np.int64)
        v = s.tie_target[working].astype(np.int64)
        if self.layers.exchange > 0 and len(s.exchange_source):
            _, a, b = exchange_pairs(s)
            u = np.concatenate([u, a.astype(np.int64)])
            v = np.concatenate([v, b.astype(np.int64)])
            chance = np.concatenate([chance, np.full(len(a), self.layers.exchange)])
        keep = (u != v) & (chance > 0)
        u, v, chance = u[keep], v[keep], chance[keep]
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        key, inverse = np.unique(lo * n + hi, return_inverse=True)
        miss = np.bincount(inverse, weights=np.log1p(-np.minimum(chance, 1 - 1e-12)))
        p = -np.expm1(miss[: len(key)]) if len(key) else np.zeros(0)
        a, b = key // n, key % n
        self.strength_of_pair = sp.csr_array(
            (np.concatenate([p, p]), (np.concatenate([a, b]), np.concatenate([b, a]))),
            shape=(n, n),
        )
        self.graph = self.strength_of_pair.copy()
        self.graph.data = 1.0 / self.graph.data
        self.strength = np.asarray(self.strength_of_pair.sum(axis=1)).ravel()
        da = s.tie_source[is_distrust].astype(np.int64)
        db = s.tie_target[is_distrust].astype(np.int64)
        self.distrust = np.unique(np.minimum(da, db) * n + np.maximum(da, db))
        # people
        rate = s.participant_rate.astype(np.float64)
        known = np.isfinite(rate)
        self.rate_known = known
        self.median_rate = float(np.median(rate[known])) if known.any() else 0.0
        self.rate = np.where(known, rate, self.median_rate)
        self.capacity = s.participant_capacity.astype(np.float64)
        kinds = s.cluster_kinds
        capital_kind = kinds.index("capital") if "capital" in kinds else -2
        member_p = s.member_participant.astype(np.int64)
        member_c = s.member_cluster.astype(np.int64)
        self.clusters = np.bincount(member_p, minlength=n).astype(np.float64)
        in_capital = s.cluster_kind[member_c] == capital_kind
        self.capital_member = np.zeros(n, bool)
        self.capital_member[member_p[in_capital]] = True
        capital = np.nan_to_num(s.participant_capital.astype(np.float64), nan=0.0)
        self.capital = np.where(self.capital_member, capital, 0.0)
        self.capital_any = capital
        self.region_names = s.regions
        # capability holders, grouped by capability
        order = np.argsort(s.holder_capability, kind="stable")
        self._holder_p = s.holder_participant[order].astype(np.int64)
        self._holder_l = s.holder_level[order].astype(np.int64)
        self._starts = np.searchsorted(
            s.holder_capability[order], np.arange(len(s.capabilities) + 1)
        )
        self.capability_index = {c: i for i, c in enumerate(s.capabilities)}

    # ------------------------------------------------------------------ lookups
    def holders(self, capability: str) -> tuple[Int, Int]:
        """Participants holding ``capability`` and their levels."""
        c = self.capability_index.get(capability)
        if c is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        lo, hi = self._starts[c], self._starts[c + 1]
        return self._holder_p[lo:hi], self._holder_l[lo:hi]

    def region_of(self, i: int) -> str | None:
        code = int(self.snapshot.participant_region[i])
        return self.region_names[code] if code >= 0 else None

    def _people(self, ids: tuple[str, ...], what: str) -> Int:
        unknown = [i for i in ids if i not in self.index]
        if unknown:
            raise RequestError(
                f"{what}: {', '.join(map(repr, unknown))} is not a participant of "
                f"{self.snapshot.ecosystem!r}"
            )
        return np.array([self.index[i] for i in ids], np.int64)

    def committed(self, committed: Mapping[str, float]) -> Float:
        hours = np.zeros(self.n)
        if committed:
            idx = self._people(tuple(committed), "committed hours")
            hours[idx] = np.array([float(v) for v in committed.values()])
        return hours

    def horizon(self, horizon: float | str | None) -> float | None:
        """The horizon a request gets: ``"auto"`` resolved for this network's size."""
        if horizon == "auto":
            return None if self.n <= EXACT_DISTANCE_LIMIT else HORIZON
        if isinstance(horizon, str):
            raise RequestError(f"horizon {horizon!r}: expected a number, 'auto' or none")
        if horizon is not None and not horizon > 0:
            raise RequestError(f"horizon {horizon!r}: expected a positive distance")
        return horizon

    # ------------------------------------------------------------------ pools
    def prepare(
        self,
        request: Request,
        weights: Weights | None = None,
        per_need: int = PER_NEED,
        horizon: float | str | None = "auto",
    ) -> Prepared:
        """The pool of ``request``: candidates, their distances, the constraints.

        ``horizon`` caps working distances (``None``: never; ``"auto"``: only
        on networks above :data:`EXACT_DISTANCE_LIMIT` participants).
        """
        w = weights or Weights()
        if per_need < 1:
            raise RequestError(f"per need {per_need}: expected at least 1 candidate")
        n = self.n
        include = self._people(request.include, "include")
        exclude = self._people(request.exclude, "exclude")
        region_code = -1
        if request.region is not None:
            if request.region not in self.region_names:
                known = ", ".join(self.region_names) or "none"
                raise RequestError(f"region {request.region!r} is not known (regions: {known})")
            region_code = self.region_names.index(request.region)
        region = self.snapshot.participant_region
        # eligibility
        committed = self.committed(request.committed)
        free = self.capacity - committed
        available = np.isnan(self.capacity) | ((free > 0) & (free >= request.weekly_hours))
        eligible = available.copy()
        eligible[exclude] = False
        in_region = region == region_code
        if request.region_required:
            eligible &= in_region
        eligible[include] = True
        # per-member terms of the objective, for everyone (cheap vectors)
        money = self.rate * request.hours
        ref = request.budget if request.budget else COST_UNIT
        with np.errstate(divide="ignore", invalid="ignore"):
            load_share = np.where(self.capacity > 0, committed / self.capacity, 0.0)
        load = load_penalty(np.nan_to_num(load_share))
        bridge = np.maximum(self.clusters - 1, 0)
        outside = (
            (~in_region).astype(np.float64)
            if request.region is not None and not request.region_required
            else np.zeros(n)
        )
        linear = w.cost * money / ref + w.load * load - w.bridge * bridge + w.region * outside
        rank_key = linear - 1e-6 * self.strength / max(float(self.strength.max(initial=0)), 1)

        shortfalls: list[Shortfall] = []
        chosen: list[Int] = [include]
        needs = request.needs
        for need in needs:
            people, levels = self.holders(need.capability)
            good = people[(levels >= need.level) & eligible[people]]
            if len(good) < need.count:
                shortfalls.append(self._shortfall(request, need, people, levels, eligible))
            keep = max(per_need, need.count)
            best = good[np.argsort(rank_key[good], kind="stable")[:keep]]
            chosen.append(best)
        if request.capital_needed:
            providers = np.flatnonzero(eligible & (self.capital > 0))
            if self.capital[providers].sum() < request.capital_needed:
                shortfalls.append(self._capital_shortfall(request, eligible))
            top = providers[np.argsort(-self.capital[providers], kind="stable")[:per_need]]
            chosen.append(top)
        count_need = max((nd.count for nd in needs), default=0)
        if w.bridge > 0 or request.min_size > count_need:
            pool_so_far = np.concatenate(chosen)
            neighbours = self.graph[pool_so_far].indices if len(pool_so_far) else []
            near = np.unique(np.asarray(neighbours, np.int64))
            near = near[eligible[near]]
            chosen.append(near[np.argsort(rank_key[near], kind="stable")[:per_need]])
        people = np.array(sorted(set(np.concatenate(chosen).tolist())), np.int64)
        return Prepared(
            pool=self._pool(
                request, w, people, money, ref, load, bridge, outside, self.horizon(horizon)
            ),
            people=people,
            shortfalls=tuple(shortfalls),
            request=request,
            weights=w,
        )

    def _pool(
        self,
        request: Request,
        w: Weights,
        people: Int,
        money: Float,
        ref: float,
        load: Float,
        bridge: Float,
        outside: Float,
        horizon: float | None,
    ) -> Pool:
        k = len(people)
        cover = np.zeros((k, len(request.needs)), bool)
        local = {int(p): i for i, p in enumerate(people)}
        for r, need in enumerate(request.needs):
            holders, levels = self.holders(need.capability)
            cover[:, r] = np.isin(people, holders[levels >= need.level])
        if k:
            dist = pairwise(self.graph, people, horizon)
            finite = np.isfinite(dist)
            if not finite.all():
                stranger = 2 * float(dist[finite].max(initial=1.0)) + 1
                dist = np.where(finite, dist, stranger)
        else:
            dist = np.zeros((0, 0))
        forbidden: list[tuple[int, int]] = []
        if len(self.distrust) and k:
            a, b = self.distrust // self.n, self.distrust % self.n
            both = np.isin(a, people) & np.isin(b, people)
            pairs = zip(a[both], b[both], strict=True)
            forbidden += [(local[int(x)], local[int(y)]) for x, y in pairs]
        for x, y in request.forbidden:
            px, py = self._people((x, y), "forbidden pair")
            if int(px) in local and int(py) in local:
                forbidden.append((local[int(px)], local[int(py)]))
        fixed = np.zeros(k, bool)
        for p in self._people(request.include, "include"):
            fixed[local[int(p)]] = True
        return Pool.of(
            [self.ids[p] for p in people],
            [need_label(nd) for nd in request.needs],
            cover,
            [nd.count for nd in request.needs],
            dist,
            w,
            money=money[people],
            cost=money[people] / ref,
            load=load[people],
            bridge=bridge[people],
            outside=outside[people],
            capital=self.capital[people],
            fixed=fixed,
            forbidden=forbidden or None,
            budget=request.budget,
            capital_needed=request.capital_needed or None,
            min_size=request.min_size,
            max_size=request.max_size,
        )

    # ------------------------------------------------------------------ shortfalls
    def _why_not(self, i: int, request: Request, eligible: Bool) -> list[str]:
        """Why participant ``i`` is not eligible, in words."""
        out = []
        if self.ids[i] in request.exclude:
            out.append("excluded")
        region = self.region_of(i)
        if request.region_required and region != request.region:
            out.append(region or "no region")
        if not eligible[i] and not out:
            cap = self.capacity[i]
            out.append(f"unavailable: {cap:g} h/week capacity")
        return out

    def _shortfall(
        self, request: Request, need: Need, people: Int, levels: Int, eligible: Bool
    ) -> Shortfall:
        where = f" in {request.region}" if request.region_required and request.region else ""
        qualified = people[(levels >= need.level) & eligible[people]]
        if need.capability not in self.capability_index:
            close = difflib.get_close_matches(need.capability, list(self.capability_index), 3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            message = f"no one in the ecosystem has {need.capability}{hint}"
            return Shortfall(need_label(need), message)
        if len(qualified) == 0:
            message = f"no one{where} has {need.capability} at level {need.level}"
        else:
            message = (
                f"only {len(qualified)}{where} {'has' if len(qualified) == 1 else 'have'} "
                f"{need.capability} at level {need.level}; {need.count} needed"
            )
        gap = np.maximum(need.level - levels, 0).astype(np.float64)
        blocked = ~eligible[people]
        score = gap + 1.5 * blocked - 0.01 * levels
        candidates = [j for j in np.argsort(score, kind="stable") if gap[j] > 0 or blocked[j]][:3]
        nearest = []
        for j in candidates:
            i = int(people[j])
            reasons = self._why_not(i, request, eligible) if blocked[j] else []
            reasons.append(f"level {int(levels[j])}")
            nearest.append(
                Near(
                    self.ids[i],
                    self.snapshot.participant_names[i],
                    int(levels[j]),
                    self.region_of(i),
                    ", ".join(reasons),
                )
            )
        return Shortfall(need_label(need), message, tuple(nearest))

    def _capital_shortfall(self, request: Request, eligible: Bool) -> Shortfall:
        need = float(request.capital_needed or 0)
        have = float(self.capital[eligible].sum())
        message = (
            f"members of capital clusters available hold {have:,.0f} of the {need:,.0f} "
            "capital needed"
        )
        blocked = np.flatnonzero((self.capital_any > 0) & ~(eligible & self.capital_member))
        top = blocked[np.argsort(-self.capital_any[blocked], kind="stable")[:3]]
        nearest = []
        for i in top:
            reasons = (
                self._why_not(int(i), request, eligible)
                if not eligible[i]
                else ["not in a capital cluster"]
            )
            reasons.append(f"capital {self.capital_any[i]:,.0f}")
            nearest.append(
                Near(
                    self.ids[i],
                    self.snapshot.participant_names[i],
                    None,
                    self.region_of(int(i)),
                    ", ".join(reasons),
                )
            )
        return Shortfall("capital", message, tuple(nearest))
