"""The exact model: the pool's objective as a mixed-integer program, solved by HiGHS.

Variables: ``y_i`` in {0, 1} for each candidate, ``z_ij`` in [0, 1] for each
pair with a positive weighted distance. Because distances are not negative and
the objective is minimised, ``z_ij >= y_i + y_j - 1`` makes ``z_ij = y_i y_j``
at every optimum (the standard linearisation; Berktas and Yaman 2021 for the
min-sum quadratic set cover)::

    minimise   sum_{i<j} w_d d_ij z_ij + sum_i linear_i y_i
    subject to sum_{i covers r} y_i >= required_r        for every need r
               sum_i money_i y_i <= budget                (when a budget is set)
               sum_i capital_i y_i >= capital_needed      (when capital is needed)
               min_size <= sum_i y_i <= max_size
               y_i + y_j <= 1                              for forbidden pairs
               y_i = 1                                     for required members

Glia uses HiGHS through :func:`scipy.optimize.milp` rather than OR-Tools CP-SAT:
SciPy is already a dependency, HiGHS proved the optimum on every DBLP task
measured in ``shared/methods/swarm.md``, and ``ortools`` and ``highspy`` cannot
share a process. SciPy's interface takes no starting solution, so the
heuristic's team is used as the incumbent when the solver stops early: the gap
reported is always the best team known against HiGHS's proven bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._pool import Pool

__all__ = ["Exact", "linear_optimum", "solve"]


@dataclass(frozen=True)
class Exact:
    """What the exact model proved.

    ``members`` is the solver's best team (None when it found none), ``value``
    its objective, ``bound`` the proven lower bound on any team of the pool,
    ``status`` one of ``optimal``, ``time limit``, ``infeasible``, ``error``.
    """

    members: tuple[int, ...] | None
    value: float
    bound: float
    status: str
    seconds: float
    variables: int
    constraints: int

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def solve(pool: Pool, time_limit: float = 10.0, rel_gap: float = 1e-6) -> Exact:
    """Solve the pool exactly, or as far as ``time_limit`` seconds allow."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    k = pool.k
    started = time.perf_counter()
    iu, ju = np.triu_indices(k, 1)
    wd = pool.weighted_distance[iu, ju]
    keep = wd > 0
    iu, ju, wd = iu[keep], ju[keep], wd[keep]
    p = len(iu)
    c = np.concatenate([pool.linear, wd])
    rows: list[sp.coo_array] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []

    def add(matrix: sp.coo_array, lo: np.ndarray, hi: np.ndarray) -> None:
        rows.append(matrix)
        lower.append(lo)
        upper.append(hi)

    # z_ij - y_i - y_j >= -1
    if p:
        r = np.arange(p)
        link = sp.coo_array(
            (
                np.concatenate([np.ones(p), -np.ones(p), -np.ones(p)]),
                (np.concatenate([r, r, r]), np.concatenate([k + r, iu, ju])),
            ),
            shape=(p, k + p),
        )
        add(link, np.full(p, -1.0), np.full(p, np.inf))
    n_needs = len(pool.required)
    if n_needs:
        cov = sp.coo_array(pool.cover.T.astype(np.float64))
        cov = sp.hstack([cov, sp.coo_array((n_needs, p))]).tocoo()
        add(cov, pool.required.astype(np.float64), np.full(n_needs, np.inf))

    def row(values: np.ndarray) -> sp.coo_array:
        return sp.coo_array(np.concatenate([values, np.zeros(p)])[None, :])

    if pool.budget is not None:
        add(row(pool.money), np.array([-np.inf]), np.array([pool.budget]))
    if pool.capital_needed:
        add(row(pool.capital), np.array([pool.capital_needed]), np.array([np.inf]))
    top = np.inf if pool.max_size is None else float(pool.max_size)
    add(row(np.ones(k)), np.array([float(pool.min_size)]), np.array([top]))
    f = pool.forbidden
    if len(f):
        q = np.arange(len(f))
        forb = sp.coo_array(
            (np.ones(2 * len(f)), (np.concatenate([q, q]), np.concatenate([f[:, 0], f[:, 1]]))),
            shape=(len(f), k + p),
        )
        add(forb, np.full(len(f), -np.inf), np.ones(len(f)))
    a = sp.vstack(rows).tocsr()
    lo_y = pool.fixed.astype(np.float64)
    bounds = Bounds(np.concatenate([lo_y, np.zeros(p)]), np.ones(k + p))
    integrality = np.concatenate([np.ones(k), np.zeros(p)])
    res = milp(
        c,
        constraints=LinearConstraint(a, np.concatenate(lower), np.concatenate(upper)),
        integrality=integrality,
        bounds=bounds,
        options={"time_limit": max(time_limit, 0.01), "mip_rel_gap": rel_gap, "disp": False},
    )
    seconds = time.perf_counter() - started
    members: tuple[int, ...] | None = None
    value = math.inf
    if res.x is not None:
        members = tuple(int(i) for i in np.flatnonzero(res.x[:k] > 0.5))
        value = pool.total(np.array(members, np.int64))
    bound = getattr(res, "mip_dual_bound", None)
    if res.status == 0:
        status = "optimal"
        bound = value if bound is None or not math.isfinite(bound) else min(bound, value)
    elif res.status == 2:
        status = "infeasible"
        bound = math.inf
    elif res.status == 1:
        status = "time limit"
    else:
        status = "error"
    if bound is None or (isinstance(bound, float) and math.isnan(bound)):
        bound = -math.inf
    return Exact(members, value, float(bound), status, seconds, k + p, a.shape[0])


def linear_optimum(
    pool: Pool, objective: np.ndarray, *, budget: bool = True, capital: bool = True
) -> float | None:
    """The least ``objective @ y`` over teams meeting the needs (None: no such team).

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
        options={"time_limit": 10.0, "disp": False},
    )
    return float(res.fun) if res.status == 0 else None
