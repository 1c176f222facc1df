"""The exact model: the pool's objective as mixed-integer programs, solved by HiGHS.

Variables: ``y_i`` in {0, 1} for each candidate, ``z_ij`` in [0, 1] for each
pair, standing for ``y_i y_j``. One model per team size ``s``::

    minimise   sum_{i<j} w_d d_ij z_ij + sum_i linear_i y_i
    subject to sum_i y_i = s
               sum_{j != i} z_ij = (s - 1) y_i               for every candidate i
               y_i + y_j - 1 <= z_ij <= y_i, z_ij <= y_j      for every pair
               sum_{i covers r} y_i >= required_r             for every need r
               sum_i money_i y_i <= budget                    (when a budget is set)
               sum_i capital_i y_i >= capital_needed          (when capital is needed)
               y_i + y_j <= 1                                 for forbidden pairs
               y_i = 1                                        for required members

The second line is the reformulation-linearisation (RLT) of ``sum y = s``
multiplied by ``y_i``. The textbook model (``z_ij >= y_i + y_j - 1`` alone, any
size) has a linear relaxation near zero, so HiGHS must branch its way to the
bound: on generated pools of 90 candidates it did not prove the optimum in 60 s.
With the size fixed and the RLT rows the relaxation is within a few percent of
the optimum, and it proves it in about a second. Sizes are tried from the
smallest feasible one upward; a size whose relaxation cannot beat the best team
is skipped without branching, and the search stops at the first size from
which :meth:`Pool.quick_bound` rules out every larger team.

Glia uses HiGHS through :func:`scipy.optimize.milp` rather than OR-Tools CP-SAT:
SciPy is already a dependency, HiGHS proved the optimum on every DBLP task
measured in ``shared/methods/swarm.md``, and ``ortools`` and ``highspy`` cannot
share a process. SciPy's interface takes no starting solution, so the
heuristic's value is passed in as the incumbent: it prunes sizes, and when the
solver stops early, the gap reported is the best team known against the proven
bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._pool import Pool

__all__ = ["Exact", "linear_optimum", "solve"]


@dataclass(frozen=True)
class Exact:
    """What the exact model proved.

    ``members`` is the best team it knows (None when it found none; the
    incumbent passed in is not a team it knows), ``value`` that team's
    objective, ``bound`` the proven lower bound on any team of the pool,
    ``status`` one of ``optimal``, ``time limit``, ``infeasible``, ``error``,
    ``sizes`` what happened at each team size tried.
    """

    members: tuple[int, ...] | None
    value: float
    bound: float
    status: str
    seconds: float
    variables: int
    constraints: int
    sizes: tuple[tuple[int, str, float], ...] = ()

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


class _Model:
    """The constraint rows shared by every size, and the rows that depend on it."""

    def __init__(self, pool: Pool) -> None:
        k = pool.k
        iu, ju = np.triu_indices(k, 1)
        p = len(iu)
        self.k, self.p = k, p
        self.c = np.concatenate([pool.linear, pool.weighted_distance[iu, ju]])
        r = np.arange(p)
        rows: list[Any] = []
        lower: list[np.ndarray] = []
        upper: list[np.ndarray] = []

        def add(matrix: Any, lo: np.ndarray, hi: np.ndarray) -> None:
            rows.append(sp.coo_array(matrix, shape=(len(lo), k + p)))
            lower.append(lo)
            upper.append(hi)

        if p:
            one, minus = np.ones(p), -np.ones(p)
            link = (np.concatenate([one, minus, minus]), (np.tile(r, 3), np.r_[k + r, iu, ju]))
            add(link, np.full(p, -1.0), np.full(p, np.inf))  # z - y_i - y_j >= -1
            for end in (iu, ju):  # z - y_end <= 0
                add((np.r_[one, minus], (np.tile(r, 2), np.r_[k + r, end])), *_le(p, 0.0))
        n_needs = len(pool.required)
        if n_needs:
            cover = sp.hstack(
                [sp.coo_array(pool.cover.T.astype(np.float64)), sp.coo_array((n_needs, p))]
            )
            add(cover, pool.required.astype(np.float64), np.full(n_needs, np.inf))
        pad = np.zeros(p)
        if pool.budget is not None:
            add(np.r_[pool.money, pad][None, :], *_le(1, pool.budget))
        if pool.capital_needed:
            add(
                np.r_[pool.capital, pad][None, :],
                np.array([pool.capital_needed]),
                np.array([np.inf]),
            )
        f = pool.forbidden
        if len(f):
            q = np.arange(len(f))
            add((np.ones(2 * len(f)), (np.r_[q, q], np.r_[f[:, 0], f[:, 1]])), *_le(len(f), 1.0))
        self.shared = sp.vstack(rows).tocsr() if rows else sp.csr_array((0, k + p))
        self.lower = np.concatenate(lower) if lower else np.zeros(0)
        self.upper = np.concatenate(upper) if upper else np.zeros(0)
        # sum_j z_ij - (s - 1) y_i = 0: the z part is fixed, the y part scales with s
        self.rlt_z = sp.coo_array(
            (np.ones(2 * p), (np.r_[iu, ju], k + np.r_[r, r])), shape=(k, k + p)
        ).tocsr()
        self.rlt_y = sp.coo_array((np.ones(k), (np.arange(k), np.arange(k))), shape=(k, k + p))
        self.size_row = sp.coo_array(np.r_[np.ones(k), pad][None, :])
        self.bounds_lo = np.concatenate([pool.fixed.astype(np.float64), pad])
        self.n_rows = self.shared.shape[0] + k + 1

    def solve(self, s: int, integral: bool, time_limit: float, rel_gap: float) -> Any:
        from scipy.optimize import Bounds, LinearConstraint, milp

        k, p = self.k, self.p
        a = sp.vstack([self.shared, self.rlt_z - (s - 1) * self.rlt_y, self.size_row]).tocsr()
        lo = np.concatenate([self.lower, np.zeros(k), [float(s)]])
        hi = np.concatenate([self.upper, np.zeros(k), [float(s)]])
        integrality = np.concatenate([np.full(k, 1 if integral else 0), np.zeros(p)])
        return milp(
            self.c,
            constraints=LinearConstraint(a, lo, hi),
            integrality=integrality,
            bounds=Bounds(self.bounds_lo, np.ones(k + p)),
            options={"time_limit": max(time_limit, 0.01), "mip_rel_gap": rel_gap, "disp": False},
        )


def _le(n: int, value: float) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, -np.inf), np.full(n, value)


def solve(
    pool: Pool, time_limit: float = 10.0, rel_gap: float = 1e-6, incumbent: float = math.inf
) -> Exact:
    """Solve the pool exactly, or as far as ``time_limit`` seconds allow.

    ``incumbent`` is the objective of a team already known (the heuristic's);
    it lets sizes that cannot beat it be skipped.
    """
    started = time.perf_counter()
    k = pool.k
    smallest = linear_optimum(pool, np.ones(k), time_limit=time_limit)
    if smallest is None:
        return Exact(None, math.inf, math.inf, "infeasible", time.perf_counter() - started, k, 0)
    if math.isnan(smallest):  # no answer in time: start from what is surely too small
        smallest = pool.smallest_size()
    model = _Model(pool)
    best, members = incumbent, None
    bounds: list[float] = []
    sizes: list[tuple[int, str, float]] = []
    largest = k if pool.max_size is None else min(k, pool.max_size)

    def beats(value: float) -> bool:
        if not math.isfinite(best):
            return value < math.inf
        return value < best - max(rel_gap * abs(best), 1e-9)

    for s in range(round(smallest), largest + 1):
        rest = pool.quick_bound(s)  # covers every size from s up
        if not beats(rest):
            bounds.append(rest)
            break
        left = time_limit - (time.perf_counter() - started)
        if left <= 0:
            bounds.append(rest)
            break
        relaxed = model.solve(s, False, left, rel_gap)
        if relaxed.status == 2:
            sizes.append((s, "infeasible", math.inf))
            continue
        if relaxed.status != 0:  # out of time, or HiGHS failing on an LP
            bounds.append(rest)
            break
        if not beats(relaxed.fun):
            sizes.append((s, "pruned", float(relaxed.fun)))
            bounds.append(float(relaxed.fun))
            continue
        left = time_limit - (time.perf_counter() - started)
        res = model.solve(s, True, left, rel_gap)
        if res.x is not None:
            team = np.flatnonzero(res.x[:k] > 0.5)
            value = pool.total(team)
            if value < best or (members is None and value <= best):
                best, members = value, tuple(int(i) for i in team)
        if res.status == 0:
            sizes.append((s, "optimal", float(res.fun)))
            bounds.append(float(res.fun))
        elif res.status == 2:
            sizes.append((s, "infeasible", math.inf))
        else:
            dual = getattr(res, "mip_dual_bound", None)
            size_bound = float(relaxed.fun) if dual is None or not math.isfinite(dual) else dual
            sizes.append((s, "time limit", size_bound))
            bounds.append(max(size_bound, float(relaxed.fun)))
            bounds.append(pool.quick_bound(s + 1))  # larger sizes were never examined
            break
    seconds = time.perf_counter() - started
    bound = min([*bounds, best])
    if not math.isfinite(bound) and not math.isfinite(best):
        status = "infeasible"
    elif math.isfinite(best) and best - bound <= max(rel_gap * abs(best), 1e-9):
        status = "optimal"
    else:
        status = "time limit"
    value = pool.total(np.array(members, np.int64)) if members is not None else best
    return Exact(
        members,
        value,
        float(bound),
        status,
        seconds,
        k + model.p,
        model.n_rows,
        tuple(sizes),
    )


def linear_optimum(
    pool: Pool,
    objective: np.ndarray,
    *,
    budget: bool = True,
    capital: bool = True,
    time_limit: float = 10.0,
) -> float | None:
    """The least ``objective @ y`` over teams meeting the needs (None: no such team; NaN:
    no answer within ``time_limit``).

    Pairwise terms left out, so it solves in milliseconds: used to say *why*
    no team exists (the cheapest cover against the budget, the most capital).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    k = pool.k
    rows = [pool.cover.T.astype(np.float64), np.ones((1, k))]
    top = np.inf if pool.max_size is None else float(pool.max_size)
    lo = [pool.required.astype(np.float64), np.array([float(pool.min_size)])]
    hi = [np.full(len(pool.required), np.inf), np.array([top])]
    if budget and pool.budget is not None:
        rows.append(pool.money[None, :])
        lo.append(np.array([-np.inf]))
        hi.append(np.array([pool.budget]))
    if capital and pool.capital_needed:
        rows.append(pool.capital[None, :])
        lo.append(np.array([pool.capital_needed]))
        hi.append(np.array([np.inf]))
    for a, b in pool.forbidden:
        row = np.zeros((1, k))
        row[0, [a, b]] = 1
        rows.append(row)
        lo.append(np.array([-np.inf]))
        hi.append(np.array([1.0]))
    res = milp(
        objective,
        constraints=LinearConstraint(np.vstack(rows), np.concatenate(lo), np.concatenate(hi)),
        integrality=np.ones(k),
        bounds=Bounds(pool.fixed.astype(np.float64), np.ones(k)),
        options={"time_limit": max(time_limit, 0.01), "disp": False},
    )
    if res.status == 2:
        return None
    return float(res.fun) if res.status == 0 else math.nan
