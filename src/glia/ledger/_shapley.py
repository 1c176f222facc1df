"""Shapley values: the fair split of what a coalition of members produces together.

Given the players ``N`` of a small swarm and a value model ``v(S)`` (what each
coalition ``S`` of them could have produced on its own), the Shapley value of
player ``i`` is its marginal contribution averaged over every order in which
the players could have joined::

    phi_i = sum over S not containing i of |S|! (n - |S| - 1)! / n! [v(S + i) - v(S)]

It is the only split that is *efficient* (the values sum to ``v(N) - v({})``),
*symmetric* (interchangeable players get the same), gives nothing to a *null
player* (one who adds nothing to any coalition) and is *additive* (the value of
the sum of two games is the sum of the values) (Shapley 1953).

**Exact** (``n <= exact_limit``, 15 by default): ``v`` is evaluated once on each
of the ``2^n`` coalitions, numbered by bitmask (bit ``j`` set when
``players[j]`` is in), and ``phi`` is computed with NumPy over all masks at
once: for each player, the masks without it, weighted by
``|S|! (n - |S| - 1)! / n! = 1 / (n C(n-1, |S|))`` looked up by popcount.

**Sampled** (``n > exact_limit``): ``samples`` random orders of the players
(Castro, Gomez and Tejada 2009), drawn with ``numpy.random.default_rng(seed)``
so that the same seed gives the same result. Each order gives every player one
marginal contribution ``v(P + i) - v(P)`` (``P`` the players before it); the
estimate is their mean, and the confidence half-width the normal approximation
``z sd / sqrt(m)`` (``z`` the two-sided quantile of the ``confidence`` level,
``sd`` the sample standard deviation of the player's contributions, ``m`` the
number of orders), so the error shrinks like ``1 / sqrt(m)``. ``v`` is cached
per coalition, so a coalition met in several orders is evaluated once. The
contributions of one order telescope to ``v(N) - v({})``, so the means already
sum to it up to rounding; what rounding leaves is spread over the players in
proportion to their half-widths (equally when all are 0), so that the values
sum to ``v(N) - v({})`` and the players whose estimates are least certain
absorb the correction.

``v`` is a function of a ``frozenset`` of player names (it is called on the
empty coalition too) or a table of ``v(S)``: its keys are frozensets, sets or
tuples of names (normalised to frozensets), every coalition must be present but
the empty one (which defaults to 0), and a table needs ``n <= exact_limit``.

Written here because no well-kept, permissively licensed library computes
Shapley values of an arbitrary cooperative game at this size: ``shap`` computes
Shapley-based attributions of machine-learning features to a model's
predictions, not the value of a game given by its characteristic function.

References: L. S. Shapley, "A value for n-person games", *Contributions to the
Theory of Games II* (1953), 307-317. J. Castro, D. Gomez, J. Tejada,
"Polynomial calculation of the Shapley value based on sampling", *Computers &
Operations Research* 36(5) (2009), 1726-1730. S. C. Littlechild, G. Owen, "A
simple expression for the Shapley value in a special case", *Management
Science* 20(3) (1973), 370-372 (the airport game used in the tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_EXACT", "Shapley", "ShapleyError", "shapley"]

#: The largest ``exact_limit`` accepted: 2^25 coalitions is already ~33 million calls of v.
MAX_EXACT = 25

#: ``v``: a function of a coalition, or a table keyed by frozensets, sets or tuples of names.
#: Keys are typed ``Any`` because ``Mapping`` is invariant in its keys (a
#: ``dict[frozenset[str], float]`` would not match ``Mapping[frozenset[str] | Iterable[str],
#: float]``); they are checked at run time.
Game: TypeAlias = Callable[[frozenset[str]], float] | Mapping[Any, float]


class ShapleyError(ValueError):
    """A game whose Shapley values cannot be computed as asked, and why."""


@dataclass(frozen=True)
class Shapley:
    """The Shapley values of a game, exact or estimated by sampling orders of the players."""

    players: tuple[str, ...]
    #: phi per player; they sum to ``grand - v({})``.
    values: dict[str, float]
    exact: bool
    #: Orders of the players drawn (0 when exact).
    samples: int
    #: Confidence half-width per player at ``confidence`` (0.0 when exact).
    half_width: dict[str, float]
    confidence: float
    #: v(N), the value of the whole swarm.
    grand: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: players in order, value and half-width per player."""
        return {
            "players": list(self.players),
            "values": {p: float(self.values[p]) for p in self.players},
            "exact": self.exact,
            "samples": self.samples,
            "half_width": {p: float(self.half_width[p]) for p in self.players},
            "confidence": self.confidence,
            "grand": float(self.grand),
        }


def shapley(
    players: Sequence[str],
    value: Game,
    *,
    exact_limit: int = 15,
    samples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Shapley:
    """The Shapley value of each of ``players`` in the game ``value``.

    ``value`` is ``v(S)``: a function of a frozenset of player names, or a
    table keyed by coalitions (frozensets, sets or tuples of names; the empty
    coalition defaults to 0). Exact when ``len(players) <= exact_limit``;
    otherwise estimated from ``samples`` random orders of the players drawn
    with ``seed``, with a confidence half-width per player at ``confidence``.

    >>> s = shapley(["L1", "L2", "R"], lambda c: min(len(c - {"R"}), len(c & {"R"})))
    >>> {p: round(x, 4) for p, x in s.values.items()}
    {'L1': 0.1667, 'L2': 0.1667, 'R': 0.6667}
    """
    names = _players(players)
    n = len(names)
    if isinstance(exact_limit, bool) or not isinstance(exact_limit, int):
        raise ShapleyError(f"exact_limit must be an integer, got {exact_limit!r}")
    if not 0 <= exact_limit <= MAX_EXACT:
        raise ShapleyError(
            f"exact_limit must be between 0 and {MAX_EXACT} (2^exact_limit coalitions "
            f"are evaluated), got {exact_limit}"
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ShapleyError(
            f"samples must be an integer of at least 2 (orders of the players), got {samples!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ShapleyError(f"seed must be an integer, got {seed!r}")
    if isinstance(confidence, bool) or not (
        isinstance(confidence, (int, float)) and 0 < confidence < 1
    ):
        raise ShapleyError(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}"
        )
    confidence = float(confidence)

    if isinstance(value, Mapping):
        if n > exact_limit:
            raise ShapleyError(
                f"a table of v(S) needs at most exact_limit = {exact_limit} players (it must "
                f"hold all 2^n coalitions), got {n}; pass v as a function to sample instead"
            )
        table = _table(names, value)
        return _exact(names, table, confidence)
    if not callable(value):
        raise ShapleyError(
            "value must be a function of a frozenset of player names or a table (mapping) "
            f"of coalitions to numbers, got {type(value).__name__}"
        )
    if n <= exact_limit:
        return _exact(names, _evaluate_all(names, value), confidence)
    return _sampled(names, value, samples, seed, confidence)


def _players(players: Sequence[str]) -> tuple[str, ...]:
    if isinstance(players, str):
        raise ShapleyError(f"players must be a sequence of names, not a string: {players!r}")
    names = tuple(players)
    for p in names:
        if not isinstance(p, str):
            raise ShapleyError(f"player names must be strings, got {p!r}")
    seen: set[str] = set()
    for p in names:
        if p in seen:
            raise ShapleyError(f"duplicate player {p!r}: each player must be named once")
        seen.add(p)
    return names


def _number(x: object, coalition: Iterable[str]) -> float:
    """``x`` as a finite float, or a ShapleyError naming the coalition it is v of."""
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ShapleyError(f"v({_show(coalition)}) must be a number, got {x!r}") from None
    if not math.isfinite(f):
        raise ShapleyError(f"v({_show(coalition)}) must be a finite number, got {x!r}")
    return f


def _show(coalition: Iterable[str]) -> str:
    members = list(coalition)
    return "{" + ", ".join(repr(p) for p in members) + "}"


def _members(names: tuple[str, ...], mask: int) -> frozenset[str]:
    return frozenset(p for j, p in enumerate(names) if mask >> j & 1)


def _table(names: tuple[str, ...], table: Mapping[Any, float]) -> npt.NDArray[np.float64]:
    """v on every mask from a table, checking keys and completeness."""
    n = len(names)
    index = {p: j for j, p in enumerate(names)}
    v = np.full(1 << n, np.nan)
    seen = np.zeros(1 << n, dtype=bool)
    for key, x in table.items():
        if isinstance(key, str) or not isinstance(key, Iterable):
            raise ShapleyError(
                f"a table key must be a collection of player names (a frozenset, set or "
                f"tuple), got {key!r}; write a single player as ({key!r},)"
            )
        mask = 0
        for p in key:
            if p not in index:
                raise ShapleyError(
                    f"unknown player {p!r} in table key {key!r}; the players are {list(names)}"
                )
            mask |= 1 << index[p]
        f = _number(x, (names[j] for j in range(n) if mask >> j & 1))
        if seen[mask] and v[mask] != f:
            raise ShapleyError(
                f"the table gives two values for coalition {_show(_sorted(names, mask))}: "
                f"{v[mask]!r} and {f!r}"
            )
        v[mask] = f
        seen[mask] = True
    if not seen[0]:
        v[0] = 0.0
        seen[0] = True
    missing = np.flatnonzero(~seen)
    if missing.size:
        raise ShapleyError(
            f"the table has no value for coalition {_show(_sorted(names, int(missing[0])))} "
            f"({missing.size} of the 2^{n} = {1 << n} coalitions are missing; every "
            "coalition but the empty one, which defaults to 0, must be given)"
        )
    return v


def _sorted(names: tuple[str, ...], mask: int) -> list[str]:
    return [p for j, p in enumerate(names) if mask >> j & 1]


def _evaluate_all(
    names: tuple[str, ...], v: Callable[[frozenset[str]], float]
) -> npt.NDArray[np.float64]:
    """v on every coalition, once each, indexed by bitmask."""
    n = len(names)
    out = np.empty(1 << n)
    for mask in range(1 << n):
        members = _members(names, mask)
        out[mask] = _number(v(members), _sorted(names, mask))
    return out


def _exact(names: tuple[str, ...], v: npt.NDArray[np.float64], confidence: float) -> Shapley:
    n = len(names)
    full = (1 << n) - 1
    phi: dict[str, float] = {}
    if n:
        masks = np.arange(1 << n, dtype=np.int64)
        size = np.zeros(1 << n, dtype=np.int64)
        for j in range(n):
            size += (masks >> j) & 1
        # |S|! (n - |S| - 1)! / n! = 1 / (n C(n-1, |S|)), for |S| = 0 .. n-1
        weight = np.array([1.0 / (n * math.comb(n - 1, k)) for k in range(n)])
        for j, p in enumerate(names):
            bit = 1 << j
            without = masks[(masks & bit) == 0]
            marginal = v[without | bit] - v[without]
            phi[p] = float(np.dot(weight[size[without]], marginal))
    return Shapley(
        players=names,
        values=phi,
        exact=True,
        samples=0,
        half_width=dict.fromkeys(names, 0.0),
        confidence=confidence,
        grand=float(v[full]),
    )


def _sampled(
    names: tuple[str, ...],
    v: Callable[[frozenset[str]], float],
    samples: int,
    seed: int,
    confidence: float,
) -> Shapley:
    n = len(names)
    cache: dict[int, float] = {}

    def value_of(mask: int) -> float:
        f = cache.get(mask)
        if f is None:
            members = _members(names, mask)
            f = _number(v(members), _sorted(names, mask))
            cache[mask] = f
        return f

    empty = value_of(0)
    grand = value_of((1 << n) - 1)
    rng = np.random.default_rng(seed)
    orders = rng.permuted(np.tile(np.arange(n), (samples, 1)), axis=1)
    contrib = np.empty((samples, n))
    for k in range(samples):
        mask = 0
        before = empty
        row = contrib[k]
        for j in orders[k].tolist():
            mask |= 1 << j
            after = value_of(mask)
            row[j] = after - before
            before = after
    mean = contrib.mean(axis=0)
    sd = contrib.std(axis=0, ddof=1)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * sd / math.sqrt(samples)
    # Efficiency: spread what the means miss of v(N) - v({}) (only rounding, since each
    # order's contributions telescope) in proportion to the half-widths.
    gap = (grand - empty) - math.fsum(mean.tolist())
    total = float(half.sum())
    share = half / total if total > 0 else np.full(n, 1.0 / n)
    adjusted = mean + gap * share
    return Shapley(
        players=names,
        values={p: float(adjusted[j]) for j, p in enumerate(names)},
        exact=False,
        samples=samples,
        half_width={p: float(half[j]) for j, p in enumerate(names)},
        confidence=confidence,
        grand=grand,
    )
