"""The checks of principles on views written by hand: each rule broken once and kept once,
with the numbers of its message worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from glia.govern import (
    CHECKS,
    CommitmentView,
    GovernView,
    LedgerView,
    OpportunityView,
    Principle,
    Work,
    check_principles,
    rule_problems,
)

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def run(rule: dict[str, Any], view: GovernView) -> tuple[str, list[str], int]:
    (result,) = check_principles([Principle("p", "a principle", rule)], view)
    assert all(v.principle == "p" for v in result.violations)
    return result.status, [v.message for v in result.violations], result.checked


def work(*rows: tuple[str, str | None, float, float]) -> tuple[Work, ...]:
    return tuple(
        Work(i, agent, opp, hours, at(day)) for i, (agent, opp, hours, day) in enumerate(rows, 1)
    )


# -- max-work-share -----------------------------------------------------------------------
def test_max_work_share_finds_who_carries_too_much() -> None:
    # o1: ana 50 + 10, ben 25, cat 15 = 100 hours: ana 60% > 40%; o2: 10/10/10, all 33.3%
    view = GovernView(
        "T",
        work=work(
            ("ana", "o1", 50, 0), ("ana", "o1", 10, 1), ("ben", "o1", 25, 1), ("cat", "o1", 15, 2),
            ("ana", "o2", 10, 0), ("ben", "o2", 10, 0), ("cat", "o2", 10, 0),
            ("ana", None, 500, 0),  # no opportunity: no swarm's work
        ),
    )  # fmt: skip
    status, messages, checked = run({"check": "max-work-share", "limit": 0.4}, view)
    assert status == "violated" and checked == 2
    assert messages == [
        "ana carries 60% of the work of o1 (60 of 100 hours of work recorded); the limit is 40%"
    ]
    # exactly at the limit is within it
    status, messages, _ = run({"check": "max-work-share", "limit": 0.6}, view)
    assert status == "kept" and messages == []


def test_max_work_share_falls_back_on_commitments_without_recorded_work() -> None:
    # o3 has no work recorded: weekly hours of carried commitments, 6 + 2 (ana), 4 (ben);
    # cancelled and violated ones do not count. o1 has work recorded: commitments ignored.
    view = GovernView(
        "T",
        work=work(("ben", "o1", 10, 0), ("cat", "o1", 10, 0)),
        commitments=(
            CommitmentView(1, "ana", "client", "o3", "detached", 6),
            CommitmentView(2, "ana", "client", "o3", "discharged", 2),
            CommitmentView(3, "ben", "ana", "o3", "conditional", 4),
            CommitmentView(4, "ben", "ana", "o3", "cancelled", 40),
            CommitmentView(5, "cat", "ana", "o3", "violated", 40),
            CommitmentView(6, "ana", "client", "o1", "detached", 40),
        ),
    )
    status, messages, checked = run({"check": "max-work-share", "limit": "50%"}, view)
    assert status == "violated" and checked == 2
    assert messages == [
        "ana carries 66.7% of the work of o3 (8 of 12 hours a week committed); the limit is 50%"
    ]


def test_max_work_share_with_nothing_recorded_has_nothing_to_check() -> None:
    status, messages, checked = run({"check": "max-work-share", "limit": 0.4}, GovernView("T"))
    assert (status, messages, checked) == ("nothing to check", [], 0)


# -- outside-client-cluster -------------------------------------------------------------
CLUSTERS = {
    "coop": ("eastvale", "food"),
    "ana": ("eastvale", "data"),
    "ben": ("food", "northbridge"),
    "cat": ("northbridge",),
}
KINDS = {"eastvale": "regional", "northbridge": "regional", "food": "business", "data": "knowledge"}


def test_outside_client_cluster_needs_one_member_from_elsewhere() -> None:
    view = GovernView(
        "T",
        opportunities=(
            OpportunityView("inside", "coop", "swarming", ("ana", "ben")),  # both share one
            OpportunityView("mixed", "coop", "agreed", ("ana", "cat")),  # cat shares none
            OpportunityView("lost", "coop", "lost", ("ana", "ben")),  # not checked
            OpportunityView("no-team", "coop", "lead"),  # not checked
        ),
        clusters=CLUSTERS,
        cluster_kinds=KINDS,
    )
    status, messages, checked = run({"check": "outside-client-cluster"}, view)
    assert status == "violated" and checked == 2
    assert messages == [
        "every one of the 2 members of the swarm for inside (ana, ben) shares a cluster with "
        "the client coop (eastvale, food)"
    ]
    # only regional clusters count: ben (northbridge) is from beyond the coop's region
    status, messages, _ = run({"check": "outside-client-cluster", "kinds": ["regional"]}, view)
    assert status == "kept" and messages == []


def test_outside_client_cluster_client_in_no_cluster_has_everyone_outside() -> None:
    view = GovernView(
        "T",
        opportunities=(OpportunityView("o", "lonely", "swarming", ("ana",)),),
        clusters=CLUSTERS,
    )
    assert run({"check": "outside-client-cluster"}, view)[:2] == ("kept", [])


# -- consent-before-work ------------------------------------------------------------------
def test_consent_before_work() -> None:
    view = GovernView(
        "T",
        opportunities=(
            OpportunityView("early", "coop", "agreed", agreed_at=at(5)),
            OpportunityView("fine", "coop", "agreed", agreed_at=at(1)),
            OpportunityView("never", "coop", "swarming"),
        ),
        work=work(
            ("ana", "early", 5, 2), ("ben", "early", 5, 3), ("ana", "early", 5, 6),
            ("ana", "fine", 5, 1), ("ben", "fine", 5, 9),
            ("cat", "never", 3, 4),
            ("ana", None, 3, 0),
        ),
    )  # fmt: skip
    status, messages, checked = run({"check": "consent-before-work"}, view)
    assert status == "violated" and checked == 3
    assert messages == [
        "2 work events for early recorded before its agreement was complete "
        "(2025-03-06T09:00:00+00:00); the first: seq 1, ana, 2025-03-03T09:00:00+00:00",
        "1 work event for never recorded and no version of its agreement has every party's "
        "consent; the first: seq 6, cat, 2025-03-05T09:00:00+00:00",
    ]
    kept = GovernView("T", opportunities=view.opportunities[1:2], work=view.work[3:5])
    assert run({"check": "consent-before-work"}, kept)[:2] == ("kept", [])


# -- commitments-kept ---------------------------------------------------------------------
def _promises(*states: tuple[str, str]) -> tuple[CommitmentView, ...]:
    return tuple(CommitmentView(i, d, "x", None, s) for i, (d, s) in enumerate(states, 1))


def test_commitments_kept_counts_discharged_against_violated() -> None:
    # ana: 3 discharged, 1 violated (75%); ben: 1 discharged, 1 violated (50%);
    # cancelled, released, expired and active ones count in neither: network 4/6 = 66.7%
    view = GovernView(
        "T",
        commitments=_promises(
            ("ana", "discharged"), ("ana", "discharged"), ("ana", "discharged"), ("ana", "violated"),
            ("ben", "discharged"), ("ben", "violated"),
            ("ben", "cancelled"), ("ben", "released"), ("cat", "expired"), ("cat", "detached"),
        ),
    )  # fmt: skip
    status, messages, checked = run({"check": "commitments-kept", "min": 0.9}, view)
    assert (status, checked) == ("violated", 1)
    assert messages == [
        "the network kept 66.7% of its finished commitments (4 discharged, 2 violated); "
        "at least 90% is asked"
    ]
    status, messages, checked = run(
        {"check": "commitments-kept", "min": 0.7, "per": "participant"}, view
    )
    assert (status, checked) == ("violated", 2)
    assert messages == [
        "ben kept 50% of its finished commitments (1 discharged, 1 violated); at least 70% is asked"
    ]
    assert run({"check": "commitments-kept", "min": 0.5}, view)[0] == "kept"
    unfinished = GovernView("T", commitments=_promises(("ana", "detached")))
    assert run({"check": "commitments-kept", "min": 1}, unfinished)[0] == "nothing to check"


# -- ledger-intact ------------------------------------------------------------------------
def test_ledger_intact() -> None:
    assert run({"check": "ledger-intact"}, GovernView("T"))[:2] == ("kept", [])
    broken = GovernView(
        "T", ledger=LedgerView(events=3, intact=False, broken="event 2 was altered")
    )
    status, messages, _ = run({"check": "ledger-intact"}, broken)
    assert status == "violated"
    assert messages == ["the ledger's chain is broken: event 2 was altered"]


# -- principles ---------------------------------------------------------------------------
def test_principles_in_words_are_not_checked_and_order_is_kept() -> None:
    results = check_principles(
        [
            Principle("honour", "Every contribution is honoured."),
            Principle("books", "The chain verifies.", {"check": "ledger-intact"}),
        ],
        GovernView("T"),
    )
    assert [(r.principle.key, r.status) for r in results] == [
        ("honour", "not checked"),
        ("books", "kept"),
    ]
    assert results[0].to_json()["rule"] is None


@pytest.mark.parametrize(
    ("rule", "field", "expected"),
    [
        ({"check": "max-work-share"}, "rule.limit", "a share between 0 and 1"),
        ({"check": "max-work-share", "limit": 1.5}, "rule.limit", "a share between 0 and 1"),
        ({"check": "max-work-share", "limit": True}, "rule.limit", "a share between 0 and 1"),
        ({"check": "max-work-share", "limit": "lots"}, "rule.limit", "a share between 0 and 1"),
        ({"check": "max-work-share", "limit": 0.4, "cap": 1}, "rule.cap", "a parameter of"),
        ({"check": "commitments-kept", "min": 0.9, "per": "team"}, "rule.per", "network or"),
        ({"check": "outside-client-cluster", "kinds": []}, "rule.kinds", "a list of cluster"),
        ({"check": "no-such-check"}, "rule.check", "one of the checks: max-work-share"),
        ({"limit": 0.4}, "rule.check", "the name of a check"),
        ("max-work-share", "rule", "a mapping"),
    ],
)
def test_bad_rules_are_named(rule: Any, field: str, expected: str) -> None:
    problems = rule_problems(rule)
    assert len(problems) == 1
    assert problems[0][0] == field and expected in problems[0][2]
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        Principle("p", "text", rule)


def test_every_check_states_its_rule() -> None:
    assert set(CHECKS) >= {
        "max-work-share",
        "outside-client-cluster",
        "consent-before-work",
        "commitments-kept",
        "ledger-intact",
    }
    for check in CHECKS.values():
        assert check.rule and "``" not in check.rule, check.name
