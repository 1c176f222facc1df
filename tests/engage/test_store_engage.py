"""The engagement in the store, on SQLite and PostgreSQL: state, events, refusals.

Every refusal is checked to change nothing: the rows of every engagement
table, the opportunities, ties and exchanges are compared before and after.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from glia.engage import Agreement, Refused
from glia.model import Need, Opportunity
from glia.store import Store, UnknownEcosystem
from glia.store._tables import ENGAGEMENT_TABLES, exchange, opportunity, tie

from conftest import EXAMPLE

N = "Northbridge"
OPP = "coop-traceability"
SWARM = ["hugo", "grace", "priya"]


@pytest.fixture
def eco(store: Store) -> Store:
    store.import_file(EXAMPLE)
    return store


def _rows(store: Store) -> dict[str, list[Any]]:
    with store.engine.connect() as conn:
        return {
            t.name: sorted((tuple(map(str, r)) for r in conn.execute(select(t))), key=lambda r: r)
            for t in (*ENGAGEMENT_TABLES, opportunity, tie, exchange)
        }


def refused(store: Store, says: str, call: Any, *args: Any, **kwargs: Any) -> None:
    """``call`` is refused with ``says`` in its message and changes nothing."""
    before = _rows(store)
    with pytest.raises(Refused) as info:
        call(*args, **kwargs)
    assert says in str(info.value), str(info.value)
    assert _rows(store) == before


def _agreement(**extra: Any) -> Agreement:
    body: dict[str, Any] = {
        "client": "eastvale-coop",
        "swarm": SWARM,
        "orchestrator": "ben",
        "promises": [
            {
                "debtor": "hugo",
                "creditor": "eastvale-coop",
                "consequent": "data platform live",
                "due": "2025-09-30",
                "hours_per_week": 6,
                "value": "20000",
            },
            {
                "debtor": "grace",
                "creditor": "hugo",
                "consequent": "sensor feed",
                "antecedent": "hugo shares the schema",
                "hours_per_week": 4,
            },
        ],
        "budget": "60000",
        "currency": "EUR",
    }
    body.update(extra)
    return Agreement.model_validate(body)


def _to_swarming(store: Store) -> None:
    store.advance(N, OPP, "qualified", "ben", "the coop board asked for a proposal")
    store.advance(N, OPP, "swarming", "ben")


def _agree(store: Store) -> None:
    _to_swarming(store)
    stored = store.draft_agreement(N, OPP, _agreement(), "ben")
    for party in stored.agreement.parties:
        store.consent_agreement(N, OPP, party)
    store.advance(N, OPP, "agreed", "ben", "every party consented")


def test_transitions_are_recorded_with_who_when_why(eco: Store) -> None:
    assert eco.opportunity(N, OPP).stage == "lead"  # "proposal" in the file
    state = eco.advance(N, OPP, "qualified", "ben", "board asked")
    assert state.stage == "qualified" and state.next == ["swarming", "lost", "cancelled"]
    (t,) = state.history
    assert (t.source, t.target, t.actor, t.why) == ("lead", "qualified", "ben", "board asked")
    assert t.at.tzinfo is not None
    assert (OPP, "Cooperative traceability platform", "qualified") in eco.opportunities(N)


def test_guards_refuse_and_change_nothing(eco: Store) -> None:
    refused(eco, "from lead it can go to qualified", eco.advance, N, OPP, "agreed", "ben")
    _to_swarming(eco)
    refused(eco, "has no agreement yet", eco.advance, N, OPP, "agreed", "ben")
    eco.draft_agreement(N, OPP, _agreement(), "ben")
    refused(
        eco,
        "still waiting for hugo, grace, priya, eastvale-coop, ben",
        eco.advance,
        N,
        OPP,
        "agreed",
        "ben",
    )
    refused(eco, "who does it (--by) is required", eco.advance, N, OPP, "lost", " ")
    refused(eco, "no opportunity 'nope'", eco.advance, N, "nope", "lost", "ben")
    with pytest.raises(UnknownEcosystem):
        eco.advance("Nowhere", OPP, "lost", "ben")


def test_consent_refusals(eco: Store) -> None:
    _to_swarming(eco)
    refused(eco, "has no agreement to consent to", eco.consent_agreement, N, OPP, "hugo")
    eco.draft_agreement(N, OPP, _agreement(), "ben")
    refused(
        eco,
        "liam is not a party to version 1 of the agreement for coop-traceability "
        "(parties: hugo, grace, priya, eastvale-coop, ben)",
        eco.consent_agreement,
        N,
        OPP,
        "liam",
    )
    eco.consent_agreement(N, OPP, "hugo")
    refused(eco, "hugo already consented to version 1", eco.consent_agreement, N, OPP, "hugo")
    eco.draft_agreement(N, OPP, _agreement(intent="renegotiated"), "ben")
    refused(
        eco,
        "consent goes to the latest, version 2",
        eco.consent_agreement,
        N,
        OPP,
        "grace",
        version=1,
    )
    refused(eco, "no version 7", eco.consent_agreement, N, OPP, "grace", version=7)


def test_draft_refusals(eco: Store) -> None:
    refused(
        eco,
        "the client of coop-traceability is eastvale-coop, not harbour-foods",
        eco.draft_agreement,
        N,
        OPP,
        _agreement(client="harbour-foods", promises=[]),
        "ben",
    )
    refused(
        eco,
        "not participants of the ecosystem: nobody",
        eco.draft_agreement,
        N,
        OPP,
        _agreement(swarm=["hugo", "nobody"], promises=[]),
        "ben",
    )


def test_agreeing_turns_promises_into_commitments_and_load(eco: Store) -> None:
    before = eco.committed_hours(N)
    _agree(eco)
    cs = eco.commitments(N, OPP)
    assert [(c.number, c.debtor, c.creditor, c.state) for c in cs] == [
        (1, "hugo", "eastvale-coop", "detached"),
        (2, "grace", "hugo", "conditional"),
    ]
    assert cs[0].value == Decimal("20000") and cs[0].currency == "EUR"
    after = eco.committed_hours(N)
    assert after == {**before, "hugo": 6.0, "grace": 4.0}
    # The team is the agreement's swarm.
    assert sorted(eco.opportunity(N, OPP).team) == sorted(SWARM)
    # Consent to the agreement was consent to nothing else: no equation here.
    assert eco.agreements(N, OPP)[-1].equation_version is None


def test_consent_to_the_agreement_is_consent_to_its_equation(eco: Store) -> None:
    from glia.ledger import ValueEquation

    eq = ValueEquation.model_validate(
        {"name": "split", "buckets": [{"name": "team", "percent": 100, "kinds": ["work"]}],
         "formulas": {"work": "hours"}}
    )  # fmt: skip
    _to_swarming(eco)
    stored = eco.draft_agreement(N, OPP, _agreement(equation=eq), "ben")
    assert stored.equation_version == 1
    eco.consent_agreement(N, OPP, "hugo")
    (version,) = eco.equations(N, "opportunity", OPP)
    assert set(version.equation.consents) == {"hugo"}
    assert set(version.equation.parties) >= {"hugo", "grace", "priya", "eastvale-coop", "ben"}
    # A renegotiation without an equation keeps the one agreed.
    assert eco.draft_agreement(N, OPP, _agreement(intent="v2"), "ben").equation_version == 1


def test_renegotiation_releases_the_old_promises_once_everyone_consents(eco: Store) -> None:
    _agree(eco)
    eco.advance(N, OPP, "delivering", "ben")
    v2 = _agreement(
        promises=[
            {"debtor": "priya", "creditor": "eastvale-coop", "consequent": "food-safety rules",
             "hours_per_week": 3}
        ]
    )  # fmt: skip
    stored = eco.draft_agreement(N, OPP, v2, "ben")
    assert stored.version == 2 and len(eco.agreements(N, OPP)) == 2
    for party in stored.agreement.parties[:-1]:
        eco.consent_agreement(N, OPP, party)
    assert [c.state for c in eco.commitments(N, OPP)] == ["detached", "conditional"]
    eco.consent_agreement(N, OPP, stored.agreement.parties[-1])
    states = [(c.number, c.debtor, c.state, c.agreement_version) for c in eco.commitments(N, OPP)]
    assert states == [
        (1, "hugo", "released", 1),
        (2, "grace", "released", 1),
        (3, "priya", "detached", 2),
    ]
    history = eco.commitment_history(N, 1)
    assert history[-1]["note"] == "renegotiated: version 2 of the agreement replaces it"
    assert eco.committed_hours(N).get("hugo", 0.0) == 0.0


def test_commitment_operations_are_events_and_queries_agree_with_python(eco: Store) -> None:
    refused(
        eco,
        "made by its debtor, ana, not ben",
        eco.create_commitment,
        N,
        "ana",
        "ben",
        "x",
        by="ben",
    )
    refused(
        eco, "not participants of the ecosystem: zed", eco.create_commitment, N, "ana", "zed", "x"
    )
    a = eco.create_commitment(N, "ana", "ben", "a market study", due=dt.date(2025, 5, 1),
                              hours_per_week=5, value=Decimal("1200.50"))  # fmt: skip
    b = eco.create_commitment(N, "ben", "ana", "intro to the coop", antecedent="ana asks",
                              due=dt.date(2025, 4, 1), hours_per_week=1)  # fmt: skip
    c = eco.create_commitment(N, "ana", "claire", "legal review", due=dt.date(2025, 9, 1))
    refused(
        eco,
        "cancel of C1 is for ana (the debtor), not ben",
        eco.operate,
        N,
        a.number,
        "cancel",
        "ben",
    )
    refused(eco, "no commitment C99", eco.operate, N, 99, "cancel", "ben")
    assert eco.operate(N, c.number, "delegate", "ana", party="hugo").debtor == "hugo"
    refused(
        eco,
        "not participants of the ecosystem: zed",
        eco.operate,
        N,
        c.number,
        "assign",
        "claire",
        party="zed",
    )
    assert eco.operate(N, c.number, "assign", "claire", party="nrda").creditor == "nrda"
    day = dt.date(2025, 6, 1)
    overdue = eco.commitments(N, overdue_on=day)
    assert [x.number for x in overdue] == [a.number, b.number]
    owed = {(o.debtor, o.creditor): o for o in eco.owes(N)}
    assert owed[("ana", "ben")].detached == 1 and owed[("ana", "ben")].value == Decimal("1200.50")
    assert owed[("ben", "ana")].conditional == 1
    assert owed[("hugo", "nrda")].detached == 1
    swept = eco.sweep(N, "ben", today=day)
    assert [(x.number, x.state) for x in swept] == [(a.number, "violated"), (b.number, "expired")]
    assert [x.number for x in eco.commitments(N, state="violated")] == [a.number]
    assert eco.commitments(N, overdue_on=day) == []
    ops = [h["operation"] for h in eco.commitment_history(N, c.number)]
    assert ops == ["create", "delegate", "assign"]
    assert eco.commitment_history(N, a.number)[-1]["note"] == "due date passed"
    # committed hours: the SQL sum against a sum here, over every active commitment
    active = [x for x in eco.commitments(N) if x.active]
    expected: dict[str, float] = {}
    for x in active:
        if x.hours_per_week:
            expected[x.debtor] = expected.get(x.debtor, 0.0) + x.hours_per_week
    assert eco.committed_hours(N) == expected


def test_a_conversation_follows_its_protocol(eco: Store) -> None:
    talk = eco.start_conversation(N, "request", "ana", "claire", "a data-sharing contract",
                                  by="ana", hours_per_week=2, due=dt.date(2026, 1, 31))  # fmt: skip
    assert (talk.last_message, talk.next, talk.commitment) == (
        "request",
        ["decline", "offer"],
        None,
    )
    refused(eco, "accept is out of order in a request conversation: after request comes decline or offer",
            eco.send, N, talk.number, "accept", "ana")  # fmt: skip
    refused(
        eco,
        "offer is sent by the provider, not the requester",
        eco.send,
        N,
        talk.number,
        "offer",
        "ana",
    )
    refused(eco, "zed is not in conversation 1", eco.send, N, talk.number, "offer", "zed")
    talk = eco.send(N, talk.number, "offer", "claire", "fixed fee")
    assert talk.commitment is not None
    (c,) = eco.commitments(N, debtor="claire")
    assert (c.creditor, c.antecedent, c.state) == ("ana", "ana accepts", "conditional")
    eco.send(N, talk.number, "accept", "ana")
    assert eco.commitments(N, debtor="claire")[0].state == "detached"
    eco.send(N, talk.number, "deliver", "claire")
    talk = eco.send(N, talk.number, "acknowledge", "ana")
    assert eco.commitments(N, debtor="claire")[0].state == "discharged"
    assert [m for m, _, _ in talk.messages] == [
        "request",
        "offer",
        "accept",
        "deliver",
        "acknowledge",
    ]
    refused(
        eco,
        "the request conversation ended with acknowledge",
        eco.send,
        N,
        talk.number,
        "deliver",
        "claire",
    )
    refused(
        eco,
        "no protocol template 'barter'",
        eco.start_conversation,
        N,
        "barter",
        "ana",
        "claire",
        "x",
        by="ana",
    )


def test_new_opportunities_start_at_lead(eco: Store) -> None:
    record = Opportunity(
        id="river-sensors", client="eastvale-coop", needs=(Need(capability="hydrology", level=3),)
    )
    state = eco.create_opportunity(N, record, "ben", "a call from the coop")
    assert state.stage == "lead" and state.history[0].target == "lead"
    refused(eco, "already exists", eco.create_opportunity, N, record, "ben")
    refused(
        eco,
        "not participants of the ecosystem: ghost",
        eco.create_opportunity,
        N,
        Opportunity(id="x", client="ghost"),
        "ben",
    )
    loaded = {o.id: o for o in eco.load(N).opportunities}
    assert loaded["river-sensors"].needs[0].capability == "hydrology"


def test_team_and_satisfaction_refusals(eco: Store) -> None:
    refused(
        eco,
        "the client eastvale-coop cannot be in the team",
        eco.pick_team,
        N,
        OPP,
        {"eastvale-coop": None},
        "ben",
    )
    assert eco.pick_team(N, OPP, {"hugo": "lead", "grace": None}, "ben") == {
        "grace": None,
        "hugo": "lead",
    }
    refused(
        eco,
        "satisfaction is recorded once it is delivered",
        eco.record_satisfaction,
        N,
        OPP,
        8,
        "eastvale-coop",
    )


def test_the_stage_outlives_a_reimport_and_delete_removes_everything(eco: Store) -> None:
    _to_swarming(eco)
    eco.import_file(EXAMPLE, replace=True)
    assert eco.opportunity(N, OPP).stage == "swarming"
    eco.create_commitment(N, "ana", "ben", "x")
    eco.delete(N)
    assert all(not rows for name, rows in _rows(eco).items())


def test_the_loop_closes_when_someone_left_the_map(store: Store) -> None:
    from glia.model import Ecosystem
    from glia.store import NewEvent

    def tiny(*people: str) -> Ecosystem:
        return Ecosystem.model_validate(
            {"ecosystem": "Tiny",
             "participants": [{"id": p} for p in ("client", *people)],
             "opportunities": [{"id": "o", "client": "client", "budget": 10}]}
        )  # fmt: skip

    store.import_ecosystem(tiny("ann", "bob"))
    for stage in ("qualified", "swarming"):
        store.advance("Tiny", "o", stage, "ann")
    draft = Agreement.model_validate(
        {"client": "client", "swarm": ["ann", "bob"],
         "promises": [{"debtor": "bob", "creditor": "ann", "consequent": "x"},
                      {"debtor": "ann", "creditor": "client", "consequent": "y"}]}
    )  # fmt: skip
    store.draft_agreement("Tiny", "o", draft, "ann")
    for party in draft.parties:
        store.consent_agreement("Tiny", "o", party)
    for stage in ("agreed", "delivering"):
        store.advance("Tiny", "o", stage, "ann")
    store.operate("Tiny", 1, "discharge", "ann")
    store.operate("Tiny", 2, "discharge", "client")
    store.advance("Tiny", "o", "delivered", "ann")
    store.record_satisfaction("Tiny", "o", 7, "client")
    store.advance("Tiny", "o", "accepted", "ann")
    store.record(
        "Tiny", [NewEvent("income", "client", "ann", "o", value=Decimal(10), currency="EUR")]
    )
    store.advance("Tiny", "o", "paid", "ann")
    store.import_ecosystem(tiny("ann"), replace=True)  # bob is gone from the map
    assert store.advance("Tiny", "o", "reviewed", "ann").stage == "reviewed"
    ties = store.load("Tiny").ties
    assert [(t.source, t.target, t.weight) for t in ties] == [("ann", "client", 0.25)]
