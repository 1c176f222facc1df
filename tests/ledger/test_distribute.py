"""Distribution under value equations: exact sums, no negative share, monotone,
symmetric, deterministic (properties), and hand-worked examples."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from glia.ledger._distribute import (
    Contribution,
    DistributionError,
    ValueEquation,
    distribute,
    preview,
)

AGENTS = ["ann", "bob", "cat", "dan", "eve"]


def split(*args, **kwargs):
    """A distribution where consent is not what is being tested."""
    return distribute(*args, require_consent=False, **kwargs)


@st.composite
def equations(draw: st.DrawFn) -> ValueEquation:
    buckets = []
    if draw(st.booleans()):
        buckets.append(
            {"name": "fund", "percent": draw(st.integers(0, 30)), "of": "straight", "to": "hub"}
        )
    if draw(st.booleans()):
        buckets.append(
            {"name": "capital", "percent": draw(st.integers(0, 60)), "kinds": ["transfer"]}
        )
    buckets.append({"name": "team", "percent": 100, "kinds": ["work", "use", "transfer"]})
    return ValueEquation(
        name="random",
        buckets=buckets,
        formulas={"work": "hours * rate", "use": "quantity * 0.5", "transfer": "value"},
        multipliers={"transfer": draw(st.sampled_from([1, 2, 4])), "work": 2},
        cap=draw(st.sampled_from([None, Decimal("0.5"), Decimal("0.9")])),
    )


contributions = st.lists(
    st.builds(
        Contribution,
        agent=st.sampled_from(AGENTS),
        kind=st.sampled_from(["work", "use", "transfer"]),
        quantity=st.integers(0, 50).map(Decimal),
        value=st.integers(0, 5000).map(Decimal),
        hours=st.integers(0, 40).map(Decimal),
        rate=st.integers(10, 120).map(Decimal),
    ),
    min_size=1,
    max_size=12,
).filter(lambda cs: any(c.hours * c.rate + c.quantity + c.value > 0 for c in cs))

incomes = st.integers(0, 10_000_000).map(lambda cents: Decimal(cents) / 100)


def _run(income, equation, items):
    try:
        return split(income, equation, items)
    except DistributionError as exc:
        # only the cap may make a distribution impossible, and it says so
        assert "cap" in str(exc) or "no contribution" in str(exc)
        return None


@settings(max_examples=200, deadline=None)
@given(incomes, equations(), contributions)
def test_shares_sum_exactly_never_negative_and_are_deterministic(income, equation, items) -> None:
    result = _run(income, equation, items)
    if result is None:
        return
    amounts = result.amounts()
    assert sum(amounts.values(), Decimal(0)) == income
    assert all(a >= 0 for a in amounts.values())
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts.values())
    assert split(income, equation, list(reversed(items))).amounts() == amounts
    # each rounded share is within one cent of the exact one
    for share in result.shares:
        assert abs(Fraction(share.amount) - share.exact) < Fraction(1, 100)


@settings(max_examples=150, deadline=None)
@given(incomes, equations(), contributions, st.integers(0, len(AGENTS) - 1), st.integers(1, 30))
def test_more_contribution_never_means_less_share(income, equation, items, who, hours) -> None:
    agent = AGENTS[who]
    before = _run(income, equation, items)
    extra = Contribution(agent, "work", hours=Decimal(hours), rate=Decimal(50))
    after = _run(income, equation, [*items, extra])
    if before is None or after is None:
        return
    assert after.amounts().get(agent, Decimal(0)) >= before.amounts().get(agent, Decimal(0))


@settings(max_examples=100, deadline=None)
@given(incomes, equations(), contributions)
def test_equal_contributions_get_equal_shares(income, equation, items) -> None:
    twins = [
        Contribution("zed", c.kind, c.quantity, c.value, c.hours, c.rate)
        for c in items
        if c.agent == "ann"
    ]
    mirrored = [c for c in items if c.agent != "zed"] + twins
    result = _run(income, equation, mirrored)
    if result is None or not twins:
        return
    exact = {s.agent: s.exact for s in result.shares}
    assert exact.get("ann", 0) == exact.get("zed", 0)
    amounts = result.amounts()
    assert abs(amounts.get("ann", 0) - amounts.get("zed", 0)) <= Decimal("0.01")


def test_hand_worked_buckets_multipliers_and_rounding() -> None:
    eq = ValueEquation(
        name="pilot",
        buckets=[
            {"name": "network fund", "percent": 5, "of": "straight", "to": "nrda"},
            {"name": "capital", "percent": 20, "kinds": ["transfer"]},
            {"name": "team", "percent": 100, "kinds": ["work", "transfer"]},
        ],
        formulas={"work": "hours * rate", "transfer": "value"},
        multipliers={"transfer": 4, "work": 2},
    )
    items = [
        Contribution("ann", "work", hours=Decimal(10), rate=Decimal(100), id="e1"),  # claim 2000
        Contribution("bob", "work", hours=Decimal(5), rate=Decimal(100), id="e2"),  # claim 1000
        Contribution("cat", "transfer", value=Decimal(250), id="e3"),  # claim 1000
    ]
    result = split("1000.00", eq, items)
    # fund 50; capital 20% of 950 = 190 to cat; team 760 split 2000:1000:1000
    assert result.amounts() == {
        "ann": Decimal("380.00"),
        "bob": Decimal("190.00"),
        "cat": Decimal("380.00"),
        "nrda": Decimal("50.00"),
    }
    cat = next(s for s in result.shares if s.agent == "cat")
    assert [p.bucket for p in cat.parts] == ["capital", "team"]
    assert cat.parts[1].contributions == (("e3", "transfer", Decimal("1000")),)
    # thirds: 100.00 among three equal claims is 33.34 + 33.33 + 33.33, ties by id
    thirds = ValueEquation(
        name="t", buckets=[{"name": "all", "percent": 100}], formulas={"w": "hours"}
    )
    third = split("100", thirds, [Contribution(a, "w", hours=Decimal(1)) for a in ("c", "a", "b")])
    assert third.amounts() == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}


def test_cap_redistributes_to_the_others() -> None:
    eq = ValueEquation(
        name="capped",
        buckets=[{"name": "all", "percent": 100}],
        formulas={"w": "hours"},
        cap=Decimal("0.5"),
    )
    items = [
        Contribution("ann", "w", hours=Decimal(90)),
        Contribution("bob", "w", hours=Decimal(5)),
        Contribution("cat", "w", hours=Decimal(5)),
    ]
    assert split("100", eq, items).amounts() == {
        "ann": Decimal("50.00"),
        "bob": Decimal("25.00"),
        "cat": Decimal("25.00"),
    }
    with pytest.raises(DistributionError, match="cap"):
        split("100", eq, items[:1])


def test_bad_equations_and_inputs_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="formula for work"):
        ValueEquation(
            name="x", buckets=[{"name": "a", "percent": 100}], formulas={"work": "__import__('os')"}
        )
    with pytest.raises(ValidationError, match="more than 100%"):
        ValueEquation(
            name="x",
            buckets=[
                {"name": "a", "percent": 70, "of": "straight", "to": "p"},
                {"name": "b", "percent": 40, "of": "straight", "to": "q"},
            ],
            formulas={},
        )
    with pytest.raises(ValidationError, match="no formula for cite"):
        ValueEquation(
            name="x", buckets=[{"name": "a", "percent": 100, "kinds": ["cite"]}], formulas={}
        )
    eq = ValueEquation(
        name="x", buckets=[{"name": "a", "percent": 100}], formulas={"work": "hours - 10"}
    )
    with pytest.raises(DistributionError, match="negative claim"):
        split("10", eq, [Contribution("ann", "work", hours=Decimal(1))])
    with pytest.raises(DistributionError, match="no formula for kind 'use'"):
        split("10", eq, [Contribution("ann", "use", quantity=Decimal(1))])
    with pytest.raises(DistributionError, match="whole number"):
        split("10.001", eq, [Contribution("ann", "work", hours=Decimal(11))])
    partial = ValueEquation(
        name="p", buckets=[{"name": "a", "percent": 50, "of": "straight", "to": "p"}], formulas={}
    )
    with pytest.raises(DistributionError, match="unassigned"):
        split("10", partial, [])


def test_consent_of_every_party_and_recipient_is_required_and_preview_needs_none() -> None:
    base = {
        "name": "pilot",
        "buckets": [
            {"name": "fund", "percent": 10, "of": "straight", "to": "hub"},
            {"name": "team", "percent": 100},
        ],
        "formulas": {"work": "hours"},
        "parties": ["client"],
    }
    items = [
        Contribution("ann", "work", hours=Decimal(3)),
        Contribution("bob", "work", hours=Decimal(1)),
    ]
    waiting = ValueEquation(**base, consents={"ann": "2025-01-01", "hub": "2025-01-01"})
    with pytest.raises(DistributionError, match="waiting for the consent of bob, client"):
        distribute("100", waiting, items)
    agreed = ValueEquation(
        **base, consents={p: "2025-01-01" for p in ("ann", "bob", "hub", "client")}
    )
    assert distribute("100", agreed, items).amounts()["ann"] == Decimal("67.50")
    other = ValueEquation(**{**base, "buckets": [{"name": "team", "percent": 100}]}, version=2)
    changes = {c.agent: c.delta for c in preview("100", agreed, other, items)}
    assert changes == {"ann": Decimal("7.50"), "bob": Decimal("2.50"), "hub": Decimal("-10.00")}
