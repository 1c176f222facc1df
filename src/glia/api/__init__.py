"""Glia's REST API (FastAPI), under ``/api/v1``.

Routes are thin: each parses, asks the :class:`~glia.api._deps.Guard`, calls
the same :class:`~glia.store.Store` methods and engines as the ``glia``
command, and answers JSON, or a problem detail (RFC 9457) on refusal.

>>> from glia.api import create_app
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     app = create_app(workspace=tmp, web=False)
...     paths = app.openapi()["paths"]
...     app.state.store.close()
>>> "/api/v1/ecosystems" in paths
True
"""

from ._app import API_PREFIX, create_app
from ._deps import CSRF_HEADER, SESSION_COOKIE, CurrentGuard, Guard
from ._pages import Page, PageQuery, paginate
from ._problems import ApiProblem, Problem

__all__ = [
    "API_PREFIX",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "ApiProblem",
    "CurrentGuard",
    "Guard",
    "Page",
    "PageQuery",
    "Problem",
    "create_app",
    "paginate",
]
