"""Fairness of distributions: how income received compares with contributions made.

**Gini coefficient** (:func:`gini`) of non-negative amounts ``x_1..x_n`` with
mean ``mu``: the mean absolute difference between every two of them, over
twice the mean (Gini 1912)::

    G = sum_i sum_j |x_i - x_j| / (2 n^2 mu)

computed in its sorted form (as in Sen, *On Economic Inequality*, 1973), with
``x_(1) <= ... <= x_(n)``::

    G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i)

0 when everyone has the same, ``(n-1)/n`` when one has everything, so always
below 1. Neither empty input nor all zeros has an inequality to measure: both
give 0.

**Concentration index** (:func:`concentration_index`) of an outcome ``y``
ranked by another variable (Kakwani, Wagstaff and van Doorslaer 1997,
"Socioeconomic inequalities in health: measurement, computation and
statistical inference", *Journal of Econometrics* 77:87-103), twice the
covariance of the outcome with the fractional rank, over the outcome's mean::

    C = 2 cov(y, R) / mu_y = sum_i (2 r_i - n - 1) y_i / (n sum_i y_i)

``r_i`` is participant i's rank (1..n) by the ranking variable, ties sharing
their mean rank (so the index does not depend on the order of the input).
Here the outcome is each participant's share of income and the ranking their
contributions: ``C`` equals the Gini of shares when shares follow the order of
contributions exactly, is lower when they do not, and negative when those
who contribute more receive less.

**Distance from proportional** (:func:`fairness`): with ``c_i`` a
participant's share of all contributions credited and ``s_i`` their share of
the income distributed, ``D = 1/2 sum_i |s_i - c_i|`` (the total variation
distance of the two distributions): the share of the income that would have
to move for everyone to receive in proportion to what they contributed. 0 is
proportional; 1, everything went to people who contributed nothing credited.
The participants with the largest ``|s_i - c_i|`` are listed.

Written here because each is a few lines of arithmetic over a handful of
numbers per participant; the tests check them against hand-worked values and
the double sum above.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..ledger._allocate import HOURS, NOT_CONTRIBUTIONS

__all__ = [
    "Fairness",
    "Gap",
    "concentration_index",
    "credited_value",
    "fairness",
    "gini",
    "is_contribution",
]

Number = int | float | Decimal


def is_contribution(action: str) -> bool:
    """Whether a ledger action is a contribution (not income, allocation, payout, leave)."""
    return action not in NOT_CONTRIBUTIONS


def credited_value(
    quantity: Decimal | None, unit: str | None, value: Decimal | None, rate: Decimal | None
) -> Decimal | None:
    """A contribution's money value, by the ledger's formula fields: its ``value`` when
    one was recorded, else its hours times the participant's rate per hour, else
    None (not credited here: a referral, or intangible help without a value).

    >>> credited_value(Decimal(10), "hour", None, Decimal(50))
    Decimal('500')
    >>> credited_value(Decimal(1), None, None, Decimal(50)) is None
    True
    """
    if value is not None:
        return value
    if quantity is not None and (unit or "").strip().lower() in HOURS and rate is not None:
        return quantity * rate
    return None


def _floats(values: Iterable[Number], what: str) -> list[float]:
    out = []
    for v in values:
        x = float(v)
        if not math.isfinite(x) or x < 0:
            raise ValueError(f"{what} must be finite and not negative, not {v}")
        out.append(x)
    return out


def gini(values: Iterable[Number]) -> float:
    """The Gini coefficient of non-negative amounts (see the module for the formula).

    >>> gini([1, 1, 1, 1]), gini([0, 0, 0, 4]), round(gini([1, 2, 3, 4]), 6)
    (0.0, 0.75, 0.25)
    """
    xs = sorted(_floats(values, "amounts"))
    n, total = len(xs), math.fsum(xs)
    if n == 0 or total == 0:
        return 0.0
    g = math.fsum((2 * i - n - 1) * x for i, x in enumerate(xs, start=1)) / (n * total)
    return min(max(g, 0.0), 1.0 - 1.0 / n)  # rounding may stray past the bounds by an ulp


def _mid_ranks(keys: Sequence[float]) -> list[float]:
    """Ranks 1..n by ``keys`` ascending, ties sharing their mean rank."""
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    ranks = [0.0] * len(keys)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and keys[order[end + 1]] == keys[order[start]]:
            end += 1
        mean = (start + end) / 2 + 1
        for k in range(start, end + 1):
            ranks[order[k]] = mean
        start = end + 1
    return ranks


def concentration_index(outcome: Sequence[Number], rank_by: Sequence[Number]) -> float:
    """The concentration index of ``outcome`` ranked by ``rank_by`` (see the module).

    >>> concentration_index([0, 0, 0, 4], [1, 2, 3, 4])  # in rank order: the Gini
    0.75
    >>> concentration_index([4, 0, 0, 0], [1, 2, 3, 4])  # all to the lowest ranked
    -0.75
    """
    if len(outcome) != len(rank_by):
        raise ValueError(f"{len(outcome)} outcomes for {len(rank_by)} ranks")
    ys = _floats(outcome, "outcomes")
    keys = [float(k) for k in rank_by]
    n, total = len(ys), math.fsum(ys)
    if n == 0 or total == 0:
        return 0.0
    ranks = _mid_ranks(keys)
    return math.fsum((2 * r - n - 1) * y for r, y in zip(ranks, ys, strict=True)) / (n * total)


@dataclass(frozen=True)
class Gap:
    """One participant: contributions credited and income received, each with its share."""

    participant: str
    contributed: Decimal
    contribution_share: float
    received: Decimal
    income_share: float

    @property
    def gap(self) -> float:
        """Income share minus contribution share: above 0, more than proportional."""
        return self.income_share - self.contribution_share

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "contributed": str(self.contributed),
            "contribution_share": self.contribution_share,
            "received": str(self.received),
            "income_share": self.income_share,
            "gap": self.gap,
        }


@dataclass(frozen=True)
class Fairness:
    """Shares of income against contributions, across the participants who have either.

    ``gini_shares`` and ``concentration`` and ``deviation`` are None while no
    income has been distributed; ``gini_contributions`` is None with no
    contribution credited.
    """

    participants: int
    contributed: Decimal
    distributed: Decimal
    gini_contributions: float | None
    gini_shares: float | None
    concentration: float | None
    deviation: float | None
    furthest: tuple[Gap, ...]
    uncredited: int = 0
    currency: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "currency": self.currency,
            "contributed": str(self.contributed),
            "distributed": str(self.distributed),
            "gini_contributions": self.gini_contributions,
            "gini_shares": self.gini_shares,
            "concentration": self.concentration,
            "deviation": self.deviation,
            "uncredited": self.uncredited,
            "furthest": [g.to_json() for g in self.furthest],
        }


def fairness(
    contributed: Mapping[str, Number],
    received: Mapping[str, Number],
    *,
    top: int = 5,
    uncredited: int = 0,
    currency: str | None = None,
) -> Fairness:
    """Compare each participant's share of income with their share of contributions.

    ``contributed``: contributions credited per participant (money);
    ``received``: income allocated to each. The population is everyone with
    either above 0 (negative net amounts count as 0); ``top`` participants
    furthest from proportional are listed, largest gap first.

    >>> f = fairness({"ana": 300, "ben": 100}, {"ana": 200, "ben": 100, "hub": 100})
    >>> f.deviation, [(g.participant, round(g.gap, 2)) for g in f.furthest]
    (0.25, [('ana', -0.25), ('hub', 0.25), ('ben', 0.0)])
    """
    zero = Decimal(0)

    def amounts(values: Mapping[str, Number]) -> dict[str, Decimal]:
        return {k: max(Decimal(str(v)), zero) for k, v in values.items()}

    given, got = amounts(contributed), amounts(received)
    people = sorted(p for p in set(given) | set(got) if given.get(p, zero) or got.get(p, zero))
    c = [given.get(p, zero) for p in people]
    s = [got.get(p, zero) for p in people]
    total_c, total_s = sum(c, zero), sum(s, zero)
    c_share = [float(x / total_c) if total_c else 0.0 for x in c]
    s_share = [float(x / total_s) if total_s else 0.0 for x in s]
    gaps = [
        Gap(p, ci, cs, si, ss)
        for p, ci, cs, si, ss in zip(people, c, c_share, s, s_share, strict=True)
    ]
    distributed = total_s > 0
    deviation = 0.5 * math.fsum(abs(g.gap) for g in gaps) if distributed and total_c > 0 else None
    if distributed and total_c == 0:
        deviation = 1.0  # every share went to someone who contributed nothing credited
    furthest = sorted(gaps, key=lambda g: (-abs(g.gap), g.participant))[: max(top, 0)]
    return Fairness(
        participants=len(people),
        contributed=total_c,
        distributed=total_s,
        gini_contributions=gini(c) if total_c > 0 else None,
        gini_shares=gini(s) if distributed else None,
        concentration=concentration_index(s, c) if distributed else None,
        deviation=deviation,
        furthest=tuple(furthest) if distributed else (),
        uncredited=uncredited,
        currency=currency,
    )
