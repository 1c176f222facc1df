"""The engagement over the API, on SQLite and PostgreSQL: opportunities, agreements,
commitments, conversations, satisfaction and the loop.

Every answer is compared with the Store's own; every refusal is checked to change
nothing (the rows of every engagement table, before and after).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select

from glia.engage import STAGES, TEMPLATES, Agreement, Commitment
from glia.store import NewEvent, Store
from glia.store._tables import ENGAGEMENT_TABLES, opportunity

from .conftest import COOP, COOP_TEAM, ECO, HARBOUR, World

API = f"/api/v1/ecosystems/{ECO}"
ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "examples" / "agreements" / "coop-traceability.yaml"
EQUATION = ROOT / "examples" / "equations" / "coop-traceability.yaml"


# -- helpers ----------------------------------------------------------------------------
def same(value: Any) -> Any:
    """JSON with its timestamps parsed, so "Z" and "+00:00" compare equal."""
    if isinstance(value, dict):
        return {k: same(v) for k, v in value.items()}
    if isinstance(value, list):
        return [same(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def rows(store: Store) -> dict[str, list[Any]]:
    """Every engagement row (and the opportunities): what a refusal must leave alone."""
    with store.engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
            for t in (*ENGAGEMENT_TABLES, opportunity)
        }


def problem(res: httpx.Response, status: int) -> dict[str, Any]:
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = res.json()
    assert body["status"] == status
    return body


def agreement_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(AGREEMENT.read_text(encoding="utf-8"))
    data["equation"] = yaml.safe_load(EQUATION.read_text(encoding="utf-8"))
    return data


def agreement_body() -> dict[str, Any]:
    """The example agreement as the JSON body of a draft."""
    out: dict[str, Any] = Agreement.model_validate(agreement_data()).model_dump(
        mode="json", exclude_none=True
    )
    return out


def agree(store: Store) -> list[Commitment]:
    """coop-traceability agreed by every party (through the store), its commitments."""
    draft = Agreement.model_validate(agreement_data())
    store.draft_agreement(ECO, COOP, draft, "ben")
    for party in draft.parties:
        store.consent_agreement(ECO, COOP, party, "ben")
    store.advance(ECO, COOP, "agreed", "ben")
    return store.commitments(ECO, COOP)


def numbered(commitments: list[Commitment], debtor: str, creditor: str) -> int:
    return next(c.number for c in commitments if (c.debtor, c.creditor) == (debtor, creditor))


def commitment_json(c: Commitment, today: dt.date) -> dict[str, Any]:
    return {
        "number": c.number,
        "debtor": c.debtor,
        "creditor": c.creditor,
        "antecedent": c.antecedent,
        "consequent": c.consequent,
        "state": c.state,
        "due": None if c.due is None else c.due.isoformat(),
        "overdue": c.overdue(today),
        "opportunity": c.opportunity,
        "hours_per_week": c.hours_per_week,
        "value": None if c.value is None else format(c.value, "f"),
        "currency": c.currency,
        "agreement_version": c.agreement_version,
    }


# -- opportunities ------------------------------------------------------------------------
def test_list_and_show_opportunities(world: World) -> None:
    stored = world.store.opportunities(ECO)
    expected = [
        {"id": i, "name": n, "stage": s}
        for i, n, s in sorted(stored, key=lambda r: (STAGES.index(r[2]), r[0]))
    ]
    for who in ("ben", "grace", "olga"):
        res = world.get(who, f"{API}/opportunities", params={"limit": 1000})
        assert res.status_code == 200, res.text
        assert res.json()["items"] == expected
        assert res.json()["total"] == len(stored)
    swarming = world.get("grace", f"{API}/opportunities", params={"stage": "swarming"}).json()
    assert {o["id"] for o in swarming["items"]} == {i for i, _, s in stored if s == "swarming"}
    assert {COOP, HARBOUR} <= {o["id"] for o in swarming["items"]}
    page = world.get("grace", f"{API}/opportunities", params={"limit": 2}).json()
    assert page["items"] == expected[:2] and page["next"]

    res = world.get("grace", f"{API}/opportunities/{COOP}")
    assert res.status_code == 200
    assert same(res.json()) == same(world.store.opportunity(ECO, COOP).to_json())
    assert res.json()["team"] == COOP_TEAM and res.json()["stage"] == "swarming"
    problem(world.get("ben", f"{API}/opportunities/no-such-thing"), 404)
    problem(world.get("grace", f"{API}/opportunities", params={"stage": "won"}), 422)


def test_create_advance_and_pick_team(world: World) -> None:
    body = {
        "id": "dock-sensors",
        "name": "Dock sensors",
        "client": "harbour-foods",
        "needs": [{"capability": "iot-sensors", "level": 3}],
        "budget": "40000",
        "currency": "EUR",
        "why": "asked at the harbour fair",
    }
    res = world.post("ben", f"{API}/opportunities", json=body)
    assert res.status_code == 201, res.text
    created = world.store.opportunity(ECO, "dock-sensors")
    assert same(res.json()) == same(created.to_json())
    assert created.stage == "lead" and created.budget == Decimal("40000")
    assert created.history[0].actor == "ben" and created.history[0].why == body["why"]
    before = rows(world.store)
    problem(world.post("ben", f"{API}/opportunities", json=body), 409)  # already exists
    problem(world.post("grace", f"{API}/opportunities", json={**body, "id": "x"}), 403)
    problem(
        world.post("ben", f"{API}/opportunities", json={**body, "id": "y", "stage": "paid"}), 409
    )
    assert rows(world.store) == before

    res = world.post(
        "ben",
        f"{API}/opportunities/dock-sensors/advance",
        json={"stage": "qualified", "why": "fit"},
    )
    assert res.status_code == 200, res.text
    state = world.store.opportunity(ECO, "dock-sensors")
    assert same(res.json()) == same(state.to_json())
    assert state.stage == "qualified" and state.history[-1].why == "fit"
    # The orchestrator may record a move as someone else; a member may not move it.
    res = world.post(
        "ben", f"{API}/opportunities/dock-sensors/advance", json={"stage": "swarming", "by": "nrda"}
    )
    assert (
        res.status_code == 200
        and world.store.opportunity(ECO, "dock-sensors").history[-1].actor == "nrda"
    )
    problem(
        world.post("liam", f"{API}/opportunities/dock-sensors/advance", json={"stage": "lost"}), 403
    )

    team = {"liam": "sensors", "oscar": None}
    res = world.put("ben", f"{API}/opportunities/dock-sensors/team", json={"members": team})
    assert res.status_code == 200, res.text
    assert res.json() == {"opportunity": "dock-sensors", "team": team}
    assert world.store.opportunity(ECO, "dock-sensors").team == team
    before = rows(world.store)
    problem(
        world.put("liam", f"{API}/opportunities/dock-sensors/team", json={"members": team}), 403
    )
    problem(
        world.put(
            "ben", f"{API}/opportunities/dock-sensors/team", json={"members": {"nobody-x": None}}
        ),
        409,
    )
    problem(
        world.put(
            "ben",
            f"{API}/opportunities/dock-sensors/team",
            json={"members": {"harbour-foods": None}},
        ),
        409,
    )
    problem(world.put("ben", f"{API}/opportunities/dock-sensors/team", json={"members": {}}), 422)
    assert rows(world.store) == before


def test_refused_advance_is_409_and_changes_nothing(world: World) -> None:
    before = world.store.opportunity(ECO, COOP).to_json()
    all_rows = rows(world.store)
    body = problem(
        world.post("ben", f"{API}/opportunities/{COOP}/advance", json={"stage": "agreed"}), 409
    )
    assert body["type"].endswith("/refused") and "agree" in body["detail"]
    problem(world.post("ben", f"{API}/opportunities/{COOP}/advance", json={"stage": "paid"}), 409)
    problem(world.post("ben", f"{API}/opportunities/{COOP}/advance", json={"stage": "won"}), 422)
    assert world.store.opportunity(ECO, COOP).to_json() == before
    assert rows(world.store) == all_rows


# -- agreements ---------------------------------------------------------------------------
def test_draft_consent_and_agree(world: World) -> None:
    url = f"{API}/opportunities/{COOP}/agreements"
    assert world.get("grace", url).json()["items"] == []
    problem(world.post("grace", url, json=agreement_body()), 403)
    problem(world.post("ben", f"{url}/consent", json={}), 409)  # nothing to consent to yet

    res = world.post("ben", url, json=agreement_body())
    assert res.status_code == 201, res.text
    stored = world.store.agreements(ECO, COOP)
    assert len(stored) == 1
    drafted = res.json()
    assert same({k: v for k, v in drafted.items() if k != "equation"}) == same(stored[0].to_json())
    assert drafted["equation"]["name"] == "coop-traceability"
    assert drafted["equation_version"] == stored[0].equation_version == 1
    assert drafted["waiting_for"] == list(Agreement.model_validate(agreement_data()).parties)
    # The agreement's swarm becomes the team.
    assert set(world.store.opportunity(ECO, COOP).team) == {
        "hugo", "grace", "priya", "fieldsense", "uni-northbridge"
    }  # fmt: skip

    # grace consents as herself, once; she may not consent for hugo.
    res = world.post("grace", f"{url}/consent", json={})
    assert res.status_code == 200, res.text
    assert "grace" in res.json()["consents"] and "grace" not in res.json()["waiting_for"]
    assert "grace" in world.store.agreements(ECO, COOP)[-1].consents
    before = rows(world.store)
    problem(world.post("grace", f"{url}/consent", json={}), 409)
    problem(world.post("grace", f"{url}/consent", json={"by": "hugo"}), 403)
    problem(world.post("liam", f"{url}/consent", json={}), 403)  # not in this swarm
    problem(world.post("olga", f"{url}/consent", json={}), 403)
    problem(world.post("ben", f"{API}/opportunities/{COOP}/advance", json={"stage": "agreed"}), 409)
    assert rows(world.store) == before

    # The orchestrator records the other parties' consents, then the opportunity is agreed.
    for party in res.json()["waiting_for"]:
        assert world.post("ben", f"{url}/consent", json={"by": party}).status_code == 200
    listed = world.get("liam", url).json()
    assert same(listed["items"][0]) == same(
        {**world.store.agreements(ECO, COOP)[0].to_json(), "equation": drafted["equation"]}
    )
    assert listed["items"][0]["waiting_for"] == []
    res = world.post("ben", f"{API}/opportunities/{COOP}/advance", json={"stage": "agreed"})
    assert res.status_code == 200, res.text
    assert res.json()["stage"] == "agreed"
    made = world.store.commitments(ECO, COOP)
    assert len(made) == len(agreement_data()["promises"])
    today = dt.date.today()
    res = world.get("grace", f"{API}/commitments", params={"opportunity": COOP})
    assert res.json()["items"] == [commitment_json(c, today) for c in made]


# -- commitments -------------------------------------------------------------------------
def test_commitment_operations(world: World) -> None:
    made = agree(world.store)
    kits = numbered(made, "fieldsense", "grace")  # grace is its creditor
    install = numbered(made, "grace", "hugo")  # grace is its debtor, conditional
    url = f"{API}/commitments"

    res = world.post("grace", f"{url}/{kits}/discharge", json={"note": "all 64 arrived"})
    assert res.status_code == 200, res.text
    assert res.json()["state"] == "discharged"
    history = world.store.commitment_history(ECO, kits)
    assert history[-1]["operation"] == "discharge" and history[-1]["by"] == "grace"
    res = world.get("liam", f"{url}/{kits}/history")
    assert same(res.json()["items"]) == same(history)

    before = rows(world.store)
    body = problem(world.post("grace", f"{url}/{install}/discharge"), 409)  # the creditor's
    assert "hugo" in body["detail"]
    problem(world.post("grace", f"{url}/{kits}/discharge"), 409)  # already discharged
    problem(world.post("grace", f"{url}/{install}/detach", json={"by": "hugo"}), 403)
    problem(world.post("liam", f"{url}/{install}/detach"), 403)  # another swarm's
    problem(world.post("olga", f"{url}/{install}/detach"), 403)
    problem(world.post("grace", f"{url}/{install}/delegate"), 422)  # needs the new debtor
    problem(world.post("grace", f"{url}/{install}/explode"), 422)
    problem(world.post("grace", f"{url}/9999/detach"), 404)
    assert rows(world.store) == before

    res = world.post("grace", f"{url}/{install}/detach")
    assert res.status_code == 200 and res.json()["state"] == "detached"
    res = world.post("ben", f"{url}/{install}/discharge", json={"by": "hugo"})
    assert res.status_code == 200 and res.json()["state"] == "discharged"
    assert world.store.commitment_history(ECO, install)[-1]["by"] == "hugo"
    res = world.get("olga", f"{url}/{install}")
    assert res.status_code == 200 and res.json()["state"] == "discharged"


def test_create_list_sweep_and_owes(world: World) -> None:
    made = agree(world.store)
    url = f"{API}/commitments"
    body = {
        "debtor": "grace",
        "creditor": "hugo",
        "consequent": "sensor map of the pilot farms",
        "due": "2025-05-15",
        "opportunity": COOP,
        "hours_per_week": 2,
        "value": "150.50",
        "currency": "EUR",
    }
    res = world.post("grace", url, json=body)
    assert res.status_code == 201, res.text
    new = world.store.commitments(ECO)[-1]
    assert res.json() == commitment_json(new, dt.date.today())
    assert (new.debtor, new.value, new.state) == ("grace", Decimal("150.50"), "detached")
    # The orchestrator records one for anyone (made by its debtor); a member only their own.
    res = world.post("ben", url, json={**body, "debtor": "priya", "value": None})
    assert res.status_code == 201 and res.json()["debtor"] == "priya"
    before = rows(world.store)
    problem(world.post("grace", url, json={**body, "debtor": "priya"}), 409)
    problem(world.post("liam", url, json=body), 403)  # not in that swarm
    problem(world.post("olga", url, json=body), 403)
    problem(world.post("grace", url, json={**body, "hours_per_week": 500}), 422)
    problem(world.post("grace", url, json={**body, "value": "NaN"}), 422)
    assert rows(world.store) == before

    today = dt.date(2025, 6, 1)
    res = world.get("olga", url, params={"overdue": True, "today": "2025-06-01", "limit": 1000})
    expected = world.store.commitments(ECO, overdue_on=today)
    assert res.json()["items"] == [commitment_json(c, today) for c in expected]
    assert {c["number"] for c in res.json()["items"]} >= {numbered(made, "eastvale-coop", "hugo")}
    res = world.get("grace", url, params={"state": "conditional", "debtor": "grace"})
    assert [c["number"] for c in res.json()["items"]] == [numbered(made, "grace", "hugo")]

    owes = world.get("liam", f"{url}/owes", params={"limit": 1000}).json()["items"]
    assert owes == [
        {
            "debtor": o.debtor,
            "creditor": o.creditor,
            "detached": o.detached,
            "conditional": o.conditional,
            "value": format(o.value, "f"),
            "hours_per_week": o.hours_per_week,
        }
        for o in world.store.owes(ECO)
    ]
    assert {"debtor": "grace", "creditor": "hugo"}.items() <= owes[
        next(i for i, o in enumerate(owes) if (o["debtor"], o["creditor"]) == ("grace", "hugo"))
    ].items()

    problem(world.post("grace", f"{url}/sweep", json={"today": "2026-01-15"}), 403)
    active = [c.number for c in world.store.commitments(ECO) if c.active]
    res = world.post("ben", f"{url}/sweep", json={"today": "2026-01-15"})
    assert res.status_code == 200, res.text
    assert [c["number"] for c in res.json()["changed"]] == active
    after = {c.number: c.state for c in world.store.commitments(ECO)}
    assert all(after[n] in ("violated", "expired") for n in active)
    assert world.post("ben", f"{url}/sweep", json={"today": "2026-01-15"}).json() == {"changed": []}


# -- conversations -----------------------------------------------------------------------
def test_conversation_protocol(world: World) -> None:
    res = world.get("olga", f"{API}/conversations/templates")
    assert [t["name"] for t in res.json()["items"]] == list(TEMPLATES)
    offer = res.json()["items"][0]["steps"][2]
    assert offer == {"message": "offer", "sender": "provider", "after": ["request"],
                     "effect": "create", "final": False}  # fmt: skip

    url = f"{API}/conversations"
    body = {
        "template": "request",
        "requester": "grace",
        "provider": "priya",
        "subject": "cloud cost review",
        "opportunity": COOP,
        "hours_per_week": 1,
    }
    res = world.post("grace", url, json=body)
    assert res.status_code == 201, res.text
    number = res.json()["number"]
    assert res.json()["next"] == ["decline", "offer"] and res.json()["last"] == "request"
    problem(world.post("liam", url, json=body), 403)  # another swarm's opportunity
    problem(world.post("olga", url, json=body), 403)
    problem(world.post("grace", url, json={**body, "template": "gossip"}), 422)

    before = rows(world.store)
    problem(world.post("grace", f"{url}/{number}/messages", json={"message": "accept"}), 409)
    problem(world.post("grace", f"{url}/{number}/messages", json={"message": "offer"}), 409)
    problem(world.post("grace", f"{url}/999/messages", json={"message": "offer"}), 404)
    assert rows(world.store) == before

    # priya has no account: the orchestrator records her offer, which makes the commitment.
    res = world.post("ben", f"{url}/{number}/messages", json={"message": "offer", "by": "priya"})
    assert res.status_code == 200, res.text
    made = res.json()["commitment"]
    assert made is not None
    assert world.store.commitments(ECO)[-1].number == made
    res = world.post("grace", f"{url}/{number}/messages", json={"message": "accept", "note": "yes"})
    assert res.status_code == 200 and res.json()["next"] == ["deliver"]
    assert [c.state for c in world.store.commitments(ECO) if c.number == made] == ["detached"]

    res = world.get("liam", f"{url}/{number}")
    assert res.status_code == 200
    assert res.json() == world.store.conversation(ECO, number).to_json()
    problem(world.get("ben", f"{url}/999"), 404)


# -- satisfaction and the loop ------------------------------------------------------------
def test_satisfaction_and_loop(world: World) -> None:
    made = agree(world.store)
    url = f"{API}/opportunities/{COOP}"
    loop = world.get("grace", f"{url}/loop").json()
    assert loop == {"opportunity": COOP, "stage": "agreed", "closed": False, "ties": [],
                    "flows": [], "satisfaction": None}  # fmt: skip
    before = rows(world.store)
    problem(world.post("ben", f"{url}/satisfaction", json={"score": 9}), 409)  # not delivered
    for stage in ("delivering", "delivered"):
        world.store.advance(ECO, COOP, stage, "ben")
    before = rows(world.store)
    problem(world.post("grace", f"{url}/satisfaction", json={"score": 9}), 403)  # not the client
    problem(world.post("ben", f"{url}/satisfaction", json={"score": 11}), 422)
    assert rows(world.store) == before
    res = world.post("ben", f"{url}/satisfaction", json={"score": 9, "by": "eastvale-coop"})
    assert res.status_code == 200, res.text
    assert res.json() == {"opportunity": COOP, "score": 9, "by": "eastvale-coop", "note": None}
    assert world.store.opportunity(ECO, COOP).satisfaction == 9

    for c in made:
        if c.state == "conditional":
            world.store.operate(ECO, c.number, "detach", c.creditor)
        world.store.operate(ECO, c.number, "discharge", c.creditor)
    world.store.advance(ECO, COOP, "accepted", "ben")
    world.store.record(
        ECO,
        [NewEvent("income", "eastvale-coop", "ben", COOP, value=Decimal("60000"), currency="EUR")],
    )
    for stage in ("paid", "reviewed"):
        res = world.post("ben", f"{url}/advance", json={"stage": stage})
        assert res.status_code == 200, res.text
    loop = world.get("grace", f"{url}/loop").json()
    done = world.store.loop(ECO, COOP)
    assert done is not None and loop["closed"] and loop["stage"] == "reviewed"
    assert (loop["ties"], loop["flows"], loop["satisfaction"]) == (
        done["ties"], done["flows"], 9
    )  # fmt: skip
    assert loop["ties"] and loop["flows"]


# -- who may ------------------------------------------------------------------------------
def routes(number: int = 1) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route of the engagement, with a body that would do."""
    opp = f"{API}/opportunities/{COOP}"
    return [
        ("GET", f"{API}/opportunities", None),
        ("POST", f"{API}/opportunities", {"id": "new-one", "client": "harbour-foods"}),
        ("GET", opp, None),
        ("POST", f"{opp}/advance", {"stage": "lost"}),
        ("PUT", f"{opp}/team", {"members": {"hugo": None}}),
        ("POST", f"{opp}/satisfaction", {"score": 5}),
        ("GET", f"{opp}/loop", None),
        ("GET", f"{opp}/agreements", None),
        ("POST", f"{opp}/agreements", agreement_body()),
        ("POST", f"{opp}/agreements/consent", {}),
        ("GET", f"{API}/commitments", None),
        ("POST", f"{API}/commitments", {"debtor": "ben", "creditor": "hugo", "consequent": "x"}),
        ("GET", f"{API}/commitments/owes", None),
        ("POST", f"{API}/commitments/sweep", {}),
        ("GET", f"{API}/commitments/{number}", None),
        ("GET", f"{API}/commitments/{number}/history", None),
        ("POST", f"{API}/commitments/{number}/detach", {}),
        ("GET", f"{API}/conversations/templates", None),
        ("POST", f"{API}/conversations",
         {"template": "offer", "requester": "hugo", "provider": "ben", "subject": "x"}),
        ("GET", f"{API}/conversations/1", None),
        ("POST", f"{API}/conversations/1/messages", {"message": "accept"}),
    ]  # fmt: skip


MANAGE = {"/opportunities", "/advance", "/team", "/agreements", "/sweep"}


def test_roles_on_every_route(world: World) -> None:
    made = agree(world.store)
    world.store.start_conversation(ECO, "offer", "hugo", "ben", "a review", by="ben")
    before = rows(world.store)
    for method, path, body in routes(made[0].number):
        # otto holds no role in Northbridge: 404 everywhere, nothing named.
        res = world.client.request(method, path, json=body, headers=world.as_("otto"))
        assert problem(res, 404)["type"].endswith("/unknown-ecosystem"), path
        if method != "GET":
            assert problem(
                world.client.request(method, path, json=body, headers=world.as_("olga")), 403
            )
            if path.endswith(tuple(MANAGE)) and not path.endswith("/consent"):
                res = world.client.request(method, path, json=body, headers=world.as_("grace"))
                assert problem(res, 403)["type"].endswith("/forbidden"), path
        else:
            assert world.get("olga", path).status_code == 200, path
    assert rows(world.store) == before


def test_controlled_access(world: World) -> None:
    made = agree(world.store)
    world.store.start_conversation(ECO, "request", "grace", "priya", "kits", by="grace")
    world.store.set_access(ECO, "controlled-access", "ben")

    def listed(who: str) -> set[str]:
        return {o["id"] for o in world.get(who, f"{API}/opportunities").json()["items"]}

    assert COOP in listed("grace") and HARBOUR not in listed("grace")
    assert HARBOUR in listed("liam") and COOP not in listed("liam")
    assert {COOP, HARBOUR} <= listed("ben")
    assert listed("olga") == set()

    for path in (
        f"/opportunities/{HARBOUR}",
        f"/opportunities/{HARBOUR}/agreements",
        f"/opportunities/{HARBOUR}/loop",
        f"/commitments?opportunity={HARBOUR}",
    ):
        problem(world.get("grace", API + path), 403)
        assert world.get("liam", API + path).status_code == 200, path
    problem(world.get("grace", f"{API}/opportunities/not-there"), 403)  # nothing leaks
    problem(world.get("liam", f"{API}/opportunities/{COOP}/agreements"), 403)

    mine = world.get("grace", f"{API}/commitments", params={"limit": 1000}).json()
    assert [c["number"] for c in mine["items"]] == [c.number for c in made]
    assert world.get("liam", f"{API}/commitments").json()["total"] == 0
    problem(world.get("liam", f"{API}/commitments/{made[0].number}"), 403)
    problem(world.get("liam", f"{API}/commitments/{made[0].number}/history"), 403)
    problem(world.post("liam", f"{API}/commitments/{made[0].number}/detach"), 403)
    problem(world.get("liam", f"{API}/conversations/1"), 403)
    assert world.get("grace", f"{API}/conversations/1").status_code == 200

    owes = world.get("grace", f"{API}/commitments/owes", params={"limit": 1000}).json()["items"]
    assert owes and all("grace" in (o["debtor"], o["creditor"]) for o in owes)
    assert world.get("liam", f"{API}/commitments/owes").json()["total"] == 0
    assert world.get("ben", f"{API}/commitments/owes").json()["total"] == len(world.store.owes(ECO))


def test_bad_input_is_422_and_changes_nothing(world: World) -> None:
    before = rows(world.store)
    opp = f"{API}/opportunities/{COOP}"
    for method, path, body in (
        ("POST", f"{opp}/advance", {"stage": "lost", "why": "a\x00b"}),
        ("POST", f"{API}/opportunities", {"id": "x", "client": "harbour-foods", "description": "\x00"}),
        ("POST", f"{opp}/agreements", {**agreement_body(), "budget": "1e400"}),
        ("POST", f"{opp}/agreements", {**agreement_body(), "intent": "a\x00"}),
        ("POST", f"{opp}/agreements", {**agreement_body(), "swarm": []}),
        ("PUT", f"{opp}/team", {"members": {"a" * 201: None}}),
        ("POST", f"{API}/commitments", {"debtor": "ben", "creditor": "hugo", "consequent": ""}),
        ("POST", f"{API}/commitments/{2**40}/detach", {}),
        ("GET", f"{API}/opportunities/a%00b", None),
        ("GET", f"{API}/commitments?debtor=a%00b", None),
    ):  # fmt: skip
        res = world.client.request(method, path, json=body, headers=world.as_("ben"))
        problem(res, 422)
    assert rows(world.store) == before
