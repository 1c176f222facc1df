"""Commands on ecosystems: init, import, export, list, show, validate, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..io import open_source, read_source
from ..io.export import EXPORT_FORMATS, ExportFormat, export
from ..model import InvalidInput
from ..store import Store, Summary, UnknownEcosystem, database_url, workspace_path
from ._common import WorkspaceOption, console, fail, progress_bar, report_problems

__all__ = ["register"]


def _store(workspace: Path | None) -> Store:
    return Store.open(workspace=workspace)


def init(workspace: WorkspaceOption = None) -> None:
    """Create a workspace (or bring its database schema up to date).

    Example: glia init --workspace ./northbridge
    """
    path = workspace_path(workspace)
    path.mkdir(parents=True, exist_ok=True)
    with _store(workspace) as store:
        console.print(f"Workspace ready: [bold]{path}[/] (database {store.url})")


def import_(
    file: Annotated[Path, typer.Argument(help="YAML/JSON file, CSV folder or XLSX workbook.")],
    ecosystem: Annotated[
        str | None,
        typer.Option("--ecosystem", "-e", help="Name to import under (default: the file's)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace an ecosystem of the same name.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Check a file and import it as one ecosystem; on any problem, change nothing.

    Every problem is listed (file, row, column, value, what was expected) and
    the command exits with code 2.

    Example: glia import examples/northbridge.yaml --ecosystem Northbridge
    """
    try:
        with _store(workspace) as store, progress_bar("importing") as update:
            result = store.import_file(file, ecosystem, replace, progress=update)
    except InvalidInput as exc:
        report_problems(exc)
    counts = ", ".join(f"{n:,} {section}" for section, n in result.counts.items())
    verb = "Replaced" if result.replaced else "Imported"
    console.print(f"{verb} [bold]{result.ecosystem}[/]: {counts}")


def export_(
    name: Annotated[str, typer.Argument(help="Ecosystem name (see glia list).")],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}."),
    ] = "yaml",
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write (a folder for csv).")
    ] = Path("ecosystem.yaml"),
    workspace: WorkspaceOption = None,
) -> None:
    """Export an ecosystem to a file.

    Example: glia export Northbridge --format graphml -o northbridge.graphml
    """
    if fmt not in EXPORT_FORMATS:
        fail(f"unknown format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    try:
        with _store(workspace) as store:
            eco = store.load(name)
    except UnknownEcosystem as exc:
        fail(str(exc))
    fmt_checked: ExportFormat = fmt  # type: ignore[assignment]
    export(eco, fmt_checked, output)
    console.print(f"Wrote [bold]{output}[/] ({fmt})")


def list_(workspace: WorkspaceOption = None) -> None:
    """List the ecosystems in the database.

    Example: glia list
    """
    with _store(workspace) as store:
        infos = store.list()
    if not infos:
        console.print(f"No ecosystems yet in {database_url(workspace)}. Try: glia demo")
        return
    table = Table("ecosystem", "participants", "clusters", "roles", "ties", "exchanges", "source")
    for info in infos:
        c = info.counts
        table.add_row(
            info.name,
            *(
                f"{c.get(k, 0):,}"
                for k in ("participants", "clusters", "roles", "ties", "exchanges")
            ),
            info.source or "",
        )
    console.print(table)


def print_summary(summary: Summary) -> None:
    """The tables of ``glia show``."""
    info = summary.info
    console.rule(f"[bold]{info.name}")
    if summary.description:
        console.print(summary.description.strip(), highlight=False)
    counts = Table("records", "count", title="Counts by kind", title_justify="left")
    for section, n in info.counts.items():
        counts.add_row(section, f"{n:,}")
        if section == "participants":
            for kind, k in sorted(summary.participants_by_kind.items(), reverse=True):
                counts.add_row(f"  {kind}", f"{k:,}")
    console.print(counts)
    clusters = Table("cluster", "name", "kind", "members", title="Clusters", title_justify="left")
    for c in summary.clusters:
        clusters.add_row(c["id"], c["name"] or "", c["kind"], f"{c['members']:,}")
    console.print(clusters)
    layers = Table(
        "layer", "type", "ties", "directed", "mean weight", title="Layers", title_justify="left"
    )
    for row in summary.layers:
        layers.add_row(
            row["layer"],
            row["type"],
            f"{row['ties']:,}",
            f"{row['directed']:,}",
            f"{row['mean_weight']:.2f}",
        )
    console.print(layers)
    exchanges = Table("kind", "type", "exchanges", title="Exchanges", title_justify="left")
    for row in summary.exchanges:
        exchanges.add_row(row["kind"], row["type"], f"{row['exchanges']:,}")
    console.print(exchanges)
    if summary.capabilities:
        caps = Table(
            "capability", "holders", "top level", title="Capabilities", title_justify="left"
        )
        for row in summary.capabilities:
            caps.add_row(row["capability"], f"{row['holders']:,}", str(row["max_level"]))
        console.print(caps)


def show(
    name: Annotated[str, typer.Argument(help="Ecosystem name (see glia list).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Show an ecosystem: counts by kind, clusters, layers, exchanges, capabilities.

    Example: glia show Northbridge
    """
    try:
        with _store(workspace) as store:
            summary = store.summary(name)
    except UnknownEcosystem as exc:
        fail(str(exc))
    print_summary(summary)


def validate(
    file: Annotated[Path, typer.Argument(help="YAML/JSON file, CSV folder or XLSX workbook.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on stdout.")
    ] = False,
) -> None:
    """Check a file without importing it; list every problem (exit code 2).

    Example: glia validate examples/northbridge.yaml
    """
    try:
        with open_source(file) as source, progress_bar("checking") as update:
            eco = read_source(source, progress=update)
    except InvalidInput as exc:
        report_problems(exc, as_json)
    if as_json:
        typer.echo(json.dumps({"valid": True, "counts": eco.counts()}, indent=2))
    else:
        counts = ", ".join(f"{n:,} {s}" for s, n in eco.counts().items())
        console.print(f"[green]valid[/]: {file} ({counts})")


def schema() -> None:
    """Print the JSON Schema of the native file format.

    Example: glia schema > glia.schema.json
    """
    from ..model import Ecosystem

    document = Ecosystem.model_json_schema(by_alias=True)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://glia.dev/schema/ecosystem-1.json",
        **document,
    }
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command("import")(import_)
    app.command("export")(export_)
    app.command("list")(list_)
    app.command()(show)
    app.command()(validate)
    app.command()(schema)
