"""``glia analyze``: see an ecosystem, as JSON, a table, or a self-contained HTML report."""

from __future__ import annotations

import datetime as dt
import itertools
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..model import InvalidInput
from ._common import WorkspaceOption, console, emit, fail, load_source, report_problems

__all__ = ["register"]

#: The layer names (kept here so that ``glia --help`` does not import SciPy).
LAYERS = ("formal", "informal", "combined", "exchange")


class Format(StrEnum):
    json = "json"
    table = "table"
    html = "html"


def analyze_(
    target: Annotated[
        str, typer.Argument(help="Ecosystem name in the workspace, or a file/folder to read.")
    ],
    format: Annotated[
        Format,
        typer.Option("--format", "-f", help="json, table (the top of each measure) or html."),
    ] = Format.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of the terminal.")
    ] = None,
    layers: Annotated[
        str,
        typer.Option("--layers", help=f"Comma-separated layers to measure ({', '.join(LAYERS)})."),
    ] = ",".join(LAYERS),
    group: Annotated[
        str,
        typer.Option(
            "--group",
            help="Grouping for brokerage and E-I: region, kind, cluster, cluster:<kind>, "
            "attribute:<name>.",
        ),
    ] = "cluster",
    method: Annotated[
        str, typer.Option("--method", help="Leiden quality: modularity or cpm.")
    ] = "modularity",
    resolution: Annotated[float, typer.Option("--resolution", help="Leiden resolution.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (Leiden, sampling).")] = 0,
    rate: Annotated[
        float, typer.Option("--rate", help="Discount rate per period for net present values.")
    ] = 0.0,
    at: Annotated[
        str | None, typer.Option("--at", help="Only ties alive on this date (YYYY-MM-DD).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Analyse an ecosystem: who connects whom, brokers, communities, the sweet spot,
    value flows, health and single points of failure.

    Example: glia analyze examples/northbridge.yaml --format html -o northbridge.html

    Also: glia analyze Northbridge --format json --group region
    """
    day = None
    if at is not None:
        try:
            day = dt.date.fromisoformat(at)
        except ValueError:
            fail(f"--at {at!r}: expected a date YYYY-MM-DD")
    from ..analysis import AnalysisError, analyze

    try:
        source, attribute = load_source(target, workspace)
        result = analyze(
            source,
            layers=[x.strip() for x in layers.split(",") if x.strip()],
            group=group,
            method=method,
            resolution=resolution,
            seed=seed,
            rate=rate,
            at=day,
            attribute=attribute,
        )
    except InvalidInput as exc:
        report_problems(exc)
    except (AnalysisError, OSError) as exc:
        fail(str(exc))
    if format is Format.json:
        emit(itertools.chain(result.json_chunks(), ["\n"]), output)
    elif format is Format.html:
        from ..report import html_report

        emit(html_report(result), output)
    else:
        if output is not None:
            with console.capture() as capture:
                _tables(result)
            emit(capture.get(), output)
        else:
            _tables(result)


def _tables(result: Any) -> None:
    from ..report import findings

    for section in findings(result):
        table = Table(title=section.title, title_justify="left", show_lines=False)
        for i, column in enumerate(section.columns):
            first = i == 0
            table.add_column(column, no_wrap=first, max_width=24 if first else None)
        for row in section.rows:
            table.add_row(*[str(x) for x in row])
        console.print(table)
        for line in section.lines:
            console.print(f"  {line}", highlight=False)
        console.print()


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_)
