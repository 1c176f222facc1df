"""``glia ledger``: record contributions, import them, list, reverse, verify the chain."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..ledger import ACTIONS, Event
from ..model import InvalidInput
from ..store import LedgerError, NewEvent, Store, UnknownEcosystem
from ._common import WorkspaceOption, console, fail, report_problems

__all__ = ["register"]

#: Exit code of ``glia ledger verify`` when the chain is broken.
EXIT_BROKEN = 1

app = typer.Typer(
    name="ledger",
    help="The append-only, tamper-evident ledger of contributions.\n\n"
    "Example: glia ledger record Northbridge --action work --agent ann --quantity 7.5 "
    "--unit hour --by nrda",
    no_args_is_help=True,
)


class Format(StrEnum):
    json = "json"
    table = "table"


NameArgument = Annotated[str, typer.Argument(help="Ecosystem name (see glia list).")]
ByOption = Annotated[str, typer.Option("--by", help="Who records this (a person's id or name).")]


def _decimal(option: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        fail(f"{option} {text!r}: expected a decimal number such as 7.5")
    if not value.is_finite():
        fail(f"{option} {text!r}: expected a finite decimal number")
    return value


def _time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        fail(f"--at {text!r}: expected an ISO 8601 time with a zone, e.g. 2025-03-01T09:30:00Z")
    return value


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def as_json(event: Event) -> dict[str, Any]:
    """An event as JSON: decimals as text (exact), times in UTC ISO 8601."""
    return {
        "seq": event.seq,
        "action": event.action,
        "agent": event.agent,
        "opportunity": event.opportunity,
        "quantity": _plain(event.quantity),
        "unit": event.unit,
        "value": _plain(event.value),
        "currency": event.currency,
        "note": event.note,
        "evidence": event.evidence,
        "reverses": event.reverses,
        "recorded_by": event.recorded_by,
        "recorded_at": event.recorded_at.isoformat(),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@app.command("record")
def record_(
    name: NameArgument,
    action: Annotated[str, typer.Option("--action", help=f"One of: {', '.join(ACTIONS)}.")],
    agent: Annotated[str, typer.Option("--agent", help="Participant id who contributed.")],
    by: ByOption,
    quantity: Annotated[
        str | None, typer.Option("--quantity", help="How much, e.g. 7.5 (with --unit).")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit of the quantity.")] = None,
    value: Annotated[str | None, typer.Option("--value", help="Money value, e.g. 600.")] = None,
    currency: Annotated[
        str | None,
        typer.Option("--currency", help="Currency of the value (default: the ecosystem's)."),
    ] = None,
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="Opportunity id it contributes to.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What was done.")] = None,
    evidence: Annotated[
        str | None, typer.Option("--evidence", help="Where to see it, e.g. a URL.")
    ] = None,
    reverses: Annotated[
        int | None, typer.Option("--reverses", help="Seq of an event this one corrects.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When, ISO 8601 with a zone (default: now)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record one contribution; prints its seq and hash.

    Example: glia ledger record Northbridge --action work --agent ann --quantity 7.5
    --unit hour --value 600 --currency EUR --opportunity coop-traceability --by nrda
    """
    when = _time(at)
    extra: dict[str, Any] = {} if when is None else {"recorded_at": when}
    event = NewEvent(
        action=action,
        agent=agent,
        recorded_by=by,
        opportunity=opportunity,
        quantity=_decimal("--quantity", quantity),
        unit=unit,
        value=_decimal("--value", value),
        currency=currency,
        note=note,
        evidence=evidence,
        reverses=reverses,
        **extra,
    )
    with Store.open(workspace=workspace) as store:
        try:
            (recorded,) = store.record(name, [event])
        except (LedgerError, UnknownEcosystem) as exc:
            fail(str(exc))
    console.print(
        f"Recorded event {recorded.seq} in [bold]{name}[/]: hash {recorded.hash}", soft_wrap=True
    )


@app.command("import")
def import_(
    name: NameArgument,
    file: Annotated[
        Path, typer.Argument(help="CSV file; the header names fields (action, agent, ...).")
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who records them (for rows without recorded_by)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record the events of a CSV file: all of them, or, on any problem, none.

    Columns: action, agent, recorded_by, opportunity, quantity, unit, value,
    currency, note, evidence, reverses, recorded_at (ISO 8601 with a zone);
    action and agent are required. Every problem is listed (file, row, column,
    value, what was expected) and the command exits with code 2.

    Example: glia ledger import Northbridge contributions.csv --by nrda
    """
    with Store.open(workspace=workspace) as store:
        try:
            events = store.import_events(name, file, by)
        except InvalidInput as exc:
            report_problems(exc)
        except UnknownEcosystem as exc:
            fail(str(exc))
    first, last = events[0], events[-1]
    span = f"event {first.seq}" if first is last else f"events {first.seq} to {last.seq}"
    n = len(events)
    console.print(
        f"Recorded {n} event{'s' if n != 1 else ''} in [bold]{name}[/] ({span}): "
        f"last hash {last.hash}",
        soft_wrap=True,
    )


@app.command("verify")
def verify_(name: NameArgument, workspace: WorkspaceOption = None) -> None:
    """Check the ledger's hash chain; exit 1 naming the first broken event.

    A broken event was altered, removed, reordered or re-hashed after an
    earlier change.

    Keep the last hash it prints somewhere else: a later verify that prints
    the same hash at the same count shows that nothing before it changed.

    Example: glia ledger verify Northbridge
    """
    with Store.open(workspace=workspace) as store:
        try:
            result = store.check_ledger(name)
        except UnknownEcosystem as exc:
            fail(str(exc))
    n = result.events
    events = f"{n} event{'s' if n != 1 else ''}"
    if result.broken is None:
        console.print(
            f"ledger of {name}: {events}, chain intact (last hash {result.last_hash})",
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(
        f"ledger of {name}: {events} stored, chain BROKEN at event {result.broken.seq} "
        f"({result.broken.kind}): {result.broken.message}",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_BROKEN)


@app.command("list")
def list_(
    name: NameArgument,
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="Only the events of this opportunity.")
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = (
        Format.table
    ),
    workspace: WorkspaceOption = None,
) -> None:
    """List the ledger's events in order.

    Example: glia ledger list Northbridge --opportunity coop-traceability --format json
    """
    with Store.open(workspace=workspace) as store:
        try:
            events = store.events(name, opportunity)
        except UnknownEcosystem as exc:
            fail(str(exc))
    if format is Format.json:
        payload = {"ecosystem": name, "events": [as_json(e) for e in events]}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not events:
        which = f" for {opportunity}" if opportunity else ""
        console.print(f"No events in the ledger of {name}{which}.")
        return
    table = Table(
        "seq",
        "action",
        "agent",
        "opportunity",
        "quantity",
        "value",
        "reverses",
        "date",
        "by",
        title=f"Ledger of {name}",
        title_justify="left",
    )
    for e in events:
        quantity = " ".join(x for x in (_plain(e.quantity), e.unit) if x)
        value = " ".join(x for x in (_plain(e.value), e.currency) if x)
        table.add_row(
            str(e.seq),
            e.action,
            e.agent,
            e.opportunity or "",
            quantity,
            value,
            "" if e.reverses is None else str(e.reverses),
            f"{e.recorded_at:%Y-%m-%d}",
            e.recorded_by,
        )
    console.print(table)


@app.command("reverse")
def reverse_(
    name: NameArgument,
    seq: Annotated[int, typer.Argument(help="Seq of the event to reverse.")],
    by: ByOption,
    note: Annotated[str, typer.Option("--note", help="Why it is reversed.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Reverse an event: append its opposite (quantity and value negated).

    Nothing is ever edited or deleted.

    Example: glia ledger reverse Northbridge 12 --by nrda --note "hours entered twice"
    """
    with Store.open(workspace=workspace) as store:
        try:
            event = store.reverse(name, seq, by, note)
        except (LedgerError, UnknownEcosystem) as exc:
            fail(str(exc))
    console.print(
        f"Recorded event {event.seq} in [bold]{name}[/], reversing event {seq}: hash {event.hash}",
        soft_wrap=True,
    )


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="ledger")
