"""Distribution from the ledger, on SQLite and PostgreSQL: equations stored with versions
and consents, distributions recorded as allocation events in the chain, statements and
the transparency report (hand-worked), and the columnar plans of every opportunity
against the plans of one opportunity at a time (a second implementation)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from glia.ledger import DistributionError, ValueEquation
from glia.model import Ecosystem
from glia.store import AllPlans, EquationError, NewEvent, Plan, Store
from glia.store._tables import equation_consent, value_equation

D = Decimal
NAME = "Northbridge"
OPP = "opp-a"
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 3, 1)
RATES = {"ann": 50, "bob": 40, "cat": D("35.5"), "dev": 60, "farid": 45}
PEOPLE = ["ann", "bob", "cat", "dan", "dev", "farid", "vic", "liam", "client", "hub", "nrda"]


def _ecosystem(store: Store, name: str = NAME) -> None:
    participants: list[dict[str, Any]] = [
        {"id": p, **({"rate_per_hour": RATES[p]} if p in RATES else {})} for p in PEOPLE
    ]
    participants.append({"id": "uni", "kind": "organization"})
    store.import_ecosystem(
        Ecosystem.model_validate(
            {"ecosystem": name, "currency": "EUR", "participants": participants}
        )
    )


_clock = iter(range(10_000))


def ev(action: str, agent: str, opportunity: str | None = OPP, **kw: Any) -> NewEvent:
    at = T0 + dt.timedelta(minutes=next(_clock))
    return NewEvent(action, agent, "nrda", opportunity=opportunity, recorded_at=at, **kw)


SPLIT = {
    "name": "split-a",
    "currency": "EUR",
    "buckets": [
        {"name": "fund", "percent": 10, "of": "straight", "to": "hub"},
        {"name": "capital", "percent": 20, "kinds": ["transfer"]},
        {"name": "team", "percent": 100, "kinds": ["work"]},
    ],
    "formulas": {"work": "hours * rate", "transfer": "value"},
    "claims": {"transfer": "debt"},
    "parties": ["client"],
}
EVERYONE = {p: DAY for p in ("ann", "bob", "vic", "hub", "client")}
FIRST = [
    ev("work", "ann", quantity=D(10), unit="hour"),  # 10 h x 50 = 500
    ev("work", "bob", quantity=D(10), unit="hour"),  # 10 h x 40 = 400
    ev("transfer", "vic", value=D(300)),  # a loan: 300 owed
    ev("income", "client", value=D(1000)),
]
# 1000: fund 10% -> hub 100; capital 20% of 900 = 180 -> vic (owes 300);
# team 720, 500 : 400 -> ann 400, bob 320
FIRST_SPLIT = {"ann": D(400), "bob": D(320), "hub": D(100), "vic": D(180)}


def _equation(**changes: Any) -> ValueEquation:
    return ValueEquation.model_validate({**SPLIT, **changes})


def _agreed(store: Store) -> Store:
    _ecosystem(store)
    store.add_equation(NAME, "opportunity", OPP, _equation(consents=EVERYONE), "nrda")
    store.record(NAME, FIRST)
    return store


def _amounts(plan: Plan) -> dict[str, Decimal]:
    assert plan.allocation is not None
    return plan.allocation.amounts


# -- equations, versions, consents -----------------------------------------------------
def test_equations_are_versioned_and_a_distribution_waits_for_every_consent(store: Store) -> None:
    _ecosystem(store)
    store.record(NAME, FIRST)
    waiting = {p: d for p, d in EVERYONE.items() if p != "vic"}
    first = store.add_equation(NAME, "opportunity", OPP, _equation(consents=waiting), "nrda")
    assert first.equation.version == 1 and first.label() == "split-a v1 (opportunity opp-a)"
    with pytest.raises(
        DistributionError,
        match=r"split-a v1 \(opportunity opp-a\) is not agreed: waiting for the consent of vic$",
    ):
        store.plan_distribution(NAME, OPP)
    agreed = store.consent(NAME, "opportunity", OPP, "vic", "nrda", on=dt.date(2025, 3, 2))
    assert agreed.equation.consents == {**waiting, "vic": dt.date(2025, 3, 2)}
    assert agreed.equation.waiting_for() == []
    with pytest.raises(EquationError, match="vic already consented to version 1"):
        store.consent(NAME, "opportunity", OPP, "vic", "nrda")
    assert _amounts(store.plan_distribution(NAME, OPP)) == FIRST_SPLIT

    # v2 (fund 30%) is stored beside v1, waiting: v1 still applies, and the plan says so
    buckets = [{**SPLIT["buckets"][0], "percent": 30}, *SPLIT["buckets"][1:]]
    second = store.add_equation(NAME, "opportunity", OPP, _equation(buckets=buckets), "ann")
    assert second.equation.version == 2 and second.recorded_by == "ann"
    stored = store.equations(NAME, "opportunity", OPP)
    assert [(s.equation.version, sorted(s.equation.consents)) for s in stored] == [
        (1, ["ann", "bob", "client", "hub", "vic"]),
        (2, []),
    ]
    assert stored[1].equation.buckets[0].percent == 30
    plan = store.plan_distribution(NAME, OPP)
    assert plan.notes == (
        "split-a v2 (opportunity opp-a) waits for the consent of ann, bob, client, hub, vic; "
        "version 1 applies",
    )
    assert [e.label() for e in plan.equations] == ["split-a v1 (opportunity opp-a)"]
    assert _amounts(plan) == FIRST_SPLIT
    # once all consent to v2: fund 300; capital 20% of 700 = 140; team 560 -> 5:4
    for party in ("ann", "bob", "client", "hub", "vic"):
        store.consent(NAME, "opportunity", OPP, party, "nrda")
    plan = store.plan_distribution(NAME, OPP)
    assert plan.notes == ()
    assert _amounts(plan) == {
        "ann": D("311.11"),  # 560 x 5/9 = 311.111...
        "bob": D("248.89"),  # 560 x 4/9 = 248.888... (the cent to the larger remainder)
        "hub": D(300),
        "vic": D(140),
    }


def test_equations_refuse_what_cannot_be_recorded(store: Store) -> None:
    _ecosystem(store)
    with pytest.raises(EquationError, match="no equation for opportunity opp-a in Northbridge"):
        store.consent(NAME, "opportunity", OPP, "ann", "nrda")
    store.add_equation(NAME, "opportunity", OPP, _equation(), "nrda")
    with pytest.raises(EquationError, match="says version 5; the next version here is 2"):
        store.add_equation(NAME, "opportunity", OPP, _equation(version=5), "nrda")
    with pytest.raises(EquationError, match="no version 3 of the equation for opportunity opp-a"):
        store.consent(NAME, "opportunity", OPP, "ann", "nrda", version=3)
    with pytest.raises(EquationError, match="a network equation has no subject"):
        store.add_equation(NAME, "network", "x", _equation(), "nrda")
    with pytest.raises(EquationError, match="level 'team'"):
        store.add_equation(NAME, "team", "x", _equation(), "nrda")
    with pytest.raises(EquationError, match=r"\(--by\) is required"):
        store.add_equation(NAME, "opportunity", OPP, _equation(), " ")
    assert [s.equation.version for s in store.equations(NAME)] == [1]


def test_no_agreed_version_at_all_is_refused_naming_who_is_waited_for(store: Store) -> None:
    _ecosystem(store)
    store.record(NAME, FIRST)
    with pytest.raises(DistributionError, match="no value equation for opportunity opp-a"):
        store.plan_distribution(NAME, OPP)
    store.add_equation(NAME, "opportunity", OPP, _equation(consents={"ann": DAY}), "nrda")
    store.add_equation(NAME, "opportunity", OPP, _equation(), "nrda")
    with pytest.raises(
        DistributionError,
        match=r"split-a v1 \(opportunity opp-a\) is not agreed: waiting for the consent of "
        r"bob, client, hub, vic \(no earlier version is agreed either\)",
    ):
        store.distribute(NAME, OPP, "nrda")
    assert len(store.events(NAME)) == len(FIRST)


# -- recording distributions -----------------------------------------------------------
def test_distributions_are_recorded_in_the_chain_and_share_only_new_income(store: Store) -> None:
    _agreed(store)
    plan, events = store.distribute(NAME, OPP, "nrda")
    assert _amounts(plan) == FIRST_SPLIT
    assert [(e.action, e.agent, e.unit, e.value, e.currency) for e in events] == [
        ("allocation", "ann", "work", D(400), "EUR"),
        ("allocation", "bob", "work", D(320), "EUR"),
        ("allocation", "hub", None, D(100), "EUR"),
        ("allocation", "vic", "transfer", D(180), "EUR"),
    ]
    assert sum(e.value for e in events if e.value) == D(1000)
    assert [e.seq for e in events] == [5, 6, 7, 8]
    assert all(e.opportunity == OPP and e.recorded_by == "nrda" for e in events)
    assert "under split-a v1 (opportunity opp-a)" in (events[0].note or "")
    check = store.check_ledger(NAME)
    assert check.intact and check.events == 8 and check.last_hash == events[-1].hash

    # nothing new: refused, nothing written
    with pytest.raises(DistributionError, match="nothing to distribute for opp-a"):
        store.distribute(NAME, OPP, "nrda")
    assert store.plan_distribution(NAME, OPP).allocation is None

    # a second income, and 2 more hours of ann's (100): only the new 500 is shared.
    # fund 50; capital 20% of 450 = 90 (vic still owed 300 - 180 = 120);
    # team 360, ann 600 : bob 400 -> 216, 144 (equity counts again)
    store.record(
        NAME, [ev("work", "ann", quantity=D(2), unit="h"), ev("income", "client", value=D(500))]
    )
    plan = store.plan_distribution(NAME, OPP)
    assert (plan.pending.income, plan.pending.allocated, plan.pending.to_distribute) == (
        D(1500),
        D(1000),
        D(500),
    )
    assert plan.pending.received == {
        ("ann", "work"): D(400),
        ("bob", "work"): D(320),
        ("vic", "transfer"): D(180),
    }
    plan, events = store.distribute(NAME, OPP, "nrda")
    assert _amounts(plan) == {"ann": D(216), "bob": D(144), "hub": D(50), "vic": D(90)}
    assert sum(e.value for e in events if e.value) == D(500)

    # a third income of 1000: vic is owed 30 of the capital's 180, the 150 left flows to
    # the team: 1000 - 100 - 30 = 870, 600 : 400 -> 522, 348
    store.record(NAME, [ev("income", "client", value=D(1000))])
    plan, events = store.distribute(NAME, OPP, "nrda")
    assert _amounts(plan) == {"ann": D(522), "bob": D(348), "hub": D(100), "vic": D(30)}
    vic_part = next(s for lvl, d in plan.allocation.levels for s in d.shares if s.agent == "vic")  # type: ignore[union-attr]
    assert vic_part.parts[0].capped is True

    # the loan is repaid: vic claims nothing more. 100: fund 10, team 90 -> 54, 36
    store.record(NAME, [ev("income", "client", value=D(100))])
    plan, _ = store.distribute(NAME, OPP, "nrda")
    assert _amounts(plan) == {"ann": D(54), "bob": D(36), "hub": D(10)}
    allocations = [e for e in store.events(NAME) if e.action == "allocation"]
    assert sum(e.value for e in allocations if e.value) == D(2600)
    assert sum(e.value for e in allocations if e.agent == "vic" and e.value) == D(300)
    assert store.check_ledger(NAME).intact


def test_a_reversed_contribution_counts_from_the_next_distribution_on(store: Store) -> None:
    _agreed(store)
    store.distribute(NAME, OPP, "nrda")
    store.reverse(NAME, 2, "nrda", "bob's hours were another project's")  # bob's 10 h
    store.record(NAME, [ev("income", "client", value=D(100))])
    # 100: fund 10; capital 20% of 90 = 18 (vic owed 120); team 72 all to ann
    plan, _ = store.distribute(NAME, OPP, "nrda")
    assert _amounts(plan) == {"ann": D(72), "hub": D(10), "vic": D(18)}
    # an income reversed after it was distributed: refused, it was already shared
    store.reverse(NAME, 4, "nrda", "the client's payment bounced")
    with pytest.raises(DistributionError, match=r"1000(\.00)? more was allocated than received"):
        store.plan_distribution(NAME, OPP)


# -- statements ------------------------------------------------------------------------
def test_statement_and_transparency_report(store: Store) -> None:
    _agreed(store)
    store.distribute(NAME, OPP, "nrda")
    store.record(
        NAME,
        [
            ev("payout", "ann", opportunity=None, value=D(300)),
            ev("payout", "vic", value=D("180.00")),
            ev("help", "ann", opportunity="opp-b", quantity=D(2), unit="hour"),
        ],
    )
    ann = store.statement(NAME, "ann")
    assert ann.allocated == {OPP: D(400)}
    assert (ann.total_allocated, ann.total_paid, ann.balance) == (D(400), D(300), D(100))
    assert ann.by_action == {"work": (1, D(10), D(0)), "help": (1, D(2), D(0))}
    assert ann.currency == "EUR"
    data = ann.to_json()
    assert [D(data[k]) for k in ("total_allocated", "paid", "balance")] == [400, 300, 100]
    vic = store.statement(NAME, "vic")
    assert vic.balance == 0 and vic.by_action == {"transfer": (1, D(0), D(300))}
    with pytest.raises(DistributionError, match="zed is neither a participant of Northbridge"):
        store.statement(NAME, "zed")
    assert store.statement(NAME, "cat").total_allocated == 0  # a participant, nothing yet

    report = store.transparency(NAME)
    check = store.check_ledger(NAME)
    assert (report.events, report.last_hash, report.intact) == (11, check.last_hash, True)
    assert report.opportunities == {
        OPP: {"income": D(1000), "allocated": D(1000), "undistributed": D(0)},
    }
    assert report.participants["ann"] == {
        "contributions": D(2),
        "contributed_value": D(0),
        "allocated": D(400),
        "paid": D(300),
        "balance": D(100),
    }
    assert report.participants["vic"]["contributed_value"] == D(300)
    assert report.participants["hub"]["balance"] == D(100)
    assert "client" not in report.participants  # paid in, holds nothing
    (equation,) = report.to_json()["equations"]
    assert equation["version"] == 1 and equation["consents"]["vic"] == "2025-03-01"


# -- preview ---------------------------------------------------------------------------
def test_preview_of_another_equation_changes_amounts_and_records_nothing(store: Store) -> None:
    _agreed(store)
    with pytest.raises(DistributionError, match="no income recorded for opp-b"):
        store.preview(NAME, "opp-b", _equation())
    store.distribute(NAME, OPP, "nrda")
    before = store.events(NAME)
    # the other: the loan as equity in the team bucket, no capital bucket:
    # fund 100; team 900 among ann 500, bob 400, vic 300 -> 375, 300, 225
    other = _equation(
        name="split-b",
        buckets=[SPLIT["buckets"][0], {"name": "team", "percent": 100}],
        claims={},
    )
    preview = store.preview(NAME, OPP, other)
    assert preview.income == D(1000)
    assert preview.changes() == [
        ("ann", D(400), D(375)),
        ("bob", D(320), D(300)),
        ("hub", D(100), D(100)),
        ("vic", D(180), D(225)),
    ]
    deltas = {c["agent"]: c["delta"] for c in preview.to_json()["changes"]}
    assert {a: D(v) for a, v in deltas.items()} == {"ann": -25, "bob": -20, "hub": 0, "vic": 45}
    assert store.events(NAME) == before
    assert store.equations(NAME)[-1].equation.name == "split-a"


# -- deleting --------------------------------------------------------------------------
def test_deleting_an_ecosystem_removes_its_equations_and_consents(store: Store) -> None:
    _agreed(store)
    store.distribute(NAME, OPP, "nrda")
    _ecosystem(store, "Other")
    store.add_equation("Other", "network", None, _equation(consents={"nrda": DAY}), "nrda")
    store.delete(NAME)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(value_equation)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(equation_consent)).scalar() == 1
    assert [s.level for s in store.equations("Other")] == ["network"]


# -- every opportunity at once: the columnar path against one at a time -----------------
NETWORK = {
    "name": "net",
    "buckets": [
        {"name": "fund", "percent": 5, "of": "straight", "to": "nrda"},
        {"name": "rest", "percent": 100, "to": "opportunity"},
    ],
    "formulas": {},
}
DEFAULT = {
    "name": "default",
    "currency": "EUR",
    "referral": 3,
    "buckets": [
        {"name": "capital", "percent": 25, "kinds": ["transfer"]},
        {"name": "team", "percent": 100, "kinds": ["work", "use", "introduction"]},
    ],
    "formulas": {
        "work": "hours * rate",
        "use": "quantity * 0.5",
        "transfer": "value",
        "introduction": "quantity",
    },
    "claims": {"transfer": "debt", "introduction": "once", "referral": "once"},
    "multipliers": {"work": "1.5", "transfer": 2},
    "cap": "0.6",
    "peer_adjustment": 10,
}
OWN = {  # o2's own equation: everything equity, min() in a formula
    "name": "own",
    "buckets": [{"name": "all", "percent": 100}],
    "formulas": {"work": "hours + 1", "use": "value + quantity", "transfer": "min(value, 100)"},
}
LAB = {
    "name": "lab",
    "buckets": [
        {"name": "overhead", "percent": 10, "of": "straight", "to": "uni"},
        {"name": "lab", "percent": 100, "kinds": ["work"]},
    ],
    "formulas": {"work": "hours"},
    "members": ["dev", "farid"],
}
CONTRIBUTORS = ["ann", "bob", "cat", "dan", "dev", "farid"]
ALL_CONSENT = {p: DAY for p in [*PEOPLE, "uni"]}


def _random_events(
    rng: random.Random, opportunities: list[str], n: int, referrals: bool = True
) -> list[NewEvent]:
    out = []
    for _ in range(n):
        o = rng.choice(opportunities)
        who = rng.choice(CONTRIBUTORS)
        kinds = ["work", "work", "use", "transfer", "introduction", "help", "income"]
        kind = rng.choice([*kinds, "referral"] if referrals else kinds)
        if kind == "work":
            out.append(
                ev(
                    "work",
                    who,
                    o,
                    quantity=D(rng.randint(1, 40)) / 2,
                    unit=rng.choice(["hour", "h", "Hours"]),
                )
            )
        elif kind == "use":
            out.append(
                ev("use", who, o, quantity=D(rng.randint(0, 9)), value=D(rng.randint(0, 500)) / 4)
            )
        elif kind == "transfer":
            out.append(ev("transfer", rng.choice(["vic", who]), o, value=D(rng.randint(1, 2000))))
        elif kind == "introduction":
            out.append(ev("introduction", who, o, quantity=D(rng.randint(1, 3))))
        elif kind == "referral":
            out.append(ev("referral", "liam", o, quantity=D(1)))
        elif kind == "help":
            out.append(ev("help", who, o, quantity=D(1), unit="hour"))
        else:
            out.append(ev("income", "client", o, value=D(rng.randint(100, 500_000)) / 100))
    return out


def _same_plan(one: Plan, every: Plan) -> None:
    assert (every.pending.income, every.pending.allocated) == (
        one.pending.income,
        one.pending.allocated,
    )
    assert every.pending.last_allocation == one.pending.last_allocation
    assert every.pending.received == one.pending.received
    assert every.pending.leavers == one.pending.leavers
    assert every.currency == one.currency and every.notes == one.notes
    assert [e.label() for e in every.equations] == [e.label() for e in one.equations]
    if one.allocation is None:
        assert every.allocation is None
        return
    assert every.allocation is not None
    assert every.allocation.amounts == one.allocation.amounts
    assert every.allocation.by_kind == one.allocation.by_kind
    for (level, a), (level_b, b) in zip(
        one.allocation.levels, every.allocation.levels, strict=True
    ):
        assert level == level_b and a.amounts() == b.amounts()
        lost_a: dict[tuple[str, str], Decimal] = {}
        lost_b: dict[tuple[str, str], Decimal] = {}
        for lost, items in ((lost_a, a.lost), (lost_b, b.lost)):
            for agent, kind, claim in items:
                lost[agent, kind] = lost.get((agent, kind), D(0)) + claim
        assert lost_a == lost_b


def test_plan_all_gives_the_plans_of_one_opportunity_at_a_time(store: Store) -> None:
    opportunities = ["o1", "o2", "o3", "o4"]
    _ecosystem(store)
    store.add_equation(
        NAME,
        "network",
        None,
        ValueEquation.model_validate({**NETWORK, "consents": ALL_CONSENT}),
        "nrda",
    )
    store.add_equation(
        NAME,
        "opportunity",
        "*",
        ValueEquation.model_validate({**DEFAULT, "consents": ALL_CONSENT}),
        "nrda",
    )
    store.add_equation(
        NAME,
        "opportunity",
        "o2",
        ValueEquation.model_validate({**OWN, "consents": ALL_CONSENT}),
        "nrda",
    )
    store.add_equation(
        NAME, "opportunity", "o2", ValueEquation.model_validate({**OWN, "cap": "0.5"}), "nrda"
    )  # waits
    store.add_equation(
        NAME,
        "organisation",
        "uni",
        ValueEquation.model_validate({**LAB, "consents": ALL_CONSENT}),
        "nrda",
    )
    rng = random.Random(20250301)
    # fixed: a debt and a referral in o1, counted by its first distribution
    store.record(
        NAME,
        [
            ev("transfer", "vic", "o1", value=D(400)),
            ev("referral", "liam", "o1", quantity=D(1)),
            ev("introduction", "cat", "o1", quantity=D(2)),
            ev("work", "ann", "o1", quantity=D(8), unit="hour"),
            ev("work", "dev", "o1", quantity=D(3), unit="hour"),
            ev("income", "client", "o1", value=D("1234.56")),
        ],
    )
    store.record(NAME, _random_events(rng, opportunities, 40))
    distributed = []
    for o in opportunities:
        try:
            store.distribute(NAME, o, "nrda")
            distributed.append(o)
        except DistributionError:
            pass
    assert "o1" in distributed and len(distributed) >= 2
    # later: more of everything, reversals of contributions, people leaving
    later = _random_events(rng, opportunities, 40, referrals=False)
    store.record(NAME, [*later, ev("income", "client", "o1", value=D(900))])
    contributions = [e for e in store.events(NAME) if e.action not in ("income", "allocation")]
    for e in rng.sample(contributions, 6):
        store.reverse(NAME, e.seq, "nrda", "corrected")
    store.record(
        NAME,
        [
            ev("leave", "bob", "o1"),  # and then at fault: at fault
            ev("leaveAtFault", "bob", "o1"),
            ev("leave", "cat", None),
            ev("leaveAtFault", "dan", None),
            ev("leave", "ann", "o3"),
        ],
    )
    (undo,) = store.record(NAME, [ev("leaveAtFault", "ann", None)])
    store.reverse(NAME, undo.seq, "nrda", "ann did not leave")
    adjustments = {"o1": {"ann": D("7.5"), "vic": D(-10)}, "o4": {"cat": D(3)}}
    every = store.plan_all(NAME, adjustments)
    assert every.path == "columnar"
    # with income or allocations, by the events themselves
    money: dict[str, Decimal] = {}
    for e in store.events(NAME):
        if e.action in ("income", "allocation") and e.opportunity:
            money[e.opportunity] = money.get(e.opportunity, D(0)) + abs(e.value or 0)
    assert set(every.plans) | set(every.refused) == {o for o, v in money.items() if v}
    assert not set(every.plans) & set(every.refused)
    planned = 0
    for o in sorted(money):
        try:
            one = store.plan_distribution(NAME, o, adjustments.get(o))
        except DistributionError:
            assert o in every.refused
            continue
        _same_plan(one, every.plans[o])
        planned += one.allocation is not None
    assert planned >= 2
    o1 = every.plans["o1"]
    assert o1.pending.leavers == {"bob": True, "cat": False, "dan": True}
    assert ("vic", "transfer") in o1.pending.received
    # the referral was counted by the first distribution: once, so nothing now
    assert o1.allocation is not None and ("liam", "referral") not in o1.allocation.by_kind
    assert "o2" not in every.plans or every.plans["o2"].notes[0].startswith(
        "own v2 (opportunity o2) waits"
    )


def test_plan_all_with_a_division_falls_back_to_one_opportunity_at_a_time(store: Store) -> None:
    _ecosystem(store)
    store.record(NAME, FIRST)
    divided = _equation(
        formulas={"work": "hours * rate / 2", "transfer": "value"}, consents=EVERYONE
    )
    store.add_equation(NAME, "opportunity", OPP, divided, "nrda")
    every = store.plan_all(NAME)
    assert every.path == "per opportunity"
    # claims halve for work only: ann 250, bob 200 of the same 720 -> 400, 320 as before
    assert _amounts(every.plans[OPP]) == FIRST_SPLIT


def test_plan_all_refuses_income_in_two_currencies_as_one_opportunity_does(store: Store) -> None:
    _ecosystem(store)
    store.add_equation(NAME, "opportunity", OPP, _equation(consents=EVERYONE), "nrda")
    store.record(NAME, [*FIRST, ev("income", "client", value=D(5), currency="USD")])
    with pytest.raises(DistributionError, match=r"income in several currencies \(EUR, USD\)"):
        store.plan_distribution(NAME, OPP)
    every = store.plan_all(NAME)
    assert every.plans == {} and "income in several currencies (EUR, USD)" in every.refused[OPP]


def test_plan_all_refuses_income_in_another_currency_than_the_equation(store: Store) -> None:
    _ecosystem(store)
    store.add_equation(NAME, "opportunity", OPP, _equation(consents=EVERYONE), "nrda")  # EUR
    store.record(NAME, [*FIRST[:3], ev("income", "client", value=D(1000), currency="USD")])
    with pytest.raises(DistributionError, match="opp-a: income in USD, equation in EUR"):
        store.plan_distribution(NAME, OPP)
    every = store.plan_all(NAME)
    assert OPP not in every.plans
    assert "income in USD, equation in EUR" in every.refused[OPP]


# -- the columnar path's cache of the ledger (SQLite files) -----------------------------
def _cached_store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'glia.db'}")
    _ecosystem(store)
    store.add_equation(NAME, "opportunity", "*", _equation(consents=ALL_CONSENT), "nrda")
    rng = random.Random(7)
    store.record(NAME, [*FIRST, *_random_events(rng, [OPP, "opp-b"], 60, referrals=False)])
    return store


def _check_every_plan(store: Store, every: AllPlans) -> None:
    assert every.path == "columnar" and not every.refused
    for opportunity, planned in every.plans.items():
        _same_plan(store.plan_distribution(NAME, opportunity), planned)


def _all_amounts(every: AllPlans) -> dict[str, dict[str, Decimal] | None]:
    return {o: p.allocation and p.allocation.amounts for o, p in every.plans.items()}


def _cache_files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if ".ledger-" in p.name)


def test_plan_all_caches_the_ledger_and_reads_only_new_events(tmp_path: Path) -> None:
    with _cached_store(tmp_path) as store:
        first = store.plan_all(NAME)
        assert first.source == "read, cached"
        assert _cache_files(tmp_path) == ["glia.db.ledger-1.arrow"]
        again = store.plan_all(NAME)
        assert again.source == "cache"
        assert _all_amounts(again) == _all_amounts(first)
        _check_every_plan(store, again)
        # a new event, by a new participant: the cache is extended, never stale
        store.record(NAME, [ev("work", "farid", quantity=D(3), unit="hour")])
        store.record(NAME, [ev("income", "client", value=D(250))])
        later = store.plan_all(NAME)
        assert later.source == "cache and 2 new events"
        assert later.plans[OPP].pending.income == first.plans[OPP].pending.income + 250
        assert any(c.agent == "farid" for c in later.plans[OPP].pending.contributions)
        _check_every_plan(store, later)
        assert _cache_files(tmp_path) == ["glia.db.ledger-1-tail.arrow", "glia.db.ledger-1.arrow"]
        assert store.plan_all(NAME).source == "cache"
        # a distribution recorded: many new events at once, merged into the first file
        store.distribute(NAME, OPP, "nrda")
        store.record(NAME, _random_events(random.Random(8), [OPP, "opp-b"], 30))
        merged = store.plan_all(NAME)
        assert merged.source.startswith("cache and ")
        assert _cache_files(tmp_path) == ["glia.db.ledger-1.arrow"]
        _check_every_plan(store, merged)
        assert store.plan_all(NAME).source == "cache"


def test_plan_all_rebuilds_a_cache_that_is_truncated_foreign_or_ahead(tmp_path: Path) -> None:
    from glia.store._columnar import _load, _save

    with _cached_store(tmp_path) as store:
        expected = _all_amounts(store.plan_all(NAME))
        cache = tmp_path / "glia.db.ledger-1.arrow"
        # truncated
        cache.write_bytes(cache.read_bytes()[:-100])
        every = store.plan_all(NAME)
        assert every.source == "read, cached"
        assert _all_amounts(every) == expected
        # not an Arrow file
        cache.write_text("not a cache")
        assert store.plan_all(NAME).source == "read, cached"
        # a cache whose key is not this ledger's (another chain with as many events)
        loaded = _load(str(cache))
        assert loaded is not None
        table, meta = loaded
        assert _save(str(cache), table, {**meta, "hash": "0" * 64}, str(tmp_path / "glia.db"))
        assert store.plan_all(NAME).source == "read, cached"
        # codes outside the word lists
        table, meta = _load(str(cache)) or (None, {})
        words = {**meta["words"], "agent": meta["words"]["agent"][:1]}
        assert _save(str(cache), table, {**meta, "words": words}, str(tmp_path / "glia.db"))
        every = store.plan_all(NAME)
        assert every.source == "read, cached"
        assert _all_amounts(every) == expected


def test_a_cache_ahead_of_the_callers_transaction_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may extend the cache between this transaction's start and its
    read of the cache: then the cache holds events this transaction does not see."""
    import glia.store._columnar as columnar

    with _cached_store(tmp_path) as store, store.engine.connect() as conn:
        assert columnar.ledger_events(conn, NAME).source == "read, cached"
        last = len(store.events(NAME))
        before = store.events(NAME)[-2]
        monkeypatch.setattr(columnar, "_head", lambda conn, eco: (last - 1, before.hash))
        older = columnar.ledger_events(conn, NAME)
        assert older.source == "read, cached" and older.table.num_rows == older.last == last - 1


def test_ledger_events_read_apart_by_processes_are_those_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import glia.store._columnar as columnar

    with _cached_store(tmp_path) as store, store.engine.connect() as conn:
        here = columnar.ledger_events(conn, NAME)
        for name in ("glia.db.ledger-1.arrow",):
            (tmp_path / name).unlink()
        monkeypatch.setattr(columnar, "_READ_HERE", 0)  # always in processes of their own
        monkeypatch.setattr(columnar, "_READ_APART", 1)  # two of them
        apart = columnar.ledger_events(conn, NAME)
        assert apart.source == "read, cached"
        assert apart.words == here.words
        assert apart.table.equals(here.table)
        assert here.table.num_rows == here.last == len(store.events(NAME))
