"""The web workspace: server-rendered pages (Jinja2 + HTMX) over the same Store.

Pages sign in with the browser session of the API (:mod:`glia.api._deps`) and
ask the same :class:`~glia.api.Guard` before showing or changing anything.
The JavaScript (HTMX, sigma.js, graphology) is shipped in ``static/vendor``:
a user needs no build step.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ._common import STATIC, install_login_redirect

__all__ = ["STATIC", "install"]


def install(app: FastAPI) -> None:
    """Mount the workspace's pages and static files on ``app``."""
    from . import _pages, _work

    app.mount("/static", StaticFiles(directory=Path(STATIC)), name="static")
    install_login_redirect(app)
    app.include_router(_pages.router, include_in_schema=False)
    app.include_router(_work.router, include_in_schema=False)
