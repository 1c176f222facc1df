"""The swarm routes, on SQLite and PostgreSQL: the same teams as ``form_swarm`` on the
store's own snapshot (with the hours committed in the store), readable by every role of
the ecosystem, 404 outside it, bad requests refused naming the parameter, never 500."""

from __future__ import annotations

import json
from typing import Any

from glia.swarm import form_swarm

from .conftest import COOP, COOP_TEAM, ECO, HARBOUR, OTHER, World

SWARM = f"/api/v1/ecosystems/{ECO}/swarm"


def comparable(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as JSON reads it back, less what a clock decides (timings, seconds)."""
    data: dict[str, Any] = json.loads(json.dumps(payload, allow_nan=False))
    data.pop("timings", None)
    data.pop("committed", None)
    data["solver"].pop("exact_seconds", None)
    return data


def committed_of(world: World) -> dict[str, float]:
    ids = set(world.store.snapshot(ECO).participant_ids)
    return {k: v for k, v in world.store.committed_hours(ECO).items() if k in ids}


def test_opportunity_swarm_is_form_swarms(world: World) -> None:
    res = world.get("ben", SWARM, params={"opportunity": COOP, "teams": 3})
    assert res.status_code == 200, res.text
    body = res.json()
    expected = form_swarm(world.store.snapshot(ECO), COOP, committed=committed_of(world), top=3)
    assert comparable(body) == comparable(expected.to_json())
    assert body["feasible"] and body["optimal"] and len(body["teams"]) == 3
    best = body["teams"][0]
    assert [m["id"] for m in best["members"]] == expected.teams[0].ids
    assert best["why"] is None and body["teams"][1]["why"]  # the runners-up say why not first
    assert all("with" in tie for m in best["members"] for tie in m["ties"])
    assert body["request"]["opportunity"] == COOP and body["request"]["budget"] == 120000.0


def test_committed_hours_from_the_store_load_people(world: World) -> None:
    before = world.get("ben", SWARM, params={"opportunity": COOP}).json()
    hugo = next(m for m in before["teams"][0]["members"] if m["id"] == "hugo")
    assert hugo["load"] == 0 and before["committed"] == {}
    # hugo has 10 hours a week: 4 promised load him 40%...
    world.store.create_commitment(ECO, "hugo", "nrda", "review", by="hugo", hours_per_week=4.0)
    assert committed_of(world) == {"hugo": 4.0}
    after = world.get("ben", SWARM, params={"opportunity": COOP}).json()
    expected = form_swarm(world.store.snapshot(ECO), COOP, committed=committed_of(world))
    assert comparable(after) == comparable(expected.to_json())
    hugo = next(m for m in after["teams"][0]["members"] if m["id"] == "hugo")
    assert hugo["load"] == 0.4 and after["committed"] == {"hugo": 4.0}
    # ...and 8 more leave him no time: he is in no team
    world.store.create_commitment(ECO, "hugo", "nrda", "build", by="hugo", hours_per_week=8.0)
    full = world.get("ben", SWARM, params={"opportunity": COOP}).json()
    expected = form_swarm(world.store.snapshot(ECO), COOP, committed=committed_of(world))
    assert comparable(full) == comparable(expected.to_json())
    assert all(m["id"] != "hugo" for t in full["teams"] for m in t["members"])
    assert full["committed"] == {}


def test_stated_needs_get_and_post_agree_with_the_engine(world: World) -> None:
    expected = form_swarm(
        world.store.snapshot(ECO),
        needs=["ux-design:4", "legal:3"],
        region="harbourside",
        committed=committed_of(world),
        top=2,
    )
    body = {
        "needs": [{"capability": "ux-design", "level": 4}, {"capability": "legal", "level": 3}],
        "region": "harbourside",
        "teams": 2,
    }
    posted = world.post("grace", SWARM, json=body)
    assert posted.status_code == 200, posted.text
    assert comparable(posted.json()) == comparable(expected.to_json())
    got = world.get(
        "olga",
        SWARM,
        params={"need": ["ux-design:4", "legal:3"], "region": "harbourside", "teams": 2},
    )
    assert got.status_code == 200
    assert comparable(got.json()) == comparable(expected.to_json())


def test_options_reach_the_engine(world: World) -> None:
    params = {
        "opportunity": HARBOUR,
        "exclude": "liam,oscar",
        "include": "ines",
        "weights": "distance=1,cost=0.5",
        "max_size": 4,
        "teams": 1,
        "horizon": "none",
    }
    res = world.get("liam", SWARM, params=params)
    assert res.status_code == 200, res.text
    expected = form_swarm(
        world.store.snapshot(ECO),
        HARBOUR,
        exclude=["liam", "oscar"],
        include=["ines"],
        weights="distance=1,cost=0.5",
        max_size=4,
        top=1,
        horizon=None,
        committed=committed_of(world),
    )
    assert comparable(res.json()) == comparable(expected.to_json())
    body = {
        "opportunity": HARBOUR,
        "exclude": ["liam", "oscar"],
        "include": ["ines"],
        "weights": {"distance": 1, "cost": 0.5},
        "max_size": 4,
        "teams": 1,
        "horizon": None,
    }
    posted = world.post("ben", SWARM, json=body)
    assert comparable(posted.json()) == comparable(expected.to_json())
    members = [m["id"] for m in posted.json()["teams"][0]["members"]]
    assert "ines" in members and not {"liam", "oscar"} & set(members)


def test_no_team_answers_the_shortfalls(world: World) -> None:
    res = world.get("grace", SWARM, params={"need": "legal:5:30"})
    assert res.status_code == 200
    body = res.json()
    assert body["feasible"] is False and body["teams"] == []
    expected = form_swarm(world.store.snapshot(ECO), needs=["legal:5:30"])
    assert body["shortfalls"] == comparable(expected.to_json())["shortfalls"]
    assert body["shortfalls"][0]["need"] == "legal at level 5 x30"


def test_every_role_reads_outsiders_get_404(world: World) -> None:
    for username in ("ben", "grace", "liam", "olga"):
        res = world.get(username, SWARM, params={"opportunity": COOP, "teams": 1})
        assert res.status_code == 200, (username, res.text)
    # the opportunity swarm is the common picture, in a controlled-access ecosystem too
    world.store.set_access(ECO, "controlled-access", "ben")
    assert world.get("liam", SWARM, params={"opportunity": COOP}).status_code == 200
    for res in (
        world.get("otto", SWARM, params={"opportunity": COOP}),
        world.post("otto", SWARM, json={"opportunity": COOP}),
    ):
        assert res.status_code == 404
        assert res.headers["content-type"] == "application/problem+json"
        assert OTHER not in res.text and COOP not in res.text
    # an observer's POST is refused as a write before its body is read (ecosystem_scope);
    # the GET form answers the same request
    assert world.post("olga", SWARM, json={"needs": [{"capability": "legal"}]}).status_code == 403


#: Bad requests: (GET query or POST body, the parameter the problem names).
BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"opportunity": "no-such-bid"}, "query.opportunity"),
    ({"need": "quantum-baking:3"}, "query.need"),
    ({"need": "legal:9"}, "query.need"),
    ({"need": "legal:3:-1"}, "query.need"),
    ({"need": "legal"}, "query.need"),
    ({}, "query.need"),
    ({"need": "legal:3", "teams": "0"}, "query.teams"),
    ({"need": "legal:3", "teams": "-2"}, "query.teams"),
    ({"need": "legal:3", "budget": "-5"}, "query.budget"),
    ({"need": "legal:3", "budget": "inf"}, "query.budget"),
    ({"need": "legal:3", "region": "mars"}, "query.region"),
    ({"need": "legal:3", "region_required": "true"}, "query.region"),
    ({"need": "legal:3", "include": "nobody"}, "query.include"),
    ({"need": "legal:3", "include": "ana", "exclude": "ana"}, "query.include"),
    ({"need": "legal:3", "exclude": "nobody"}, "query.exclude"),
    ({"need": "legal:3", "forbid": "ana"}, "query.forbid"),
    ({"need": "legal:3", "forbid": "ana,nobody"}, "query.forbid"),
    ({"need": "legal:3", "weights": "speed=1"}, "query.weights"),
    ({"need": "legal:3", "weights": "cost=-1"}, "query.weights"),
    ({"need": "legal:3", "horizon": "far"}, "query.horizon"),
    ({"need": "legal:3", "horizon": "-1"}, "query.horizon"),
    ({"need": "legal:3", "min_size": "3", "max_size": "2"}, "query.max_size"),
    ({"need": "legal:3", "time_limit": "0"}, "query.time_limit"),
]
BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"opportunity": "no-such-bid"}, "body.opportunity"),
    ({"needs": [{"capability": "quantum-baking", "level": 3}]}, "body.needs.0.capability"),
    ({"needs": [{"capability": "legal", "level": 9}]}, "body.needs.0.level"),
    ({"needs": [{"capability": "legal", "count": -1}]}, "body.needs.0.count"),
    ({"needs": [{"capability": " legal"}]}, "body.needs.0.capability"),
    ({"needs": []}, "body.needs"),
    ({"needs": [{"capability": "legal"}], "teams": 0}, "body.teams"),
    ({"needs": [{"capability": "legal"}], "region": "mars"}, "body.region"),
    ({"needs": [{"capability": "legal"}], "include": ["nobody"]}, "body.include"),
    ({"needs": [{"capability": "legal"}], "forbidden": [["ana"]]}, "body.forbidden"),
    ({"needs": [{"capability": "legal"}], "forbidden": [["ana", "nobody"]]}, "body.forbidden"),
    ({"needs": [{"capability": "legal"}], "weights": {"cost": -1}}, "body.weights"),
    ({"needs": [{"capability": "legal"}], "weights": {"speed": 1}}, "body.weights"),
    ({"needs": [{"capability": "legal"}], "horizon": 0}, "body.horizon"),
    ({"needs": [{"capability": "legal"}], "min_size": 3, "max_size": 2}, "body.max_size"),
    ({"needs": [{"capability": "legal"}], "colour": "red"}, "body.colour"),
]


def _names(res: Any, field: str) -> bool:
    body = res.json()
    return field in body["detail"] and any(
        p["location"].startswith(field) for p in body.get("problems", [])
    )


def test_bad_requests_are_problems_naming_the_field_and_change_nothing(world: World) -> None:
    team = world.store.opportunity(ECO, COOP).team
    hours = world.store.committed_hours(ECO)
    for params, field in BAD_QUERIES:
        res = world.get("grace", SWARM, params=params)
        assert res.status_code == 422, (params, res.text)
        assert res.headers["content-type"] == "application/problem+json"
        assert _names(res, field), (params, res.json())
    for body, field in BAD_BODIES:
        res = world.post("ben", SWARM, json=body)
        assert res.status_code == 422, (body, res.text)
        assert res.headers["content-type"] == "application/problem+json"
        assert _names(res, field), (body, res.json())
    assert world.store.opportunity(ECO, COOP).team == team == COOP_TEAM
    assert world.store.committed_hours(ECO) == hours
