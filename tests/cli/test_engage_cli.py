"""``glia opportunity``, ``glia agreement``, ``glia commitment``, ``glia conversation``
and the swarm's availability from commitments, driven as a user drives them on the
Northbridge example and its agreement (src/glia/examples/agreements/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from glia.cli import app
from glia.engage import STAGES
from glia.examples import example_path

from conftest import EXAMPLE

runner = CliRunner()
OPP = "coop-traceability"
EXAMPLES = example_path("northbridge").parent
AGREEMENT = EXAMPLES / "agreements" / f"{OPP}.yaml"
EQUATIONS = EXAMPLES / "equations"
PARTIES = ["hugo", "grace", "priya", "fieldsense", "uni-northbridge", "eastvale-coop", "ben"]


def glia(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def says(text: str, needle: str) -> bool:
    """``needle`` in ``text``, whatever the console's line wrapping did to either."""
    return "".join(needle.split()) in "".join(text.split())


def ok(*args: str | Path) -> str:
    code, out, err = glia(*args)
    assert code == 0, err
    return out


def as_json(*args: str | Path) -> Any:
    return json.loads(ok(*args, "--format", "json"))


def refused(*args: str | Path) -> str:
    """The command is refused by a rule: exit 1, the reason on stderr, nothing on stdout."""
    code, out, err = glia(*args)
    assert code == 1, (code, out, err)
    assert out == ""
    return err


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ok("import", EXAMPLE, "-w", ws)
    return ws


@pytest.fixture
def drafted(ws: Path) -> Path:
    """coop-traceability at swarming, with version 1 of its agreement drafted."""
    assert state(ws)["stage"] == "lead"
    for stage in ("qualified", "swarming"):
        ok("opportunity", "advance", "Northbridge", OPP, stage, "--by", "ben", "-w", ws)
    out = ok(
        "agreement", "draft", "Northbridge", OPP, AGREEMENT,
        "--equation", EQUATIONS / f"{OPP}.yaml", "--by", "ben", "-w", ws,
    )  # fmt: skip
    assert says(out, "Drafted version 1 of the agreement for coop-traceability")
    return ws


@pytest.fixture
def agreed(drafted: Path) -> Path:
    """Every party consented and the opportunity advanced to agreed."""
    for party in PARTIES:
        ok("agreement", "consent", "Northbridge", OPP, party, "-w", drafted)
    ok("opportunity", "advance", "Northbridge", OPP, "agreed", "--by", "ben", "-w", drafted)
    return drafted


def state(ws: Path) -> dict[str, Any]:
    shown: dict[str, Any] = as_json("opportunity", "show", "Northbridge", OPP, "-w", ws)
    return shown


def commitments(ws: Path, *filters: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = as_json("commitment", "list", "Northbridge", *filters, "-w", ws)
    return found


# -- the walk -------------------------------------------------------------------------------
def test_an_opportunity_from_lead_to_reviewed(agreed: Path) -> None:
    ws = agreed
    s = state(ws)
    assert s["stage"] == "agreed" and s["waiting_for"] == [] and s["agreement_version"] == 1
    assert [(t["from"], t["to"]) for t in s["history"]][-3:] == [
        ("lead", "qualified"), ("qualified", "swarming"), ("swarming", "agreed"),
    ]  # fmt: skip
    assert s["team"]["hugo"] == "data lead (data platform and batch traceability)"
    # The six promises are commitments now; the one with a condition waits for it.
    cs = commitments(ws, "--opportunity", OPP, "--today", "2025-04-01")
    assert [(c["number"], c["debtor"], c["creditor"], c["state"]) for c in cs] == [
        (1, "eastvale-coop", "hugo", "detached"),
        (2, "fieldsense", "grace", "detached"),
        (3, "grace", "hugo", "conditional"),
        (4, "priya", "hugo", "detached"),
        (5, "hugo", "eastvale-coop", "detached"),
        (6, "uni-northbridge", "eastvale-coop", "detached"),
    ]
    assert cs[1]["value"] == "6000" and cs[1]["currency"] == "EUR"
    assert not any(c["overdue"] for c in cs)
    late = commitments(ws, "--overdue", "--today", "2025-06-01")
    assert [c["number"] for c in late] == [1, 2]
    owes = as_json("commitment", "owes", "Northbridge", "-w", ws)
    assert {"debtor": "hugo", "creditor": "eastvale-coop", "detached": 1, "conditional": 0,
            "value": "0", "hours_per_week": 6.0} in owes  # fmt: skip

    ok("opportunity", "advance", "Northbridge", OPP, "delivering", "--by", "ben", "-w", ws)
    ok("commitment", "discharge", "Northbridge", "1", "--by", "hugo", "-w", ws)
    ok("commitment", "discharge", "Northbridge", "C2", "--by", "grace", "--note", "kits", "-w", ws)
    out = ok("commitment", "detach", "Northbridge", "3", "--by", "grace", "-w", ws)
    assert says(out, "C3 grace owes hugo") and says(out, "[detached]")
    for n, creditor in ((3, "hugo"), (4, "hugo"), (5, "eastvale-coop"), (6, "eastvale-coop")):
        ok("commitment", "discharge", "Northbridge", str(n), "--by", creditor, "-w", ws)
    history = as_json("commitment", "history", "Northbridge", "3", "-w", ws)
    assert [(h["operation"], h["by"], h["to"]) for h in history] == [
        ("create", "ben", "conditional"), ("detach", "grace", "detached"),
        ("discharge", "hugo", "discharged"),
    ]  # fmt: skip
    assert as_json("commitment", "owes", "Northbridge", "-w", ws) == []

    ok("opportunity", "advance", "Northbridge", OPP, "delivered", "--by", "ben", "-w", ws)
    ok("opportunity", "satisfaction", "Northbridge", OPP, "9", "--by", "eastvale-coop", "-w", ws)
    ok("opportunity", "advance", "Northbridge", OPP, "accepted", "--by", "ben", "-w", ws)
    ok("ledger", "import", "Northbridge", EXAMPLES / "northbridge-ledger.csv", "--by", "nrda",
       "-w", ws)  # fmt: skip
    ok("opportunity", "advance", "Northbridge", OPP, "paid", "--by", "ben", "-w", ws)
    # Before the review, the loop has taught nothing.
    assert as_json("opportunity", "loop", "Northbridge", OPP, "-w", ws) is None
    out = ok("opportunity", "advance", "Northbridge", OPP, "reviewed", "--by", "ben",
             "--why", "reflective session", "-w", ws)  # fmt: skip
    assert says(out, "paid -> reviewed")
    loop = as_json("opportunity", "loop", "Northbridge", OPP, "-w", ws)
    assert loop["satisfaction"] == 9
    ties = {tuple(t["between"]): (t["kept"], t["before"], t["after"]) for t in loop["ties"]}
    assert ties[("eastvale-coop", "hugo")] == (2, None, 0.4375)  # 1 - 0.75 ** 2
    assert ties[("fieldsense", "grace")] == (1, None, 0.25)
    payment = next(f for f in loop["flows"] if f["deliverable"] == "payment")
    assert (payment["planned"], payment["actual"], payment["status"]) == ("60000", "60000", "kept")
    assert sum(f["status"] == "kept" for f in loop["flows"]) == 7
    table = ok("opportunity", "loop", "Northbridge", OPP, "-w", ws)
    assert says(table, "satisfaction 9/10") and says(table, "Planned against actual")
    s = state(ws)
    assert s["stage"] == "reviewed" and s["next"] == [] and s["income"] == "60000"
    assert s["satisfaction"] == 9
    listed = as_json("opportunity", "list", "Northbridge", "-w", ws)
    assert listed[-1] == {"id": OPP, "name": "Cooperative traceability platform",
                          "stage": "reviewed"}  # fmt: skip
    order = [STAGES.index(o["stage"]) for o in listed]
    assert order == sorted(order) and len(listed) == 4
    assert as_json("opportunity", "list", "Northbridge", "--stage", "reviewed", "-w", ws) == [
        listed[-1]
    ]


def test_the_tables_read(agreed: Path) -> None:
    ws = agreed
    out = ok("opportunity", "show", "Northbridge", OPP, "-w", ws)
    assert says(out, "coop-traceability is agreed; next: delivering, cancelled")
    assert says(out, "agreement version 1, every party consented")
    out = ok("agreement", "show", "Northbridge", OPP, "-w", ws)
    assert says(out, "Version 1, drafted by ben") and says(out, "value equation v1")
    assert says(out, "at an impasse: Ben facilitates")
    out = ok("commitment", "list", "Northbridge", "--today", "2025-05-01", "-w", ws)
    assert says(out, "C1") and says(out, "overdue")
    out = ok("opportunity", "list", "Northbridge", "-w", ws)
    assert says(out, "agreed │ coop-traceability")
    out = ok("commitment", "owes", "Northbridge", "-w", ws)
    assert says(out, "Who owes whom in Northbridge")
    out = ok("commitment", "history", "Northbridge", "C3", "-w", ws)
    assert says(out, "C3 in Northbridge") and says(out, "create")
    out = ok("conversation", "templates")
    assert says(out, "acknowledge │ requester │ deliver │ discharge")


def test_create_an_opportunity_and_pick_its_team(ws: Path) -> None:
    created = as_json(
        "opportunity", "create", "Northbridge", "harbour-cold-storage", "--client",
        "verdant-farms", "--name", "Cold storage sensors", "--need", "iot-sensors:3",
        "--need", "data-engineering:3:2", "--region", "harbourside", "--budget", "40000",
        "--currency", "EUR", "--start", "2025-09-01", "--end", "2025-12-31", "--by", "ben",
        "-w", ws,
    )  # fmt: skip
    assert created["stage"] == "lead" and created["budget"] == "40000"
    assert created["history"][0]["by"] == "ben"
    out = ok("opportunity", "team", "Northbridge", "harbour-cold-storage", "grace:sensors",
             "ana", "--by", "ben", "-w", ws)  # fmt: skip
    assert says(out, "Team of harbour-cold-storage: ana, grace (sensors)")
    assert state_of(ws, "harbour-cold-storage")["team"] == {"ana": None, "grace": "sensors"}
    # The swarm reads the new opportunity's needs from the store.
    swarm = as_json("swarm", "Northbridge", "--opportunity", "harbour-cold-storage", "-w", ws)
    assert swarm["request"]["needs"][1] == {"capability": "data-engineering", "level": 3,
                                            "count": 2}  # fmt: skip
    err = refused("opportunity", "create", "Northbridge", "harbour-cold-storage", "--client",
                  "verdant-farms", "--by", "ben", "-w", ws)  # fmt: skip
    assert says(err, "already exists")
    code, _, err = glia("opportunity", "create", "Northbridge", "x", "--client", "verdant-farms",
                        "--need", "legal", "--by", "ben", "-w", ws)  # fmt: skip
    assert code == 2 and says(err, "expected CAP:LEVEL[:COUNT]")
    err = refused("opportunity", "team", "Northbridge", "harbour-cold-storage", "verdant-farms",
                  "--by", "ben", "-w", ws)  # fmt: skip
    assert says(err, "the client verdant-farms cannot be in the team")


def state_of(ws: Path, opp: str) -> dict[str, Any]:
    shown: dict[str, Any] = as_json("opportunity", "show", "Northbridge", opp, "-w", ws)
    return shown


# -- refusals change nothing -------------------------------------------------------------------
def test_a_transition_without_its_guard_is_refused_and_changes_nothing(drafted: Path) -> None:
    ws = drafted
    before = state(ws)
    err = refused("opportunity", "advance", "Northbridge", OPP, "agreed", "--by", "ben", "-w", ws)
    assert says(err, "agreed needs every party's consent to version 1 of the agreement; "
                "still waiting for hugo, grace, priya, fieldsense, uni-northbridge, "
                "eastvale-coop, ben")  # fmt: skip
    err = refused("opportunity", "advance", "Northbridge", OPP, "paid", "--by", "ben", "-w", ws)
    assert says(err, "from swarming it can go to agreed, lost, cancelled, not paid")
    err = refused("opportunity", "satisfaction", "Northbridge", OPP, "9", "--by", "eastvale-coop",
                  "-w", ws)  # fmt: skip
    assert says(err, "satisfaction is recorded once it is delivered")
    assert state(ws) == before
    assert commitments(ws) == []


def test_guards_of_accepted_and_paid(agreed: Path) -> None:
    ws = agreed
    for stage in ("delivering", "delivered"):
        ok("opportunity", "advance", "Northbridge", OPP, stage, "--by", "ben", "-w", ws)
    before = state(ws)
    err = refused("opportunity", "advance", "Northbridge", OPP, "accepted", "--by", "ben", "-w", ws)
    assert says(err, "accepted needs the client's satisfaction record")
    assert state(ws) == before
    ok("opportunity", "satisfaction", "Northbridge", OPP, "7", "--by", "eastvale-coop", "-w", ws)
    ok("opportunity", "advance", "Northbridge", OPP, "accepted", "--by", "ben", "-w", ws)
    before = state(ws)
    err = refused("opportunity", "advance", "Northbridge", OPP, "paid", "--by", "ben", "-w", ws)
    assert says(err, "paid needs an income event")
    assert state(ws) == before


def test_consent_by_a_non_party_is_refused_and_changes_nothing(drafted: Path) -> None:
    ws = drafted
    before = as_json("agreement", "show", "Northbridge", OPP, "-w", ws)
    assert before[0]["waiting_for"] == PARTIES and before[0]["consents"] == {}
    err = refused("agreement", "consent", "Northbridge", OPP, "liam", "-w", ws)
    assert says(err, "liam is not a party to version 1 of the agreement for coop-traceability")
    assert as_json("agreement", "show", "Northbridge", OPP, "-w", ws) == before
    # A party consents once.
    ok("agreement", "consent", "Northbridge", OPP, "hugo", "-w", ws)
    err = refused("agreement", "consent", "Northbridge", OPP, "hugo", "-w", ws)
    assert says(err, "hugo already consented")
    shown = as_json("agreement", "show", "Northbridge", OPP, "--version", "1", "-w", ws)
    assert list(shown[0]["consents"]) == ["hugo"] and "hugo" not in shown[0]["waiting_for"]
    # Consent to the agreement is consent to its equation, shown by glia equation list.
    eqs = as_json("equation", "list", "Northbridge", "-w", ws)
    assert list(eqs[0]["equation"]["consents"]) == ["hugo"]


def test_cancel_by_the_creditor_is_refused_and_changes_nothing(agreed: Path) -> None:
    ws = agreed
    before = commitments(ws, "--today", "2025-04-01")
    history = as_json("commitment", "history", "Northbridge", "5", "-w", ws)
    err = refused("commitment", "cancel", "Northbridge", "5", "--by", "eastvale-coop", "-w", ws)
    assert says(err, "cancel of C5 is for hugo (the debtor), not eastvale-coop")
    err = refused("commitment", "discharge", "Northbridge", "5", "--by", "hugo", "-w", ws)
    assert says(err, "discharge of C5 is for eastvale-coop (the creditor), not hugo")
    err = refused("commitment", "violate", "Northbridge", "5", "--by", "ben",
                  "--today", "2025-06-01", "-w", ws)  # fmt: skip
    assert says(err, "C5 is due 2025-06-30: it can violate only once its due date has passed")
    assert commitments(ws, "--today", "2025-04-01") == before
    assert as_json("commitment", "history", "Northbridge", "5", "-w", ws) == history
    # The debtor may cancel: once detached, cancelling violates it.
    out = ok("commitment", "cancel", "Northbridge", "5", "--by", "hugo", "-w", ws)
    assert says(out, "[violated]")


def test_a_message_out_of_protocol_order_is_refused_and_changes_nothing(ws: Path) -> None:
    out = ok("conversation", "start", "Northbridge", "request", "--requester", "ben",
             "--provider", "priya", "--subject", "cloud cost review", "--due", "2025-09-30",
             "--hours", "2", "--by", "ben", "-w", ws)  # fmt: skip
    assert says(out, "Conversation 1 (request)") and says(out, "next decline or offer")
    before = as_json("conversation", "show", "Northbridge", "1", "-w", ws)
    err = refused("conversation", "send", "Northbridge", "1", "accept", "--by", "ben", "-w", ws)
    assert says(err, "accept is out of order in a request conversation: after request comes "
                "decline or offer")  # fmt: skip
    err = refused("conversation", "send", "Northbridge", "1", "offer", "--by", "ben", "-w", ws)
    assert says(err, "offer is sent by the provider, not the requester")
    assert as_json("conversation", "show", "Northbridge", "1", "-w", ws) == before
    assert before["commitment"] is None and commitments(ws) == []
    for message, who in (("offer", "priya"), ("accept", "ben"), ("deliver", "priya"),
                         ("acknowledge", "ben")):  # fmt: skip
        ok("conversation", "send", "Northbridge", "1", message, "--by", who, "-w", ws)
    shown = as_json("conversation", "show", "Northbridge", "1", "-w", ws)
    assert [m["message"] for m in shown["messages"]] == [
        "request", "offer", "accept", "deliver", "acknowledge",
    ]  # fmt: skip
    assert shown["next"] == [] and shown["commitment"] == 1
    (c,) = commitments(ws)
    assert (c["debtor"], c["creditor"], c["state"], c["hours_per_week"]) == (
        "priya", "ben", "discharged", 2.0,
    )  # fmt: skip
    err = refused("conversation", "send", "Northbridge", "1", "acknowledge", "--by", "ben",
                  "-w", ws)  # fmt: skip
    assert says(err, "the request conversation ended with acknowledge")


def test_commitments_made_by_hand(ws: Path) -> None:
    made = as_json("commitment", "create", "Northbridge", "--debtor", "hugo", "--creditor",
                   "ben", "--consequent", "handover notes", "--due", "2025-12-01", "--hours",
                   "1", "--value", "300", "--currency", "EUR", "-w", ws)  # fmt: skip
    assert (made["number"], made["state"], made["value"]) == (1, "detached", "300")
    err = refused("commitment", "create", "Northbridge", "--debtor", "hugo", "--creditor", "ben",
                  "--consequent", "x", "--by", "ben", "-w", ws)  # fmt: skip
    assert says(err, "a commitment is made by its debtor, hugo, not ben")
    ok("commitment", "create", "Northbridge", "--debtor", "hugo", "--creditor", "ben",
       "--consequent", "data dictionary", "--antecedent", "ben sends the schema", "-w", ws)  # fmt: skip
    out = ok("commitment", "delegate", "Northbridge", "2", "ana", "--by", "hugo", "-w", ws)
    assert says(out, "C2 ana owes ben data dictionary")
    ok("commitment", "assign", "Northbridge", "2", "nrda", "--by", "ben", "-w", ws)
    ok("commitment", "release", "Northbridge", "2", "--by", "nrda", "--note", "not needed",
       "-w", ws)  # fmt: skip
    swept = as_json("commitment", "sweep", "Northbridge", "--by", "ben", "--today", "2026-01-15",
                    "-w", ws)  # fmt: skip
    assert [(c["number"], c["state"]) for c in swept] == [(1, "violated")]
    assert [c["state"] for c in commitments(ws)] == ["violated", "released"]
    assert [c["number"] for c in commitments(ws, "--debtor", "ana", "--state", "released")] == [2]
    code, _, err = glia("commitment", "history", "Northbridge", "two", "-w", ws)
    assert code == 2 and says(err, "expected its number")


# -- files and names --------------------------------------------------------------------------
def test_a_bad_agreement_names_the_file_and_the_field(ws: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(AGREEMENT.read_text(encoding="utf-8"))
    data["promises"][1]["due"] = "end of May"
    data["budget"] = "plenty"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = glia("agreement", "draft", "Northbridge", OPP, bad, "--by", "ben", "-w", ws)
    assert code == 2 and out == ""
    assert says(err, f"{bad}: 2 problems in the agreement")
    assert says(err, "promises.1.due:") and says(err, "budget:")
    data = yaml.safe_load(AGREEMENT.read_text(encoding="utf-8"))
    data["swarm"].append("eastvale-coop")
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, err = glia("agreement", "draft", "Northbridge", OPP, bad, "--by", "ben", "-w", ws)
    assert code == 2 and says(err, "the client eastvale-coop is also in the swarm")
    assert as_json("agreement", "show", "Northbridge", OPP, "-w", ws) == []


def test_unknown_names_exit_2(ws: Path) -> None:
    code, _, err = glia("opportunity", "list", "Nowhere", "-w", ws)
    assert code == 2 and says(err, "Nowhere")
    err = refused("opportunity", "show", "Northbridge", "no-such", "-w", ws)
    assert says(err, "no opportunity 'no-such'")
    err = refused("commitment", "history", "Northbridge", "9", "-w", ws)
    assert says(err, "no commitment C9")
    code, _, err = glia("opportunity", "list", "Northbridge", "--stage", "won", "-w", ws)
    assert code == 2 and says(err, "the stages are")


@pytest.mark.parametrize(
    "command",
    [
        f"{group} {cmd}"
        for group, cmds in {
            "opportunity": "create advance show list team satisfaction loop",
            "agreement": "draft consent show",
            "commitment": "create detach discharge violate expire cancel release delegate "
            "assign list owes sweep history",
            "conversation": "start send show",
        }.items()
        for cmd in cmds.split()
    ],
)
def test_every_engage_command_has_help_with_an_example(command: str) -> None:
    code, out, _ = glia(*command.split(), "--help")
    assert code == 0 and "Example: glia" in out


# -- the swarm reads availability from open commitments ---------------------------------------
def _member(swarm: dict[str, Any], who: str) -> dict[str, Any]:
    member: dict[str, Any] = next(m for m in swarm["teams"][0]["members"] if m["id"] == who)
    return member


def test_commitments_load_the_swarm(ws: Path) -> None:
    args = ("swarm", "Northbridge", "--opportunity", OPP, "--include", "hugo", "--top", "1",
            "-w", ws)  # fmt: skip
    before = as_json(*args)
    assert before["committed"] == {} and _member(before, "hugo")["load"] == 0
    ok("commitment", "create", "Northbridge", "--debtor", "hugo", "--creditor", "ben",
       "--consequent", "platform support", "--hours", "6", "-w", ws)  # fmt: skip
    ok("commitment", "create", "Northbridge", "--debtor", "hugo", "--creditor", "eastvale-coop",
       "--consequent", "monthly report", "--antecedent", "the co-op asks", "--hours", "1.5",
       "-w", ws)  # fmt: skip
    after = as_json(*args)
    assert after["committed"] == {"hugo": 7.5}
    hugo = _member(after, "hugo")
    assert hugo["load"] == pytest.approx(0.75)  # 7.5 of 10 hours a week
    assert hugo["load_penalty"] > _member(before, "hugo")["load_penalty"]
    assert after["teams"][0]["components"]["load"] > before["teams"][0]["components"]["load"]
    out = ok(*args[:-2], "--format", "table", "-w", ws)
    assert says(out, "open commitments: hugo 7.5 h/week") and says(out, "75%")
    # A commitment no longer active frees the hours again.
    ok("commitment", "release", "Northbridge", "1", "--by", "ben", "-w", ws)
    assert as_json(*args)["committed"] == {"hugo": 1.5}


def test_a_swarm_from_a_file_reads_no_commitments() -> None:
    out = as_json("swarm", EXAMPLE, "--opportunity", OPP, "--top", "1")
    assert out["committed"] is None
