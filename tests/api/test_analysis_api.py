"""The analysis routes, on SQLite and PostgreSQL: the same numbers as the engine on the
store's own snapshot, readable by every role of the ecosystem, 404 outside it, and bad
options refused as problems naming the parameter, never 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

import glia
from glia.analysis import analyze, remove
from glia.report import findings, html_report

from .conftest import ECO, OTHER, World

BASE = f"/api/v1/ecosystems/{ECO}"
ROUTES = (
    "/analysis",
    "/analysis/participants",
    "/analysis/findings",
    "/analysis/health",
    "/analysis/sweetspot",
    "/analysis/whatif?participant=nrda",
    "/report",
)


def plain(value: Any) -> Any:
    """``value`` as it reads back from JSON."""
    return json.loads(json.dumps(value, allow_nan=False))


def engine(world: World, **options: Any) -> glia.Analysis:
    """The analysis made directly on the store's snapshot: the independent path."""
    return analyze(world.store.snapshot(ECO), **options)


def test_analysis_is_the_engines_json(world: World) -> None:
    res = world.get("ben", f"{BASE}/analysis", params={"participants": "true"})
    assert res.status_code == 200
    body = res.json()
    expected = plain(engine(world).to_json())
    body.pop("timings"), expected.pop("timings")
    assert body == expected
    assert body["participants"]["nrda"]["degree.combined"] == 15  # docs/analysis.md
    # without participants=true, the per-participant measures are left to the paged route
    short = world.get("ben", f"{BASE}/analysis").json()
    assert short["participants"] is None and short["summary"] == expected["summary"]


def test_options_reach_the_engine(world: World) -> None:
    params = {"layers": ["informal", "combined"], "group": "region", "seed": "3"}
    body = world.get("olga", f"{BASE}/analysis", params=params).json()
    expected = plain(
        engine(world, layers=["informal", "combined"], group="region", seed=3).to_json()
    )
    assert body["settings"] == expected["settings"]
    assert body["brokerage"] == expected["brokerage"]
    assert set(body["summary"]["layers"]) == {"informal", "combined"}


def test_attribute_grouping_reads_the_participants_attributes(world: World) -> None:
    res = world.get("ben", f"{BASE}/analysis/sweetspot", params={"group": "attribute:sector"})
    assert res.status_code == 200
    records = world.store.load(ECO)
    by_id = {p.id: p.attributes.get("sector") for p in records.participants}
    snap = world.store.snapshot(ECO)
    result = analyze(
        snap, group="attribute:sector", attribute=lambda _: [by_id[i] for i in snap.participant_ids]
    )
    assert res.json()["grouping"] == result.sweet_spot.grouping == "attribute:sector"


def test_every_role_reads_every_view(world: World) -> None:
    for username in ("ben", "grace", "liam", "olga"):
        for route in ROUTES:
            res = world.get(username, BASE + route)
            assert res.status_code == 200, (username, route, res.text)
    # the analysis is the common picture: members read it in a controlled-access ecosystem too
    world.store.set_access(ECO, "controlled-access", "ben")
    res = world.get("liam", f"{BASE}/analysis/health")
    assert res.status_code == 200 and res.json()["available"] is True


def test_outsiders_get_404(world: World) -> None:
    for route in ROUTES:
        res = world.get("otto", BASE + route)
        assert res.status_code == 404, route
        assert res.headers["content-type"] == "application/problem+json"
        assert OTHER not in res.text
    # Elsewhere has no clusters: its orchestrator groups by kind
    own = world.get("otto", f"/api/v1/ecosystems/{OTHER}/analysis/health", params={"group": "kind"})
    assert own.status_code == 200
    # no exchanges there: no health, and the notes say why
    body = own.json()
    assert body["available"] is False and body["sustainability"] is None
    assert any("no exchanges" in note for note in body["notes"])


def test_participants_are_paged_and_sorted_by_any_measure(world: World) -> None:
    res = world.get(
        "grace",
        f"{BASE}/analysis/participants",
        params={"sort": "betweenness.combined", "order": "desc", "limit": 5, "offset": 2},
    )
    assert res.status_code == 200
    page = res.json()
    data = plain(engine(world).to_json())["participants"]
    ranked = sorted(data, key=lambda p: (-data[p]["betweenness.combined"], p))
    assert [x["id"] for x in page["items"]] == ranked[2:7]
    assert page["total"] == 40 and "offset=7" in page["next"]
    first = page["items"][0]
    assert first["name"] == data[first["id"]]["name"]
    assert first["measures"] == {k: v for k, v in data[first["id"]].items() if k != "name"}
    # ascending by id, only the eigenvector and degree columns
    res = world.get(
        "grace",
        f"{BASE}/analysis/participants",
        params={"sort": "id", "order": "asc", "measure": ["eigenvector", "degree.informal"]},
    )
    items = res.json()["items"]
    assert [x["id"] for x in items] == sorted(data)
    assert set(items[0]["measures"]) == {
        "eigenvector.formal",
        "eigenvector.informal",
        "eigenvector.combined",
        "eigenvector.exchange",
        "degree.informal",
    }


def test_missing_values_sort_last_either_way(world: World) -> None:
    data = plain(engine(world).to_json())["participants"]
    missing = sorted(p for p in data if data[p]["constraint.informal"] is None)
    assert missing  # isolated on the informal layer: Burt's constraint undefined
    for order in ("asc", "desc"):
        items = world.get(
            "ben",
            f"{BASE}/analysis/participants",
            params={"sort": "constraint.informal", "order": order, "limit": 1000},
        ).json()["items"]
        assert [x["id"] for x in items[-len(missing) :]] == missing


def test_health_sweet_spot_and_what_if_are_the_engines(world: World) -> None:
    result = engine(world)
    assert result.health is not None
    health = world.get("liam", f"{BASE}/analysis/health").json()
    expected_health = plain(result.health.to_json())
    assert {k: health[k] for k in expected_health} == expected_health
    assert health["keystones"] == result.health.keystones
    assert health["dominators"] == result.health.dominators

    spot = world.get("liam", f"{BASE}/analysis/sweetspot", params={"participants": "true"}).json()
    assert spot.pop("ecosystem") == ECO
    assert spot == plain(result.sweet_spot.to_json(participants=True))

    res = world.get("liam", f"{BASE}/analysis/whatif", params={"participant": ["nrda", "cropwise"]})
    expected = plain(remove(result.multiplex, ["nrda", "cropwise"], flows=result.flows).to_json())
    body = res.json()
    assert body.pop("ecosystem") == ECO and body == expected
    cluster = world.get("liam", f"{BASE}/analysis/whatif", params={"cluster": "agritech"}).json()
    assert (
        cluster["removed"]
        == plain(remove(result.multiplex, cluster="agritech").to_json())["removed"]
    )


def test_findings_and_report_are_the_engines(world: World) -> None:
    result = engine(world)
    sections = findings(result)
    res = world.get("olga", f"{BASE}/analysis/findings")
    items = res.json()["items"]
    assert [s["title"] for s in items] == [s.title for s in sections]
    assert items[1]["rows"] == [[str(x) for x in row] for row in sections[1].rows]
    assert all(s["figure"] is None for s in items)
    report = world.get("olga", f"{BASE}/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert report.text == html_report(result)


#: Bad options: (query, route, the parameter the problem names).
BAD = [
    ({"group": "nope"}, "/analysis", "query.group"),
    ({"group": "attribute:nothing-here"}, "/analysis/health", "query.group"),
    ({"layers": "bogus"}, "/analysis", "query.layers"),
    ({"method": "louvain"}, "/analysis", "query.method"),
    ({"resolution": "0"}, "/analysis", "query.resolution"),
    ({"resolution": "nan"}, "/analysis", "query.resolution"),
    ({"seed": "-1"}, "/analysis", "query.seed"),
    ({"at": "yesterday"}, "/analysis", "query.at"),
    ({"sort": "nope"}, "/analysis/participants", "query.sort"),
    ({"measure": "nope"}, "/analysis/participants", "query.measure"),
    ({"order": "up"}, "/analysis/participants", "query.order"),
    ({"participant": "nobody"}, "/analysis/whatif", "query.participant"),
    ({}, "/analysis/whatif", "query.participant"),
    ({"cluster": "nowhere"}, "/analysis/whatif", "query.cluster"),
    ({"top": "0"}, "/report", "query.top"),
]


def test_bad_options_are_problems_naming_the_parameter(world: World) -> None:
    for params, route, field in BAD:
        res = world.get("grace", BASE + route, params=params)
        assert res.status_code == 422, (params, res.text)
        assert res.headers["content-type"] == "application/problem+json"
        body = res.json()
        assert field in body["detail"], params
        assert any(p["location"].startswith(field) for p in body["problems"]), params


def test_analyses_are_cached_until_the_snapshot_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glia.api.routes import analysis as routes

    calls: list[Any] = []

    def counted(*args: Any, **kwargs: Any) -> glia.Analysis:
        calls.append(kwargs)
        return analyze(*args, **kwargs)

    monkeypatch.setattr(routes, "analyze", counted)
    for route in ("/analysis", "/analysis/health", "/report", "/analysis/sweetspot"):
        assert world.get("ben", BASE + route).status_code == 200
    assert len(calls) == 1
    assert world.get("ben", f"{BASE}/analysis", params={"seed": 1}).status_code == 200
    assert len(calls) == 2  # other settings, another analysis
    # an engagement write (a new opportunity and its needs) leaves updated_at alone
    # but changes the snapshot: the next request sees it
    before = world.get("ben", f"{BASE}/analysis").json()["single_points_of_failure"]
    opportunity = glia.Opportunity.model_validate(
        {"id": "new-bid", "client": "nrda", "needs": [{"capability": "policy", "level": 5}]}
    )
    world.store.create_opportunity(ECO, opportunity, "ben")
    assert world.get("ben", f"{BASE}/analysis").status_code == 200
    assert len(calls) == 3
    assert before == world.get("ben", f"{BASE}/analysis").json()["single_points_of_failure"]
    assert len(calls) == 3
    snap = world.store.snapshot(ECO)
    assert routes.fingerprint(snap) == routes.fingerprint(world.store.snapshot(ECO))
    assert routes.fingerprint(snap) != routes.fingerprint(world.store.snapshot(OTHER))
