"""Fast heuristics: RarestFirst and min-leader-distance seeds, then local search.

Seeds follow the literature (Lappas, Liu, Terzi 2009: start from each holder
of the rarest need; Kargar and An 2011: the leader whose nearest holders of
every need are closest). Each seed is then improved by a best-improvement local
search over *drop*, *add* and *swap* moves on the full objective of
:mod:`glia.swarm._pool`, every move of a step scored at once with NumPy. The
search minimises infeasibility first (needs short, budget over, capital short,
size out of bounds, forbidden pairs together) and the objective second, so the
same loop repairs a seed and improves it. Written here because no library does
team formation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._pool import Pool

__all__ = ["Found", "leader_distances", "local_search", "rarest_need", "search"]

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
Num = Float | float

_EPS = 1e-9
#: Seeds tried per kind: holders of the rarest need, and best leaders.
SEEDS_PER_KIND = 16
#: Local search steps before giving up on a seed (never reached in practice).
MAX_STEPS = 2000


@dataclass(frozen=True)
class Found:
    """A team the search found: sorted pool indices, its objective, where it came from."""

    members: tuple[int, ...]
    total: float
    origin: str


def rarest_need(pool: Pool) -> int:
    """The need with the fewest holders per person required (ties: the first)."""
    holders = pool.cover.sum(axis=0)
    return int(np.argmin(holders / np.maximum(pool.required, 1)))


def leader_distances(pool: Pool) -> Float:
    """For each candidate as leader, the weighted distance to its nearest holders of each need.

    The min-leader-distance cost of Kargar and An: ``sum over needs r of the
    required[r] smallest d(leader, holder of r)``; exact for that objective,
    computed for every leader at once.
    """
    wd = pool.weighted_distance
    out = np.zeros(pool.k)
    for r in range(len(pool.required)):
        holders = np.flatnonzero(pool.cover[:, r])
        need = int(pool.required[r])
        if len(holders) < need:
            out += np.inf
            continue
        block = np.sort(wd[:, holders], axis=1)[:, :need]
        out += block.sum(axis=1)
    return out


def _infeasibility(
    pool: Pool, have: Float, money: Num, capital: Num, size: Num, conflicts: Num
) -> Float:
    """How far teams are from feasible (0 when feasible); arrays broadcast together."""
    short = np.maximum(pool.required - have, 0).sum(axis=-1)
    bad = short + conflicts
    bad = bad + np.maximum(pool.min_size - size, 0)
    if pool.max_size is not None:
        bad = bad + np.maximum(size - pool.max_size, 0)
    if pool.budget is not None:
        bad = bad + np.maximum(money - pool.budget, 0) / pool.budget
    if pool.capital_needed:
        bad = bad + np.maximum(pool.capital_needed - capital, 0) / pool.capital_needed
    result: Float = np.asarray(bad, np.float64)
    return result


def _greedy(pool: Pool, start: list[int], order: list[int], banned: Bool) -> list[int]:
    """Cover the needs in ``order`` from ``start``, each time adding the cheapest holder."""
    team = list(dict.fromkeys(start + list(np.flatnonzero(pool.fixed))))
    in_team = np.zeros(pool.k, bool)
    in_team[team] = True
    sums = pool.weighted_distance[:, team].sum(axis=1)
    for r in order:
        while pool.cover[in_team, r].sum() < pool.required[r]:
            ok = pool.cover[:, r] & ~in_team & ~banned & ~pool.conflict[:, in_team].any(axis=1)
            if not ok.any():
                ok = pool.cover[:, r] & ~in_team & ~banned
                if not ok.any():
                    break
            score = np.where(ok, sums + pool.linear, np.inf)
            c = int(np.argmin(score))
            team.append(c)
            in_team[c] = True
            sums += pool.weighted_distance[:, c]
    return team


def local_search(pool: Pool, start: list[int], banned: Bool | None = None) -> tuple[Int, float]:
    """Best-improvement drop/add/swap/merge from ``start``; returns (members, infeasibility).

    ``banned`` candidates are never added. Every move of a step is scored at
    once: adds as a vector over candidates, drops over members, swaps as a
    members x candidates matrix, merges (two members out, one candidate in)
    as a member pairs x candidates matrix.
    """
    k = pool.k
    banned = np.zeros(k, bool) if banned is None else banned
    in_team = np.zeros(k, bool)
    in_team[start] = True
    wd, lin, cover = pool.weighted_distance, pool.linear, pool.cover.astype(np.float64)
    conflict = pool.conflict.astype(np.float64)
    for _ in range(MAX_STEPS):
        team = np.flatnonzero(in_team)
        outside = np.flatnonzero(~in_team & ~banned)
        sums = wd[:, team].sum(axis=1)
        csum = conflict[:, team].sum(axis=1)
        have = cover[team].sum(axis=0)
        money = float(pool.money[team].sum())
        capital = float(pool.capital[team].sum())
        size = float(len(team))
        conflicts = float(csum[team].sum() / 2)
        cur_bad = float(_infeasibility(pool, have, np.float64(money), capital, size, conflicts))
        # adds
        add_bad = _infeasibility(
            pool,
            have + cover[outside],
            money + pool.money[outside],
            capital + pool.capital[outside],
            np.float64(size + 1),
            conflicts + csum[outside],
        )
        add_gain = sums[outside] + lin[outside]
        # drops (fixed members stay)
        movable = team[~pool.fixed[team]]
        drop_bad = _infeasibility(
            pool,
            have - cover[movable],
            money - pool.money[movable],
            capital - pool.capital[movable],
            np.float64(size - 1),
            conflicts - csum[movable],
        )
        drop_gain = -(sums[movable] + lin[movable])
        # swaps: rows are members leaving, columns candidates joining
        swap_bad = _infeasibility(
            pool,
            have - cover[movable][:, None, :] + cover[outside][None, :, :],
            money - pool.money[movable][:, None] + pool.money[outside][None, :],
            capital - pool.capital[movable][:, None] + pool.capital[outside][None, :],
            np.float64(size),
            conflicts
            - csum[movable][:, None]
            + csum[outside][None, :]
            - conflict[np.ix_(movable, outside)],
        )
        swap_gain = (
            sums[outside][None, :]
            - wd[np.ix_(movable, outside)]
            - sums[movable][:, None]
            + lin[outside][None, :]
            - lin[movable][:, None]
        )
        # merges: two members leave, one candidate (often holding both their
        # capabilities) joins; without them a team cannot shrink past a plateau
        pa, pb = np.triu_indices(len(movable), 1)
        a_, b_ = movable[pa], movable[pb]
        merge_bad = _infeasibility(
            pool,
            have - cover[a_][:, None, :] - cover[b_][:, None, :] + cover[outside][None, :, :],
            money - (pool.money[a_] + pool.money[b_])[:, None] + pool.money[outside][None, :],
            capital
            - (pool.capital[a_] + pool.capital[b_])[:, None]
            + pool.capital[outside][None, :],
            np.float64(size - 1),
            conflicts
            - (csum[a_] + csum[b_] - conflict[a_, b_])[:, None]
            + csum[outside][None, :]
            - conflict[np.ix_(a_, outside)]
            - conflict[np.ix_(b_, outside)],
        )
        merge_gain = (
            sums[outside][None, :]
            - wd[np.ix_(a_, outside)]
            - wd[np.ix_(b_, outside)]
            - (sums[a_] + sums[b_] - wd[a_, b_])[:, None]
            + lin[outside][None, :]
            - (lin[a_] + lin[b_])[:, None]
        )
        bads = [add_bad.ravel(), drop_bad.ravel(), swap_bad.ravel(), merge_bad.ravel()]
        gains = [add_gain.ravel(), drop_gain.ravel(), swap_gain.ravel(), merge_gain.ravel()]
        bad = np.concatenate(bads)
        gain = np.concatenate(gains)
        if not len(bad):
            break
        best_bad = bad.min()
        if best_bad < cur_bad - _EPS:
            pick = np.flatnonzero(bad <= best_bad + _EPS)
        else:
            pick = np.flatnonzero(bad <= cur_bad + _EPS)
            if not len(pick) or gain[pick].min() >= -_EPS * max(1.0, abs(gain[pick]).max()):
                break
        move = int(pick[np.argmin(gain[pick])])
        n_add, n_drop = len(outside), len(movable)
        if move < n_add:
            in_team[outside[move]] = True
        elif move < n_add + n_drop:
            in_team[movable[move - n_add]] = False
        elif move < n_add + n_drop + n_drop * n_add:
            leave, join = divmod(move - n_add - n_drop, len(outside))
            in_team[movable[leave]] = False
            in_team[outside[join]] = True
        else:
            pair, join = divmod(move - n_add - n_drop - n_drop * n_add, len(outside))
            in_team[a_[pair]] = False
            in_team[b_[pair]] = False
            in_team[outside[join]] = True
    team = np.flatnonzero(in_team)
    have = cover[team].sum(axis=0)
    final_bad = _infeasibility(
        pool,
        have,
        np.float64(pool.money[team].sum()),
        float(pool.capital[team].sum()),
        float(len(team)),
        float(conflict[np.ix_(team, team)].sum() / 2),
    )
    return team, float(final_bad)


def _seeds(pool: Pool, banned: Bool) -> list[tuple[str, list[int]]]:
    """Starting teams: RarestFirst from the best holders of the rarest need, best leaders."""
    if not len(pool.required):
        return [("fixed", list(np.flatnonzero(pool.fixed)))]
    rare = rarest_need(pool)
    holders_per = pool.cover.sum(axis=0) / np.maximum(pool.required, 1)
    order = [int(r) for r in np.argsort(holders_per, kind="stable")]
    seeds: list[tuple[str, list[int]]] = []
    holders = np.flatnonzero(pool.cover[:, rare] & ~banned)
    # the holders of the rarest need nearest to all others first
    closeness = pool.weighted_distance[holders].sum(axis=1) + pool.linear[holders]
    for h in holders[np.argsort(closeness, kind="stable")][:SEEDS_PER_KIND]:
        seeds.append(("rarest first", _greedy(pool, [int(h)], order, banned)))
    ld = leader_distances(pool) + pool.linear
    ld[banned] = np.inf
    leaders = list(np.flatnonzero(pool.fixed)) + [
        int(i) for i in np.argsort(ld, kind="stable")[:SEEDS_PER_KIND] if np.isfinite(ld[i])
    ]
    for leader in dict.fromkeys(leaders):
        in_team = np.zeros(pool.k, bool)
        in_team[leader] = True
        in_team[pool.fixed] = True
        for r in order:
            lacking = int(pool.required[r] - pool.cover[in_team, r].sum())
            if lacking <= 0:
                continue
            cand = np.flatnonzero(pool.cover[:, r] & ~in_team & ~banned)
            near = cand[np.argsort(pool.weighted_distance[leader, cand], kind="stable")][:lacking]
            in_team[near] = True
        seeds.append(("leader", list(np.flatnonzero(in_team))))
    return seeds


def search(pool: Pool, top: int = 1, banned: Bool | None = None) -> list[Found]:
    """Up to ``top`` distinct feasible teams, best first (empty when none was found).

    Every seed is improved by :func:`local_search`; distinct local optima are
    kept. When fewer than ``top`` come out, each member of the best team is
    banned in turn and the search rerun, which yields the nearest alternatives.
    """
    banned = np.zeros(pool.k, bool) if banned is None else banned
    found: dict[tuple[int, ...], Found] = {}
    tried: set[tuple[tuple[int, ...], bytes]] = set()

    def run(origin: str, start: list[int], ban: Bool) -> None:
        key = tuple(sorted(int(i) for i in start))
        if (key, ban.tobytes()) in tried:
            return
        tried.add((key, ban.tobytes()))
        team, bad = local_search(pool, list(key), ban)
        members = tuple(int(i) for i in team)
        if bad <= _EPS and pool.feasible(team) and members not in found:
            found[members] = Found(members, pool.total(team), origin)

    for origin, start in _seeds(pool, banned):
        run(origin, start, banned)
    ranked = sorted(found.values(), key=lambda f: (f.total, f.members))
    if ranked and len(ranked) < top:
        best = ranked[0]
        for member in best.members:
            if pool.fixed[member] or len(found) >= top * 2:
                continue
            ban = banned.copy()
            ban[member] = True
            for _, start in _seeds(pool, ban)[:4]:
                run(f"without {pool.labels[member]}", start, ban)
        ranked = sorted(found.values(), key=lambda f: (f.total, f.members))
    return ranked[:top]
