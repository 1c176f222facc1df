"""Routes: signing in and out, who am I, API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from ...access import Principal
from .._deps import SESSION_COOKIE, authenticated, get_store
from .._problems import ApiProblem

router = APIRouter(tags=["auth"])

SESSION_HOURS = 12.0


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class SessionOut(BaseModel):
    username: str
    csrf: str = Field(description="Send as the X-CSRF-Token header with every write")
    expires_in: int = Field(description="Seconds")


class RoleOut(BaseModel):
    ecosystem: str
    role: str
    participant: str | None


class Me(BaseModel):
    username: str
    display_name: str | None
    admin: bool
    roles: list[RoleOut]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What the token is for")
    days: int | None = Field(default=None, ge=1, le=3650, description="Lifetime; none: no end")


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="Shown once: only its hash is kept")


def me_of(principal: Principal) -> Me:
    return Me(
        username=principal.username,
        display_name=principal.display_name,
        admin=principal.admin,
        roles=[
            RoleOut(ecosystem=eco, role=role.role, participant=role.participant)
            for eco, role in sorted(principal.roles.items())
        ],
    )


@router.post("/auth/session", response_model=SessionOut, responses={401: {}})
def sign_in(body: Credentials, request: Request, response: Response) -> SessionOut:
    """Sign in with a password: sets the session cookie and returns the CSRF token."""
    store = get_store(request)
    account = store.authenticate(body.username, body.password)
    if account is None:
        raise ApiProblem(
            401, "Unauthorized", "unknown username or wrong password", "bad-credentials"
        )
    secret, csrf = store.open_session(account.username, SESSION_HOURS)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_HOURS * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return SessionOut(username=account.username, csrf=csrf, expires_in=int(SESSION_HOURS * 3600))


@router.delete("/auth/session", status_code=204, responses={401: {}})
def sign_out(
    request: Request,
    response: Response,
    _principal: Annotated[Principal, Depends(authenticated)],
) -> Response:
    """End the browser session (or revoke the bearer token used)."""
    store = get_store(request)
    header = request.headers.get("authorization", "")
    secret = header.partition(" ")[2].strip() if header else request.cookies.get(SESSION_COOKIE)
    if secret:
        store.close_session(secret)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, responses={401: {}})
def me(principal: Annotated[Principal, Depends(authenticated)]) -> Me:
    """The signed-in account and its role in each ecosystem."""
    return me_of(principal)


@router.post("/tokens", response_model=TokenOut, status_code=201, responses={401: {}})
def new_token(
    body: TokenIn,
    request: Request,
    principal: Annotated[Principal, Depends(authenticated)],
) -> TokenOut:
    """A new API token for scripts, for the signed-in account."""
    token = get_store(request).issue_token(principal.username, body.name, body.days)
    return TokenOut(name=body.name, token=token)
