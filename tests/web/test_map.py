"""The workspace in Chromium: sign in, the dashboard, the map (WebGL), a participant,
the analysis; a wrong password; a visitor sent to the sign-in page."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import Live, shot, sign_in

ECO = "Northbridge"


def _map_json(live: Live) -> dict[str, Any]:
    """The map as the API gives it to ben (bearer token: the same data the page fetches)."""
    token = live.world.tokens["ben"]
    res = httpx.get(
        f"{live.url}/api/v1/ecosystems/{ECO}/map",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    res.raise_for_status()
    body: dict[str, Any] = res.json()
    return body


def test_dashboard_map_participant_analysis(page: Any, live: Live) -> None:
    sign_in(page, "ben")
    # ben holds a role in one ecosystem: / takes him to its dashboard
    page.wait_for_url(f"**/e/{ECO}")
    assert page.get_by_role("heading", name=ECO, level=1).is_visible()
    assert page.get_by_role("heading", name="What needs attention").is_visible()
    assert page.get_by_text("Agreements waiting for consent").is_visible()
    assert page.get_by_role("heading", name="Health").is_visible()
    shot(page, "dashboard")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Map").click()
    page.wait_for_url(f"**/e/{ECO}/map")
    page.wait_for_function("window.gliaMap && window.gliaMap.ready === true", timeout=60_000)
    state = page.evaluate("window.gliaMap")
    data = _map_json(live)
    assert state["nodes"] == len(data["nodes"]) == 40
    assert state["edges"] == len(data["edges"])
    assert state["visibleEdges"] == len(data["edges"])
    assert state["firstFrameMs"] > 0
    # the canvas is WebGL and was drawn on
    assert page.locator("#map-canvas canvas").count() >= 2
    shot(page, "map")

    informal = sum(1 for e in data["edges"] if e["layer"] == "informal")
    assert informal > 0
    page.get_by_label("Informal").uncheck()
    assert page.evaluate("window.gliaMap.visibleEdges") == len(data["edges"]) - informal
    exchange = sum(1 for e in data["edges"] if e["layer"] == "exchange")
    page.get_by_label("Exchange").uncheck()
    assert page.evaluate("window.gliaMap.visibleEdges") == len(data["edges"]) - informal - exchange
    page.get_by_label("Informal").check()
    page.get_by_label("Exchange").check()
    assert page.evaluate("window.gliaMap.visibleEdges") == len(data["edges"])

    # size by another measure: nodes resize, nothing else changes
    page.get_by_label("Size by").select_option("betweenness")
    assert page.evaluate("window.gliaMap.nodes") == 40

    page.get_by_label("Search").fill("Grace")
    page.get_by_label("Search").press("Enter")
    found = page.get_by_role("link", name="Grace Lindqvist")
    found.wait_for()
    shot(page, "map-search")
    found.click()
    page.wait_for_url(f"**/e/{ECO}/participants/grace")
    assert page.get_by_role("heading", name="Grace Lindqvist", level=1).is_visible()
    assert page.get_by_role("heading", name="Capabilities").is_visible()
    assert page.get_by_role("heading", name="Ties", exact=True).is_visible()
    shot(page, "participant")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Analysis").click()
    page.wait_for_url(f"**/e/{ECO}/analysis")
    assert page.get_by_role("heading", name="The ecosystem at a glance").is_visible()
    assert page.locator("section.report svg").count() >= 3
    shot(page, "analysis")


def test_wrong_password_shows_the_message(page: Any, live: Live) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("ben")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_response("**/login") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    assert page.get_by_role("alert").inner_text() == "Unknown username or wrong password."
    assert "/login" in page.url


def test_visitor_lands_on_login_and_comes_back(page: Any, live: Live) -> None:
    page.goto(f"/e/{ECO}/map")
    page.wait_for_url(lambda url: url.endswith(f"/login?next=/e/{ECO}/map"))
    assert page.get_by_role("button", name="Sign in").is_visible()
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/e/{ECO}/map")
    page.wait_for_function("window.gliaMap && window.gliaMap.ready === true", timeout=60_000)


def test_outsider_sees_a_readable_404(page: Any, live: Live) -> None:
    sign_in(page, "otto")
    response = page.goto(f"/e/{ECO}/map")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Unknown ecosystem").is_visible()
    assert "Elsewhere" not in page.inner_text("main")


# -- the same pages over HTTP, without a browser: who sees what --------------------------
def _signed_in(live: Live, username: str) -> Any:
    from fastapi.testclient import TestClient

    client = TestClient(live.world.client.app)
    res = client.post(
        "/login",
        data={"username": username, "password": "correct-horse-battery", "next": "/"},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text
    return client


def test_every_role_reads_the_pages_and_outsiders_get_404(live: Live) -> None:
    pages = ["", "/map", "/analysis", "/participants/grace"]
    for who in ("ben", "grace", "liam", "olga"):
        client = _signed_in(live, who)
        for page in pages:
            res = client.get(f"/e/{ECO}{page}")
            assert res.status_code == 200, (who, page)
            assert res.headers["content-type"].startswith("text/html")
    otto = _signed_in(live, "otto")
    assert otto.get("/", follow_redirects=False).headers["location"] == "/e/Elsewhere"
    assert otto.get("/e/Elsewhere").status_code == 200
    assert otto.get("/e/Elsewhere/analysis").status_code == 200
    for page in pages:
        res = otto.get(f"/e/{ECO}{page}")
        assert res.status_code == 404 and "text/html" in res.headers["content-type"]
        assert "Elsewhere" not in res.text.split("<main", 1)[1]
    unknown = _signed_in(live, "ben").get(f"/e/{ECO}/participants/nobody")
    assert unknown.status_code == 404 and "Unknown participant" in unknown.text


def test_dashboard_attention_shows_only_what_the_viewer_may_read(live: Live) -> None:
    import datetime as dt

    from glia.engage import Agreement

    store = live.world.store
    store.set_access(ECO, "controlled-access", "ben")
    store.draft_agreement(
        ECO,
        "coop-traceability",
        Agreement(client="eastvale-coop", swarm=("hugo", "grace", "priya"), orchestrator="ben"),
        "ben",
    )
    store.consent_agreement(ECO, "coop-traceability", "hugo", "ben")
    due = dt.date.today() + dt.timedelta(days=3)
    store.create_commitment(
        ECO,
        "liam",
        "harbour-foods",
        "the cold-chain audit",
        by="liam",
        due=due,
        opportunity="harbour-cold-chain",
    )
    pages = {who: _signed_in(live, who).get(f"/e/{ECO}").text for who in ("ben", "grace", "liam")}
    # the coop agreement waits for grace, priya, the client and ben (hugo consented)
    for who in ("ben", "grace"):
        assert "waiting for grace, priya, eastvale-coop, ben" in pages[who], who
    assert "your consent" in pages["grace"]
    assert "eastvale-coop" not in pages["liam"]
    # liam's commitment: his and the orchestrator's to see, not grace's
    for who in ("ben", "liam"):
        assert "the cold-chain audit" in pages[who], who
        assert due.isoformat() in pages[who]
    assert "the cold-chain audit" not in pages["grace"]
    # the whole ledger's status: the orchestrator's only, in controlled access
    assert "the hash chain holds" in pages["ben"]
    assert "the hash chain holds" not in pages["grace"]


def test_login_goes_back_only_to_a_local_page(live: Live) -> None:
    from fastapi.testclient import TestClient

    for target, expected in [
        (f"/e/{ECO}/map", f"/e/{ECO}/map"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
    ]:
        client = TestClient(live.world.client.app)
        res = client.post(
            "/login",
            data={"username": "ben", "password": "correct-horse-battery", "next": target},
            follow_redirects=False,
        )
        assert res.headers["location"] == expected, target
    client = _signed_in(live, "ben")
    csrf = client.get(f"/e/{ECO}").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    refused = client.post("/logout", data={"csrf": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get(f"/e/{ECO}", follow_redirects=False).status_code == 303
