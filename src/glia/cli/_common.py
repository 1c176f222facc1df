"""What every command shares: options, consoles, problem reports, progress."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ..io._files import atomic_output
from ..model import InvalidInput
from ..store import Store, UnknownEcosystem

__all__ = [
    "EXIT_BAD_INPUT",
    "WorkspaceOption",
    "console",
    "emit",
    "err",
    "fail",
    "load_source",
    "progress_bar",
    "report_problems",
]

#: Exit code for input the user can fix (bad file, unknown name).
EXIT_BAD_INPUT = 2

console = Console()
err = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder holding the SQLite database "
        "(default: $GLIA_WORKSPACE or ./.glia; $GLIA_DATABASE_URL overrides the database).",
        show_default=False,
    ),
]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def report_problems(exc: InvalidInput, as_json: bool = False) -> NoReturn:
    """Print every problem (stderr, or JSON on stdout) and exit with code 2."""
    if as_json:
        payload = {
            "valid": False,
            "problems": [p.as_dict() for p in exc.problems],
            "total": exc.total,
        }
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        raise typer.Exit(EXIT_BAD_INPUT)
    n = exc.total
    err.print(f"[bold red]{n} problem{'s' if n != 1 else ''} found[/]; nothing was written.")
    for problem in exc.problems:
        err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
    if n > len(exc.problems):
        err.print(f"  ... and {n - len(exc.problems)} more (only the first are listed)")
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[str, int], None]]:
    """A progress display on stderr; yields ``update(section, rows_done)``.

    Shown on terminals only; in logs and pipes it stays silent.
    """
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def update(section: str, done: int) -> None:
            if section not in tasks:
                tasks[section] = progress.add_task(f"{label} {section}", total=None)
            progress.update(tasks[section], completed=done)

        yield update


def load_source(target: str, workspace: Path | None) -> tuple[Any, Any]:
    """A snapshot from the store (by name) or records from a file (by path)."""
    path = Path(target)
    if path.exists():
        from ..io import read

        return read(path), None
    with Store.open(workspace=workspace) as store:
        try:
            snap = store.snapshot(target)
        except UnknownEcosystem as exc:
            fail(f"{exc} (and no file {target!r} exists)")
        engine = store.engine

        def attribute(name: str) -> list[Any]:
            return _attribute(engine, target, name, snap.n_participants)

        return snap, attribute


def _attribute(engine: Any, ecosystem: str, name: str, n: int) -> list[Any]:
    from sqlalchemy import select

    from ..store._reader import ecosystem_id
    from ..store._tables import participant

    values: list[Any] = [None] * n
    with engine.connect() as conn:
        eco = ecosystem_id(conn, ecosystem)
        rows = conn.execute(
            select(participant.c.idx, participant.c.attributes).where(
                participant.c.ecosystem_id == eco
            )
        )
        for idx, attrs in rows:
            if attrs and name in attrs:
                values[idx] = attrs[name]
    return values


def _joined(pieces: Iterable[str], size: int = 1 << 20) -> Iterator[str]:
    """Small pieces joined into runs of about ``size`` characters (fewer writes)."""
    run: list[str] = []
    length = 0
    for piece in pieces:
        run.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(run)
            run, length = [], 0
    if run:
        yield "".join(run)


def emit(text: str | Iterable[str], output: Path | None) -> None:
    """``text`` (or its pieces, written as they come) to ``output``, or to stdout.

    A file is written whole or not at all (:func:`atomic_output`).
    """
    pieces = [text] if isinstance(text, str) else _joined(text)
    if output is None:
        for piece in pieces:
            typer.echo(piece, nl=False)
        return
    try:
        with atomic_output(output) as out:
            for piece in pieces:
                out.write(piece)
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
    console.print(f"Wrote [bold]{output}[/]")
