"""Aspirations: shared goals the network reviews at a rhythm of its choosing.

An aspiration has a key, its text, a cadence in days, the day it was adopted
(``since``) and the day it was last reviewed. Its next review falls one
cadence after the last review, or after ``since`` before the first; it is
*due* from that day on. Cadences are whole days, so ``monthly`` is every 30
days, not the same date each month: the rhythm stays even, and a review held
late moves the next one along.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["CADENCES", "Aspiration", "cadence_days", "cadence_name"]

#: Named cadences, in days.
CADENCES = {"weekly": 7, "monthly": 30, "quarterly": 91, "yearly": 365}

#: Longest cadence accepted (ten years): beyond it, a goal is not reviewed at all.
MAX_CADENCE = 3650


def cadence_days(value: Any) -> int:
    """The cadence in days: ``weekly``, ``monthly``, ``quarterly``, ``yearly``, or a
    whole number of days (1 to 3650). Raises :class:`ValueError` otherwise.

    >>> cadence_days("quarterly"), cadence_days(14), cadence_days("10")
    (91, 14, 10)
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in CADENCES:
            return CADENCES[text]
        if not text.isdigit():
            raise ValueError(value)
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    if not 1 <= value <= MAX_CADENCE:
        raise ValueError(value)
    return value


def cadence_name(days: int) -> str:
    """``quarterly`` for 91, ``every 10 days`` for 10."""
    for name, n in CADENCES.items():
        if n == days:
            return name
    return f"every {days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class Aspiration:
    """A shared goal with its review cadence.

    >>> a = Aspiration("one-galaxy", "Work across regions.", 91, dt.date(2025, 1, 1))
    >>> a.next_review, a.due(dt.date(2025, 4, 1)), a.due(dt.date(2025, 4, 2))
    (datetime.date(2025, 4, 2), False, True)
    """

    key: str
    text: str
    cadence_days: int
    since: dt.date
    last_reviewed: dt.date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip() or len(self.key) > 200:
            raise ValueError(f"an aspiration's key must be 1-200 characters, not {self.key!r}")
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"aspiration {self.key}: its text, in words, is required")
        cadence_days(self.cadence_days)
        if self.last_reviewed is not None and self.last_reviewed < self.since:
            raise ValueError(
                f"aspiration {self.key}: last reviewed {self.last_reviewed} is before it was "
                f"adopted ({self.since})"
            )

    @property
    def cadence(self) -> str:
        return cadence_name(self.cadence_days)

    @property
    def next_review(self) -> dt.date:
        """One cadence after the last review, or after ``since`` before the first."""
        return (self.last_reviewed or self.since) + dt.timedelta(days=self.cadence_days)

    def due(self, today: dt.date) -> bool:
        """Whether its review is due on ``today`` (its next review is today or past)."""
        return today >= self.next_review

    def overdue_days(self, today: dt.date) -> int:
        """Days since its review fell due (0 on the day; negative: days still to go)."""
        return (today - self.next_review).days

    def to_json(self, today: dt.date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "text": self.text,
            "cadence": self.cadence,
            "cadence_days": self.cadence_days,
            "since": self.since.isoformat(),
            "last_reviewed": None if self.last_reviewed is None else self.last_reviewed.isoformat(),
            "next_review": self.next_review.isoformat(),
        }
        if today is not None:
            out["due"] = self.due(today)
            out["overdue_days"] = max(self.overdue_days(today), 0)
        return out
