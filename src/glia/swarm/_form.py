"""``form_swarm``: from a request to ranked, explained teams with a certified gap."""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import Ecosystem, Need
from ..store import Snapshot, snapshot_of
from ._exact import Exact, linear_optimum, solve
from ._network import PER_NEED, Network, Prepared, Shortfall
from ._pool import COMPONENTS, Pool
from ._request import (
    LayerWeights,
    Request,
    RequestError,
    Weights,
    parse_need,
    parse_weights,
)
from ._search import Found, rarest_need, search

__all__ = ["AUTO_EXACT", "Member", "Swarm", "Team", "TieTo", "form_swarm", "request_for"]

#: Without ``exact=``, the exact model runs when the pool has at most this many
#: candidates (there it proves the optimum in a tenth of a second, median, on generated pools).
AUTO_EXACT = 40
#: Gaps below this count as proven optimal.
OPTIMAL_GAP = 1e-6


@dataclass(frozen=True)
class TieTo:
    """A member's working distance to another member, and their direct tie if any."""

    id: str
    distance: float
    strength: float | None


@dataclass(frozen=True)
class Member:
    """One member of a team, with why they are there."""

    id: str
    name: str | None
    region: str | None
    covers: tuple[str, ...]
    levels: dict[str, int]
    ties: tuple[TieTo, ...]
    load: float
    load_penalty: float
    cost: float
    rate: float
    rate_assumed: bool
    bridge: float
    capital: float
    fixed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "covers": list(self.covers),
            "levels": self.levels,
            "ties": [
                {"with": t.id, "distance": _num(t.distance), "direct": t.strength}
                for t in self.ties
            ],
            "load": _num(self.load),
            "load_penalty": _num(self.load_penalty),
            "cost": _num(self.cost),
            "rate": _num(self.rate),
            "rate_assumed": self.rate_assumed,
            "bridge": _num(self.bridge),
            "capital": _num(self.capital),
            "included": self.fixed,
        }


@dataclass(frozen=True)
class Team:
    """A team: members, every component of the objective, total, gap, and why."""

    rank: int
    members: tuple[Member, ...]
    components: dict[str, float]
    weighted: dict[str, float]
    total: float
    gap: float
    optimal: bool
    origin: str
    why: str | None = None

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.members]

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "members": [m.to_json() for m in self.members],
            "components": {k: _num(v) for k, v in self.components.items()},
            "weighted": {k: _num(v) for k, v in self.weighted.items()},
            "total": _num(self.total),
            "gap": _num(self.gap),
            "optimal": self.optimal,
            "found_by": self.origin,
            "why": self.why,
        }


@dataclass(frozen=True)
class Swarm:
    """The answer to a request: ranked teams, or the shortfalls that rule every team out."""

    ecosystem: str
    request: Request
    weights: Weights
    teams: tuple[Team, ...]
    shortfalls: tuple[Shortfall, ...]
    candidates: int
    bound: float
    rarest_need: str | None
    solver: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return bool(self.teams)

    @property
    def best(self) -> Team | None:
        return self.teams[0] if self.teams else None

    @property
    def gap(self) -> float:
        return self.teams[0].gap if self.teams else math.inf

    @property
    def optimal(self) -> bool:
        return bool(self.teams) and self.teams[0].optimal

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (documented in docs/swarm.md)."""
        r = self.request
        return {
            "glia_swarm": 1,
            "ecosystem": self.ecosystem,
            "request": {
                "opportunity": r.opportunity,
                "needs": [
                    {"capability": n.capability, "level": n.level, "count": n.count}
                    for n in r.needs
                ],
                "region": r.region,
                "region_required": r.region_required,
                "budget": r.budget,
                "hours": r.hours,
                "capital_needed": r.capital_needed,
                "min_size": r.min_size,
                "max_size": r.max_size,
                "include": list(r.include),
                "exclude": list(r.exclude),
            },
            "weights": {k: getattr(self.weights, k) for k in COMPONENTS},
            "feasible": self.feasible,
            "candidates": self.candidates,
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "optimal": self.optimal,
            "rarest_need": self.rarest_need,
            "teams": [t.to_json() for t in self.teams],
            "shortfalls": [
                {
                    "need": s.need,
                    "message": s.message,
                    "nearest": [
                        {
                            "id": n.id,
                            "name": n.name,
                            "level": n.level,
                            "region": n.region,
                            "reason": n.reason,
                        }
                        for n in s.nearest
                    ],
                }
                for s in self.shortfalls
            ],
            "solver": self.solver,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
        }

    def __str__(self) -> str:
        if not self.teams:
            return "no team: " + "; ".join(map(str, self.shortfalls))
        best = self.teams[0]
        proof = "optimal" if best.optimal else f"within {best.gap:.1%} of the best possible"
        return f"{', '.join(best.ids)} (total {best.total:.3g}, {proof})"


def _num(x: float) -> float | None:
    """JSON has no infinity: None stands for an unbounded value."""
    return None if x is None or not math.isfinite(x) else round(float(x), 9)


# ---------------------------------------------------------------------- request
def request_for(
    snapshot: Snapshot,
    opportunity: str | None = None,
    needs: Sequence[str | Need] = (),
    **overrides: Any,
) -> Request:
    """A :class:`Request` from an opportunity of ``snapshot`` and/or needs given directly.

    An opportunity gives its needs, region (a preference unless
    ``region_required=True``), budget and capital; ``overrides`` (any field
    of :class:`Request`) win over it, ``None`` values are ignored.
    """
    fields: dict[str, Any] = {}
    parsed = tuple(n if isinstance(n, Need) else parse_need(n) for n in needs)
    if opportunity is not None:
        if opportunity not in snapshot.opportunity_ids:
            known = ", ".join(snapshot.opportunity_ids) or "none"
            raise RequestError(
                f"opportunity {opportunity!r} is not in {snapshot.ecosystem!r} "
                f"(opportunities: {known})"
            )
        o = snapshot.opportunity_ids.index(opportunity)
        rows = np.flatnonzero(snapshot.need_opportunity == o)
        from_opp = tuple(
            Need(
                capability=snapshot.capabilities[int(snapshot.need_capability[i])],
                level=int(snapshot.need_level[i]),
                count=int(snapshot.need_count[i]),
            )
            for i in rows
        )
        fields["needs"] = parsed or from_opp
        fields["region"] = snapshot.opportunity_region[o]
        budget = float(snapshot.opportunity_budget[o])
        fields["budget"] = budget if math.isfinite(budget) else None
        capital = float(snapshot.opportunity_capital[o])
        fields["capital_needed"] = capital if math.isfinite(capital) and capital > 0 else None
        fields["opportunity"] = opportunity
    else:
        fields["needs"] = parsed
    for key, value in overrides.items():
        if value is not None:
            fields[key] = tuple(value) if isinstance(value, list) else value
    return Request(**fields)


def _as_snapshot(source: Any) -> Snapshot:
    if isinstance(source, Snapshot):
        return source
    if not isinstance(source, Ecosystem):
        from ..io import read

        source = read(source)
    return snapshot_of(source)


# ---------------------------------------------------------------------- forming
def form_swarm(
    ecosystem: Ecosystem | Snapshot | Network | str | os.PathLike[str],
    opportunity: str | None = None,
    needs: Sequence[str | Need] = (),
    *,
    region: str | None = None,
    region_required: bool | None = None,
    budget: float | None = None,
    hours: float | None = None,
    capital: float | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    forbidden: Sequence[tuple[str, str]] = (),
    committed: Mapping[str, float] | None = None,
    weekly_hours: float | None = None,
    weights: Weights | str | Mapping[str, float] | None = None,
    layers: LayerWeights | None = None,
    top: int = 3,
    exact: bool | None = None,
    time_limit: float = 10.0,
    per_need: int = PER_NEED,
    horizon: float | str | None = "auto",
    at: dt.date | None = None,
) -> Swarm:
    """Form the best teams for an opportunity (by id) or for needs given directly.

    ``needs`` are ``"CAP:LEVEL[:COUNT]"`` strings or :class:`Need`; ``region``
    is a preference unless ``region_required``; ``budget`` caps ``rate x
    hours`` summed over members; ``capital`` must be covered by members of
    capital clusters; ``include``/``exclude`` pin people in or out;
    ``forbidden`` pairs never share a team (distrust ties add to them);
    ``committed`` maps participant ids to hours per week already promised.
    ``weights`` sets the objective (``"distance=1,cost=0.5"``); ``layers``
    how much each layer's ties count toward working distance. Returns up to
    ``top`` distinct teams, best first, each with every component of the
    objective and its certified gap; with ``exact`` (default: when the pool
    is small) the exact model proves the bound within ``time_limit`` seconds.
    Pass a :class:`~glia.swarm.Network` to answer many requests on one
    ecosystem without rebuilding its graph.

    >>> import glia
    >>> swarm = glia.form_swarm("examples/northbridge.yaml", needs=["ux-design:4", "legal:3"])
    >>> swarm.optimal, len(swarm.best.members)
    (True, 2)
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(ecosystem, Network):
        if layers is not None or at is not None:
            raise RequestError("layers and at are fixed when the Network is built")
        network = ecosystem
    else:
        network = Network(_as_snapshot(ecosystem), layers, at)
    timings["network"] = time.perf_counter() - t0
    if top < 1:
        raise RequestError(f"top {top}: expected at least 1")
    w = weights if isinstance(weights, Weights) else parse_weights(weights)
    request = request_for(
        network.snapshot,
        opportunity,
        needs,
        region=region,
        region_required=region_required,
        budget=budget,
        hours=hours,
        capital_needed=capital,
        min_size=min_size,
        max_size=max_size,
        include=tuple(include) or None,
        exclude=tuple(exclude) or None,
        forbidden=tuple(tuple(p) for p in forbidden) or None,
        committed=dict(committed) if committed else None,
        weekly_hours=weekly_hours,
    )
    return solve_request(network, request, w, top, exact, time_limit, per_need, horizon, timings)


def solve_request(
    network: Network,
    request: Request,
    weights: Weights,
    top: int = 3,
    exact: bool | None = None,
    time_limit: float = 10.0,
    per_need: int = PER_NEED,
    horizon: float | str | None = "auto",
    timings: dict[str, float] | None = None,
) -> Swarm:
    """:func:`form_swarm` for a ready :class:`Request` on a built :class:`Network`."""
    timings = {} if timings is None else timings
    t = time.perf_counter()
    prepared = network.prepare(request, weights, per_need, horizon)
    timings["candidates"] = time.perf_counter() - t
    pool = prepared.pool
    solver: dict[str, Any] = {
        "heuristic": "rarest-first and leader seeds + local search",
        "horizon": network.horizon(horizon),
    }
    if prepared.shortfalls:
        return _answer(network, prepared, [], math.inf, None, solver, timings)
    t = time.perf_counter()
    found = search(pool, top=top)
    timings["heuristic"] = time.perf_counter() - t
    solver["heuristic_total"] = _num(found[0].total) if found else None
    run_exact = exact if exact is not None else pool.k <= AUTO_EXACT
    result: Exact | None = None
    bound = pool.quick_bound()
    if run_exact:
        result = solve(pool, time_limit, incumbent=found[0].total if found else math.inf)
        timings["exact"] = result.seconds
        solver.update(
            exact="HiGHS (scipy.optimize.milp)",
            status=result.status,
            exact_seconds=round(result.seconds, 6),
            variables=result.variables,
            constraints=result.constraints,
        )
        if result.members is not None:
            members = result.members
            if not any(f.members == members for f in found):
                found.append(Found(members, result.value, "exact"))
            found.sort(key=lambda f: (f.total, f.members))
            found = found[:top]
        bound = math.inf if result.status == "infeasible" else max(bound, result.bound)
    solver["bound_from"] = "exact model" if result is not None else "quick bound"
    shortfalls: list[Shortfall] = []
    if not found:
        shortfalls.append(_why_none(pool, result))
        prepared = Prepared(pool, prepared.people, tuple(shortfalls), request, weights)
    return _answer(network, prepared, found, bound, result, solver, timings)


def _why_none(pool: Pool, result: Exact | None) -> Shortfall:
    """Why no team of the pool meets the request, found by relaxing one thing at a time."""
    ones = np.ones(pool.k)
    if linear_optimum(pool, ones, budget=False, capital=False) is None:
        if len(pool.forbidden):
            return Shortfall(
                "team",
                "the needs cannot be covered without putting a forbidden (distrust) pair "
                "together or breaking the team size bounds",
            )
        return Shortfall("team", "the needs cannot be covered within the team size bounds")
    if pool.budget is not None:
        cheapest = linear_optimum(pool, pool.money, budget=False, capital=False)
        if cheapest is not None and cheapest > pool.budget * (1 + 1e-9):
            return Shortfall(
                "budget",
                f"the cheapest team that covers the needs costs {cheapest:,.0f}, "
                f"over the budget of {pool.budget:,.0f}",
            )
    if pool.capital_needed:
        most = linear_optimum(pool, -pool.capital, capital=False)
        if most is not None and -most < pool.capital_needed:
            return Shortfall(
                "capital",
                f"teams within the budget bring at most {-most:,.0f} of the "
                f"{pool.capital_needed:,.0f} capital needed",
            )
    if result is None or result.status == "infeasible":
        return Shortfall("team", "no team meets every constraint at once")
    return Shortfall("team", f"no team found before the time limit ({result.status})")


def _answer(
    network: Network,
    prepared: Prepared,
    found: list[Found],
    bound: float,
    result: Exact | None,
    solver: dict[str, Any],
    timings: dict[str, float],
) -> Swarm:
    t = time.perf_counter()
    pool = prepared.pool
    if found:
        bound = min(bound, found[0].total)
    teams: list[Team] = []
    best_weighted: dict[str, float] | None = None
    for rank, f in enumerate(found, 1):
        comp = pool.components(np.array(f.members, np.int64))
        weighted = _weighted(comp, prepared.weights)
        gap = _gap(f.total, bound)
        why = None
        if best_weighted is not None:
            why = _why_lost(pool, found[0], f, weighted, best_weighted)
        else:
            best_weighted = weighted
        teams.append(
            Team(
                rank=rank,
                members=tuple(_member(network, prepared, f.members, i) for i in f.members),
                components=comp,
                weighted=weighted,
                total=f.total,
                gap=gap,
                optimal=gap <= OPTIMAL_GAP,
                origin=f.origin,
                why=why,
            )
        )
    rare = None
    if len(pool.required) and pool.k:
        rare = pool.needs[rarest_need(pool)]
    timings["explain"] = time.perf_counter() - t
    return Swarm(
        ecosystem=network.snapshot.ecosystem,
        request=prepared.request,
        weights=prepared.weights,
        teams=tuple(teams),
        shortfalls=prepared.shortfalls,
        candidates=pool.k,
        bound=bound,
        rarest_need=rare,
        solver=solver,
        timings=timings,
    )


def _gap(total: float, bound: float) -> float:
    """(best known - proven bound) / |best known|; 0 when they meet."""
    if not math.isfinite(bound):
        return math.inf if bound < 0 else 0.0
    diff = max(total - bound, 0.0)
    if diff <= 1e-9 * max(1.0, abs(total)):
        return 0.0
    return diff / max(abs(total), 1e-9)


def _weighted(components: dict[str, float], w: Weights) -> dict[str, float]:
    sign = {"bridge": -1.0}
    return {k: sign.get(k, 1.0) * getattr(w, k) * v for k, v in components.items()}


def _why_lost(
    pool: Pool,
    best: Found,
    other: Found,
    weighted: dict[str, float],
    best_weighted: dict[str, float],
) -> str:
    out_ = [pool.labels[i] for i in best.members if i not in other.members]
    in_ = [pool.labels[i] for i in other.members if i not in best.members]
    change = []
    if out_:
        change.append("without " + ", ".join(out_))
    if in_:
        change.append("with " + ", ".join(in_))
    diffs = {k: weighted[k] - best_weighted[k] for k in weighted}
    parts = [f"{k} {d:+.3g}" for k, d in sorted(diffs.items(), key=lambda kv: -kv[1]) if d]
    delta = other.total - best.total
    return f"{' and '.join(change)}: total {delta:+.3g} ({', '.join(parts) or 'a tie'})"


def _member(network: Network, prepared: Prepared, team: tuple[int, ...], i: int) -> Member:
    pool = prepared.pool
    p = int(prepared.people[i])
    req = prepared.request
    levels: dict[str, int] = {}
    covers = []
    for r, need in enumerate(req.needs):
        if pool.cover[i, r]:
            covers.append(pool.needs[r])
            people, lv = network.holders(need.capability)
            levels[need.capability] = int(lv[people == p][0])
    ties = []
    row = network.strength_of_pair[[p]]
    direct = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    for j in team:
        if j == i:
            continue
        q = int(prepared.people[j])
        ties.append(TieTo(pool.labels[j], float(pool.distance[i, j]), direct.get(q)))
    capacity = network.capacity[p]
    committed = float(req.committed.get(network.ids[p], 0.0))
    load = committed / capacity if capacity and math.isfinite(capacity) else 0.0
    return Member(
        id=network.ids[p],
        name=network.snapshot.participant_names[p],
        region=network.region_of(p),
        covers=tuple(covers),
        levels=levels,
        ties=tuple(ties),
        load=load,
        load_penalty=float(pool.load[i]),
        cost=float(pool.money[i]),
        rate=float(network.rate[p]),
        rate_assumed=not bool(network.rate_known[p]),
        bridge=float(pool.bridge[i]),
        capital=float(pool.capital[i]),
        fixed=bool(pool.fixed[i]),
    )
