"""What every page shares: templates, the signed-in guard, rendering."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..access import Principal
from ..api._deps import Guard, authenticated, get_store
from ..api._problems import ApiProblem

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..store import Store

__all__ = [
    "STATIC",
    "TEMPLATES",
    "LoginRequired",
    "PageGuard",
    "analysis_of",
    "render",
    "render_error",
    "templates",
]

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES))


class LoginRequired(Exception):
    """Raised by a page when nobody is signed in: answered by a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


Handler = Callable[[Request, Any], Awaitable[Response]]


def _is_page(request: Request) -> bool:
    """Whether ``request`` is for a page (answered in HTML), not for the API or a file."""
    path = request.url.path
    return not (path.startswith("/api/") or path == "/api" or path.startswith("/static/"))


def install_login_redirect(app: FastAPI) -> None:
    """Pages: nobody signed in goes to /login; a refusal is a readable HTML page.

    The API's problem handlers (JSON, RFC 9457) stay for everything under /api:
    the page handlers below hand those requests to them.
    """

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    api_problem: Handler | None = app.exception_handlers.get(ApiProblem)  # type: ignore[assignment]
    api_http: Handler | None = app.exception_handlers.get(StarletteHTTPException)  # type: ignore[assignment]

    @app.exception_handler(ApiProblem)
    async def _problem_page(request: Request, exc: ApiProblem) -> Response:
        if not _is_page(request) and api_problem is not None:
            return await api_problem(request, exc)
        return render_error(request, exc.status, exc.title, exc.detail, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_page(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_page(request) and api_http is not None:
            return await api_http(request, exc)
        title = _phrase(exc.status_code)
        detail = str(exc.detail) if exc.detail and exc.detail != title else None
        if exc.status_code == 404 and detail is None:
            detail = "There is no page at this address."
        headers = dict(exc.headers) if exc.headers else None
        return render_error(request, exc.status_code, title, detail, headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


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
    return _respond(request, name, principal, ecosystem, status_code, context)


def _respond(
    request: Request,
    name: str,
    principal: Principal | None,
    ecosystem: str | None,
    status_code: int,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
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
    return templates.TemplateResponse(request, name, base, status_code=status_code, headers=headers)


def render_error(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The readable page of a refusal or an error (``error.html``), with its status.

    The navigation of the ecosystem in the address is shown only to someone who
    holds a role there, so a refusal does not confirm that an ecosystem exists.
    """
    cached = getattr(request.state, "principal", None)
    principal = cached if isinstance(cached, Principal) else None
    eco = request.path_params.get("eco") or request.path_params.get("ecosystem")
    ecosystem = eco if principal and isinstance(eco, str) and principal.role_in(eco) else None
    headers = {k: v for k, v in (headers or {}).items() if k.lower() != "www-authenticate"}
    return _respond(
        request,
        "error.html",
        principal,
        ecosystem,
        status,
        {"status": status, "title": title, "detail": detail},
        headers or None,
    )


# -- the analysis, kept while the ecosystem does not change ------------------------------
_ANALYSES: OrderedDict[tuple[Any, ...], Analysis] = OrderedDict()
_ANALYSES_KEPT = 4
_ANALYSIS_LOCK = threading.Lock()


def analysis_of(store: Store, ecosystem: str) -> Analysis:
    """``glia analyze`` of ``ecosystem`` with the command's defaults, kept in memory.

    At 5,000 participants the analysis takes seconds; pages show it again and
    again. It is computed again when the ecosystem is imported again (its
    ``updated_at``) or its opportunities or their needs change (the sweet spot
    reads them), which the key below covers; at most four are kept.
    """
    import hashlib

    from ..analysis import analyze
    from ..store import UnknownEcosystem

    info = next((e for e in store.list() if e.name == ecosystem), None)
    if info is None:
        raise UnknownEcosystem(ecosystem, [])
    snap = store.snapshot(ecosystem)
    digest = hashlib.sha256()
    for part in (
        "\x1f".join(snap.opportunity_ids).encode(),
        snap.opportunity_client.tobytes(),
        snap.need_opportunity.tobytes(),
        snap.need_capability.tobytes(),
        snap.need_level.tobytes(),
        snap.need_count.tobytes(),
    ):
        digest.update(part)
    key = (store.url, info.id, info.updated_at, digest.hexdigest())
    with _ANALYSIS_LOCK:
        found = _ANALYSES.get(key)
        if found is not None:
            _ANALYSES.move_to_end(key)
            return found
        result = analyze(snap)
        _ANALYSES[key] = result
        while len(_ANALYSES) > _ANALYSES_KEPT:
            _ANALYSES.popitem(last=False)
        return result
