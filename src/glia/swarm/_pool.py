"""The pool: a team-formation problem over a few candidates, as plain arrays.

Everything the search and the exact model need, in local indices ``0..k-1``;
nothing about stores or snapshots. The DBLP benchmark builds pools straight
from a co-authorship graph, the ecosystem path from a snapshot
(:mod:`glia.swarm._network`).

The objective of a team ``T`` (the same in the heuristic, the exact model and
the docs)::

    total(T) = w_distance * sum_{i<j in T} d_ij          (working distance)
             + w_cost     * sum_{i in T} cost_i / ref    (share of the budget)
             + w_load     * sum_{i in T} (exp(3 load_i) - 1)
             - w_bridge   * sum_{i in T} bridge_i        (clusters bridged)
             + w_region   * |{i in T outside a preferred region}|
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ._request import Weights

__all__ = ["COMPONENTS", "LOAD_RATE", "Pool", "load_penalty"]

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

#: The components of the objective, in the order they are reported.
COMPONENTS = ("distance", "cost", "load", "bridge", "region")

#: How fast the load penalty grows: ``exp(LOAD_RATE * load) - 1`` with ``load``
#: the share of weekly capacity already committed (0 idle, 1 fully booked).
LOAD_RATE = 3.0


def load_penalty(load: Float) -> Float:
    """``exp(3 load) - 1``: 0 when idle, 3.5 at half load, 19 when fully booked.

    Exponential in the current load, as in Anagnostopoulos et al. (WWW 2012), so
    that a busy person is chosen only when the alternative is much worse.
    """
    return np.expm1(LOAD_RATE * np.clip(load, 0.0, 2.0))


@dataclass(frozen=True, eq=False)
class Pool:
    """Candidates and constraints of one request, in local indices.

    ``cover[i, r]`` says candidate ``i`` counts toward need ``r``, which wants
    ``required[r]`` such people; ``distance`` is the symmetric working distance
    between candidates; ``money`` each candidate's cost (rate x hours),
    ``cost`` it as a share of the reference (the budget); ``load`` the load
    penalty; ``bridge`` the bridging score; ``outside`` 1 for a candidate
    outside a preferred region; ``capital`` the capital a candidate brings
    toward ``capital_needed``; ``fixed`` the members who must be in;
    ``forbidden`` pairs of candidates who must not share a team. Build one
    with :meth:`of`, which fills what is not given.
    """

    labels: list[str]
    needs: list[str]
    cover: Bool
    required: Int
    distance: Float
    weights: Weights
    money: Float
    cost: Float
    load: Float
    bridge: Float
    outside: Float
    capital: Float
    fixed: Bool
    forbidden: Int
    budget: float | None = None
    capital_needed: float | None = None
    min_size: int = 1
    max_size: int | None = None
    conflict: Bool = field(init=False, repr=False)
    linear: Float = field(init=False, repr=False)
    weighted_distance: Float = field(init=False, repr=False)

    @classmethod
    def of(
        cls,
        labels: list[str],
        needs: list[str],
        cover: npt.ArrayLike,
        required: npt.ArrayLike,
        distance: npt.ArrayLike,
        weights: Weights | None = None,
        *,
        money: npt.ArrayLike | None = None,
        cost: npt.ArrayLike | None = None,
        load: npt.ArrayLike | None = None,
        bridge: npt.ArrayLike | None = None,
        outside: npt.ArrayLike | None = None,
        capital: npt.ArrayLike | None = None,
        fixed: npt.ArrayLike | None = None,
        forbidden: npt.ArrayLike | None = None,
        budget: float | None = None,
        capital_needed: float | None = None,
        min_size: int = 1,
        max_size: int | None = None,
    ) -> Pool:
        """A pool from arrays; what is not given is zero (or empty)."""
        k = len(labels)
        req = np.asarray(required, np.int64).reshape(-1)

        def vec(a: npt.ArrayLike | None) -> Float:
            return np.zeros(k) if a is None else np.asarray(a, np.float64).reshape(k)

        return cls(
            labels=list(labels),
            needs=list(needs),
            cover=np.asarray(cover, bool).reshape(k, len(req)),
            required=req,
            distance=np.asarray(distance, np.float64).reshape(k, k),
            weights=weights or Weights(),
            money=vec(money),
            cost=vec(cost),
            load=vec(load),
            bridge=vec(bridge),
            outside=vec(outside),
            capital=vec(capital),
            fixed=np.zeros(k, bool) if fixed is None else np.asarray(fixed, bool).reshape(k),
            forbidden=np.asarray(
                np.zeros((0, 2)) if forbidden is None else forbidden, np.int64
            ).reshape(-1, 2),
            budget=budget,
            capital_needed=capital_needed,
            min_size=min_size,
            max_size=max_size,
        )

    def __post_init__(self) -> None:
        k = len(self.labels)
        if self.distance.shape != (k, k) or self.cover.shape != (k, len(self.required)):
            raise ValueError("pool arrays disagree in size")
        if len(self.needs) != len(self.required):
            raise ValueError("one label per need")
        conflict = np.zeros((k, k), bool)
        conflict[self.forbidden[:, 0], self.forbidden[:, 1]] = True
        conflict[self.forbidden[:, 1], self.forbidden[:, 0]] = True
        w = self.weights
        linear = w.cost * self.cost + w.load * self.load - w.bridge * self.bridge
        linear = linear + w.region * self.outside
        object.__setattr__(self, "conflict", conflict)
        object.__setattr__(self, "linear", linear)
        object.__setattr__(self, "weighted_distance", w.distance * self.distance)

    @property
    def k(self) -> int:
        """The number of candidates."""
        return len(self.labels)

    # ------------------------------------------------------------------ scoring
    def total(self, members: Int) -> float:
        """The weighted objective of a team (indices into the pool)."""
        m = np.asarray(members, np.int64)
        return float(self.weighted_distance[np.ix_(m, m)].sum() / 2 + self.linear[m].sum())

    def components(self, members: Int) -> dict[str, float]:
        """Each component of the objective, unweighted, for a team."""
        m = np.asarray(members, np.int64)
        return {
            "distance": float(self.distance[np.ix_(m, m)].sum() / 2),
            "cost": float(self.cost[m].sum()),
            "load": float(self.load[m].sum()),
            "bridge": float(self.bridge[m].sum()),
            "region": float(self.outside[m].sum()),
        }

    def violations(self, members: Int) -> list[str]:
        """What a team breaks, in words (empty for a feasible team)."""
        m = np.asarray(members, np.int64)
        out: list[str] = []
        have = self.cover[m].sum(axis=0)
        for r in np.flatnonzero(have < self.required):
            out.append(f"{self.needs[r]}: {int(have[r])} of {int(self.required[r])}")
        if self.budget is not None and self.money[m].sum() > self.budget * (1 + 1e-9):
            out.append(f"cost {self.money[m].sum():,.0f} over the budget {self.budget:,.0f}")
        if self.capital_needed and self.capital[m].sum() < self.capital_needed * (1 - 1e-9):
            out.append(f"capital {self.capital[m].sum():,.0f} of {self.capital_needed:,.0f}")
        if len(m) < self.min_size:
            out.append(f"{len(m)} members, fewer than {self.min_size}")
        if self.max_size is not None and len(m) > self.max_size:
            out.append(f"{len(m)} members, more than {self.max_size}")
        missing = np.flatnonzero(self.fixed & ~np.isin(np.arange(self.k), m))
        out.extend(f"{self.labels[i]} must be in" for i in missing)
        sub = np.triu(self.conflict[np.ix_(m, m)], 1)
        out.extend(
            f"{self.labels[m[a]]} and {self.labels[m[b]]} must not work together"
            for a, b in zip(*np.nonzero(sub), strict=True)
        )
        return out

    def feasible(self, members: Int) -> bool:
        return not self.violations(members)

    def smallest_size(self) -> int:
        """A lower bound on the size of any feasible team."""
        need = int(self.required.max()) if len(self.required) else 0
        return max(self.min_size, need, int(self.fixed.sum()), 1)

    def quick_bound(self, size: int | None = None) -> float:
        """A certified lower bound on the objective of any feasible team, in O(k^2 log k).

        Over teams of at least ``size`` members (default: the smallest feasible
        size). Each of a team's ``t >= s`` members is at working distance at
        least the sum of its ``s - 1`` nearest other candidates from the rest;
        the team's distance is at least half the sum of the ``s`` smallest such
        sums. The linear part is at least the smallest sum of ``t`` linear
        terms over the allowed sizes. Weak but cheap; the exact model gives the
        proven bound.
        """
        k = self.k
        s = max(self.smallest_size(), size or 0)
        upper = k if self.max_size is None else min(k, self.max_size)
        if k == 0 or s > upper:
            return math.inf
        wd, lin = self.weighted_distance, self.linear
        dist_part = 0.0
        if s >= 2:
            off = np.where(np.eye(k, dtype=bool), np.inf, wd)
            nearest = np.sort(off, axis=1)[:, : s - 1].sum(axis=1)
            dist_part = float(np.sort(nearest)[:s].sum() / 2)
        prefix = np.cumsum(np.sort(lin))
        lin_part = float(prefix[s - 1 : upper].min())
        if not math.isfinite(dist_part):
            dist_part = 0.0
        return dist_part + lin_part
