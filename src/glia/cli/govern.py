"""``glia principles``, ``glia aspirations``, ``glia review``: reflect on the network."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..govern import CHECKS, GovernError
from ..model import InvalidInput
from ..store import Store, UnknownEcosystem
from ._common import WorkspaceOption, console, emit, fail, report_problems
from .ledger import ByOption, Format, NameArgument

__all__ = ["register"]

#: Exit code of ``glia principles check`` when a principle is violated.
EXIT_VIOLATED = 1

principles_app = typer.Typer(
    name="principles",
    help="Principles: stated in words, and checked where they can be.\n\n"
    "Example: glia principles set Northbridge examples/principles.yaml --by nrda",
    no_args_is_help=True,
)
aspirations_app = typer.Typer(
    name="aspirations",
    help="Aspirations: shared goals, each reviewed at its own rhythm.\n\n"
    "Example: glia aspirations set Northbridge examples/aspirations.yaml --by nrda",
    no_args_is_help=True,
)


class PackFormat(StrEnum):
    markdown = "markdown"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table or json.")]
OnOption = Annotated[
    str | None,
    typer.Option("--on", help="The day, YYYY-MM-DD (default: today).", show_default=False),
]


def _day(on: str | None) -> dt.date | None:
    if on is None:
        return None
    try:
        return dt.date.fromisoformat(on)
    except ValueError:
        fail(f"--on {on!r}: expected a date YYYY-MM-DD")


def _dump(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))


@principles_app.command("set")
def set_principles(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="The principles, YAML or JSON.")],
    by: ByOption,
    workspace: WorkspaceOption = None,
) -> None:
    """Replace the ecosystem's principles with those of a file (all or nothing).

    Example: glia principles set Northbridge examples/principles.yaml --by nrda
    """
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.set_principles(name, file, by)
        except InvalidInput as exc:
            report_problems(exc)
        except (GovernError, UnknownEcosystem) as exc:
            fail(str(exc))
    checked = sum(p.rule is not None for p in stored)
    console.print(
        f"Set {len(stored)} principles of {name}: {checked} checked, "
        f"{len(stored) - checked} in words only",
        highlight=False,
    )


@principles_app.command("list")
def list_principles(
    name: NameArgument, format: FormatOption = Format.table, workspace: WorkspaceOption = None
) -> None:
    """The ecosystem's principles, with the rule that checks each."""
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.principles(name)
        except UnknownEcosystem as exc:
            fail(str(exc))
    if format is Format.json:
        _dump([p.to_json() for p in stored])
        return
    if not stored:
        console.print(f"No principles in {name} yet (glia principles set).")
        return
    table = Table("principle", "text", "rule", title=f"Principles of {name}")
    for p in stored:
        rule = (
            "in words only"
            if p.rule is None
            else ", ".join(f"{k}: {v}" for k, v in p.rule.items() if k != "check")
        )
        if p.rule is not None:
            rule = f"{p.check}" + (f" ({rule})" if rule else "")
        table.add_row(p.key, escape(p.text), escape(rule))
    console.print(table)


@principles_app.command("check")
def check_principles(
    name: NameArgument, format: FormatOption = Format.table, workspace: WorkspaceOption = None
) -> None:
    """Check every principle against the network as it stands; exit 1 when one is violated.

    Example: glia principles check Northbridge
    """
    with Store.open(workspace=workspace) as store:
        try:
            results = store.check_principles(name)
        except UnknownEcosystem as exc:
            fail(str(exc))
    violated = any(r.status == "violated" for r in results)
    if format is Format.json:
        _dump([r.to_json() for r in results])
    elif not results:
        console.print(f"No principles in {name} yet (glia principles set).")
    else:
        table = Table("principle", "status", "checked", "violations", title=f"Principles of {name}")
        for r in results:
            style = {"violated": "bold red", "kept": "green"}.get(r.status, "")
            shown = f"[{style}]{r.status}[/]" if style else r.status
            table.add_row(r.principle.key, shown, str(r.checked), str(len(r.violations)))
        console.print(table)
        for r in results:
            for v in r.violations:
                console.print(
                    f"{r.principle.key}: {v.message}", highlight=False, markup=False, soft_wrap=True
                )
    if violated:
        raise typer.Exit(EXIT_VIOLATED)


@principles_app.command("checks")
def list_checks() -> None:
    """The checks a principle's rule can name, their parameters and rules."""
    table = Table("check", "parameters", "rule")
    for c in CHECKS.values():
        params = ", ".join(
            f"{p.name}{'' if p.required else ' (optional)'}: {p.expected}" for p in c.params
        )
        table.add_row(c.name, escape(params or "none"), escape(c.rule))
    console.print(table)


@aspirations_app.command("set")
def set_aspirations(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="The aspirations, YAML or JSON.")],
    by: ByOption,
    on: OnOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Replace the ecosystem's aspirations with those of a file (all or nothing).

    An aspiration without ``since`` starts on the day given by --on (default: today).

    Example: glia aspirations set Northbridge examples/aspirations.yaml --by nrda
    """
    day = _day(on)
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.set_aspirations(name, file, by, day)
        except InvalidInput as exc:
            report_problems(exc)
        except (GovernError, UnknownEcosystem) as exc:
            fail(str(exc))
    console.print(f"Set {len(stored)} aspirations of {name}", highlight=False)


@aspirations_app.command("list")
def list_aspirations(
    name: NameArgument,
    on: OnOption = None,
    format: FormatOption = Format.table,
    workspace: WorkspaceOption = None,
) -> None:
    """The ecosystem's aspirations: cadence, last review, next review, and which are due."""
    day = _day(on) or dt.datetime.now(dt.UTC).date()
    with Store.open(workspace=workspace) as store:
        try:
            stored = store.aspirations(name)
        except UnknownEcosystem as exc:
            fail(str(exc))
    if format is Format.json:
        _dump([a.to_json(day) for a in stored])
        return
    if not stored:
        console.print(f"No aspirations in {name} yet (glia aspirations set).")
        return
    table = Table(
        "aspiration",
        "cadence",
        "last reviewed",
        "next review",
        "due",
        title=f"Aspirations of {name}",
    )
    for a in stored:
        last = a.last_reviewed.isoformat() if a.last_reviewed else "never"
        due = f"[bold]due ({a.overdue_days(day)} days)[/]" if a.due(day) else ""
        table.add_row(a.key, a.cadence, last, a.next_review.isoformat(), due)
    console.print(table)


def review(
    name: NameArgument,
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Hold the review: store its figures, mark the aspirations due."
        ),
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who holds the review (with --record).")
    ] = None,
    on: OnOption = None,
    format: Annotated[
        PackFormat, typer.Option("--format", "-f", help="markdown or json.")
    ] = PackFormat.markdown,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of the terminal.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The review pack for a reflective session: what changed since the last review,
    the sweet spot, health, fairness, principles violated, aspirations due.

    With --record the review is held: its figures are stored, so the next pack
    says what changed since, and the aspirations due are marked reviewed.

    Example: glia review Northbridge --record --by nrda -o review.md
    """
    day = _day(on)
    if record and not by:
        fail("say who holds the review (--by), or look first without --record")
    if by and not record:
        fail("--by names who holds a review recorded: add --record")
    with Store.open(workspace=workspace) as store:
        try:
            if record:
                assert by is not None
                pack = store.record_review(name, by, day)
            else:
                pack = store.review(name, day)
        except (GovernError, UnknownEcosystem) as exc:
            fail(str(exc))
    if format is PackFormat.json:
        text = json.dumps(pack.to_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = pack.to_markdown()
    emit(text, output)
    if record:
        due = ", ".join(a.key for a in pack.due) or "none"
        typer.echo(
            f"Recorded review {pack.number} of {name} on {pack.today.isoformat()}; "
            f"aspirations reviewed: {due}",
            err=True,
        )


def register(parent: typer.Typer) -> None:
    parent.add_typer(principles_app, name="principles")
    parent.add_typer(aspirations_app, name="aspirations")
    parent.command("review")(review)
