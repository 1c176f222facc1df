"""The swarm builder, the engagement board, the ledger and governance, in a browser.

Each test walks one flow as a person would, and checks what the page shows
against what the store holds afterwards (or still holds, after a refusal).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

import glia
from glia.engage import Agreement, Promise
from glia.govern import read_principles

from .conftest import Live, shot, sign_in

pytest.importorskip("playwright")

from playwright.sync_api import Page, expect

ECO = "Northbridge"
E = f"/e/{ECO}"
COOP = "coop-traceability"
VERDANT = "verdant-scale-up"
EXAMPLES = Path(glia.__file__).parent / "examples"
PRINCIPLES = EXAMPLES / "principles.yaml"
ASPIRATIONS = EXAMPLES / "aspirations.yaml"


def _switch(page: Page, username: str) -> None:
    """Sign out of the browser and in again as ``username``."""
    page.context.clear_cookies()
    sign_in(page, username)


def _csrf(page: Page) -> str:
    """The session's CSRF token, as the page hands it to HTMX."""
    headers = page.locator("body").get_attribute("hx-headers")
    assert headers
    token: str = json.loads(headers)["X-CSRF-Token"]
    return token


def test_swarm_pick_board_and_opportunity(page: Page, live: Live) -> None:
    store = live.world.store
    sign_in(page, "ben")

    # The swarm builder: form teams for an opportunity, pick the first.
    page.goto(f"{E}/swarm")
    page.get_by_label("Opportunity").select_option(VERDANT)
    page.get_by_role("button", name="Form teams").click()
    first = page.locator("#team-1")
    expect(first).to_be_visible()
    expect(page.locator("#teams")).to_contain_text(f"Swarm for {VERDANT}")
    shown = first.locator("tbody tr[data-member]")
    members = [str(shown.nth(i).get_attribute("data-member")) for i in range(shown.count())]
    assert members and all(members)
    shot(page, "swarm")
    first.get_by_role("button", name="Pick this team").click()
    expect(page.locator("#picked-1")).to_contain_text(f"Team picked for {VERDANT}")
    picked = store.opportunity(ECO, VERDANT).team
    assert set(picked) == set(members)
    assert store.teams(ECO)[VERDANT] == frozenset(members) | {"verdant-farms"}
    picked_shown = page.locator("#picked-1 [data-picked]")
    names = [
        str(picked_shown.nth(i).get_attribute("data-picked")) for i in range(picked_shown.count())
    ]
    assert sorted(names) == sorted(picked)

    # The board: the opportunity in its stage's column, with its client and team.
    page.goto(f"{E}/board")
    card = page.locator(f"#stage-swarming ~ [data-opportunity='{VERDANT}']")
    expect(card).to_contain_text("verdant-farms")
    for who in members:
        expect(card).to_contain_text(who)
    assert page.locator("[data-opportunity]").count() == len(store.opportunities(ECO))
    shot(page, "board")

    # An opportunity with an agreement waiting for consents: advancing is refused.
    due = dt.date.today() + dt.timedelta(days=30)
    store.draft_agreement(
        ECO,
        COOP,
        Agreement(
            client="eastvale-coop",
            swarm=("hugo", "grace", "priya"),
            intent="Batch traceability for every member farm.",
            promises=(
                Promise(
                    debtor="grace",
                    creditor="eastvale-coop",
                    antecedent="the coop shares its batch records",
                    consequent="data platform live",
                    due=due,
                ),
            ),
        ),
        "ben",
    )
    page.goto(f"{E}/opportunities/{COOP}")
    opportunity = page.locator("#opportunity")
    expect(opportunity).to_contain_text("Version 1 of 1")
    page.get_by_role("button", name="Advance to agreed").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "still waiting for hugo, grace, priya, eastvale-coop"
    )
    assert store.opportunity(ECO, COOP).stage == "swarming"

    # The orchestrator records three parties' consent; grace gives her own.
    for party in ("hugo", "priya", "eastvale-coop"):
        page.get_by_role("button", name=f"Record consent of {party}").click()
        expect(page.get_by_role("status")).to_contain_text(f"{party} consented to version 1")
    assert set(store.agreements(ECO, COOP)[-1].consents) == {"hugo", "priya", "eastvale-coop"}
    _switch(page, "grace")
    page.goto(f"{E}/board")
    waiting = page.locator("section[aria-labelledby='waiting-title']")
    expect(waiting).to_contain_text("Cooperative traceability platform")
    waiting.get_by_role("link").first.click()
    assert page.get_by_role("button", name="Advance to agreed").count() == 0  # a member
    page.get_by_role("button", name="Consent", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        "grace consented to version 1; waiting for nobody"
    )
    assert store.agreements(ECO, COOP)[-1].waiting_for == []

    # Agreed: the promise is a commitment, which grace, its debtor, detaches.
    _switch(page, "ben")
    page.goto(f"{E}/opportunities/{COOP}")
    page.get_by_role("button", name="Advance to agreed").click()
    expect(page.get_by_role("status")).to_contain_text(f"{COOP} is agreed now")
    assert store.opportunity(ECO, COOP).stage == "agreed"
    (commitment,) = store.commitments(ECO, opportunity=COOP)
    assert (commitment.debtor, commitment.state) == ("grace", "conditional")
    _switch(page, "grace")
    page.goto(f"{E}/opportunities/{COOP}")
    number = commitment.number
    page.get_by_role("button", name=f"Detach C{number}").click()
    expect(page.get_by_role("status")).to_contain_text(f"C{number} is detached now")
    assert store.commitments(ECO, opportunity=COOP)[0].state == "detached"
    expect(opportunity).to_contain_text(due.isoformat())
    shot(page, "opportunity")
    page.goto(f"{E}/board")
    due_list = page.locator("section[aria-labelledby='due-title']")
    expect(due_list).to_contain_text(f"C{number}: grace owes eastvale-coop data platform live")


def test_ledger_statement_and_observer(page: Page, live: Live) -> None:
    store = live.world.store
    sign_in(page, "grace")
    page.goto(f"{E}/ledger")
    expect(page.get_by_text("Chain intact: 0 events")).to_be_visible()
    assert page.get_by_label("Participant").count() == 0  # a member records as themself
    page.get_by_label("Opportunity").select_option(COOP)
    page.get_by_label("Kind").select_option("work")
    page.get_by_label("Hours").fill("6")
    page.get_by_label("Description").fill("Mapped the coop's batch data")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded event 1 (work by grace)")

    (event,) = store.events(ECO)
    assert (event.seq, event.action, event.agent, event.recorded_by) == (
        1,
        "work",
        "grace",
        "grace",
    )
    assert (event.opportunity, event.quantity, event.unit) == (COOP, Decimal(6), "hour")
    assert event.note == "Mapped the coop's batch data" and event.value is None
    assert store.verify_ledger(ECO) is None
    expect(page.get_by_text("Chain intact: 1 event")).to_be_visible()
    row = page.locator("#ledger tr[data-seq='1']")
    expect(row).to_contain_text("6 hour")
    expect(row).to_contain_text(COOP)

    # A bad amount is refused with the reason; nothing is written.
    page.get_by_label("Hours").fill("six")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("alert")).to_contain_text("Hours 'six': expected a decimal number")
    assert len(store.events(ECO)) == 1
    shot(page, "ledger")

    # Her statement shows the contribution, the same hours.
    page.get_by_role("link", name="grace", exact=True).click()
    expect(page.get_by_role("heading", name="Statement of grace")).to_be_visible()
    statement = store.statement(ECO, "grace")
    assert [e.seq for e in statement.contributions] == [1]
    line = page.locator("tr[data-seq='1']")
    expect(line).to_contain_text("6 hour")
    expect(line).to_contain_text("Mapped the coop's batch data")
    expect(page.locator("#balance")).to_contain_text(str(statement.balance))
    shot(page, "statement")

    # An observer sees the ledger without the form, and a forged post is refused.
    _switch(page, "olga")
    page.goto(f"{E}/ledger")
    expect(page.locator("#ledger tr[data-seq='1']")).to_be_visible()
    assert page.get_by_role("button", name="Record").count() == 0
    assert page.get_by_label("Hours").count() == 0
    before = store.check_ledger(ECO)
    answer = page.request.post(
        f"{E}/ledger",
        form={"opportunity": COOP, "kind": "work", "hours": "6"},
        headers={"X-CSRF-Token": _csrf(page), "HX-Request": "true"},
    )
    assert answer.status == 403
    assert "may not write" in answer.text()
    assert store.check_ledger(ECO) == before
    assert len(store.events(ECO)) == 1


def test_governance_and_review(page: Page, live: Live) -> None:
    store = live.world.store
    store.set_aspirations(ECO, ASPIRATIONS, "ben")
    today = dt.date.today()
    due = sorted(a.key for a in store.aspirations(ECO) if a.due(today))
    assert due  # the example's aspirations date from 2025
    sign_in(page, "ben")
    page.goto(f"{E}/governance")
    expect(page.get_by_text("No principles set yet.")).to_be_visible()
    for a in store.aspirations(ECO):
        row = page.locator(f"tr[data-aspiration='{a.key}']")
        expect(row).to_contain_text(a.cadence)
        expect(row).to_contain_text(a.next_review.isoformat())
        if a.key in due:
            expect(row.locator(".badge")).to_contain_text("due")
    page.get_by_label("Principles (YAML)").fill(PRINCIPLES.read_text(encoding="utf-8"))
    page.get_by_role("button", name="Save principles").click()
    expect(page.get_by_role("status")).to_contain_text("Saved 5 principles: 4 checked")
    expected = read_principles(PRINCIPLES)
    assert store.principles(ECO) == expected
    results = {r.principle.key: r.status for r in store.check_principles(ECO)}
    for key, status in results.items():
        expect(page.locator(f"tr[data-principle='{key}']")).to_contain_text(status)

    # A malformed entry: every problem shown, nothing changed.
    page.get_by_label("Principles (YAML)").fill(
        "principles:\n"
        "  - key: fair-load\n"
        "    text: No one carries more than 40% of a swarm's work.\n"
        "    rule: {check: max-work-share, limit: 1.5}\n"
        "  - key: nameless\n"
    )
    page.get_by_role("button", name="Save principles").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("2 problems found; nothing was saved.")
    expect(alert).to_contain_text("item 1, line 2, rule.limit: got 1.5")
    expect(alert).to_contain_text("item 2, line 5, text: expected the text, in words")
    assert store.principles(ECO) == expected
    assert "limit: 1.5" in page.get_by_label("Principles (YAML)").input_value()
    shot(page, "governance")

    # The review pack, then held.
    page.get_by_role("link", name="Open the review pack").click()
    expect(page.get_by_role("heading", name=f"Review 1 of {ECO}")).to_be_visible()
    pack = store.review(ECO)
    review = page.locator("#review")
    expect(review).to_contain_text("The first review")
    expect(review).to_contain_text(f"{len(pack.violated)} of {len(pack.principles)} violated")
    assert sorted(a.key for a in pack.due) == due
    for key in due:
        expect(review.locator("section[aria-labelledby='due-title']")).to_contain_text(key)
    shot(page, "review")
    page.get_by_role("button", name="Record this review").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded review 1")
    (held,) = store.reviews(ECO)
    assert held.held_by == "ben"
    assert all(a.last_reviewed == today for a in store.aspirations(ECO) if a.key in due)
    expect(page.get_by_role("heading", name=f"Review 2 of {ECO}")).to_be_visible()

    # An observer reads the principles but has no editor, and cannot save.
    _switch(page, "olga")
    page.goto(f"{E}/governance")
    expect(page.locator("tr[data-principle='shared-load']")).to_be_visible()
    assert page.get_by_label("Principles (YAML)").count() == 0
    answer = page.request.post(
        f"{E}/principles",
        form={"principles": "principles:\n  - key: x\n    text: y\n"},
        headers={"X-CSRF-Token": _csrf(page), "HX-Request": "true"},
    )
    assert answer.status == 403
    assert store.principles(ECO) == expected
