"""Fund payout policies: hand-worked periods, exact sums, and BALANCED catching up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glia.ledger._distribute import DistributionError
from glia.ledger._funds import POLICIES, payouts


def test_immediate_and_recent_by_hand() -> None:
    periods = [{"ann": 10, "bob": 0}, {"ann": 0, "bob": 10}]
    assert payouts("immediate", 100, periods) == {"bob": Decimal("100.00")}
    # recent, discount 0.5: ann 10 -> 5, bob 10: 5:10
    assert payouts("recent", 90, periods) == {"ann": Decimal("30.00"), "bob": Decimal("60.00")}
    assert payouts("recent", 90, periods, discount="0") == {
        "ann": Decimal("45.00"),
        "bob": Decimal("45.00"),
    }


def test_balanced_catches_up_to_lifetime_shares() -> None:
    scores: list[dict[str, int]] = []
    paid = {"ann": Decimal(0), "bob": Decimal(0), "cat": Decimal(0)}
    # ann contributed early, cat late; the fund pays 100 a period
    for t in range(12):
        scores.append({"ann": 6 if t < 4 else 0, "bob": 2, "cat": 0 if t < 4 else 6})
        for a, v in payouts("balanced", 100, scores, paid).items():
            paid[a] += v
    lifetime = {a: sum(p[a] for p in scores) for a in paid}
    total = sum(lifetime.values())
    for a in paid:
        assert abs(paid[a] - Decimal(1200) * lifetime[a] / total) <= Decimal("0.05")


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(POLICIES),
    st.integers(0, 10_000_00).map(lambda c: Decimal(c) / 100),
    st.lists(
        st.dictionaries(st.sampled_from("abcde"), st.integers(0, 100), min_size=1),
        min_size=1,
        max_size=5,
    ),
    st.dictionaries(st.sampled_from("abcde"), st.integers(0, 500).map(Decimal)),
)
def test_payouts_sum_to_the_budget_and_are_never_negative(policy, budget, scores, paid) -> None:
    out = payouts(policy, budget, scores, paid)
    if out:
        assert sum(out.values()) == budget
    assert all(v >= 0 for v in out.values())
    assert payouts(policy, budget, scores, paid) == out


def test_bad_input_is_named() -> None:
    with pytest.raises(DistributionError, match="negative score"):
        payouts("immediate", 10, [{"a": -1}])
    with pytest.raises(DistributionError, match="expected one of"):
        payouts("fair", 10, [{"a": 1}])  # type: ignore[arg-type]
    with pytest.raises(DistributionError, match="at least the current one"):
        payouts("recent", 10, [])
