"""Commands that make things: generate, demo."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from ..examples import example_path
from ..model import InvalidInput
from ..store import Store, workspace_path
from ._common import WorkspaceOption, console, fail, progress_bar, report_problems
from .ecosystems import print_summary

__all__ = ["register"]


def generate(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="File to write: .yaml/.json, .xlsx, or a folder (no suffix) of CSV files.",
        ),
    ],
    participants: Annotated[
        int, typer.Option("--participants", "-n", min=2, help="Number of participants.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed.")] = 0,
    ties_per_participant: Annotated[
        float, typer.Option("--ties-per-participant", min=0.0, help="Ties per participant.")
    ] = 10.0,
) -> None:
    """Generate a realistic ecosystem (deterministic for a seed), streamed to a file.

    Example: glia generate --participants 100000 --seed 7 -o big-csv
    """
    from ..generate import write_generated

    with progress_bar("generating") as update:
        counts = write_generated(
            output,
            participants,
            seed,
            ties_per_participant=ties_per_participant,
            progress=update,
        )
    summary = ", ".join(f"{n:,} {s}" for s, n in counts.items())
    console.print(f"Wrote [bold]{output}[/]: {summary}")


def demo(
    workspace: WorkspaceOption = None,
    fresh: Annotated[
        bool, typer.Option("--fresh/--keep", help="Start from an empty workspace.")
    ] = True,
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Then open the web workspace (glia serve)."),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Import the Northbridge example into a workspace, analyse it, write its report,
    form the team for its first opportunity and run the loop on it: agree, deliver
    with commitments, record contributions and income, distribute, review.

    Example: glia demo --workspace ./demo
    """
    path = workspace_path(workspace)
    if fresh and (path / "glia.db").exists():
        shutil.rmtree(path)
    example = example_path("northbridge")
    console.print(f"Importing the example [bold]{example.name}[/] into {path} ...")
    try:
        with Store.open(workspace=path) as store:
            result = store.import_file(example, replace=True)
            summary = store.summary(result.ecosystem)
    except InvalidInput as exc:  # pragma: no cover - the shipped example is tested
        report_problems(exc)
    except OSError as exc:
        fail(f"cannot use workspace {path}: {exc}")
    print_summary(summary)
    from ..analysis import analyze
    from ..report import findings, html_report

    with Store.open(workspace=path) as store:
        analysis = analyze(store.snapshot(result.ecosystem))
    report = path / "northbridge-report.html"
    report.write_text(html_report(analysis), encoding="utf-8")
    console.print()
    for section in findings(analysis, top=5):
        console.print(f"[bold]{section.title}[/]")
        for line in section.lines[:2]:
            console.print(f"  {line}", highlight=False)
    console.print(f"\nThe full report: [bold]{report}[/] (open it in a browser).")
    from ..swarm import form_swarm
    from .swarm import render

    with Store.open(workspace=path) as store:
        snapshot = store.snapshot(result.ecosystem)
    opportunity = snapshot.opportunity_ids[0]
    console.print(f"\n[bold]Smart swarm[/] for the opportunity [bold]{opportunity}[/]:")
    render(form_swarm(snapshot, opportunity, top=2))
    from ._loop_demo import run_loop

    console.print(
        f"\n[bold]The loop[/] for {opportunity}: agree, deliver, account, distribute, review"
    )
    run_loop(path, result.ecosystem, opportunity)
    from .serve import DEMO_PASSWORD, demo_accounts, serve_app

    with Store.open(workspace=path) as store:
        people = demo_accounts(store, result.ecosystem)
    console.print("\n[bold]The web workspace[/]: sign in as")
    for username, role, _ in people:
        console.print(f"  {username} / {DEMO_PASSWORD}  ({role})", highlight=False)
    console.print(
        "\nNext: [bold]glia analyze Northbridge --format json[/], "
        f"[bold]glia swarm Northbridge --opportunity {opportunity} --format json[/], "
        "[bold]glia statement Northbridge[/], "
        "[bold]glia ledger list Northbridge[/], "
        "[bold]glia export Northbridge --format graphml -o northbridge.graphml[/], "
        f"with --workspace {path}."
    )
    if serve:
        serve_app(host, port, path, open_browser=True)


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(demo)
