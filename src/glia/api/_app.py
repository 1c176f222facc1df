"""The application: the REST API under ``/api/v1`` and the web workspace under ``/``."""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from .. import __version__
from ..access import Authorizer
from ..store import Store
from . import _problems
from ._deps import ecosystem_scope
from ._problems import PROBLEM_TYPE, Problem
from .routes import ROUTERS

__all__ = ["API_PREFIX", "Health", "create_app"]

API_PREFIX = "/api/v1"

DESCRIPTION = """
Glia's REST API: everything the `glia` command does, for scripts and the web workspace.

Sign in with an API token (`Authorization: Bearer glia_...`, made with `glia user token`
or `POST /api/v1/tokens`) or a browser session (`POST /api/v1/auth/session`; writes then
carry the `X-CSRF-Token` header). Lists take `limit` and `offset`. Errors are problem
details (RFC 9457, `application/problem+json`).
"""


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": schema}}}


#: Every operation may answer these, as problem details (RFC 9457).
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("Not signed in, or the token or session has ended"),
    403: _problem("Your role may not do this"),
    404: _problem("Not found, or an ecosystem you hold no role in"),
    409: _problem("Refused by a rule (a stage's guard, a commitment's state); nothing changed"),
    422: _problem("Invalid input: every problem, with where and what was expected"),
}


class Health(BaseModel):
    status: str
    version: str


def _add_problem_schema(app: FastAPI) -> None:
    """Complete the OpenAPI description: the Problem schema that ``_PROBLEMS`` refers
    to, and each operation's summary from its docstring's first line."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    # The docstring's first line is the summary (FastAPI would use the
                    # function's name); the rest stays the description.
                    first, _, rest = (operation.get("description") or "").partition("\n")
                    if first.strip():
                        operation["summary"] = first.strip()
                        operation["description"] = rest.strip() or first.strip()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    store: Store | None = None,
    *,
    url: str | None = None,
    workspace: str | os.PathLike[str] | Path | None = None,
    web: bool = True,
) -> FastAPI:
    """The Glia application on ``store`` (or the database at ``url`` / the workspace)."""
    app = FastAPI(
        title="Glia",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.store = store if store is not None else Store.open(url, workspace=workspace)
    app.state.authorizer = Authorizer()
    # The analysis engines import networkit (and scikit-learn), seconds of imports:
    # paid in the background at start, not by the first person who opens the map.
    threading.Thread(target=importlib.import_module, args=("glia.analysis",), daemon=True).start()
    _problems.install(app)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(ecosystem_scope)], responses=_PROBLEMS)

    @api.get("/health", tags=["service"], response_model=Health)
    def health() -> Health:
        """Whether the service answers (no sign-in, no database): for monitors."""
        return Health(status="ok", version=__version__)

    for router in ROUTERS:
        api.include_router(router)
    app.include_router(api)
    _add_problem_schema(app)
    if web:
        from ..web import install as install_web

        install_web(app)
    return app
