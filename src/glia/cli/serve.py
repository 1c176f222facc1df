"""Commands for the web: ``glia serve``, ``glia user ...``, ``glia access``."""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..access import ACCESS_MODES, ROLES
from ..store import AccessError, Store, UnknownEcosystem
from ._common import WorkspaceOption, console, fail

__all__ = ["DEMO_PASSWORD", "register", "serve_app"]

#: The password of the demo's accounts (a demo on loopback only; printed by ``glia demo``).
DEMO_PASSWORD = "northbridge-demo"

user_app = typer.Typer(
    name="user", help="Accounts of the web workspace and the API.", no_args_is_help=True
)


def serve_app(
    host: str, port: int, workspace: Path | None, url: str | None = None, open_browser: bool = False
) -> None:
    """Serve the API and the workspace with uvicorn until interrupted."""
    import uvicorn

    from ..api import create_app

    app = create_app(url=url, workspace=workspace)
    address = f"http://{host}:{port}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            f"[yellow]Serving on {host}: put it behind HTTPS before anyone signs in "
            "over a network.[/]"
        )
    console.print(f"Glia workspace: [bold]{address}[/]  API: {address}api/v1/docs  (Ctrl+C stops)")
    if open_browser and (os.environ.get("DISPLAY") or sys.platform in ("darwin", "win32")):
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(address,)).start()
    uvicorn.run(app, host=host, port=port, log_level="info")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the web workspace and the REST API (/api/v1).

    The database is the workspace's SQLite file, or $GLIA_DATABASE_URL.
    Make an account first: glia user add NAME --admin.

    Example: glia serve --port 8080
    """
    serve_app(host, port, workspace)


def _store(workspace: Path | None) -> Store:
    return Store.open(workspace=workspace)


def _password(given: str | None, stdin: bool) -> str:
    if given:
        return given
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        fail("the passwords differ")
    return first


def add(
    username: Annotated[str, typer.Argument(help="The name to sign in with.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="May import new ecosystems through the API.")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(
            "--password", help="The password (else asked, or read with --password-stdin)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Create an account (the password is stored argon2-hashed).

    Example: glia user add ben --name "Ben Okafor" --admin
    """
    secret = _password(password, password_stdin)
    try:
        with _store(workspace) as store:
            store.create_account(username, secret, name, admin)
    except AccessError as exc:
        fail(str(exc))
    console.print(f"Account [bold]{escape(username)}[/] created.")


def grant(
    username: Annotated[str, typer.Argument(help="Account.")],
    ecosystem: Annotated[str, typer.Argument(help="Ecosystem name.")],
    role: Annotated[str, typer.Argument(help=f"One of: {', '.join(ROLES)}.")],
    participant: Annotated[
        str | None,
        typer.Option("--participant", "-p", help="The participant of the map this account is."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Give an account a role in an ecosystem.

    Example: glia user grant grace Northbridge member --participant grace
    """
    try:
        with _store(workspace) as store:
            store.grant(username, ecosystem, role, participant)
    except (AccessError, UnknownEcosystem) as exc:
        fail(str(exc))
    who = f" as participant {participant}" if participant else ""
    console.print(f"{escape(username)} is now {role} of {escape(ecosystem)}{escape(who)}.")


def revoke(
    username: Annotated[str, typer.Argument(help="Account.")],
    ecosystem: Annotated[str, typer.Argument(help="Ecosystem name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Take away an account's role in an ecosystem."""
    try:
        with _store(workspace) as store:
            store.revoke(username, ecosystem)
    except (AccessError, UnknownEcosystem) as exc:
        fail(str(exc))
    console.print(f"{escape(username)} holds no role in {escape(ecosystem)} now.")


def token(
    username: Annotated[str, typer.Argument(help="Account.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "script",
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="Lifetime in days (default: none).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Make an API token for scripts (printed once; send it as 'Authorization: Bearer ...')."""
    try:
        with _store(workspace) as store:
            secret = store.issue_token(username, name, days)
    except AccessError as exc:
        fail(str(exc))
    typer.echo(secret)


def list_members(
    ecosystem: Annotated[str, typer.Argument(help="Ecosystem name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """The accounts with a role in an ecosystem."""
    try:
        with _store(workspace) as store:
            found = store.members(ecosystem)
            mode = store.access_mode(ecosystem)
    except UnknownEcosystem as exc:
        fail(str(exc))
    table = Table("account", "name", "role", "participant", title=f"{ecosystem} ({mode})")
    for m in found:
        table.add_row(
            escape(m.username), escape(m.display_name or ""), m.role, escape(m.participant or "")
        )
    console.print(table)


def access(
    ecosystem: Annotated[str, typer.Argument(help="Ecosystem name.")],
    mode: Annotated[
        str | None, typer.Argument(help=f"One of: {', '.join(ACCESS_MODES)} (omit to show).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who sets it.")] = "cli",
    workspace: WorkspaceOption = None,
) -> None:
    """Show or set how much members see: shared-access (everything, the ledger included)
    or controlled-access (what their swarms touch).

    Example: glia access Northbridge controlled-access --by ben
    """
    try:
        with _store(workspace) as store:
            if mode is not None:
                store.set_access(ecosystem, mode, by)
            current = store.access_mode(ecosystem)
    except (AccessError, UnknownEcosystem) as exc:
        fail(str(exc))
    console.print(f"{escape(ecosystem)}: {current}")


def demo_accounts(store: Store, ecosystem: str) -> list[tuple[str, str, str | None]]:
    """The demo's accounts: Ben orchestrates, Grace is a member, Olga observes."""
    people = [
        ("ben", "orchestrator", "ben"),
        ("grace", "member", "grace"),
        ("olga", "observer", None),
    ]
    known = {m.username for m in store.members(ecosystem)}
    for username, role, participant in people:
        if username not in known:
            # An account kept from an earlier demo is only given its role again.
            with contextlib.suppress(AccessError):
                store.create_account(
                    username, DEMO_PASSWORD, username.title(), admin=role == "orchestrator"
                )
        store.grant(username, ecosystem, role, participant)
    return people


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(access)
    user_app.command()(add)
    user_app.command()(grant)
    user_app.command()(revoke)
    user_app.command()(token)
    user_app.command("list")(list_members)
    app.add_typer(user_app)
