"""The ledger, value equations, distribution and statements over the API, on SQLite and
PostgreSQL: every answer is compared with the Store's own answer or a hand-worked value,
and every refusal is checked to have written nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, get_args

import yaml
from sqlalchemy import update

from glia.api.routes.ledger import ActionName
from glia.examples import example_path
from glia.ledger import ACTIONS, ValueEquation
from glia.store._tables import ledger_event

from .conftest import COOP, ECO, HARBOUR, OTHER, World

BASE = f"/api/v1/ecosystems/{ECO}"
EXAMPLES = example_path().parent
LEDGER_CSV = EXAMPLES / "northbridge-ledger.csv"
EQUATIONS = EXAMPLES / "equations"


def _count(world: World) -> int:
    return len(world.store.events(ECO))


def _work(**changes: Any) -> dict[str, Any]:
    return {
        "action": "work",
        "opportunity": COOP,
        "quantity": "7.5",
        "unit": "hour",
        "note": "sensor calibration",
        **changes,
    }


def _equation(name: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """An example equation as JSON (dates as text), without the consents of ``drop``."""
    data = yaml.safe_load((EQUATIONS / f"{name}.yaml").read_text(encoding="utf-8"))
    for party in drop:
        data["consents"].pop(party)
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return loaded


def _import_example(world: World) -> None:
    world.store.import_events(ECO, LEDGER_CSV, "nrda")


def _seqs(body: dict[str, Any]) -> list[int]:
    return [e["seq"] for e in body["items"]]


def test_the_api_knows_every_action_of_the_ledger() -> None:
    assert get_args(ActionName) == ACTIONS


# -- recording contributions -------------------------------------------------------------
def test_a_contribution_appears_in_the_ledger_and_the_statement(world: World) -> None:
    before = world.store.statement(ECO, "grace").by_action.get("work")
    assert before is None
    res = world.post("grace", f"{BASE}/ledger/contributions", json=_work())
    assert res.status_code == 201, res.text
    body = res.json()
    (stored,) = world.store.events(ECO)
    assert (body["seq"], body["hash"], body["prev_hash"]) == (1, stored.hash, stored.prev_hash)
    assert (stored.agent, stored.recorded_by, stored.opportunity) == ("grace", "grace", COOP)
    assert stored.quantity == Decimal("7.5") and stored.unit == "hour"
    assert Decimal(body["quantity"]) == Decimal("7.5") and body["value"] is None
    assert world.store.verify_ledger(ECO) is None

    statement = world.get("grace", f"{BASE}/statements/grace").json()
    assert statement["contributions"] == {"work": {"events": 1, "quantity": "7.5", "value": "0"}}
    assert [e["hash"] for e in statement["contribution_events"]] == [stored.hash]
    assert world.store.statement(ECO, "grace").by_action["work"] == (1, Decimal("7.5"), 0)

    listed = world.get("grace", f"{BASE}/ledger/events").json()
    assert listed["total"] == 1 and listed["items"][0] == body


def test_an_orchestrator_records_for_anyone_and_is_the_recorder(world: World) -> None:
    res = world.post(
        "ben",
        f"{BASE}/ledger/contributions",
        json=_work(participant="liam", opportunity=HARBOUR, value=600, currency="EUR"),
    )
    assert res.status_code == 201, res.text
    (stored,) = world.store.events(ECO)
    assert (stored.agent, stored.recorded_by, stored.value) == ("liam", "ben", Decimal(600))
    # an orchestrator records income too; a member may not
    income = {"action": "income", "participant": "eastvale-coop", "opportunity": COOP}
    assert world.post("grace", f"{BASE}/ledger/contributions", json=income).status_code == 403
    assert _count(world) == 1
    res = world.post("ben", f"{BASE}/ledger/contributions", json={**income, "value": "100"})
    assert res.status_code == 201 and res.json()["currency"] == "EUR"  # the ecosystem's
    assert world.store.verify_ledger(ECO) is None


def test_refusals_write_nothing(world: World) -> None:
    contributions = f"{BASE}/ledger/contributions"
    # a member recording for someone else; on another swarm's opportunity; an observer
    assert world.post("grace", contributions, json=_work(participant="hugo")).status_code == 403
    assert world.post("grace", contributions, json=_work(opportunity=HARBOUR)).status_code == 403
    assert world.post("olga", contributions, json=_work()).status_code == 403
    assert world.post("olga", contributions, json=_work(participant="hugo")).status_code == 403
    # someone with no role in Northbridge learns nothing about it
    assert world.post("otto", contributions, json=_work()).status_code == 404
    assert world.get("otto", f"{BASE}/ledger/events").status_code == 404
    assert world.get("otto", f"{BASE}/statements/otto").status_code == 404
    assert _count(world) == 0


def test_bad_input_answers_422_naming_the_field(world: World) -> None:
    contributions = f"{BASE}/ledger/contributions"
    cases = {
        "participant": _work(participant="nobody-here"),
        "opportunity": _work(opportunity="no-such-opportunity"),
        "quantity": _work(quantity="-3"),
        "action": _work(action="dance"),
        "currency": _work(value="10", currency="euro"),
        "recorded_at": _work(recorded_at="2025-03-01T09:30:00"),  # no zone
    }
    for field, body in cases.items():
        res = world.post("ben", contributions, json=body)
        assert res.status_code == 422, (field, res.text)
        assert res.headers["content-type"] == "application/problem+json"
        problems = res.json()["problems"]
        assert any(p["location"] == f"body.{field}" for p in problems), (field, problems)
        assert field in res.json()["detail"]
    # a note with a NUL character (no database keeps one), too many decimal places
    assert world.post("ben", contributions, json=_work(note="a\x00b")).status_code == 422
    assert world.post("ben", contributions, json=_work(quantity="1.1234567")).status_code == 422
    assert _count(world) == 0


def test_an_event_without_opportunity_belongs_to_its_participant(world: World) -> None:
    help_ = {"action": "help", "quantity": "2", "unit": "hour", "note": "mentoring"}
    res = world.post("grace", f"{BASE}/ledger/contributions", json=help_)
    assert res.status_code == 201 and res.json()["opportunity"] is None
    world.store.set_access(ECO, "controlled-access", "ben")
    assert world.get("grace", f"{BASE}/ledger/events").json()["total"] == 1
    assert world.get("liam", f"{BASE}/ledger/events").json()["total"] == 0
    world.store.set_access(ECO, "shared-access", "ben")
    assert world.get("liam", f"{BASE}/ledger/events").json()["total"] == 1


# -- who sees which events ---------------------------------------------------------------
def test_controlled_access_limits_events_and_statements_to_own_swarms(world: World) -> None:
    _import_example(world)  # every event is of coop-traceability
    res = world.post(
        "ben", f"{BASE}/ledger/contributions", json=_work(participant="liam", opportunity=HARBOUR)
    )
    harbour_seq = res.json()["seq"]
    coop = [e.seq for e in world.store.events(ECO, COOP)]
    everything = [e.seq for e in world.store.events(ECO)]
    assert harbour_seq not in coop and len(everything) == len(coop) + 1

    world.store.set_access(ECO, "controlled-access", "ben")
    refused = world.get("grace", f"{BASE}/ledger/events", params={"opportunity": HARBOUR})
    assert refused.status_code == 403
    assert _seqs(world.get("grace", f"{BASE}/ledger/events").json()) == coop
    own = world.get("grace", f"{BASE}/ledger/events", params={"opportunity": COOP}).json()
    assert _seqs(own) == coop
    assert world.get("grace", f"{BASE}/statements/liam").status_code == 403
    mine = world.get("grace", f"{BASE}/statements/grace")
    assert mine.status_code == 200
    assert (
        mine.json()["contributions"]
        == world.store.statement(ECO, "grace").to_json()["contributions"]
    )
    # liam sees his swarm's event and his own referral on coop-traceability, nothing else
    referral = [e.seq for e in world.store.events(ECO) if e.agent == "liam" and e.seq in coop]
    assert _seqs(world.get("liam", f"{BASE}/ledger/events").json()) == [*referral, harbour_seq]
    # an observer sees the chain holds, but no event; the orchestrator sees them all
    assert world.get("olga", f"{BASE}/ledger/events").json()["total"] == 0
    assert world.get("olga", f"{BASE}/ledger/verify").json()["intact"] is True
    assert _seqs(world.get("ben", f"{BASE}/ledger/events").json()) == everything
    assert world.get("grace", f"{BASE}/transparency").status_code == 403
    assert world.get("ben", f"{BASE}/transparency").status_code == 200

    world.store.set_access(ECO, "shared-access", "ben")
    shared = world.get("grace", f"{BASE}/ledger/events", params={"opportunity": HARBOUR})
    assert shared.status_code == 200 and _seqs(shared.json()) == [harbour_seq]
    assert _seqs(world.get("grace", f"{BASE}/ledger/events").json()) == everything
    liam = world.get("grace", f"{BASE}/statements/liam")
    assert liam.status_code == 200
    assert (
        liam.json()["contributions"]
        == world.store.statement(ECO, "liam").to_json()["contributions"]
    )
    assert world.get("grace", f"{BASE}/transparency").status_code == 200


def test_events_are_paged_and_filtered_by_participant(world: World) -> None:
    _import_example(world)
    first = world.get("olga", f"{BASE}/ledger/events", params={"limit": 4}).json()
    assert first["total"] == 10 and _seqs(first) == [1, 2, 3, 4] and first["next"]
    last = world.get("olga", f"{BASE}/ledger/events", params={"limit": 4, "offset": 8}).json()
    assert _seqs(last) == [9, 10] and last["next"] is None
    hugo = world.get("olga", f"{BASE}/ledger/events", params={"participant": "hugo"}).json()
    assert _seqs(hugo) == [e.seq for e in world.store.events(ECO) if e.agent == "hugo"]
    assert world.get("olga", f"{BASE}/statements/nobody-here").status_code == 404


# -- import, reverse, verify -------------------------------------------------------------
def test_import_a_csv_all_or_nothing(world: World) -> None:
    data = LEDGER_CSV.read_bytes()
    upload = {"file": ("northbridge-ledger.csv", data, "text/csv")}
    assert world.post("grace", f"{BASE}/ledger/import", files=upload).status_code == 403
    assert world.post("olga", f"{BASE}/ledger/import", files=upload).status_code == 403
    assert _count(world) == 0

    bad = (
        "action,agent,opportunity,quantity,unit\n"
        f"work,hugo,{COOP},3,hour\n"
        f"dance,hugo,{COOP},3,hour\n"
        f"work,grace,{COOP},three,hour\n"
    )
    res = world.post(
        "ben", f"{BASE}/ledger/import", files={"file": ("bad.csv", bad.encode(), "text/csv")}
    )
    assert res.status_code == 422, res.text
    problems = res.json()["problems"]
    assert [(p["source"], p["row"], p["column"]) for p in problems] == [
        ("bad.csv", 3, "action"),
        ("bad.csv", 4, "quantity"),
    ]
    assert _count(world) == 0

    res = world.post("ben", f"{BASE}/ledger/import", files=upload)
    assert res.status_code == 201, res.text
    check = world.store.check_ledger(ECO)
    assert res.json() == {
        "ecosystem": ECO,
        "count": 10,
        "first_seq": 1,
        "last_seq": 10,
        "last_hash": check.last_hash,
    }
    assert check.intact and check.events == 10
    assert {e.recorded_by for e in world.store.events(ECO)} == {"ben"}


def test_reverse_appends_the_opposite_once(world: World) -> None:
    _import_example(world)
    original = world.store.events(ECO)[2]  # hugo's 120 hours
    path = f"{BASE}/ledger/events/{original.seq}/reverse"
    assert world.post("grace", path, json={"note": "twice"}).status_code == 403
    res = world.post("ben", path, json={"note": "entered twice"})
    assert res.status_code == 201, res.text
    body = res.json()
    last = world.store.events(ECO)[-1]
    assert (body["seq"], body["hash"], body["reverses"]) == (11, last.hash, original.seq)
    assert original.quantity is not None and Decimal(body["quantity"]) == -original.quantity
    assert (body["agent"], body["recorded_by"], body["note"]) == ("hugo", "ben", "entered twice")
    again = world.post("ben", path, json={"note": "again"})
    assert again.status_code == 422 and again.json()["problems"][0]["field"] == "reverses"
    assert (
        world.post("ben", f"{BASE}/ledger/events/99/reverse", json={"note": "x"}).status_code == 422
    )
    assert _count(world) == 11 and world.store.verify_ledger(ECO) is None
    statement = world.get("ben", f"{BASE}/statements/hugo").json()
    assert statement["contributions"]["work"] == {"events": 0, "quantity": "0", "value": "0"}


def test_verify_names_the_break_for_everyone(world: World) -> None:
    _import_example(world)
    for user in ("olga", "grace", "ben"):
        body = world.get(user, f"{BASE}/ledger/verify").json()
        check = world.store.check_ledger(ECO)
        assert body == {
            "ecosystem": ECO,
            "events": 10,
            "last_hash": check.last_hash,
            "intact": True,
            "broken": None,
        }
    with world.store.engine.begin() as conn:
        conn.execute(update(ledger_event).where(ledger_event.c.seq == 4).values(note="edited"))
    body = world.get("grace", f"{BASE}/ledger/verify").json()
    broken = world.store.verify_ledger(ECO)
    assert broken is not None and broken.seq == 4
    assert body["intact"] is False
    assert body["broken"] == {"seq": 4, "kind": broken.kind, "message": broken.message}
    assert world.get("otto", f"{BASE}/ledger/verify").status_code == 404
    assert world.get("otto", f"/api/v1/ecosystems/{OTHER}/ledger/verify").json()["events"] == 0


# -- equations, distribution, statements -------------------------------------------------
def _add_equations(world: World, coop_drop: tuple[str, ...] = ("liam",)) -> None:
    for level, subject, name, drop in (
        ("network", None, "network", ()),
        ("organisation", "uni-northbridge", "uni-northbridge", ()),
        ("opportunity", COOP, "coop-traceability", coop_drop),
    ):
        body = {"level": level, "subject": subject, "equation": _equation(name, drop)}
        res = world.post("ben", f"{BASE}/equations", json=body)
        assert res.status_code == 201, res.text
        assert res.json()["version"] == 1 and res.json()["recorded_by"] == "ben"


def test_equations_consent_and_who_may_add_or_see_them(world: World) -> None:
    body = {"level": "opportunity", "subject": COOP, "equation": _equation("coop-traceability")}
    assert world.post("grace", f"{BASE}/equations", json=body).status_code == 403
    assert world.store.equations(ECO) == []
    bad = {**body, "equation": {**body["equation"], "formulas": {"work": "hours *"}}}
    res = world.post("ben", f"{BASE}/equations", json=bad)
    assert res.status_code == 422 and "formula for work" in res.json()["detail"]
    assert world.store.equations(ECO) == []

    _add_equations(world)
    consent = {"level": "opportunity", "subject": COOP}
    # liam is in no coop swarm and not yet concerned: he may not consent
    assert world.post("liam", f"{BASE}/equations/consent", json=consent).status_code == 403
    _import_example(world)  # his referral now makes him a recipient
    world.store.set_access(ECO, "controlled-access", "ben")
    assert (
        world.post(
            "grace", f"{BASE}/equations/consent", json={**consent, "party": "hugo"}
        ).status_code
        == 403
    )
    assert world.post("olga", f"{BASE}/equations/consent", json=consent).status_code == 403
    res = world.post("liam", f"{BASE}/equations/consent", json={**consent, "on": "2025-03-10"})
    assert res.status_code == 201, res.text
    assert res.json()["equation"]["consents"]["liam"] == "2025-03-10"
    assert res.json()["waiting_for"] == []
    (stored,) = world.store.equations(ECO, "opportunity", COOP)
    assert stored.equation.consents["liam"].isoformat() == "2025-03-10"
    again = world.post("liam", f"{BASE}/equations/consent", json=consent)
    assert again.status_code == 422 and "already consented" in again.json()["detail"]

    def listed(user: str) -> list[tuple[str, str]]:
        items = world.get(user, f"{BASE}/equations").json()["items"]
        return [(e["level"], e["subject"]) for e in items]

    everything = [(s.level, s.subject) for s in world.store.equations(ECO)]
    assert sorted(everything) == [
        ("network", ""),
        ("opportunity", COOP),
        ("organisation", "uni-northbridge"),
    ]
    assert listed("ben") == everything and listed("grace") == everything
    assert listed("liam") == [x for x in everything if x[0] != "opportunity"]
    world.store.set_access(ECO, "shared-access", "ben")
    assert listed("liam") == everything


def test_plan_preview_distribute_statement_transparency(world: World) -> None:
    _import_example(world)
    _add_equations(world)
    plan_path = f"{BASE}/distribution/{COOP}/plan"
    waiting = world.get("grace", plan_path)
    assert waiting.status_code == 409 and "waiting for the consent of liam" in waiting.text
    world.store.consent(ECO, "opportunity", COOP, "liam", "ben")

    plan = world.get("grace", plan_path)
    assert plan.status_code == 200, plan.text
    expected = world.store.plan_distribution(ECO, COOP).to_json()
    assert plan.json() == expected
    assert expected["allocation"]["amounts"]["hugo"] == "18758.90"  # as `glia distribute` shows
    adjusted = world.get("grace", plan_path, params={"adjust": ["hugo=+5", "grace=-3"]})
    by_hand = {"hugo": Decimal(5), "grace": Decimal(-3)}
    assert adjusted.json() == world.store.plan_distribution(ECO, COOP, by_hand).to_json()
    assert world.get("grace", plan_path, params={"adjust": "hugo"}).status_code == 422

    other = _equation("coop-traceability")
    other.pop("multipliers")
    preview = world.post("grace", f"{BASE}/distribution/{COOP}/preview", json={"equation": other})
    assert preview.status_code == 200, preview.text
    compared = world.store.preview(ECO, COOP, ValueEquation.model_validate(other)).to_json()
    assert preview.json() == {**compared, "other": "coop-traceability v1"}

    world.store.set_access(ECO, "controlled-access", "ben")
    assert world.get("grace", f"{BASE}/distribution/{HARBOUR}/plan").status_code == 403
    assert world.get("liam", plan_path).status_code == 403

    before = _count(world)
    assert world.post("grace", f"{BASE}/distribution/{COOP}", json={}).status_code == 403
    assert world.post("olga", f"{BASE}/distribution/{COOP}").status_code == 403
    assert _count(world) == before
    res = world.post("ben", f"{BASE}/distribution/{COOP}")
    assert res.status_code == 201, res.text
    body = res.json()
    appended = world.store.events(ECO)[before:]
    assert [(e["seq"], e["hash"]) for e in body["events"]] == [(e.seq, e.hash) for e in appended]
    assert {e.action for e in appended} == {"allocation"} and appended[0].recorded_by == "ben"
    assert body["plan"] == expected
    assert world.store.verify_ledger(ECO) is None
    after = world.get("ben", plan_path).json()
    assert after == world.store.plan_distribution(ECO, COOP).to_json()
    assert (after["to_distribute"], after["allocation"]) == ("0.00", None)
    again = world.post("ben", f"{BASE}/distribution/{COOP}")
    assert again.status_code == 409 and _count(world) == len(world.store.events(ECO))

    hugo = world.get("ben", f"{BASE}/statements/hugo").json()
    assert hugo["allocated"] == {COOP: "18758.90"} and hugo["balance"] == "18758.90"
    stored = world.store.statement(ECO, "hugo").to_json()
    assert {k: v for k, v in hugo.items() if k in stored} == stored
    report = world.get("ben", f"{BASE}/transparency").json()
    assert report == world.store.transparency(ECO).to_json()
    assert report["opportunities"][COOP] == {
        "income": "60000",
        "allocated": "60000.00",
        "undistributed": "0.00",
    }
