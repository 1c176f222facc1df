"""The whole loop on the example ecosystem, end to end, on SQLite and PostgreSQL:
map, analyse, swarm, agree, deliver with commitments, record contributions and
income, distribute, review; the state is asserted after each step.

Independent answers: the strengthening rule worked from the weights read
before the review, the exact sum of the shares, and the commitments' states
as the steps above leave them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

import glia
from glia.engage import Agreement, Refused
from glia.ledger import ValueEquation
from glia.store import NewEvent, Store

from conftest import EXAMPLE

N = "Northbridge"
OPP = "coop-traceability"
CLIENT = "eastvale-coop"
DAY = dt.date(2026, 3, 1)


def _weights(store: Store) -> dict[frozenset[str], float]:
    return {
        frozenset((t.source, t.target)): t.weight
        for t in store.load(N).ties
        if t.layer == "informal" and t.type == "collaboration"
    }


@pytest.mark.slow
def test_the_whole_loop(store: Store) -> None:
    # -- map ------------------------------------------------------------------------
    store.import_file(EXAMPLE)
    assert store.opportunity(N, OPP).stage == "lead"

    # -- analyse ----------------------------------------------------------------------
    analysis = glia.analyze(store.snapshot(N))
    assert analysis.to_json()["participants"]

    # -- qualify, swarm ----------------------------------------------------------------
    store.advance(N, OPP, "qualified", "ben", "the coop board asked for a proposal")
    store.advance(N, OPP, "swarming", "ben")
    swarm = glia.form_swarm(store.snapshot(N), OPP, top=1)
    team = [m["id"] for m in swarm.to_json()["teams"][0]["members"]]
    assert team and CLIENT not in team
    store.pick_team(N, OPP, {m: None for m in team}, "ben")
    assert sorted(store.opportunity(N, OPP).team) == sorted(team)

    # -- agree -------------------------------------------------------------------------
    lead, *rest = team
    promises: list[dict[str, Any]] = [
        {"debtor": m, "creditor": CLIENT, "consequent": f"{m}'s part of the platform",
         "due": "2030-06-30", "hours_per_week": 5, "value": "10000"}
        for m in team
    ]  # fmt: skip
    promises.append(
        {"debtor": rest[0], "creditor": lead, "consequent": "field data for the model",
         "due": "2026-01-15", "hours_per_week": 2}
    )  # fmt: skip
    equation = ValueEquation.model_validate(
        {"name": "coop split", "currency": "EUR",
         "buckets": [{"name": "team", "percent": 100, "kinds": ["work"]}],
         "formulas": {"work": "hours"}}
    )  # fmt: skip
    draft = Agreement.model_validate(
        {"client": CLIENT, "swarm": team, "orchestrator": "ben",
         "intent": "batch traceability for every member farm", "promises": promises,
         "budget": "40000", "currency": "EUR", "satisfaction": "the coop scores it 0-10",
         "equation": equation.model_dump(mode="json")}
    )  # fmt: skip
    stored = store.draft_agreement(N, OPP, draft, "ben")
    with pytest.raises(Refused, match="still waiting for"):
        store.advance(N, OPP, "agreed", "ben")
    for party in stored.agreement.parties:
        store.consent_agreement(N, OPP, party)
    load_before = store.committed_hours(N)
    state = store.advance(N, OPP, "agreed", "ben", "every party consented")
    assert state.stage == "agreed" and state.facts.waiting_for == ()
    commitments = store.commitments(N, OPP)
    assert len(commitments) == len(team) + 1
    assert all(c.state == "detached" for c in commitments)
    load = store.committed_hours(N)
    assert load[lead] == load_before.get(lead, 0) + 5
    assert load[rest[0]] == load_before.get(rest[0], 0) + 7
    # The swarm now sees the load those promises take.
    again = glia.form_swarm(store.snapshot(N), OPP, top=1, committed=load, include=team)
    assert again.to_json()["teams"][0]["components"]["load"] > 0

    # -- deliver, with commitments -------------------------------------------------------
    store.advance(N, OPP, "delivering", "ben")
    work = [
        NewEvent("work", m, "ben", OPP, Decimal(40 + 10 * i), "hour", note="platform work")
        for i, m in enumerate(team)
    ]
    store.record(N, work)
    for c in commitments[:-1]:
        store.operate(N, c.number, "discharge", CLIENT)
    swept = store.sweep(N, "ben", today=DAY)  # the field data came too late
    assert [(c.number, c.state) for c in swept] == [(commitments[-1].number, "violated")]
    store.advance(N, OPP, "delivered", "ben")
    with pytest.raises(Refused, match="satisfaction record"):
        store.advance(N, OPP, "accepted", "ben")
    store.record_satisfaction(N, OPP, 9, CLIENT, "works on every farm")
    store.advance(N, OPP, "accepted", "ben")

    # -- income, distribute ------------------------------------------------------------------
    with pytest.raises(Refused, match="income event"):
        store.advance(N, OPP, "paid", "ben")
    store.record(
        N, [NewEvent("income", CLIENT, "ben", OPP, value=Decimal("40000"), currency="EUR")]
    )
    assert store.advance(N, OPP, "paid", "ben").facts.income == Decimal("40000")
    _plan, recorded = store.distribute(N, OPP, "ben")
    shares = {e.agent: e.value for e in recorded}
    assert sum(shares.values()) == Decimal("40000")
    assert set(shares) == set(team)

    # -- review: the loop closes -------------------------------------------------------------
    weights = _weights(store)
    exchanges_before = len(store.load(N).exchanges)
    state = store.advance(N, OPP, "reviewed", "ben", "the swarm met with the coop")
    assert state.stage == "reviewed" and state.next == []
    after = _weights(store)
    for m in team:  # each member kept one promise to the client
        pair = frozenset((m, CLIENT))
        w = weights.get(pair, 0.0)
        assert after[pair] == pytest.approx(1 - (1 - w) * 0.75, abs=1e-6)
    broken = frozenset((rest[0], lead))
    assert after.get(broken) == weights.get(broken)  # a broken promise teaches nothing here
    eco = store.load(N)
    mine = [e for e in eco.exchanges if e.attributes.get("opportunity") == OPP]
    assert len(eco.exchanges) == exchanges_before + len(mine)
    planned = [e for e in mine if e.attributes["basis"] == "planned"]
    actual = [e for e in mine if e.attributes["basis"] == "actual"]
    assert len(planned) == len(commitments)
    assert {(e.source, e.target) for e in actual if e.type == "service"} == {
        (m, CLIENT) for m in team
    }
    assert all(e.perceived_value == 4 for e in actual if e.target == CLIENT and e.type == "service")
    money = {e.target: e.value for e in actual if e.type == "money"}
    assert money == shares
    (opp,) = [o for o in eco.opportunities if o.id == OPP]
    assert opp.attributes["satisfaction"] == 9
    loop = store.loop(N, OPP)
    assert loop is not None and {f["status"] for f in loop["flows"]} >= {"kept", "broken"}
    with pytest.raises(Refused, match="final stage"):
        store.advance(N, OPP, "cancelled", "ben")
