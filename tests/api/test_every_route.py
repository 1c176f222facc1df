"""Properties over every route of the API, read from the application itself, so a
route added later is covered without being named here:

- a caller without credentials gets 401, except for signing in;
- a user of another ecosystem is refused (404, as for an ecosystem that does not
  exist) on every route under ``/ecosystems/{ecosystem}``, and learns nothing;
- an observer cannot write anywhere (403), and nothing is written;
- every refusal is a problem detail (RFC 9457).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from glia.store._tables import metadata

from .conftest import ECO, OTHER, World

PUBLIC = {("POST", "/api/v1/auth/session"), ("GET", "/api/v1/health")}
SAFE = {"GET", "HEAD", "OPTIONS"}


def _routes(world: World) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI description: the API's public contract."""
    paths = world.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    found = [(m.upper(), p) for p, item in paths.items() for m in item if p.startswith("/api/v1")]
    assert len(found) > 10
    return found


def _fill(path: str, ecosystem: str) -> str:
    path = path.replace("{ecosystem}", ecosystem)
    return re.sub(r"\{[^}]+\}", lambda m: "1" if "number" in m.group() or "seq" in m.group()
                  else "coop-traceability", path)  # fmt: skip


def _counts(world: World) -> dict[str, int]:
    with world.store.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def _is_problem(response: object) -> bool:
    return response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


def test_every_route_needs_credentials(world: World) -> None:
    for method, path in _routes(world):
        if (method, path) in PUBLIC:
            continue
        res = world.client.request(method, _fill(path, ECO), json={})
        assert res.status_code == 401, (method, path, res.status_code)
        assert _is_problem(res)


def test_every_route_refuses_another_ecosystems_user(world: World) -> None:
    before = _counts(world)
    ecosystem_routes = [(m, p) for m, p in _routes(world) if "{ecosystem}" in p]
    assert ecosystem_routes
    for method, path in ecosystem_routes:
        res = world.client.request(method, _fill(path, ECO), headers=world.as_("otto"), json={})
        assert res.status_code == 404, (method, path, res.status_code, res.text)
        assert _is_problem(res) and OTHER not in res.text
    assert _counts(world) == before


def test_an_observer_cannot_write(world: World) -> None:
    before = _counts(world)
    writes = [(m, p) for m, p in _routes(world) if "{ecosystem}" in p and m not in SAFE]
    assert writes
    for method, path in writes:
        res = world.client.request(method, _fill(path, ECO), headers=world.as_("olga"), json={})
        assert res.status_code == 403, (method, path, res.status_code, res.text)
        assert _is_problem(res)
    assert _counts(world) == before


def test_an_observer_reads_the_common_picture(world: World) -> None:
    assert world.get("olga", f"/api/v1/ecosystems/{ECO}").status_code == 200
