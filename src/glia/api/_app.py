"""The application: the REST API under ``/api/v1`` and the web workspace under ``/``."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from .. import __version__
from ..access import Authorizer
from ..store import Store
from . import _problems
from ._deps import ecosystem_scope
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


class Health(BaseModel):
    status: str
    version: str


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
    _problems.install(app)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(ecosystem_scope)])

    @api.get("/health", tags=["service"], response_model=Health)
    def health() -> Health:
        """Whether the service answers (no sign-in, no database): for monitors."""
        return Health(status="ok", version=__version__)

    for router in ROUTERS:
        api.include_router(router)
    app.include_router(api)
    if web:
        from ..web import install as install_web

        install_web(app)
    return app
