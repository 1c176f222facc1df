"""``glia principles``, ``glia aspirations`` and ``glia review``, driven as a user drives them
on the Northbridge example: refusals are clear, exit 2, and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glia.cli import app
from glia.examples import example_path

from conftest import EXAMPLE

runner = CliRunner()
EXAMPLES = example_path("northbridge").parent
N = "Northbridge"


def glia(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def says(text: str, needle: str) -> bool:
    """``needle`` in ``text``, whatever the console's line wrapping did to either."""
    return "".join(needle.split()) in "".join(text.split())


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert glia("import", EXAMPLE, "-w", ws)[0] == 0
    assert (
        glia("ledger", "import", N, EXAMPLES / "northbridge-ledger.csv", "--by", "nrda", "-w", ws)[
            0
        ]
        == 0
    )
    return ws


def test_principles_set_list_check(ws: Path) -> None:
    code, out, _ = glia(
        "principles", "set", N, EXAMPLES / "principles.yaml", "--by", "nrda", "-w", ws
    )
    assert code == 0 and says(out, "Set 5 principles of Northbridge: 4 checked, 1 in words only")
    code, out, _ = glia("principles", "list", N, "-w", ws)
    assert code == 0 and says(out, "max-work-share") and says(out, "in words only")
    code, out, _ = glia("principles", "list", N, "-f", "json", "-w", ws)
    assert json.loads(out)[0] == {
        "key": "shared-load",
        "text": "No one carries more than 40% of a swarm's work.",
        "rule": {"check": "max-work-share", "limit": 0.4},
    }
    code, out, _ = glia("principles", "check", N, "-w", ws)
    assert code == 0 and says(out, "shared-load │ kept")


def test_principles_check_exits_1_on_a_violation(ws: Path, tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "principles:\n  - {key: tight, text: Nobody above 25%., rule: {check: max-work-share, limit: 25%}}\n",
        encoding="utf-8",
    )
    assert glia("principles", "set", N, strict, "--by", "nrda", "-w", ws)[0] == 0
    code, out, _ = glia("principles", "check", N, "-w", ws)
    # hugo 120 of 366 hours (grace 80, farid 90, priya 60, dev 16)
    assert code == 1
    assert says(
        out,
        "tight: hugo carries 32.8% of the work of coop-traceability (120 of 366 hours of work recorded); the limit is 25%",
    )
    code, out, _ = glia("principles", "check", N, "-f", "json", "-w", ws)
    assert code == 1 and json.loads(out)[0]["status"] == "violated"


def test_refusals_name_the_problem_and_write_nothing(ws: Path, tmp_path: Path) -> None:
    assert (
        glia("principles", "set", N, EXAMPLES / "principles.yaml", "--by", "nrda", "-w", ws)[0] == 0
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "principles:\n  - {key: a, text: b, rule: {check: max-work-share}}\n", encoding="utf-8"
    )
    code, _, err = glia("principles", "set", N, bad, "--by", "nrda", "-w", ws)
    assert code == 2
    assert says(err, "1 problem found; nothing was written.")
    assert says(
        err,
        f"{bad}, principles, row 1, line 2, column rule.limit: expected a share between 0 and 1",
    )
    code, _, err = glia(
        "principles", "set", "Nowhere", EXAMPLES / "principles.yaml", "--by", "nrda", "-w", ws
    )
    assert code == 2 and says(err, "no ecosystem named 'Nowhere'")
    code, out, _ = glia("principles", "list", N, "-f", "json", "-w", ws)
    assert len(json.loads(out)) == 5  # unchanged
    code, _, err = glia("review", N, "--record", "-w", ws)
    assert code == 2 and says(err, "say who holds the review (--by)")
    code, _, err = glia("review", N, "--on", "July", "-w", ws)
    assert code == 2 and says(err, "--on 'July': expected a date YYYY-MM-DD")


def test_aspirations_and_review(ws: Path, tmp_path: Path) -> None:
    code, out, _ = glia(
        "aspirations", "set", N, EXAMPLES / "aspirations.yaml", "--by", "nrda", "-w", ws
    )
    assert code == 0 and says(out, "Set 3 aspirations of Northbridge")
    code, out, _ = glia("aspirations", "list", N, "--on", "2025-07-01", "-f", "json", "-w", ws)
    assert [(a["key"], a["due"]) for a in json.loads(out)] == [
        ("across-galaxies", True),
        ("shares-track-contributions", True),
        ("open-books-day", False),
    ]
    code, out, _ = glia("aspirations", "list", N, "--on", "2025-07-01", "-w", ws)
    assert code == 0 and says(out, "due (90 days)")

    pack = tmp_path / "review.md"
    code, out, err = glia(
        "review", N, "--record", "--by", "nrda", "--on", "2025-07-01", "-o", pack, "-w", ws
    )
    assert code == 0 and says(err, "Recorded review 1 of Northbridge on 2025-07-01")
    text = pack.read_text(encoding="utf-8")
    assert text.startswith("# Review 1 of Northbridge, 2025-07-01")
    assert "No income distributed yet" in text
    code, out, _ = glia(
        "ledger",
        "record",
        N,
        "--action",
        "help",
        "--agent",
        "oscar",
        "--quantity",
        "2",
        "--unit",
        "hour",
        "--by",
        "nrda",
        "-w",
        ws,
    )
    assert code == 0
    code, out, _ = glia("review", N, "--on", "2025-07-02", "-f", "json", "-w", ws)
    assert code == 0
    data = json.loads(out)
    assert data["review"] == 2 and data["previous"]["review"] == 1
    changes = {c["figure"]: c["change"] for c in data["changes"]}
    assert changes["ledger.events"] == 1 and changes["ledger.help"] == 1


def test_the_checks_are_listed() -> None:
    code, out, _ = glia("principles", "checks")
    assert code == 0
    for name in (
        "max-work-share",
        "outside-client-cluster",
        "consent-before-work",
        "commitments-kept",
        "ledger-intact",
    ):
        assert says(out, name)
