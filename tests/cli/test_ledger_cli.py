"""``glia ledger``, driven as a user drives it: record, import, list, reverse, verify."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glia.cli import app

from conftest import EXAMPLE

runner = CliRunner()
HASH = re.compile(r"\b[0-9a-f]{64}\b")


def glia(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    code, _, _ = glia("import", EXAMPLE, "-w", ws)
    assert code == 0
    return ws


def _database_state(workspace: Path) -> str:
    conn = sqlite3.connect(workspace / "glia.db")
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def _tamper(workspace: Path, *statements: str) -> None:
    conn = sqlite3.connect(workspace / "glia.db")
    try:
        with conn:
            for statement in statements:
                conn.execute(statement)
    finally:
        conn.close()


def _listed(workspace: Path, *options: str) -> list[dict[str, object]]:
    code, out, _ = glia(
        "ledger", "list", "Northbridge", "--format", "json", *options, "-w", workspace
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["ecosystem"] == "Northbridge"
    events: list[dict[str, object]] = payload["events"]
    return events


GOOD_CSV = (
    "action,agent,quantity,unit,value,currency,opportunity,note,evidence,recorded_at\n"
    "work,ana,7.50,hour,600.00,EUR,farm-data,data model,https://example.org/pr/1,"
    "2025-03-01T09:30:00+01:00\n"
    "use,ben,2,licence,120,,farm-data,,,\n"
    "referral,acme,,,,,,introduced the client,,2025-03-02T10:00:00Z\n"
)


@pytest.mark.parametrize("command", ["record", "import", "verify", "list", "reverse"])
def test_every_ledger_command_has_help_with_an_example(command: str) -> None:
    code, out, _ = glia("ledger", command, "--help")
    assert code == 0
    assert "Example: glia ledger" in out


def test_record_prints_the_seq_and_hash(workspace: Path) -> None:
    code, out, _ = glia(
        "ledger", "record", "Northbridge", "--action", "work", "--agent", "ana",
        "--quantity", "7.5", "--unit", "hour", "--value", "600", "--currency", "EUR",
        "--opportunity", "farm-data", "--note", "data model", "--evidence",
        "https://example.org/pr/1", "--by", "nrda", "-w", workspace,
    )  # fmt: skip
    assert code == 0
    assert "Recorded event 1 in Northbridge: hash " in out
    first_hash = HASH.findall(out)[0]
    code, out, _ = glia(
        "ledger", "record", "Northbridge", "--action", "help", "--agent", "ben",
        "--at", "2025-03-01T12:00:00+01:00", "--by", "nrda", "-w", workspace,
    )  # fmt: skip
    assert code == 0 and "Recorded event 2" in out
    events = _listed(workspace)
    assert [e["seq"] for e in events] == [1, 2]
    assert events[0]["hash"] == first_hash and events[1]["prev_hash"] == first_hash
    assert (events[0]["quantity"], events[0]["value"], events[0]["currency"]) == (
        "7.5",
        "600",
        "EUR",
    )
    assert events[1]["recorded_at"] == "2025-03-01T11:00:00+00:00"


def test_record_refuses_bad_input_and_writes_nothing(workspace: Path) -> None:
    before = _database_state(workspace)
    base = ("ledger", "record", "Northbridge", "--agent", "ana", "--by", "nrda", "-w", workspace)
    code, _, err = glia(*base, "--action", "wrk")
    assert code == 2 and "field action: got 'wrk', expected one of work" in err
    assert "nothing was written" in err
    code, _, err = glia(*base, "--action", "work", "--quantity", "7,5")
    assert code == 2 and "--quantity '7,5': expected a decimal number" in err
    code, _, err = glia(*base, "--action", "work", "--at", "2025-03-01T09:00")
    assert code == 2 and "--at" in err and "with a zone" in err
    code, _, err = glia(*base, "--action", "work", "--reverses", "3")
    assert code == 2 and "field reverses" in err
    code, _, err = glia("ledger", "record", "Nowhere", "--action", "work", "--agent", "ana",
                        "--by", "nrda", "-w", workspace)  # fmt: skip
    assert code == 2 and "no ecosystem named 'Nowhere'" in err
    assert _database_state(workspace) == before


def test_import_of_a_good_file_and_the_list(workspace: Path, tmp_path: Path) -> None:
    good = tmp_path / "contributions.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    code, out, _ = glia("ledger", "import", "Northbridge", good, "--by", "nrda", "-w", workspace)
    assert code == 0
    assert "Recorded 3 events in Northbridge (events 1 to 3): last hash" in out
    events = _listed(workspace)
    assert [(e["seq"], e["action"], e["agent"]) for e in events] == [
        (1, "work", "ana"),
        (2, "use", "ben"),
        (3, "referral", "acme"),
    ]
    assert (events[0]["quantity"], events[0]["value"]) == ("7.50", "600.00")
    assert events[1]["currency"] == "EUR"  # the ecosystem's
    assert events[0]["recorded_at"] == "2025-03-01T08:30:00+00:00"
    assert all(e["recorded_by"] == "nrda" for e in events)
    assert [e["seq"] for e in _listed(workspace, "--opportunity", "farm-data")] == [1, 2]
    code, out, _ = glia("ledger", "list", "Northbridge", "-w", workspace)
    assert code == 0 and "Ledger of Northbridge" in out
    assert all(f"│ {e['seq']} " in out for e in events)
    code, out, _ = glia("ledger", "list", "Northbridge", "--opportunity", "x", "-w", workspace)
    assert code == 0 and "No events in the ledger of Northbridge for x" in out


def test_import_of_a_bad_file_lists_every_problem_and_writes_nothing(
    workspace: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        GOOD_CSV + "wrk,ana,seven,hour,,,,,,\n" + "work,,1,hour,10,euro,,,,2025-03-01\n",
        encoding="utf-8",
    )
    before = _database_state(workspace)
    code, _, err = glia("ledger", "import", "Northbridge", bad, "--by", "nrda", "-w", workspace)
    assert code == 2
    flat = " ".join(err.split())
    assert "5 problems found; nothing was written." in flat
    for fragment in (
        f"{bad}, row 5, column action: got 'wrk', expected one of work",
        f"{bad}, row 5, column quantity: got 'seven', expected a decimal number",
        f"{bad}, row 6, column agent: expected a participant id",
        f"{bad}, row 6, column currency: got 'euro', expected a currency code",
        f"{bad}, row 6, column recorded_at: got '2025-03-01', expected an ISO 8601 time",
    ):
        assert fragment in flat, fragment
    assert _database_state(workspace) == before
    assert _listed(workspace) == []
    code, _, err = glia("ledger", "import", "Nowhere", bad, "--by", "nrda", "-w", workspace)
    assert code == 2 and "no ecosystem named 'Nowhere'" in err


def test_reverse_appends_the_opposite(workspace: Path, tmp_path: Path) -> None:
    good = tmp_path / "contributions.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    glia("ledger", "import", "Northbridge", good, "--by", "nrda", "-w", workspace)
    code, out, _ = glia("ledger", "reverse", "Northbridge", "1", "--by", "nrda",
                        "--note", "entered twice", "-w", workspace)  # fmt: skip
    assert code == 0 and "Recorded event 4 in Northbridge, reversing event 1" in out
    undo = _listed(workspace)[-1]
    assert (undo["reverses"], undo["quantity"], undo["value"], undo["note"]) == (
        1,
        "-7.50",
        "-600.00",
        "entered twice",
    )
    code, _, err = glia("ledger", "reverse", "Northbridge", "1", "--by", "nrda",
                        "--note", "again", "-w", workspace)  # fmt: skip
    assert code == 2 and "cannot reverse event 1" in err and "event 4 reverses it" in err
    code, _, err = glia("ledger", "reverse", "Northbridge", "42", "--by", "nrda",
                        "--note", "x", "-w", workspace)  # fmt: skip
    assert code == 2 and "cannot reverse event 42: no such event" in err
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", workspace)
    assert code == 0 and "4 events, chain intact" in out


def test_verify_an_intact_ledger_then_tampered_ones(workspace: Path, tmp_path: Path) -> None:
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", workspace)
    assert code == 0 and "ledger of Northbridge: 0 events, chain intact" in out
    good = tmp_path / "contributions.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    glia("ledger", "import", "Northbridge", good, "--by", "nrda", "-w", workspace)
    last = _listed(workspace)[-1]["hash"]
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", workspace)
    assert code == 0
    assert f"ledger of Northbridge: 3 events, chain intact (last hash {last})" in out

    _tamper(workspace, "UPDATE ledger_event SET value = '6000.00' WHERE seq = 1")
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", workspace)
    assert code == 1 and "BROKEN at event 1 (altered): event 1 altered" in " ".join(out.split())
    _tamper(workspace, "UPDATE ledger_event SET value = '600.00' WHERE seq = 1")
    assert glia("ledger", "verify", "Northbridge", "-w", workspace)[0] == 0

    _tamper(
        workspace,
        "UPDATE ledger_event SET seq = -1 WHERE seq = 2",
        "UPDATE ledger_event SET seq = 2 WHERE seq = 3",
        "UPDATE ledger_event SET seq = 3 WHERE seq = -1",
    )
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", workspace)
    assert code == 1 and "event 2 reordered: stored after event 3" in " ".join(out.split())

    _tamper(workspace, "DELETE FROM ledger_event WHERE seq = 2")
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", workspace)
    assert code == 1 and "(removed): event 2 removed" in " ".join(out.split())

    code, _, err = glia("ledger", "verify", "Nowhere", "-w", workspace)
    assert code == 2 and "no ecosystem named 'Nowhere'" in err
