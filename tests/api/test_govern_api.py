"""Governance over the API, on SQLite and PostgreSQL: principles, aspirations, reviews.

Every answer is compared with the Store's own (or a hand-worked value); every
refusal is checked to change nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from glia.govern import CHECKS
from glia.store import Store

from .conftest import ECO, World

API = f"/api/v1/ecosystems/{ECO}"
ROOT = Path(__file__).resolve().parents[2]
PRINCIPLES = ROOT / "examples" / "principles.yaml"
ASPIRATIONS = ROOT / "examples" / "aspirations.yaml"


def problem(res: httpx.Response, status: int) -> dict[str, Any]:
    assert res.status_code == status, res.text
    assert res.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = res.json()
    assert body["status"] == status
    return body


def plain(value: Any) -> Any:
    """As JSON would carry it: decimals and dates as text."""
    return json.loads(json.dumps(value, default=str))


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


def principles_body() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PRINCIPLES.read_text(encoding="utf-8"))
    return data


def aspirations_body() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ASPIRATIONS.read_text(encoding="utf-8"))
    return plain(data)  # type: ignore[no-any-return]


def governed(store: Store) -> dict[str, Any]:
    """What a refusal must leave alone: principles, aspirations, reviews."""
    return {
        "principles": [p.to_json() for p in store.principles(ECO)],
        "aspirations": [a.to_json() for a in store.aspirations(ECO)],
        "reviews": [(r.number, r.held_on) for r in store.reviews(ECO)],
    }


def test_principles(world: World) -> None:
    url = f"{API}/principles"
    assert world.get("grace", url).json()["items"] == []
    res = world.put("ben", url, json=principles_body())
    assert res.status_code == 200, res.text
    stored = world.store.principles(ECO)
    assert [p.key for p in stored] == [p["key"] for p in principles_body()["principles"]]
    expected = [{**p.to_json(), "check": p.check} for p in stored]
    assert res.json() == {"ecosystem": ECO, "principles": expected, "checked": 4}
    for who in ("grace", "olga", "ben"):
        assert world.get(who, url).json()["items"] == expected
    assert stored[0].rule == {"check": "max-work-share", "limit": 0.4}

    checked = world.get("olga", f"{url}/check")
    assert checked.status_code == 200, checked.text
    assert checked.json()["items"] == plain(
        [r.to_json() for r in world.store.check_principles(ECO)]
    )
    assert [r["status"] for r in checked.json()["items"]][-1] == "not checked"

    checks = world.get("grace", f"{url}/checks").json()["items"]
    assert [c["name"] for c in checks] == list(CHECKS)
    assert all(c["rule"] == CHECKS[c["name"]].rule for c in checks)

    before = governed(world.store)
    bad = {
        "principles": [{"key": "k", "text": "t", "rule": {"check": "max-work-share", "limit": 1.5}}]
    }
    body = problem(world.put("ben", url, json=bad), 422)
    assert body["problems"][0]["column"] == "rule.limit"
    twice = {"principles": [{"key": "k", "text": "t"}, {"key": "k", "text": "u"}]}
    problem(world.put("ben", url, json=twice), 422)
    problem(world.put("ben", url, json={"principles": []}), 422)
    problem(world.put("ben", url, json={"principles": [{"key": "k", "text": "t\x00"}]}), 422)
    nan = {"principles": [{"key": "k", "text": "t", "rule": {"check": "x", "limit": float("nan")}}]}
    problem(world.client.put(url, content=json.dumps(nan), headers=world.as_("ben")), 422)
    problem(world.put("grace", url, json=principles_body()), 403)
    problem(world.put("olga", url, json=principles_body()), 403)
    assert governed(world.store) == before


def test_aspirations(world: World) -> None:
    url = f"{API}/aspirations"
    res = world.put("ben", url, json={**aspirations_body(), "on": "2025-06-01"})
    assert res.status_code == 200, res.text
    day = dt.date(2025, 6, 1)
    stored = world.store.aspirations(ECO)
    assert res.json() == {"ecosystem": ECO, "aspirations": [a.to_json(day) for a in stored]}

    listed = world.get("grace", url, params={"on": "2025-06-01"}).json()["items"]
    assert listed == [a.to_json(day) for a in stored]
    # By hand: quarterly since 1 January falls due on 2 April; monthly since 1 March on
    # 31 March; yearly since 15 January on 15 January 2026.
    due = {a["key"]: (a["next_review"], a["due"], a["overdue_days"]) for a in listed}
    assert due == {
        "across-galaxies": ("2025-04-02", True, 60),
        "shares-track-contributions": ("2025-03-31", True, 62),
        "open-books-day": ("2026-01-15", False, 0),
    }

    before = governed(world.store)
    bad = {"aspirations": [{"key": "k", "text": "t", "cadence": "fortnightly"}]}
    assert problem(world.put("ben", url, json=bad), 422)["problems"][0]["column"] == "cadence"
    late = {"aspirations": [{"key": "k", "text": "t", "cadence": 7, "since": "2025-02-01",
                             "last_reviewed": "2025-01-01"}]}  # fmt: skip
    problem(world.put("ben", url, json=late), 422)
    problem(world.put("grace", url, json=aspirations_body()), 403)
    problem(world.put("olga", url, json=aspirations_body()), 403)
    assert governed(world.store) == before


def test_review_pack_and_recording(world: World) -> None:
    world.store.set_principles(ECO, PRINCIPLES, "ben")
    world.store.set_aspirations(ECO, ASPIRATIONS, "ben", dt.date(2025, 1, 1))
    res = world.get("ben", f"{API}/review", params={"on": "2025-06-01"})
    assert res.status_code == 200, res.text
    pack = world.store.review(ECO, dt.date(2025, 6, 1))
    assert same(res.json()) == same(plain(pack.to_json()))
    assert res.json()["review"] == 1 and res.json()["previous"] is None
    assert {a["key"] for a in res.json()["aspirations_due"]} == {
        "across-galaxies", "shares-track-contributions"
    }  # fmt: skip
    # Shared access: everyone with a role reads the pack.
    for who in ("grace", "olga"):
        assert world.get(who, f"{API}/review", params={"on": "2025-06-01"}).status_code == 200

    before = governed(world.store)
    problem(world.post("grace", f"{API}/reviews", json={"on": "2025-06-01"}), 403)
    problem(world.post("olga", f"{API}/reviews", json={"on": "2025-06-01"}), 403)
    assert governed(world.store) == before

    res = world.post("ben", f"{API}/reviews", json={"on": "2025-06-01"})
    assert res.status_code == 201, res.text
    assert res.json()["review"] == 1
    held = world.store.reviews(ECO)
    assert [(r.number, r.held_on, r.held_by) for r in held] == [(1, dt.date(2025, 6, 1), "ben")]
    reviewed = {a.key: a.last_reviewed for a in world.store.aspirations(ECO)}
    assert reviewed == {
        "across-galaxies": dt.date(2025, 6, 1),
        "shares-track-contributions": dt.date(2025, 6, 1),
        "open-books-day": None,
    }
    listed = world.get("grace", f"{API}/reviews").json()["items"]
    assert same(listed) == same(
        plain(
            [
                {
                    "number": r.number,
                    "held_on": r.held_on.isoformat(),
                    "held_by": r.held_by,
                    "figures": dict(r.figures),
                    "recorded_at": None if r.recorded_at is None else r.recorded_at.isoformat(),
                    "marks": dict(r.marks),
                }
                for r in held
            ]
        )
    )
    nxt = world.get("ben", f"{API}/review", params={"on": "2025-07-01"}).json()
    assert nxt["review"] == 2 and nxt["previous"]["review"] == 1

    before = governed(world.store)
    problem(world.post("ben", f"{API}/reviews", json={"on": "2025-05-01"}), 422)  # before the last
    assert governed(world.store) == before

    world.store.set_access(ECO, "controlled-access", "ben")
    for who in ("grace", "liam", "olga"):
        problem(world.get(who, f"{API}/review"), 403)
        problem(world.get(who, f"{API}/reviews"), 403)
        assert world.get(who, f"{API}/principles").status_code == 200
        assert world.get(who, f"{API}/aspirations").status_code == 200
    assert world.get("ben", f"{API}/reviews").json()["total"] == 1


def test_roles_on_every_route(world: World) -> None:
    principles = principles_body()
    aspirations = aspirations_body()
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"{API}/principles", None),
        ("PUT", f"{API}/principles", principles),
        ("GET", f"{API}/principles/check", None),
        ("GET", f"{API}/principles/checks", None),
        ("GET", f"{API}/aspirations", None),
        ("PUT", f"{API}/aspirations", aspirations),
        ("GET", f"{API}/review", None),
        ("POST", f"{API}/reviews", {}),
        ("GET", f"{API}/reviews", None),
    ]
    before = governed(world.store)
    for method, path, body in routes:
        res = world.client.request(method, path, json=body, headers=world.as_("otto"))
        assert problem(res, 404)["type"].endswith("/unknown-ecosystem"), path
        if method == "GET":
            assert world.get("olga", path).status_code == 200, path
            continue
        for who in ("olga", "grace", "liam"):
            res = world.client.request(method, path, json=body, headers=world.as_(who))
            assert problem(res, 403)["type"].endswith("/forbidden"), (who, path)
    assert governed(world.store) == before
