"""Signing in, tokens, sessions and CSRF, on SQLite and PostgreSQL."""

from __future__ import annotations

from glia.api import CSRF_HEADER, SESSION_COOKIE

from .conftest import ECO, OTHER, PASSWORD, World


def test_me_lists_roles(world: World) -> None:
    body = world.get("grace", "/api/v1/me").json()
    assert body["username"] == "grace"
    assert body["roles"] == [{"ecosystem": ECO, "role": "member", "participant": "grace"}]


def test_no_credentials_is_401_problem(world: World) -> None:
    res = world.client.get("/api/v1/me")
    assert res.status_code == 401
    assert res.headers["content-type"] == "application/problem+json"
    assert res.headers["www-authenticate"] == "Bearer"
    assert res.json()["status"] == 401


def test_unknown_token_is_refused(world: World) -> None:
    res = world.client.get("/api/v1/me", headers={"Authorization": "Bearer glia_nope"})
    assert res.status_code == 401


def test_password_session_and_csrf(world: World) -> None:
    client = world.client
    bad = client.post("/api/v1/auth/session", json={"username": "ben", "password": "wrong-one"})
    assert bad.status_code == 401
    ok = client.post("/api/v1/auth/session", json={"username": "ben", "password": PASSWORD})
    assert ok.status_code == 200
    csrf = ok.json()["csrf"]
    assert client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/v1/me").json()["username"] == "ben"
    # A write from the browser without the CSRF token is refused, with it accepted.
    body = {"mode": "controlled-access"}
    assert client.put(f"/api/v1/ecosystems/{ECO}/access", json=body).status_code == 403
    res = client.put(f"/api/v1/ecosystems/{ECO}/access", json=body, headers={CSRF_HEADER: csrf})
    assert res.status_code == 200 and res.json()["mode"] == "controlled-access"
    assert client.delete("/api/v1/auth/session", headers={CSRF_HEADER: csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/me").status_code == 401


def test_the_stored_token_is_a_hash(world: World) -> None:
    from sqlalchemy import select

    from glia.store._tables import account_token

    with world.store.engine.connect() as conn:
        kept = set(conn.execute(select(account_token.c.secret_hash)).scalars())
    assert world.tokens["ben"] not in kept and len(next(iter(kept))) == 64


def test_new_token_works_and_lists_only_own_ecosystems(world: World) -> None:
    res = world.post("otto", "/api/v1/tokens", json={"name": "script"})
    assert res.status_code == 201
    token = res.json()["token"]
    listed = world.client.get("/api/v1/ecosystems", headers={"Authorization": f"Bearer {token}"})
    assert [e["name"] for e in listed.json()["items"]] == [OTHER]


def test_other_ecosystem_is_404_without_names_of_others(world: World) -> None:
    res = world.get("otto", f"/api/v1/ecosystems/{ECO}")
    assert res.status_code == 404
    assert ECO in res.json()["detail"] and OTHER not in res.json()["detail"]


def test_observer_cannot_write_access_or_members(world: World) -> None:
    assert (
        world.put(
            "olga", f"/api/v1/ecosystems/{ECO}/access", json={"mode": "controlled-access"}
        ).status_code
        == 403
    )
    assert (
        world.put(
            "grace", f"/api/v1/ecosystems/{ECO}/members/olga", json={"role": "member"}
        ).status_code
        == 403
    )
    assert world.get("olga", f"/api/v1/ecosystems/{ECO}/access").json()["mode"] == "shared-access"
