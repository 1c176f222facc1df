"""Errors as problem details (RFC 9457): ``application/problem+json``.

Every refusal the engines and the store raise maps to one status, with the
message a person can act on as ``detail``. Input problems keep their
location (file, row, column, value, expected) in ``problems``, the same list
``--format json`` prints on the command line.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..analysis._common import AnalysisError
from ..engage import Refused
from ..govern import GovernError
from ..graph._groups import UnknownGrouping
from ..graph._multiplex import UnknownLayer
from ..ledger import DistributionError, FormulaError
from ..model import InvalidInput
from ..store import AccessError, EquationError, LedgerError, UnknownEcosystem
from ..swarm import RequestError

__all__ = ["PROBLEM_TYPE", "ApiProblem", "Problem", "install", "problem_response"]

log = logging.getLogger("glia.api")

PROBLEM_TYPE = "application/problem+json"
_BASE = "https://glia.dev/problems/"


class Problem(BaseModel):
    """A problem detail (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class ApiProblem(Exception):
    """Raise to answer with a problem: ``ApiProblem(403, "Forbidden", "why")``."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": _BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail is not None:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


#: Domain refusals: exception class -> (status, title, type slug).
_MAPPED: list[tuple[type[Exception], int, str, str]] = [
    (Refused, 409, "Refused by a rule", "refused"),
    (AccessError, 422, "Invalid account change", "invalid-account"),
    (EquationError, 422, "Invalid value equation", "invalid-equation"),
    (FormulaError, 422, "Invalid formula", "invalid-formula"),
    (DistributionError, 409, "Distribution refused", "distribution-refused"),
    (GovernError, 422, "Invalid principles or aspirations", "invalid-governance"),
    (RequestError, 422, "Invalid swarm request", "invalid-swarm-request"),
    (UnknownGrouping, 422, "Unknown grouping", "unknown-grouping"),
    (UnknownLayer, 422, "Unknown layer", "unknown-layer"),
    (AnalysisError, 422, "Analysis refused", "analysis-refused"),
]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem detail."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.detail, exc.kind, exc.headers, **exc.extensions
        )

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, exc: InvalidInput) -> JSONResponse:
        return problem_response(
            request,
            422,
            "Invalid input",
            exc.summary(),
            "invalid-input",
            problems=[p.as_dict() for p in exc.problems],
            total=exc.total,
        )

    @app.exception_handler(LedgerError)
    async def _ledger(request: Request, exc: LedgerError) -> JSONResponse:
        problems = [
            {
                "event": p.event,
                "field": p.field,
                "value": None if p.value is None else str(p.value),
                "expected": p.expected,
                "message": str(p),
            }
            for p in exc.problems
        ]
        return problem_response(
            request, 422, "Events refused", str(exc), "invalid-events", problems=problems
        )

    @app.exception_handler(UnknownEcosystem)
    async def _unknown(request: Request, exc: UnknownEcosystem) -> JSONResponse:
        # Not str(exc): it lists the names the database knows, of other ecosystems too.
        return problem_response(
            request,
            404,
            "Unknown ecosystem",
            f"no ecosystem named '{exc.name}'",
            "unknown-ecosystem",
        )

    for cls, status, title, slug in _MAPPED:

        async def _mapped(
            request: Request,
            exc: Exception,
            status: int = status,
            title: str = title,
            slug: str = slug,
        ) -> JSONResponse:
            return problem_response(request, status, title, str(exc), slug)

        app.add_exception_handler(cls, _mapped)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "location": ".".join(str(part) for part in err.get("loc", ())),
                "message": err.get("msg"),
                "type": err.get("type"),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        return problem_response(
            request, 422, "Invalid request", detail, "invalid-request", problems=problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(
            request,
            exc.status_code,
            _title(exc.status_code),
            str(exc.detail) if exc.detail else None,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            500,
            "Internal Server Error",
            "the server met an error it did not expect; it is logged",
        )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
