"""Principles and aspirations files: the examples read, and every problem of a bad file
named with its file, item, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from glia.examples import example_path
from glia.govern import Principle, parse_principles, read_aspirations, read_principles
from glia.model import InvalidInput

EXAMPLES = example_path("northbridge").parent


def test_the_examples_read() -> None:
    principles = read_principles(EXAMPLES / "principles.yaml")
    assert [(p.key, p.check) for p in principles] == [
        ("shared-load", "max-work-share"),
        ("beyond-the-client", "outside-client-cluster"),
        ("promises-kept", "commitments-kept"),
        ("open-books", "ledger-intact"),
        ("honour-every-contribution", None),
    ]
    assert principles[0].rule == {"check": "max-work-share", "limit": 0.4}
    assert isinstance(principles[0].rule["limit"], float)  # stored as JSON
    aspirations = read_aspirations(EXAMPLES / "aspirations.yaml")
    assert [(a.key, a.cadence_days, a.since) for a in aspirations] == [
        ("across-galaxies", 91, dt.date(2025, 1, 1)),
        ("shares-track-contributions", 30, dt.date(2025, 3, 1)),
        ("open-books-day", 365, dt.date(2025, 1, 15)),
    ]


def problems(path: Path, read: object = read_principles) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        read(path)  # type: ignore[operator]
    return [str(p) for p in info.value.problems]


def test_every_problem_of_a_principles_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        """principles:
  - key: fair-load
    text: No one carries more than 40%.
    rule: {check: max-work-share, limit: 1.4}
  - key: fair-load
    text: again
  - text: no key
    rule: {check: nope}
  - key: words
    text: ""
    owner: ana
  - just a string
""",
        encoding="utf-8",
    )
    assert problems(f) == [
        f"{f}, principles, row 1, line 2, column rule.limit: got 1.4, expected a share between 0 and 1 (0.4, or 40%)",
        f"{f}, principles, row 2, line 5, column key: got 'fair-load', expected a key not used before (item 1 has it)",
        f"{f}, principles, row 3, line 7, column key: expected a key: 1-200 characters",
        f"{f}, principles, row 3, line 7, column rule.check: got 'nope', expected one of the checks: max-work-share, outside-client-cluster, consent-before-work, commitments-kept, ledger-intact",
        f"{f}, principles, row 4, line 9, column owner: got 'ana', expected one of the fields key, text, rule",
        f"{f}, principles, row 4, line 9, column text: got '', expected the text, in words",
        f"{f}, principles, row 5: got 'just a string', expected a mapping with key and text",
    ]


def test_every_problem_of_an_aspirations_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(
        """- key: often
  text: Meet often.
  cadence: fortnightly
- key: dated
  text: Dates.
  cadence: 7
  since: 2025-13-01
- key: backwards
  text: Reviewed before adopted.
  cadence: monthly
  since: 2025-03-01
  last_reviewed: 2025-02-01
""",
        encoding="utf-8",
    )
    assert problems(f, read_aspirations) == [
        f"{f}, aspirations, row 1, line 1, column cadence: got 'fortnightly', expected weekly, monthly, quarterly, yearly, or a number of days (1 to 3650)",
        f"{f}, aspirations, row 2, line 4, column since: got '2025-13-01', expected a date, YYYY-MM-DD",
        f"{f}, aspirations, row 3, line 8, column last_reviewed: got 2025-02-01, expected a date on or after since (2025-03-01)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "expected a list of principles; the file is empty"),
        ("principles: {a: 1}", "got {'a': 1}, expected a list of principles"),
        ("principles: []", "expected at least one item in principles"),
        ("rules: []", "column principles: expected a list of principles"),
        ("principles: [\n  - key: [", "expected valid YAML"),
    ],
)
def test_bad_documents(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(text, encoding="utf-8")
    found = problems(f)
    assert any(expected in p for p in found), found


def test_a_missing_file(tmp_path: Path) -> None:
    assert "expected a readable file" in problems(tmp_path / "none.yaml")[0]


def test_json_and_plain_data() -> None:
    (p,) = parse_principles([{"key": "k", "text": "t", "rule": {"check": "ledger-intact"}}])
    assert p == Principle("k", "t", {"check": "ledger-intact"})
