"""Gini coefficients and the concentration index against hand-worked values and a second
implementation (the double sum of the definition), with hypothesis properties; the
comparison of shares with contributions worked out by hand."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glia.govern import concentration_index, credited_value, fairness, gini

D = Decimal


def brute_gini(xs: list[float]) -> float:
    """The definition: mean absolute difference of every ordered pair over twice the mean."""
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    diffs = sum(abs(a - b) for a, b in itertools.product(xs, xs))
    return diffs / (2 * n * total)


def brute_concentration(ys: list[float], keys: list[float]) -> float:
    """2 cov(y, R) / mean(y), R the fractional rank (ties: mean rank), by the covariance."""
    n = len(ys)
    total = sum(ys)
    if n == 0 or total == 0:
        return 0.0
    ranks = []
    for k in keys:
        below = sum(1 for other in keys if other < k)
        tied = sum(1 for other in keys if other == k)
        ranks.append((below + (tied + 1) / 2 - 0.5) / n)
    mean_y, mean_r = total / n, sum(ranks) / n
    cov = sum((y - mean_y) * (r - mean_r) for y, r in zip(ys, ranks, strict=True)) / n
    return 2 * cov / mean_y


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([5, 5, 5], 0.0),
        ([0, 0, 0, 10], 0.75),  # one has everything: (n-1)/n
        ([1, 2, 3, 4], 0.25),  # sum|xi-xj| = 20 over 2*16*2.5 = 80
        ([1, 3], 0.25),  # |1-3| * 2 = 4 over 2*4*2 = 16
        ([0, 1], 0.5),
        ([3], 0.0),
        ([], 0.0),
        ([0, 0], 0.0),  # nothing to share: no inequality to measure
        ([D("0.10"), D("0.30")], 0.25),
    ],
)
def test_gini_hand_worked(values: list[float], expected: float) -> None:
    assert gini(values) == pytest.approx(expected, abs=1e-12)


def test_gini_refuses_negative_amounts() -> None:
    with pytest.raises(ValueError, match="not negative"):
        gini([1, -1])


amounts = st.lists(
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False), max_size=40
)


@given(amounts)
def test_gini_agrees_with_the_definition_and_stays_below_one(xs: list[float]) -> None:
    g = gini(xs)
    assert 0 <= g < 1
    assert g == pytest.approx(brute_gini(xs), abs=1e-9)


@given(amounts, st.randoms(use_true_random=False))
def test_gini_does_not_depend_on_order(xs: list[float], rnd: object) -> None:
    shuffled = list(xs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert gini(shuffled) == pytest.approx(gini(xs), abs=1e-12)


@given(amounts, st.floats(min_value=1e-3, max_value=1e3))
def test_gini_does_not_depend_on_scale(xs: list[float], k: float) -> None:
    assert gini([k * x for x in xs]) == pytest.approx(gini(xs), abs=1e-9)


def test_concentration_index_hand_worked() -> None:
    contributions = [10, 20, 30, 40]
    assert concentration_index([1, 2, 3, 4], contributions) == pytest.approx(0.25)
    assert concentration_index([4, 3, 2, 1], contributions) == pytest.approx(-0.25)
    assert concentration_index([1, 1, 1, 1], contributions) == 0
    # ties share their mean rank: ranks 1.5, 1.5, 3 -> (2r - n - 1) = -1, -1, 2
    # outcome 1, 3, 2 (sum 6): (-1 - 3 + 4) / (3 * 6) = 0
    assert concentration_index([1, 3, 2], [5, 5, 9]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="3 outcomes for 2 ranks"):
        concentration_index([1, 2, 3], [1, 2])


pairs = st.integers(min_value=0, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1000), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),  # few values: many ties
    )
)


@given(pairs)
def test_concentration_index_agrees_with_the_covariance_form(
    pair: tuple[list[int], list[int]],
) -> None:
    ys, keys = pair
    c = concentration_index(ys, keys)
    assert -1 < c < 1 or (not ys and c == 0)
    assert c == pytest.approx(
        brute_concentration([float(y) for y in ys], [float(k) for k in keys]), abs=1e-9
    )
    # ranked by itself, the concentration index is the Gini coefficient
    assert concentration_index(ys, ys) == pytest.approx(gini(ys), abs=1e-9)


def test_fairness_of_shares_against_contributions() -> None:
    # contributions 600 : 300 : 100 (60%, 30%, 10%); shares 400 : 400 : 100 : 100 (hub gave none)
    f = fairness(
        {"ana": D(600), "ben": D(300), "cat": D(100)},
        {"ana": D(400), "ben": D(400), "cat": D(100), "hub": D(100)},
        top=3,
        currency="EUR",
    )
    assert f.participants == 4
    assert (f.contributed, f.distributed) == (D(1000), D(1000))
    # gaps: ana 40-60 = -20, ben 40-30 = +10, cat 0, hub +10: half of 40 points
    assert f.deviation == pytest.approx(0.2)
    assert [(g.participant, round(g.gap, 6)) for g in f.furthest] == [
        ("ana", -0.2),
        ("ben", 0.1),
        ("hub", 0.1),
    ]
    assert f.gini_contributions == pytest.approx(gini([600, 300, 100, 0]))
    assert f.gini_shares == pytest.approx(gini([400, 400, 100, 100]))
    # ranked by contribution hub(0) < cat(100) < ben(300) < ana(600):
    # (-3*100 - 1*100 + 1*400 + 3*400) / (4 * 1000) = 0.3
    assert f.concentration == pytest.approx(0.3)
    assert f.to_json()["furthest"][0] == {
        "participant": "ana",
        "contributed": "600",
        "contribution_share": 0.6,
        "received": "400",
        "income_share": 0.4,
        "gap": pytest.approx(-0.2),
    }


def test_fairness_before_any_distribution_and_when_nothing_was_credited() -> None:
    f = fairness({"ana": 5, "ben": 15}, {})
    assert f.gini_shares is f.concentration is f.deviation is None
    assert f.gini_contributions == pytest.approx(0.25)
    assert f.furthest == ()
    g = fairness({}, {"hub": 10})
    assert g.deviation == 1.0 and g.gini_contributions is None


def test_credited_value_follows_the_ledger_formula_fields() -> None:
    assert credited_value(D(10), "hour", None, D(50)) == D(500)
    assert credited_value(D(10), " Hours ", None, D(50)) == D(500)
    assert credited_value(D(10), "hour", D(700), D(50)) == D(700)  # a value recorded wins
    assert credited_value(D(10), "hour", None, None) is None  # no rate known
    assert credited_value(D(64), "sensor kit", None, D(50)) is None
    assert credited_value(D(1), None, None, D(50)) is None
