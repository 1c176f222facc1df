"""The loop of ``glia demo``: one opportunity of the example from lead to reviewed.

Each step calls the same Store methods as the ``glia opportunity``, ``glia
agreement``, ``glia commitment``, ``glia ledger``, ``glia distribute`` and
``glia review`` commands, and says which command does it by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rich.markup import escape
from rich.table import Table

from ..engage import Agreement, Refused
from ..examples import example_path
from ..ledger import ValueEquation
from ..store import Store
from ._common import console

__all__ = ["run_loop"]

#: Who runs the example's engagement: Ben plays the orchestrator role at the NRDA.
ORCHESTRATOR = "ben"


def _step(title: str, command: str) -> None:
    console.print(f"\n[bold]{title}[/] [dim]({command})[/]", highlight=False)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def run_loop(path: Path, name: str, opportunity: str) -> None:
    """Walk ``opportunity`` through the whole loop in the workspace at ``path``."""
    examples = example_path("northbridge").parent
    by = ORCHESTRATOR
    with Store.open(workspace=path) as store:
        _step("Pipeline", f"glia opportunity advance {name} {opportunity} STAGE --by {by}")
        store.advance(name, opportunity, "qualified", by, "the coop board asked for a proposal")
        state = store.advance(name, opportunity, "swarming", by, "forming the team")
        console.print(f"  {opportunity}: lead -> qualified -> {state.stage}", highlight=False)

        _step("Agreement for results", f"glia agreement draft {name} {opportunity} ...")
        body = _yaml(examples / "agreements" / f"{opportunity}.yaml")
        equation = _yaml(examples / "equations" / f"{opportunity}.yaml")
        equation.pop("consents", None)
        body["equation"] = equation
        stored = store.draft_agreement(name, opportunity, Agreement.model_validate(body), by)
        agreement = stored.agreement
        console.print(
            f"  version {stored.version}: swarm {', '.join(agreement.swarm)}; client "
            f"{agreement.client}; {len(agreement.promises)} promises; value equation "
            f"{equation['name']} v{stored.equation_version}",
            highlight=False,
        )
        try:
            store.advance(name, opportunity, "agreed", by)
        except Refused as exc:
            console.print(f"  [yellow]refused[/]: {exc}", highlight=False)
        for party in stored.agreement.parties:
            store.consent_agreement(name, opportunity, party)
        # Recipients of the equation who are not parties consent to the equation itself.
        for level, subject, file in (
            ("network", None, "network.yaml"),
            ("organisation", "uni-northbridge", "uni-northbridge.yaml"),
        ):
            eq = ValueEquation.model_validate(_yaml(examples / "equations" / file))
            store.add_equation(name, level, subject, eq, "nrda")
        for party in ("liam", "verdant-farms"):
            store.consent(name, "opportunity", opportunity, party, "nrda")
        state = store.advance(name, opportunity, "agreed", by, "every party consented")
        console.print(
            f"  every party consented ({len(agreement.parties)}): {opportunity} is {state.stage}",
            highlight=False,
        )

        _step("Commitments", f"glia commitment list {name} --opportunity {opportunity}")
        commitments = store.commitments(name, opportunity)
        for c in commitments:
            console.print(f"  {escape(c.describe())}", highlight=False)

        _step("Deliver", f"glia ledger import {name} northbridge-ledger.csv")
        store.advance(name, opportunity, "delivering", by)
        events = store.import_events(name, examples / "northbridge-ledger.csv", "nrda")
        console.print(
            f"  recorded {len(events)} contributions and income (work, a loan, sensor kits, "
            "a referral, the client's first instalment)",
            highlight=False,
        )
        late = commitments[-1]
        for c in commitments:
            if c.state == "conditional":
                store.operate(name, c.number, "detach", c.creditor)
            if c is not late:
                store.operate(name, c.number, "discharge", c.creditor)
        swept = store.sweep(name, by)
        console.print(
            f"  {len(commitments) - 1} commitments discharged by their creditors; past its due "
            f"date, {', '.join(f'C{c.number} {c.state}' for c in swept)} "
            f"(glia commitment sweep {name})",
            highlight=False,
        )
        store.advance(name, opportunity, "delivered", by)
        store.record_satisfaction(name, opportunity, 9, "eastvale-coop", "works on every farm")
        store.advance(name, opportunity, "accepted", by, "the coop scored it 9 of 10")
        store.advance(name, opportunity, "paid", by, "first instalment received")
        console.print("  delivered, accepted (satisfaction 9/10), paid", highlight=False)

        _step("Distribute", f"glia distribute {name} {opportunity}")
        from .distribution import plan_table

        plan, recorded = store.distribute(name, opportunity, "nrda")
        plan_table(plan)

        _step("Review: the loop closes", f"glia opportunity loop {name} {opportunity}")
        store.advance(name, opportunity, "reviewed", by, "reflective session with the coop")
        loop = store.loop(name, opportunity) or {}
        ties = Table("between", "kept", "weight before", "after", title="Collaboration ties")
        for t in loop.get("ties", []):
            before = "-" if t["before"] is None else f"{t['before']:.3f}"
            ties.add_row(" & ".join(t["between"]), str(t["kept"]), before, f"{t['after']:.3f}")
        console.print(ties)
        console.print("[bold]Planned against actual[/] (recorded as exchanges of the map):")
        shares = [f for f in loop.get("flows", []) if f["deliverable"] == "share of income"]
        for f in loop.get("flows", []):
            if f in shares:
                continue
            what = f["deliverable"] if len(f["deliverable"]) <= 32 else f["deliverable"][:31] + "…"
            money = (
                f" {f['planned'] or '-'} -> {f['actual'] or '-'}" if f["type"] == "money" else ""
            )
            number = f"C{f['commitment']} " if f["commitment"] else ""
            console.print(
                f"  {f['status']:<9} {number}{f['from']} -> {f['to']}: {what}{money}",
                highlight=False,
            )
        console.print(
            f"  actual    shares of income to {len(shares)} participants, "
            "each an exchange from the client",
            highlight=False,
        )
        check = store.check_ledger(name)
        hugo = store.statement(name, "hugo")

        store.set_principles(name, examples / "principles.yaml", "nrda")
        store.set_aspirations(name, examples / "aspirations.yaml", "nrda")
        pack = store.record_review(name, by)
    console.print(
        f"Recorded {len(recorded)} allocation events; ledger of {check.events} events, chain "
        f"{'intact' if check.intact else 'BROKEN'} (last hash {check.last_hash[:16]}...).",
        highlight=False,
    )
    console.print(
        f"Statement of hugo: allocated {hugo.total_allocated:,.2f} {hugo.currency}, "
        f"paid {hugo.total_paid:,.2f}, balance {hugo.balance:,.2f} "
        f"(glia statement {name} hugo).",
        highlight=False,
    )

    _step("Reflect", f"glia review {name}")
    fair = pack.fairness
    if fair.gini_shares is not None and fair.gini_contributions is not None:
        console.print(
            f"  fairness: Gini of shares {fair.gini_shares:.3f}, of contributions "
            f"{fair.gini_contributions:.3f}; concentration of shares by contribution "
            f"{fair.concentration or 0:.3f}",
            highlight=False,
        )
    for result in pack.principles:
        said = f"{result.status}: {result.principle.text}"
        console.print(f"  {escape(said)}", highlight=False)
        for v in result.violations[:2]:
            console.print(f"    - {escape(v.message)}", highlight=False)
    due = ", ".join(a.key for a in pack.due) or "none"
    console.print(
        f"  aspirations due: {due}; review {pack.number} recorded, so the next one "
        "shows what changed since",
        highlight=False,
    )
