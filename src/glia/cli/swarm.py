"""``glia swarm``: form the team for a client opportunity, explained, with its gap."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..model import InvalidInput
from ..store import Store
from ._common import WorkspaceOption, console, emit, fail, load_source, report_problems

__all__ = ["register"]

#: Exit code when the request is understood but no team can meet it.
EXIT_NO_TEAM = 1


class Format(StrEnum):
    json = "json"
    table = "table"


def _split(values: list[str]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def swarm_(
    target: Annotated[
        str, typer.Argument(help="Ecosystem name in the workspace, or a file/folder to read.")
    ],
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="Id of an opportunity of the ecosystem.")
    ] = None,
    need: Annotated[
        list[str],
        typer.Option(
            "--need", help="CAP:LEVEL[:COUNT], e.g. legal:4 or data-engineering:3:2 (repeat)."
        ),
    ] = [],  # noqa: B006 (Typer reads the default, never mutates it)
    region: Annotated[
        str | None, typer.Option("--region", help="Preferred region (see --region-required).")
    ] = None,
    region_required: Annotated[
        bool, typer.Option("--region-required", help="Only people of the region.")
    ] = False,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Most the team may cost (rate x hours).")
    ] = None,
    hours: Annotated[
        float | None, typer.Option("--hours", help="Hours each member works (default 100).")
    ] = None,
    capital: Annotated[
        float | None,
        typer.Option("--capital", help="Capital members of capital clusters must bring."),
    ] = None,
    min_size: Annotated[int | None, typer.Option("--min-size", help="Fewest members.")] = None,
    max_size: Annotated[int | None, typer.Option("--max-size", help="Most members.")] = None,
    include: Annotated[
        list[str], typer.Option("--include", help="Participant ids who must be in (repeat or a,b).")
    ] = [],  # noqa: B006
    exclude: Annotated[
        list[str], typer.Option("--exclude", help="Participant ids who must be out.")
    ] = [],  # noqa: B006
    forbid: Annotated[
        list[str], typer.Option("--forbid", help="A pair A,B who must not share a team.")
    ] = [],  # noqa: B006
    top: Annotated[int, typer.Option("--top", help="How many distinct teams.")] = 3,
    exact: Annotated[
        bool | None,
        typer.Option(
            "--exact/--no-exact",
            help="Prove the optimum with the exact model (default: when the pool is small).",
        ),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the exact model.")
    ] = 10.0,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights", help="Objective weights, e.g. distance=1,cost=0,load=0,bridge=0,region=1."
        ),
    ] = None,
    per_need: Annotated[int, typer.Option("--per-need", help="Candidates kept per need.")] = 12,
    horizon: Annotated[
        str,
        typer.Option(
            "--horizon",
            help="Working distance beyond which all are strangers: a number, 'none', or 'auto' "
            "(none up to 5,000 participants, 4 above).",
        ),
    ] = "auto",
    format: Annotated[Format, typer.Option("--format", "-f", help="json or table.")] = Format.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of the terminal.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Form the team for a client opportunity: who should do it together, why,
    and how far from the best possible team it could be.

    Example: glia swarm examples/northbridge.yaml --opportunity coop-traceability

    Also: glia swarm Northbridge --need legal:3 --need finance:4 --region harbourside
    --weights distance=1,cost=0.5 --top 3 --format json
    """
    from ..swarm import RequestError, form_swarm

    pairs = []
    for text in forbid:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts):
            fail(f"--forbid {text!r}: expected two participant ids, A,B")
        pairs.append((parts[0], parts[1]))
    cap: float | str | None = horizon
    if horizon.lower() == "none":
        cap = None
    elif horizon != "auto":
        try:
            cap = float(horizon)
        except ValueError:
            fail(f"--horizon {horizon!r}: expected a number, 'none' or 'auto'")
    if opportunity is None and not need:
        fail("say what the team is for: --opportunity ID or --need CAP:LEVEL[:COUNT]")
    committed: dict[str, float] = {}
    try:
        source, attribute = load_source(target, workspace)
        if attribute is not None:  # read from the store: its open commitments load people
            committed = open_commitments(target, workspace, source.participant_ids)
        result = form_swarm(
            source,
            opportunity,
            need,
            region=region,
            region_required=region_required or None,
            budget=budget,
            hours=hours,
            capital=capital,
            min_size=min_size,
            max_size=max_size,
            include=_split(include),
            exclude=_split(exclude),
            forbidden=pairs,
            weights=weights,
            top=top,
            exact=exact,
            time_limit=time_limit,
            per_need=per_need,
            horizon=cap,
            committed=committed,
        )
    except InvalidInput as exc:
        report_problems(exc)
    except (RequestError, OSError) as exc:
        fail(str(exc))
    if format is Format.json:
        payload = result.to_json()
        payload["committed"] = committed if attribute is not None else None
        text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False)
        emit(text + "\n", output)
    elif output is not None:
        with console.capture() as capture:
            render(result, committed)
        emit(capture.get(), output)
    else:
        render(result, committed)
    if not result.feasible:
        raise typer.Exit(EXIT_NO_TEAM)


def open_commitments(name: str, workspace: Path | None, known: list[str]) -> dict[str, float]:
    """Hours per week each participant has promised in active commitments (the
    engagement's ``glia commitment``): the swarm reads availability from them."""
    with Store.open(workspace=workspace) as store:
        hours = store.committed_hours(name)
    ids = set(known)  # a commitment may outlive its debtor's place in a re-imported map
    return {who: h for who, h in sorted(hours.items()) if who in ids}


def render(result: Any, committed: dict[str, float] | None = None) -> None:
    """Print a swarm as Rich tables: one per team, then the shortfalls.

    ``committed``: hours per week already promised, by participant (the load column).
    """
    r = result.request
    what = r.opportunity or ", ".join(f"{n.capability}:{n.level}:{n.count}" for n in r.needs)
    console.print(
        f"[bold]Swarm for {what}[/] in {result.ecosystem}: {result.candidates} candidates"
        + (f"; rarest need: {result.rarest_need}" if result.rarest_need else ""),
        highlight=False,
    )
    if committed:
        n = len(committed)
        console.print(
            f"  availability: capacity less the open commitments of {n} participant"
            f"{'s' if n != 1 else ''} (glia commitment list)",
            highlight=False,
        )
    for team in result.teams:
        proof = "optimal" if team.optimal else f"gap {team.gap:.1%}"
        table = Table(
            title=f"Team {team.rank}: total {team.total:.4g} ({proof})",
            title_justify="left",
        )
        for column in ("member", "region", "covers (level)", "cost", "load", "tied to"):
            table.add_column(column, no_wrap=column in ("member", "cost"))
        for m in team.members:
            direct = [t.id for t in m.ties if t.strength]
            label = m.id + (" (in)" if m.fixed else "")
            covers = ", ".join(f"{cap} ({level})" for cap, level in m.levels.items()) or "-"
            cost = f"{m.cost:,.0f}" + ("*" if m.rate_assumed else "")
            tied = f"{len(direct)}/{len(m.ties)}" + (f": {', '.join(direct)}" if direct else "")
            table.add_row(label, m.region or "-", covers, cost, f"{m.load:.0%}", tied)
        console.print(table)
        parts = ", ".join(f"{k} {v:.4g}" for k, v in team.components.items())
        console.print(f"  components: {parts}", highlight=False)
        booked = [m.id for m in team.members if (committed or {}).get(m.id)]
        if booked and committed:
            hours = ", ".join(f"{who} {committed[who]:g} h/week" for who in booked)
            console.print(f"  open commitments: {hours}", highlight=False)
        if team.why:
            console.print(f"  why not first: {team.why}", highlight=False)
        if any(m.rate_assumed for m in team.members):
            console.print("  * rate unknown: the ecosystem's median rate assumed", highlight=False)
    for s in result.shortfalls:
        console.print(f"[red]No team:[/] {s}", highlight=False)
    console.print(
        f"  bound {result.bound:.4g} from the {result.solver.get('bound_from', '')}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("swarm")(swarm_)
