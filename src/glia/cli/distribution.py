"""``glia equation``, ``glia distribute``, ``glia statement``: agree, share, account."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.table import Table

from ..ledger import OPPORTUNITY, DistributionError, ValueEquation
from ..store import EquationError, Plan, Store, UnknownEcosystem
from ._common import WorkspaceOption, console, fail
from .ledger import ByOption, Format, NameArgument

__all__ = ["register"]

equation_app = typer.Typer(
    name="equation",
    help="Value equations: the agreed principles for sharing income, versioned, "
    "with every party's consent.\n\n"
    "Example: glia equation add Northbridge split.yaml --opportunity coop-traceability --by nrda",
    no_args_is_help=True,
)


OpportunityOption = Annotated[
    str | None,
    typer.Option(
        "--opportunity", help="The opportunity's id ('*': every opportunity without one)."
    ),
]
OrganisationOption = Annotated[
    str | None, typer.Option("--organisation", help="The organisation's id.")
]
NetworkOption = Annotated[
    bool, typer.Option("--network", help="The network's equation (taken off every income first).")
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table or json.")]


def _level(
    opportunity: str | None, organisation: str | None, network: bool
) -> tuple[str, str | None]:
    given = [x for x in (opportunity is not None, organisation is not None, network) if x]
    if len(given) != 1:
        fail("say which equation: exactly one of --opportunity ID, --organisation ID, --network")
    if network:
        return "network", None
    if opportunity is not None:
        return "opportunity", opportunity
    return "organisation", organisation


def read_equation(path: Path) -> ValueEquation:
    """A value equation from a YAML or JSON file, or a clear message and exit 2."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot read it ({exc.strerror})")
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML ({exc})")
    if not isinstance(data, dict):
        fail(f"{path}: expected a mapping with name, buckets and formulas")
    try:
        return ValueEquation.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {len(exc.errors())} problem(s) in the equation"]
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "(top)"
            lines.append(f"  {where}: {err['msg']}")
        fail("\n".join(lines))


def _adjustments(items: list[str] | None) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for item in items or []:
        agent, sep, text = item.partition("=")
        try:
            value = Decimal(text.strip().rstrip("%"))
        except InvalidOperation:
            value = Decimal("NaN")
        if not sep or not agent.strip() or not value.is_finite():
            fail(f"--adjust {item!r}: expected PARTICIPANT=PERCENT, e.g. ann=+5 or bob=-3")
        out[agent.strip()] = value
    return out


@equation_app.command("add")
def add(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="The equation, YAML or JSON.")],
    by: ByOption,
    opportunity: OpportunityOption = None,
    organisation: OrganisationOption = None,
    network: NetworkOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Store an equation as the next version for its opportunity, organisation or the network.

    Example: glia equation add Northbridge split.yaml --opportunity coop-traceability --by nrda
    """
    level, subject = _level(opportunity, organisation, network)
    equation = read_equation(file)
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.add_equation(name, level, subject, equation, by)
        except (EquationError, UnknownEcosystem) as exc:
            fail(str(exc))
    waiting = stored.equation.waiting_for(besides=[OPPORTUNITY])
    more = f"; waiting for the consent of {', '.join(waiting)}" if waiting else ""
    console.print(f"Stored {stored.label()}{more}", highlight=False, soft_wrap=True)


@equation_app.command("consent")
def consent_(
    name: NameArgument,
    party: Annotated[str, typer.Option("--party", help="Who consents.")],
    by: ByOption,
    opportunity: OpportunityOption = None,
    organisation: OrganisationOption = None,
    network: NetworkOption = False,
    version: Annotated[
        int | None, typer.Option("--version", help="The version (default: the latest).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Date of the consent, YYYY-MM-DD (default: today).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record a party's consent to a version of an equation.

    Example: glia equation consent Northbridge --opportunity coop-traceability --party hugo
    --by nrda
    """
    level, subject = _level(opportunity, organisation, network)
    day = None
    if on is not None:
        try:
            day = dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--on {on!r}: expected a date YYYY-MM-DD")
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.consent(name, level, subject, party, by, day, version)
        except (EquationError, UnknownEcosystem) as exc:
            fail(str(exc))
    waiting = stored.equation.waiting_for(besides=[OPPORTUNITY])
    more = f"; still waiting for {', '.join(waiting)}" if waiting else "; every party named has"
    console.print(f"{party} consented to {stored.label()}{more}", highlight=False, soft_wrap=True)


@equation_app.command("list")
def list_(
    name: NameArgument,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Every version of the ecosystem's equations, with who consented and when."""
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.equations(name)
        except UnknownEcosystem as exc:
            fail(str(exc))
    if format is Format.json:
        payload = [
            {
                "level": s.level,
                "subject": s.subject,
                "recorded_by": s.recorded_by,
                "recorded_at": s.recorded_at.isoformat(),
                "equation": s.equation.model_dump(mode="json"),
            }
            for s in stored
        ]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not stored:
        console.print(f"No value equations in {name} yet (glia equation add).")
        return
    table = Table("equation", "consents", "waiting for", title=f"Value equations of {name}")
    for s in stored:
        consents = ", ".join(f"{p} {d}" for p, d in sorted(s.equation.consents.items()))
        table.add_row(s.label(), consents, ", ".join(s.equation.waiting_for(besides=[OPPORTUNITY])))
    console.print(table)


def passed_down(result: Plan) -> set[str]:
    """Recipients whose share a level below splits further."""
    if result.allocation is None:
        return set()
    return {level.removeprefix("organisation ") for level, _ in result.allocation.levels}


def plan_table(result: Plan) -> None:
    pending = result.pending
    cur = f" {result.currency}" if result.currency else ""
    console.print(
        f"[bold]{result.opportunity}[/]: income received {pending.income}{cur}, allocated "
        f"before {pending.allocated}{cur}, to distribute {pending.to_distribute}{cur}",
        highlight=False,
        soft_wrap=True,
    )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    if result.allocation is None:
        return
    console.print("under " + ", ".join(e.label() for e in result.equations), highlight=False)
    table = Table("level", "recipient", "bucket", "claim", "amount")
    for level, dist in result.allocation.levels:
        short = level.removeprefix("organisation ")
        for share in dist.shares:
            for part in share.parts:
                claim = (
                    f"{float(part.claim / part.bucket_claims):.1%} of claims"
                    if part.bucket_claims
                    else "fixed"
                )
                if part.capped:
                    claim += ", at limit"
                amount = f"{float(part.amount):,.2f}"
                if share.agent == OPPORTUNITY or (
                    level == "opportunity" and share.agent in passed_down(result)
                ):
                    amount += " (split below)"
                table.add_row(short, share.agent, part.bucket, claim, amount)
    console.print(table)
    totals = Table("recipient", "amount", title="Shares", title_justify="left")
    for agent, total in result.allocation.amounts.items():
        totals.add_row(agent, f"{total:,.2f}{cur}")
    console.print(totals)
    if result.allocation.uncredited:
        kinds = sorted({c.kind for c in result.allocation.uncredited})
        console.print(
            f"not credited by these equations: {len(result.allocation.uncredited)} "
            f"contribution(s) of kind {', '.join(kinds)}",
            highlight=False,
        )


def distribute(
    name: NameArgument,
    opportunity: Annotated[str, typer.Argument(help="The opportunity's id.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who records the distribution (not with --preview).")
    ] = None,
    preview: Annotated[bool, typer.Option("--preview", help="Show, record nothing.")] = False,
    equation: Annotated[
        Path | None,
        typer.Option(
            "--equation",
            help="With --preview: another equation (YAML) to compare with the agreed one.",
        ),
    ] = None,
    adjust: Annotated[
        list[str] | None,
        typer.Option(
            "--adjust", help="Peer adjustment PARTICIPANT=PERCENT, within the agreed bound."
        ),
    ] = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """Distribute an opportunity's income received and not yet shared, under its agreed equations.

    Records one allocation event per recipient and kind in the ledger. With
    --preview nothing is recorded; with --preview --equation other.yaml each
    participant's share of the income received so far is shown under the
    agreed equation and under the other, before anyone agrees to it.

    Example: glia distribute Northbridge coop-traceability --by nrda
    """
    adjustments = _adjustments(adjust)
    if equation is not None and not preview:
        fail("--equation compares another equation: use it with --preview")
    if not preview and not by:
        fail("say who records the distribution (--by), or look first with --preview")
    other = read_equation(equation) if equation is not None else None
    with Store.open(workspace=workspace) as store:
        try:
            if other is not None:
                comparison = store.preview(name, opportunity, other, adjustments)
            elif preview:
                result = store.plan_distribution(name, opportunity, adjustments)
            else:
                assert by is not None
                result, events = store.distribute(name, opportunity, by, adjustments)
        except (DistributionError, UnknownEcosystem, EquationError) as exc:
            fail(str(exc))
    if other is not None:
        if format is Format.json:
            typer.echo(json.dumps(comparison.to_json(), indent=2, ensure_ascii=False))
            return
        console.print(
            f"[bold]{opportunity}[/]: income received {comparison.income}, agreed "
            + ", ".join(e.label() for e in comparison.equations)
            + f"; other: {other.name} v{other.version}",
            highlight=False,
            soft_wrap=True,
        )
        table = Table("participant", "agreed", "other", "change")
        for agent, now, then in comparison.changes():
            delta = then - now
            table.add_row(agent, str(now), str(then), f"{delta:+}" if delta else "")
        console.print(table)
        return
    if format is Format.json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        plan_table(result)
    if not preview:
        console.print(
            f"Recorded {len(events)} allocation events (seq {events[0].seq} to "
            f"{events[-1].seq}); last hash {events[-1].hash}",
            highlight=False,
            soft_wrap=True,
        )


def statement(
    name: NameArgument,
    participant: Annotated[
        str | None,
        typer.Argument(help="The participant's id; without it, the network's transparency report."),
    ] = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """A participant's statement (contributions, allocations, payouts, balance), or
    without a participant the network's transparency report.

    Example: glia statement Northbridge hugo
    """
    with Store.open(workspace=workspace) as store:
        try:
            if participant is None:
                report: Any = store.transparency(name)
            else:
                report = store.statement(name, participant)
        except (DistributionError, UnknownEcosystem) as exc:
            fail(str(exc))
    if format is Format.json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return
    data = report.to_json()
    if participant is not None:
        cur = f" {data['currency']}" if data["currency"] else ""
        console.print(f"[bold]Statement of {participant}[/] in {name}", highlight=False)
        table = Table("contributions", "events", "quantity", "value")
        for action, row in data["contributions"].items():
            table.add_row(action, str(row["events"]), row["quantity"], row["value"])
        console.print(table)
        alloc = Table("opportunity", "allocated")
        for opp, value in data["allocated"].items():
            alloc.add_row(opp, f"{value}{cur}")
        console.print(alloc)
        console.print(
            f"allocated {report.total_allocated:,.2f}{cur}, paid {report.total_paid:,.2f}{cur}, "
            f"balance owed {report.balance:,.2f}{cur}",
            highlight=False,
        )
        return
    chain = data["chain"]
    state = "intact" if chain["intact"] else f"BROKEN: {chain['broken']}"
    console.print(
        f"[bold]Transparency report of {name}[/]: ledger of {chain['events']} events, chain "
        f"{state} (last hash {chain['last_hash']})",
        highlight=False,
        soft_wrap=True,
    )
    opps = Table("opportunity", "income", "allocated", "undistributed")
    for opp, row in data["opportunities"].items():
        opps.add_row(opp, row["income"], row["allocated"], row["undistributed"])
    console.print(opps)
    people = Table("participant", "contributions", "allocated", "paid", "balance")
    for who, row in data["participants"].items():
        people.add_row(who, row["contributions"], row["allocated"], row["paid"], row["balance"])
    console.print(people)
    eqs = Table("equation", "consents")
    for e in data["equations"]:
        eqs.add_row(e["equation"], ", ".join(f"{p} {d}" for p, d in e["consents"].items()))
    console.print(eqs)


def register(parent: typer.Typer) -> None:
    parent.add_typer(equation_app, name="equation")
    parent.command("distribute")(distribute)
    parent.command("statement")(statement)
