"""Aspirations: cadences named or in days, next reviews and due dates worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from glia.govern import Aspiration, cadence_days, cadence_name

D = dt.date


@pytest.mark.parametrize(
    ("given", "days"),
    [("weekly", 7), ("monthly", 30), ("Quarterly", 91), ("yearly", 365), (14, 14), ("10", 10)],
)
def test_cadences(given: Any, days: int) -> None:
    assert cadence_days(given) == days


@pytest.mark.parametrize("bad", ["fortnightly", 0, -7, 3651, 1.5, True, None, "7 days"])
def test_bad_cadences(bad: Any) -> None:
    with pytest.raises(ValueError):
        cadence_days(bad)


def test_cadence_names() -> None:
    assert [cadence_name(d) for d in (7, 30, 91, 365, 1, 10)] == [
        "weekly",
        "monthly",
        "quarterly",
        "yearly",
        "every 1 day",
        "every 10 days",
    ]


def test_due_one_cadence_after_since_then_after_each_review() -> None:
    a = Aspiration("a", "text", 30, D(2025, 1, 1))
    assert a.next_review == D(2025, 1, 31)
    assert not a.due(D(2025, 1, 30)) and a.due(D(2025, 1, 31)) and a.due(D(2025, 6, 1))
    assert a.overdue_days(D(2025, 2, 10)) == 10
    reviewed = Aspiration("a", "text", 30, D(2025, 1, 1), last_reviewed=D(2025, 2, 10))
    assert reviewed.next_review == D(2025, 3, 12)  # a late review moves the next one along
    assert not reviewed.due(D(2025, 3, 11))
    assert reviewed.to_json(D(2025, 3, 20)) == {
        "key": "a",
        "text": "text",
        "cadence": "monthly",
        "cadence_days": 30,
        "since": "2025-01-01",
        "last_reviewed": "2025-02-10",
        "next_review": "2025-03-12",
        "due": True,
        "overdue_days": 8,
    }
    leap = Aspiration("y", "text", 365, D(2024, 1, 1))
    assert leap.next_review == D(2024, 12, 31)  # days, not calendar years


def test_bad_aspirations_are_refused() -> None:
    with pytest.raises(ValueError, match="before it was adopted"):
        Aspiration("a", "text", 7, D(2025, 1, 1), last_reviewed=D(2024, 12, 1))
    with pytest.raises(ValueError, match="text, in words"):
        Aspiration("a", " ", 7, D(2025, 1, 1))
    with pytest.raises(ValueError):
        Aspiration("a", "text", 0, D(2025, 1, 1))
