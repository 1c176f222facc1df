"""What every page shares: templates, the signed-in guard, rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..api._deps import Guard, authenticated, get_store
from ..api._problems import ApiProblem

__all__ = ["STATIC", "TEMPLATES", "LoginRequired", "PageGuard", "render", "templates"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES))


class LoginRequired(Exception):
    """Raised by a page when nobody is signed in: answered by a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def install_login_redirect(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)


async def page_guard(request: Request) -> Guard:
    """The guard of a page; nobody signed in (or a session ended) goes to /login."""
    try:
        principal = await authenticated(request)
    except ApiProblem as exc:
        if exc.status == 401:
            raise LoginRequired(request.url.path) from exc
        raise
    return Guard(get_store(request), principal, request.app.state.authorizer)


PageGuard = Annotated[Guard, Depends(page_guard)]


def render(
    request: Request,
    name: str,
    guard: Guard | None = None,
    ecosystem: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` with the page's common context.

    Every template sees ``principal``, ``csrf`` (for forms and HTMX headers),
    ``ecosystem`` (the current one, or ``None``), ``role`` (the principal's role
    there) and ``ecosystems`` (the names the principal holds a role in).
    """
    principal = guard.principal if guard else None
    role = principal.role_in(ecosystem) if principal and ecosystem else None
    base = {
        "principal": principal,
        "csrf": getattr(request.state, "csrf", None),
        "ecosystem": ecosystem,
        "role": role.role if role else None,
        "me": role.participant if role else None,
        "ecosystems": sorted(principal.roles) if principal else [],
    }
    base.update(context)
    return templates.TemplateResponse(request, name, base, status_code=status_code)
