"""Governance in the store, on SQLite and PostgreSQL: principles and aspirations set all or
nothing, the facts the checks read (teams, consents, work, commitments), the review pack on
the Northbridge example, and a recorded review that makes the next pack report changes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from glia.engage import Agreement
from glia.examples import example_path
from glia.govern import Aspiration, GovernError, Principle
from glia.ledger import ValueEquation
from glia.model import InvalidInput
from glia.store import NewEvent, Store, UnknownEcosystem
from glia.store._tables import aspiration, principle, review

from conftest import EXAMPLE

N = "Northbridge"
OPP = "coop-traceability"
EXAMPLES = example_path("northbridge").parent
DAY = dt.date(2025, 7, 1)
D = Decimal


@pytest.fixture
def eco(store: Store) -> Store:
    store.import_file(EXAMPLE)
    return store


def _rows(store: Store) -> dict[str, list[Any]]:
    with store.engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
            for t in (principle, aspiration, review)
        }


def refused(store: Store, error: type[Exception], says: str, call: Any, *args: Any) -> None:
    """``call`` is refused with ``says`` in its message and changes nothing."""
    before = _rows(store)
    with pytest.raises(error) as info:
        call(*args)
    assert says in str(info.value), str(info.value)
    assert _rows(store) == before


# -- principles and aspirations -----------------------------------------------------------
def test_principles_are_set_all_or_nothing(eco: Store, tmp_path: Path) -> None:
    stored = eco.set_principles(N, EXAMPLES / "principles.yaml", "nrda")
    assert [p.key for p in stored] == [p.key for p in eco.principles(N)]
    assert eco.principles(N)[0] == Principle(
        "shared-load",
        "No one carries more than 40% of a swarm's work.",
        {"check": "max-work-share", "limit": 0.4},
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- {key: a, text: fine, rule: {check: ledger-intact}}\n- {key: b, text: too much}\n"
        "- {key: c, text: x, rule: {check: max-work-share, limit: 2}}\n",
        encoding="utf-8",
    )
    refused(
        eco,
        InvalidInput,
        "row 3, line 3, column rule.limit: got 2",
        eco.set_principles,
        N,
        bad,
        "nrda",
    )
    twice = [Principle("a", "one"), Principle("a", "two")]
    refused(
        eco,
        InvalidInput,
        "row 2, column key: got 'a', expected a key not used before",
        eco.set_principles,
        N,
        twice,
        "nrda",
    )
    refused(
        eco, GovernError, "who does it (--by) is required", eco.set_principles, N, twice[:1], " "
    )
    refused(
        eco,
        UnknownEcosystem,
        "no ecosystem named 'Nowhere'",
        eco.set_principles,
        "Nowhere",
        twice[:1],
        "nrda",
    )
    # a new set replaces the old one whole
    assert [p.key for p in eco.set_principles(N, twice[:1], "nrda")] == ["a"]
    assert eco.principles(N) == twice[:1]


def test_aspirations_keep_their_last_review_when_set_again(eco: Store) -> None:
    first = [
        Aspiration("one", "first", 30, dt.date(2025, 1, 1), dt.date(2025, 2, 1)),
        Aspiration("two", "second", 7, dt.date(2025, 1, 1)),
    ]
    eco.set_aspirations(N, first, "nrda")
    again = [
        Aspiration("one", "first, reworded", 91, dt.date(2025, 1, 1)),
        Aspiration("three", "third", 365, dt.date(2025, 1, 1)),
    ]
    stored = eco.set_aspirations(N, again, "nrda")
    assert [(a.key, a.text, a.cadence_days, a.last_reviewed) for a in stored] == [
        ("one", "first, reworded", 91, dt.date(2025, 2, 1)),
        ("three", "third", 365, None),
    ]
    from_file = eco.set_aspirations(N, EXAMPLES / "aspirations.yaml", "nrda", DAY)
    assert [a.key for a in from_file] == [
        "across-galaxies",
        "shares-track-contributions",
        "open-books-day",
    ]
    refused(eco, GovernError, "who does it", eco.set_aspirations, N, again, "")


# -- the facts the checks read ------------------------------------------------------------
def _work(store: Store, *rows: tuple[str, float, dt.datetime]) -> None:
    store.record(
        N,
        [
            NewEvent(
                "work",
                who,
                "nrda",
                opportunity=OPP,
                quantity=D(str(h)),
                unit="hour",
                recorded_at=at,
            )
            for who, h, at in rows
        ],
    )


def _agreement() -> Agreement:
    return Agreement.model_validate(
        {
            "client": "eastvale-coop",
            "swarm": ["hugo", "grace", "priya"],
            "orchestrator": "ben",
            "promises": [
                {
                    "debtor": "hugo",
                    "creditor": "eastvale-coop",
                    "consequent": "platform live",
                    "due": "2025-09-30",
                    "hours_per_week": 6,
                },
                {
                    "debtor": "grace",
                    "creditor": "hugo",
                    "consequent": "sensor feed",
                    "due": "2025-08-31",
                    "hours_per_week": 4,
                },
            ],
        }
    )


RULES = [
    Principle("load", "No one carries more than 40%.", {"check": "max-work-share", "limit": 0.4}),
    Principle("outside", "Someone from outside.", {"check": "outside-client-cluster"}),
    Principle("consent", "Consent before work.", {"check": "consent-before-work"}),
    Principle("kept", "Promises kept.", {"check": "commitments-kept", "min": 0.9}),
    Principle("books", "The chain verifies.", {"check": "ledger-intact"}),
    Principle("honour", "Every contribution is honoured."),
]


def _statuses(store: Store) -> dict[str, tuple[str, list[str]]]:
    return {
        r.principle.key: (r.status, [v.message for v in r.violations])
        for r in store.check_principles(N)
    }


def test_principles_are_checked_against_the_store(eco: Store) -> None:
    eco.set_principles(N, RULES, "nrda")
    eco.advance(N, OPP, "qualified", "ben")
    eco.advance(N, OPP, "swarming", "ben")
    eco.pick_team(N, OPP, {"hugo": "data", "grace": "sensors"}, "ben")
    early = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
    _work(eco, ("hugo", 30, early), ("grace", 10, early + dt.timedelta(hours=1)))
    found = _statuses(eco)
    assert found["load"] == (
        "violated",
        [
            "hugo carries 75% of the work of coop-traceability (30 of 40 hours of work recorded); the limit is 40%"
        ],
    )
    # hugo and grace are both in the agritech cluster, as the client eastvale-coop is
    assert found["outside"][0] == "violated"
    assert (
        "shares a cluster with the client eastvale-coop (agritech, eastvale, food-chain)"
        in found["outside"][1][0]
    )
    assert found["consent"][0] == "violated"
    assert found["consent"][1][0].startswith(
        "2 work events for coop-traceability recorded and no version of its agreement has every party's consent"
    )
    assert found["kept"] == ("nothing to check", [])
    assert found["books"] == ("kept", [])
    assert found["honour"] == ("not checked", [])

    # the agreement brings priya (Harbourside, data-ai) in; everyone consents, work goes on
    stored = eco.draft_agreement(N, OPP, _agreement(), "ben")
    for party in stored.agreement.parties:
        eco.consent_agreement(N, OPP, party)
    eco.advance(N, OPP, "agreed", "ben")
    view = eco.governance_view(N)
    (opp,) = [o for o in view.opportunities if o.id == OPP]
    assert opp.team == ("grace", "hugo", "priya") and opp.stage == "agreed"
    assert opp.agreed_at is not None
    assert opp.agreed_at == max(eco.agreements(N, OPP)[-1].consents.values())
    later = opp.agreed_at + dt.timedelta(minutes=5)
    _work(eco, ("priya", 40, later), ("grace", 20, later))  # 30+10+40+20 = 100: 40% at most
    found = _statuses(eco)
    assert found["load"] == ("kept", [])
    assert found["outside"] == ("kept", [])
    assert found["consent"][1][0].startswith("2 work events for coop-traceability recorded before")

    # the agreement's promises are commitments: one discharged, one violated -> 50%
    hugo, grace = sorted(eco.commitments(N, opportunity=OPP), key=lambda c: c.debtor)[::-1]
    eco.operate(N, hugo.number, "discharge", "eastvale-coop")
    eco.operate(N, grace.number, "violate", "hugo", today=dt.date(2025, 9, 1))
    assert found["kept"][0] == "nothing to check"
    assert _statuses(eco)["kept"] == (
        "violated",
        [
            "the network kept 50% of its finished commitments (1 discharged, 1 violated); at least 90% is asked"
        ],
    )


def test_reversed_work_drops_out(eco: Store) -> None:
    eco.set_principles(N, RULES[:1], "nrda")
    at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    _work(eco, ("hugo", 90, at), ("grace", 10, at))
    assert _statuses(eco)["load"][0] == "violated"
    eco.reverse(N, 1, "nrda", "entered twice")
    _work(eco, ("hugo", 10, at), ("priya", 10, at))  # 10 : 10 : 10
    assert _statuses(eco)["load"] == ("kept", [])


# -- the review pack ----------------------------------------------------------------------
def _northbridge(store: Store) -> Store:
    """The example with its ledger, its three equations agreed and its income distributed."""
    store.import_file(EXAMPLE)
    store.import_events(N, EXAMPLES / "northbridge-ledger.csv", "nrda")
    for level, subject, file in (
        ("network", None, "network.yaml"),
        ("opportunity", OPP, f"{OPP}.yaml"),
        ("organisation", "uni-northbridge", "uni-northbridge.yaml"),
    ):
        body = yaml.safe_load((EXAMPLES / "equations" / file).read_text(encoding="utf-8"))
        store.add_equation(N, level, subject, ValueEquation.model_validate(body), "nrda")
    store.distribute(N, OPP, "nrda")
    store.set_principles(N, EXAMPLES / "principles.yaml", "nrda")
    store.set_aspirations(N, EXAMPLES / "aspirations.yaml", "nrda")
    return store


def test_review_pack_of_the_example(tmp_path: Path) -> None:
    with Store.open(workspace=tmp_path) as store:
        pack = _northbridge(store).review(N, DAY)
    assert (pack.number, pack.previous, pack.changes) == (1, None, ())
    fig = pack.figures
    assert fig["participants"] == {"total": 40, "person": 21, "organization": 19}
    assert fig["ties"] == {"formal": 75, "informal": 64}
    assert fig["exchanges"] == {"tangible": 25, "intangible": 13}
    assert sum(fig["opportunities"].values()) == 4
    assert fig["ledger"]["events"] == 20 and fig["ledger"]["work"] == 5
    assert fig["income"] == {
        "currency": "EUR",
        "received": "60000",
        "distributed": "60000.00",
        "paid": "0",
    }
    assert fig["commitments"]["detached"] == 0
    assert pack.sweet_spot["overlap"] == pytest.approx(14 / (73 + 50 - 14))
    assert 0 < pack.health["alpha"] < 1 and "nrda" in pack.health["keystones"]
    f = pack.fairness
    assert f.distributed == D(60000) and f.currency == "EUR"
    assert 0 < f.gini_shares < 1 and 0 < f.gini_contributions < 1 and 0 < f.deviation < 1
    # nrda takes the network's 5% fund without a contribution of its own
    nrda = next(g for g in f.furthest if g.participant == "nrda")
    assert (nrda.contributed, nrda.received, nrda.income_share) == (D(0), D("3000.00"), 0.05)
    assert f.uncredited == 1  # liam's referral has no money value
    assert [(r.principle.key, r.status) for r in pack.principles] == [
        ("shared-load", "kept"),
        ("open-books", "kept"),
        ("beyond-the-client", "nothing to check"),
        ("promises-kept", "nothing to check"),
        ("honour-every-contribution", "not checked"),
    ]
    assert [a.key for a in pack.due] == ["shares-track-contributions", "across-galaxies"]
    json.dumps(pack.to_json())  # plain JSON all through
    text = pack.to_markdown()
    for heading in ("# Review 1 of Northbridge, 2025-07-01", "## What changed", "## The sweet spot",
                    "## Health", "## Fairness", "## Principles", "## Aspirations due"):  # fmt: skip
        assert heading in text
    assert "| nrda | 0 | 0.0% | 3,000.00 | 5.0% |" in text


def test_a_recorded_review_makes_the_next_pack_report_changes(store: Store) -> None:
    _northbridge(store)
    first = store.record_review(N, "nrda", DAY)
    assert first.number == 1
    (held,) = store.reviews(N)
    assert (held.number, held.held_on, held.held_by) == (1, DAY, "nrda")
    assert held.figures == json.loads(json.dumps(first.figures))
    assert held.marks == {"ledger_seq": 20, "pipeline_step": 0} == first.marks
    # the aspirations due were reviewed that day; the yearly one was not due
    assert {a.key: a.last_reviewed for a in store.aspirations(N)} == {
        "across-galaxies": DAY,
        "shares-track-contributions": DAY,
        "open-books-day": None,
    }
    again = store.review(N, DAY)  # the same day: only the aspirations just reviewed changed
    assert again.number == 2 and again.due == []
    assert [c.to_json() for c in again.changes] == [
        {"figure": "aspirations.due", "before": 2, "now": 0, "change": -2}
    ]

    store.record(N, [NewEvent("payout", "hugo", "nrda", opportunity=OPP, value=D("1000.50"))])
    # a step dated before the review was recorded still counts as after it
    store.advance(N, OPP, "qualified", "ben", "board", dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    later = dt.date(2025, 8, 15)
    pack = store.review(N, later)
    changed = {c.key: (c.before, c.now, c.delta) for c in pack.changes}
    assert changed["ledger.events"] == (20, 21, 1)
    assert changed["ledger.payout"] == (0, 1, 1)
    assert changed["income.paid"] == ("0", "1000.50", D("1000.50"))
    assert changed["aspirations.due"] == (2, 1, -1)  # shares-track-contributions, monthly, again
    assert [(t.opportunity, t.source, t.target, t.by) for t in pack.transitions] == [
        (OPP, "lead", "qualified", "ben")
    ]
    text = pack.to_markdown()
    assert "Since review 1, held on 2025-07-01 by nrda:" in text
    assert "| ledger.events | 20 | 21 | +1 |" in text
    assert "| income.paid | 0 | 1000.50 | +1000.50 |" in text
    assert f"2025-06-01 {OPP}: lead → qualified (ben)" in text

    refused(
        store,
        GovernError,
        "review 1 of Northbridge was held on 2025-07-01; a review on 2025-06-30 would come before it",
        store.record_review,
        N,
        "nrda",
        DAY - dt.timedelta(days=1),
    )
    refused(
        store, GovernError, "who does it (--by) is required", store.record_review, N, " ", later
    )
    # the next review lists only the steps after those the last one saw
    assert store.record_review(N, "ana", later).marks["pipeline_step"] > 0
    assert store.review(N, later).transitions == ()


def test_deleting_the_ecosystem_removes_its_governance(eco: Store) -> None:
    eco.set_principles(N, RULES, "nrda")
    eco.set_aspirations(N, [Aspiration("a", "b", 7, DAY)], "nrda")
    eco.record_review(N, "nrda", DAY)
    eco.delete(N)
    assert _rows(eco) == {"principle": [], "aspiration": [], "review": []}
