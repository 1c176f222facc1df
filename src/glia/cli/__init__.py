"""The ``glia`` command (Typer + Rich): one module per command group.

Commands parse, call the same functions a Python user calls, and render.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import analysis, distribution, ecosystems, engage, govern, ledger, serve, swarm, tools

__all__ = ["app", "main"]

app = typer.Typer(
    name="glia",
    help="Glia: an open operating system for business ecosystems and value networks.\n\n"
    "Map an ecosystem, see it, form teams, agree, deliver, account, distribute, reflect.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"glia {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Glia: an open operating system for business ecosystems and value networks."""


ecosystems.register(app)
tools.register(app)
analysis.register(app)
swarm.register(app)
ledger.register(app)
distribution.register(app)
govern.register(app)
engage.register(app)
serve.register(app)


def main() -> None:
    """Entry point of the ``glia`` script."""
    app()
