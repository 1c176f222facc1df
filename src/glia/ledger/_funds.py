"""Network funds over time: how a period's budget is paid out against scores.

A network-level fund (an ecosystem's common pool) pays a budget each period to
participants in proportion to a score (their claims, peer recognition, ...).
Three policies, after SourceCred's, all exact to the smallest unit:

- ``immediate``: in proportion to this period's scores;
- ``recent``: in proportion to scores decayed over time,
  ``acc = acc * (1 - discount) + score``, so recent contributions weigh more;
- ``balanced``: toward each participant's lifetime share, ``target_i = (paid so
  far + budget) * lifetime_score_i / all lifetime scores``, paying in
  proportion to ``max(0, target_i - paid_i)``; those paid less than their share
  catch up.

Only the budget actually in the fund is paid: no policy issues more than it
has (SourceCred's deficit is the cautionary tale).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from ._distribute import DistributionError, largest_remainder

__all__ = ["POLICIES", "Policy", "payouts"]

Policy = Literal["immediate", "recent", "balanced"]
POLICIES: tuple[Policy, ...] = ("immediate", "recent", "balanced")


def payouts(
    policy: Policy,
    budget: Decimal | int | str,
    scores: Sequence[Mapping[str, Decimal | int]],
    paid: Mapping[str, Decimal | int] | None = None,
    *,
    discount: Decimal | str = Decimal("0.5"),
    unit: Decimal = Decimal("0.01"),
) -> dict[str, Decimal]:
    """This period's payouts of ``budget``; ``scores`` holds one mapping per period, oldest first.

    ``paid`` is what each participant received from the fund before (for
    ``balanced``). Payouts sum exactly to the budget (to ``unit``), none is
    negative; with no positive score the budget stays in the fund (an empty
    result).

    >>> payouts("balanced", 100, [{"ann": 1, "bob": 1}], paid={"ann": 100})
    {'bob': Decimal('100.00')}
    """
    amount = Decimal(str(budget))
    if amount < 0:
        raise DistributionError(f"budget {amount}: expected zero or more")
    if policy not in POLICIES:
        raise DistributionError(f"policy {policy!r}: expected one of {', '.join(POLICIES)}")
    if not scores:
        raise DistributionError("no period of scores: expected at least the current one")
    d = Fraction(Decimal(str(discount)))
    if not 0 <= d <= 1:
        raise DistributionError(f"discount {discount}: expected between 0 and 1")
    for t, period in enumerate(scores):
        for agent, s in period.items():
            if Decimal(str(s)) < 0:
                raise DistributionError(f"period {t + 1}, {agent}: negative score {s}")
    weight: dict[str, Fraction] = {}
    if policy == "immediate":
        weight = {a: Fraction(Decimal(str(s))) for a, s in scores[-1].items()}
    elif policy == "recent":
        for period in scores:
            weight = {a: w * (1 - d) for a, w in weight.items()}
            for a, s in period.items():
                weight[a] = weight.get(a, Fraction(0)) + Fraction(Decimal(str(s)))
    else:
        lifetime: dict[str, Fraction] = {}
        for period in scores:
            for a, s in period.items():
                lifetime[a] = lifetime.get(a, Fraction(0)) + Fraction(Decimal(str(s)))
        total = sum(lifetime.values(), Fraction(0))
        before = {a: Fraction(Decimal(str(v))) for a, v in (paid or {}).items()}
        if total > 0:
            pot = sum(before.values(), Fraction(0)) + Fraction(amount)
            weight = {
                a: max(Fraction(0), pot * s / total - before.get(a, Fraction(0)))
                for a, s in lifetime.items()
            }
    weight = {a: w for a, w in weight.items() if w > 0}
    total_weight = sum(weight.values(), Fraction(0))
    if total_weight == 0 or amount == 0:
        return {}
    exact = {a: Fraction(amount) * w / total_weight for a, w in sorted(weight.items())}
    return largest_remainder(exact, amount, unit)
