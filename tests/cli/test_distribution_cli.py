"""``glia equation``, ``glia distribute`` and ``glia statement``, driven as a user drives
them, on the Northbridge example: its ledger (src/glia/examples/northbridge-ledger.csv)
and its equations (src/glia/examples/equations/), with amounts worked out by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from glia.cli import app
from glia.examples import example_path

from conftest import EXAMPLE

runner = CliRunner()
D = Decimal
OPP = "coop-traceability"
EXAMPLES = example_path("northbridge").parent
EQUATIONS = EXAMPLES / "equations"


def glia(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def says(text: str, needle: str) -> bool:
    """``needle`` in ``text``, whatever the console's line wrapping did to either."""
    return "".join(needle.split()) in "".join(text.split())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Northbridge with its ledger (10 events: contributions and a 60,000 EUR income)."""
    ws = tmp_path / "ws"
    assert glia("import", EXAMPLE, "-w", ws)[0] == 0
    code, out, _ = glia(
        "ledger", "import", "Northbridge", EXAMPLES / "northbridge-ledger.csv", "--by", "nrda",
        "-w", ws,
    )  # fmt: skip
    assert code == 0 and says(out, "Recorded 10 events")
    return ws


@pytest.fixture
def agreed(workspace: Path) -> Path:
    """The example's three equations (network, opportunity, organisation), all agreed."""
    for level, file in (
        (("--network",), "network.yaml"),
        (("--opportunity", OPP), f"{OPP}.yaml"),
        (("--organisation", "uni-northbridge"), "uni-northbridge.yaml"),
    ):
        code, out, err = glia(
            "equation", "add", "Northbridge", EQUATIONS / file, *level, "--by", "nrda",
            "-w", workspace,
        )  # fmt: skip
        assert code == 0, err
        if file != "network.yaml":  # see test_a_network_equation_waits_for_no_placeholder
            assert "waiting" not in out
    return workspace


def _events(workspace: Path) -> list[dict[str, Any]]:
    code, out, _ = glia("ledger", "list", "Northbridge", "--format", "json", "-w", workspace)
    assert code == 0
    events: list[dict[str, Any]] = json.loads(out)["events"]
    return events


def _json(*args: str | Path) -> Any:
    code, out, err = glia(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# The example, by hand: income 60,000 EUR.
# network: 5% to nrda = 3,000; 57,000 to the opportunity's equation.
# opportunity: referral 2% of 57,000 = 1,140 to liam;
#   capital 15% of 55,860 = 8,379 for verdant-farms's loan (5,000 owed), held at the
#   cap 0.45 x 8,379 = 3,770.55; the rest flows to the team: 55,860 - 3,770.55 = 52,089.45
#   team claims (work x 1.5): hugo 120 h x 140 = 25,200; grace 80 x 130 = 15,600;
#   priya 60 x 150 = 13,500; uni-northbridge (dev 16 x 150 + farid 90 x 45) = 9,675;
#   fieldsense delivered 6,000; total 69,975 (oscar's help has no formula)
#   hugo 52,089.45 x 25,200 / 69,975 = 18,758.9016 -> 18,758.90
#   uni-northbridge 52,089.45 x 9,675 / 69,975 = 7,202.0783 -> 7,202.08
# organisation: overhead 15% of 7,202.08 = 1,080.312 -> 1,080.31;
#   6,121.768 to the lab by hours: dev 16/106 = 924.04, farid 90/106 = 5,197.73
BY_HAND = {
    "nrda": "3000.00",
    "liam": "1140.00",
    "verdant-farms": "3770.55",
    "hugo": "18758.90",
    "uni-northbridge": "1080.31",
    "dev": "924.04",
    "farid": "5197.73",
}


# -- equations -------------------------------------------------------------------------
def test_equation_add_consent_and_list(workspace: Path, tmp_path: Path) -> None:
    body = yaml.safe_load((EQUATIONS / f"{OPP}.yaml").read_text(encoding="utf-8"))
    body.pop("consents")
    unsigned = tmp_path / "unsigned.yaml"
    unsigned.write_text(yaml.safe_dump(body), encoding="utf-8")
    code, out, _ = glia(
        "equation", "add", "Northbridge", unsigned, "--opportunity", OPP, "--by", "nrda",
        "-w", workspace,
    )  # fmt: skip
    assert code == 0
    assert says(
        out, f"Stored {OPP} v1 (opportunity {OPP}); waiting for the consent of eastvale-coop"
    )
    code, out, _ = glia(
        "equation", "consent", "Northbridge", "--opportunity", OPP, "--party", "eastvale-coop",
        "--on", "2025-03-10", "--by", "nrda", "-w", workspace,
    )  # fmt: skip
    assert code == 0
    assert says(out, f"eastvale-coop consented to {OPP} v1 (opportunity {OPP}); every party named")
    code, out, _ = glia(
        "equation", "add", "Northbridge", EQUATIONS / "network.yaml", "--network", "--by", "ann",
        "-w", workspace,
    )  # fmt: skip
    assert code == 0 and says(out, "Stored northbridge-network v1 (the network)")

    listed = _json("equation", "list", "Northbridge", "-w", workspace)
    assert [(e["level"], e["subject"], e["recorded_by"]) for e in listed] == [
        ("network", "", "ann"),
        ("opportunity", OPP, "nrda"),
    ]
    opp = listed[1]["equation"]
    assert opp["version"] == 1 and opp["consents"] == {"eastvale-coop": "2025-03-10"}
    assert opp["referral"] == "2" and opp["claims"] == {"transfer": "debt", "referral": "once"}
    code, out, _ = glia("equation", "list", "Northbridge", "-w", workspace)
    assert code == 0 and says(out, "Value equations of Northbridge") and "eastvale-coop" in out

    # a second consent by the same party, a bad date, no level or two levels: refused
    consent = ("equation", "consent", "Northbridge", "--party", "eastvale-coop", "--by", "nrda")
    code, _, err = glia(*consent, "--opportunity", OPP, "-w", workspace)
    assert code == 2 and says(err, "eastvale-coop already consented to version 1")
    code, _, err = glia(*consent, "--opportunity", OPP, "--on", "10/03/2025", "-w", workspace)
    assert code == 2 and says(err, "--on '10/03/2025': expected a date YYYY-MM-DD")
    code, _, err = glia(*consent, "--network", "--opportunity", OPP, "-w", workspace)
    assert code == 2 and says(err, "exactly one of --opportunity ID, --organisation ID, --network")
    code, _, err = glia(*consent, "--organisation", "uni-northbridge", "-w", workspace)
    assert code == 2 and says(err, "no equation for organisation uni-northbridge in Northbridge")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: x\nbuckets: [{name: a, percent: 100}]\nformulas: {}\nbogus: 1\n",
         "bogus: Extra inputs are not permitted"),
        ("name: x\nbuckets: [{name: a, percent: 100}]\nformulas: {work: \"__import__('os')\"}\n",
         "formula for work"),
        ("name: x\nbuckets: [{name: a, percent: 100, share: 3}]\nformulas: {}\n",
         "buckets.0.share: Extra inputs are not permitted"),
        ("name: x\nbuckets: [{name: a, percent: 120}]\nformulas: {}\n", "buckets.0.percent"),
        ("- just\n- a list\n", "expected a mapping with name, buckets and formulas"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_equation_file_is_refused_naming_the_file_and_field(
    workspace: Path, tmp_path: Path, content: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    for args in (
        ("equation", "add", "Northbridge", bad, "--opportunity", OPP, "--by", "nrda"),
        ("distribute", "Northbridge", OPP, "--preview", "--equation", bad),
    ):
        code, _, err = glia(*args, "-w", workspace)
        assert code == 2, err
        assert says(err, f"{bad}:") and says(err, expected), err
    assert _json("equation", "list", "Northbridge", "-w", workspace) == []
    code, _, err = glia("equation", "add", "Northbridge", tmp_path / "none.yaml", "--network",
                        "--by", "nrda", "-w", workspace)  # fmt: skip
    assert code == 2 and says(err, f"{tmp_path / 'none.yaml'}: cannot read it")


def test_a_network_equation_waits_for_no_placeholder(workspace: Path) -> None:
    # network.yaml: consents {nrda}; its bucket 'to: opportunity' is the opportunity's own
    # equation, which needs no consent (distribute() is told so with besides=[opportunity])
    code, out, _ = glia(
        "equation", "add", "Northbridge", EQUATIONS / "network.yaml", "--network", "--by", "nrda",
        "-w", workspace,
    )  # fmt: skip
    assert code == 0 and says(out, "Stored northbridge-network v1 (the network)")
    assert "waiting" not in out
    code, out, _ = glia("equation", "list", "Northbridge", "-w", workspace)
    assert code == 0 and "opportunity" not in out.split("northbridge-network")[1]


# -- distribute ------------------------------------------------------------------------
def test_distribute_preview_records_nothing_and_by_records(agreed: Path) -> None:
    plan = _json("distribute", "Northbridge", OPP, "--preview", "-w", agreed)
    assert set(plan) == {
        "ecosystem", "opportunity", "income", "allocated_before", "to_distribute", "currency",
        "equations", "notes", "allocation",
    }  # fmt: skip
    assert (plan["income"], plan["allocated_before"], plan["to_distribute"]) == (
        "60000",
        "0",
        "60000",
    )
    assert plan["currency"] == "EUR" and plan["notes"] == []
    assert plan["equations"] == [
        "northbridge-network v1 (the network)",
        f"{OPP} v1 (opportunity {OPP})",
        "uni-northbridge-lab v1 (organisation uni-northbridge)",
    ]
    amounts = plan["allocation"]["amounts"]
    assert {a: amounts[a] for a in BY_HAND} == BY_HAND
    assert sum(D(v) for v in amounts.values()) == D(60000)
    assert [lvl["level"] for lvl in plan["allocation"]["levels"]] == [
        "network",
        "opportunity",
        "organisation uni-northbridge",
    ]
    assert plan["allocation"]["uncredited"] == [{"id": "9", "agent": "oscar", "kind": "help"}]
    assert len(_events(agreed)) == 10  # the preview recorded nothing

    code, out, _ = glia("distribute", "Northbridge", OPP, "--preview", "-w", agreed)
    assert code == 0 and says(out, "to distribute 60000 EUR") and says(out, "18,758.90 EUR")
    assert len(_events(agreed)) == 10

    code, out, _ = glia("distribute", "Northbridge", OPP, "--by", "nrda", "-w", agreed)
    assert code == 0 and says(out, "Recorded 10 allocation events (seq 11 to 20)")
    events = _events(agreed)
    allocations = [e for e in events if e["action"] == "allocation"]
    assert len(events) == 20 and len(allocations) == 10
    assert sum(D(e["value"]) for e in allocations) == D(60000)
    by_agent = {e["agent"]: e for e in allocations}
    assert by_agent["hugo"]["value"] == "18758.90" and by_agent["hugo"]["unit"] == "work"
    assert by_agent["verdant-farms"]["unit"] == "transfer"
    assert by_agent["nrda"]["unit"] is None
    code, out, _ = glia("ledger", "verify", "Northbridge", "-w", agreed)
    assert code == 0 and says(out, "20 events, chain intact")

    code, _, err = glia("distribute", "Northbridge", OPP, "--by", "nrda", "-w", agreed)
    assert code == 2 and says(err, f"nothing to distribute for {OPP}")
    assert len(_events(agreed)) == 20


def test_preview_with_another_equation_shows_the_changes(agreed: Path, tmp_path: Path) -> None:
    body = yaml.safe_load((EQUATIONS / f"{OPP}.yaml").read_text(encoding="utf-8"))
    body.pop("cap")
    body.update(version=2, consents={})
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(body), encoding="utf-8")
    # without the cap, the loan is paid in full from the capital bucket: 5,000 instead of
    # 3,770.55 (+1,229.45), and the team has that much less; nrda and liam unchanged
    shown = _json("distribute", "Northbridge", OPP, "--preview", "--equation", other, "-w", agreed)
    assert set(shown) == {"opportunity", "income", "agreed", "notes", "changes"}
    assert shown["income"] == "60000"
    changes = {c["agent"]: c for c in shown["changes"]}
    assert (changes["verdant-farms"]["agreed"], changes["verdant-farms"]["other"]) == (
        "3770.55",
        "5000.00",
    )
    assert changes["verdant-farms"]["delta"] == "1229.45"
    assert D(changes["nrda"]["delta"]) == 0 and D(changes["liam"]["delta"]) == 0
    assert D(changes["hugo"]["delta"]) < 0
    assert sum(D(c["delta"]) for c in shown["changes"]) == 0
    assert all(D(c["other"]) - D(c["agreed"]) == D(c["delta"]) for c in shown["changes"])
    code, out, _ = glia("distribute", "Northbridge", OPP, "--preview", "--equation", other,
                        "-w", agreed)  # fmt: skip
    assert code == 0 and "+1229.45" in out and says(out, f"other: {OPP} v2")
    assert len(_events(agreed)) == 10


def test_peer_adjustments_from_the_command_line(agreed: Path) -> None:
    # hugo +10%: claim 25,200 x 1.1 = 27,720 of 72,495; 52,089.45 x 27,720 / 72,495
    # = 19,917.5054...; within the cap of 0.45 x 52,089.45 = 23,440.25; rounded to
    # 19,917.50 or 19,917.51 by the largest remainders
    plan = _json("distribute", "Northbridge", OPP, "--preview", "--adjust", "hugo=+10%",
                 "-w", agreed)  # fmt: skip
    hugo = D(plan["allocation"]["amounts"]["hugo"])
    assert abs(hugo - D("19917.5054")) < D("0.01")
    assert sum(D(v) for v in plan["allocation"]["amounts"].values()) == D(60000)
    opportunity = plan["allocation"]["levels"][1]
    assert opportunity["adjustments"] == {"hugo": "10"}
    code, _, err = glia("distribute", "Northbridge", OPP, "--preview", "--adjust", "hugo=11",
                        "-w", agreed)  # fmt: skip
    assert code == 2 and says(err, "peer adjustment for hugo: 11% is outside the agreed bound")
    assert len(_events(agreed)) == 10


def test_distribute_refuses_bad_input_with_a_clear_message(agreed: Path, tmp_path: Path) -> None:
    base = ("distribute", "Northbridge", OPP)
    code, _, err = glia(*base, "-w", agreed)
    assert code == 2 and says(err, "say who records the distribution (--by)")
    other = tmp_path / "other.yaml"
    other.write_text((EQUATIONS / f"{OPP}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = glia(*base, "--by", "nrda", "--equation", other, "-w", agreed)
    assert code == 2 and says(err, "--equation compares another equation: use it with --preview")
    for bad in ("hugo", "=5", "hugo=lots", "hugo=NaN"):
        code, _, err = glia(*base, "--preview", "--adjust", bad, "-w", agreed)
        assert code == 2 and says(err, f"--adjust '{bad}': expected PARTICIPANT=PERCENT"), bad
    code, _, err = glia("distribute", "Nowhere", OPP, "--preview", "-w", agreed)
    assert code == 2 and says(err, "no ecosystem named 'Nowhere'")
    code, _, err = glia("distribute", "Northbridge", "elsewhere", "--by", "nrda", "-w", agreed)
    assert code == 2 and says(err, "nothing to distribute for elsewhere")
    assert len(_events(agreed)) == 10


# -- statements ------------------------------------------------------------------------
def test_statement_of_a_participant_and_the_transparency_report(agreed: Path) -> None:
    assert glia("distribute", "Northbridge", OPP, "--by", "nrda", "-w", agreed)[0] == 0
    code, _, _ = glia(
        "ledger", "record", "Northbridge", "--action", "payout", "--agent", "hugo",
        "--value", "8000", "--by", "nrda", "-w", agreed,
    )  # fmt: skip
    assert code == 0
    hugo = _json("statement", "Northbridge", "hugo", "-w", agreed)
    assert hugo["participant"] == "hugo" and hugo["currency"] == "EUR"
    assert hugo["contributions"] == {"work": {"events": 1, "quantity": "120", "value": "0"}}
    assert hugo["allocated"] == {OPP: "18758.90"}
    assert (hugo["total_allocated"], hugo["paid"]) == ("18758.90", "8000")
    assert D(hugo["balance"]) == D("10758.90")
    code, out, _ = glia("statement", "Northbridge", "hugo", "-w", agreed)
    assert code == 0 and says(out, "balance owed 10,758.90 EUR")

    report = _json("statement", "Northbridge", "-w", agreed)
    assert report["chain"]["events"] == 21 and report["chain"]["intact"] is True
    assert report["chain"]["last_hash"] == _events(agreed)[-1]["hash"]
    assert {k: D(v) for k, v in report["opportunities"][OPP].items()} == {
        "income": D(60000),
        "allocated": D(60000),
        "undistributed": D(0),
    }
    assert D(report["participants"]["hugo"]["balance"]) == D("10758.90")
    assert D(report["participants"]["fieldsense"]["contributed_value"]) == D(6000)
    assert [e["level"] for e in report["equations"]] == ["network", "opportunity", "organisation"]
    assert report["equations"][2]["consents"] == {
        "dev": "2025-03-14",
        "farid": "2025-03-15",
        "uni-northbridge": "2025-03-14",
    }
    code, out, _ = glia("statement", "Northbridge", "-w", agreed)
    assert code == 0 and says(out, "Transparency report of Northbridge") and "intact" in out
    code, _, err = glia("statement", "Northbridge", "zed", "-w", agreed)
    assert code == 2 and says(err, "zed is neither a participant of Northbridge")
