"""What every route is handed: the store, who is asking, and the guard.

A request is signed in by an API token (``Authorization: Bearer glia_...``)
or by the browser's session cookie. A write made with the cookie must carry
the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf``), so
another site cannot make a signed-in browser write.

:class:`Guard` asks the :class:`~glia.access.Authorizer` before anything is
read or written. A refusal in an ecosystem where the caller holds no role
answers 404, as for an ecosystem that does not exist, so names do not leak
from one ecosystem to another; otherwise 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ..access import AccessMode, Action, Authorizer, Principal, Resource, Role
from ..ledger import Event
from ..store import Store
from ._problems import ApiProblem

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentGuard",
    "Guard",
    "authenticated",
    "ecosystem_scope",
    "get_store",
]

SESSION_COOKIE = "glia_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _unauthenticated(detail: str) -> ApiProblem:
    return ApiProblem(
        401, "Unauthorized", detail, "unauthenticated", headers={"WWW-Authenticate": "Bearer"}
    )


async def authenticated(request: Request) -> Principal:
    """The principal of this request, from its bearer token or session cookie."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    store = get_store(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthenticated("expected 'Authorization: Bearer <token>'")
        found = store.principal_for(secret.strip(), "api")
        if found is None:
            raise _unauthenticated("the token is unknown, revoked or expired")
        principal = found[0]
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise _unauthenticated("sign in: an API token (Bearer) or a browser session")
        found = store.principal_for(cookie, "session")
        if found is None:
            raise _unauthenticated("the session has ended; sign in again")
        principal, csrf = found
        request.state.csrf = csrf
        if request.method not in _SAFE:
            sent = request.headers.get(CSRF_HEADER)
            if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get("csrf")
                sent = value if isinstance(value, str) else None
            if not csrf or sent != csrf:
                raise ApiProblem(
                    403,
                    "Forbidden",
                    "a write from the browser needs the session's CSRF token",
                    "csrf",
                )
    request.state.principal = principal
    return principal


@dataclass
class Guard:
    """Authorization for one request: ``guard.require("read", eco, "ledger", team=...)``."""

    store: Store
    principal: Principal
    authorizer: Authorizer
    _access: dict[str, AccessMode] = field(default_factory=dict)
    _teams: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)

    def access(self, ecosystem: str) -> AccessMode:
        if ecosystem not in self._access:
            self._access[ecosystem] = self.store.access_mode(ecosystem)
        return self._access[ecosystem]

    def teams(self, ecosystem: str) -> dict[str, frozenset[str]]:
        """Every opportunity's swarm (team and client) in ``ecosystem``."""
        if ecosystem not in self._teams:
            self._teams[ecosystem] = self.store.teams(ecosystem)
        return self._teams[ecosystem]

    def team(self, ecosystem: str, opportunity: str) -> frozenset[str]:
        return self.teams(ecosystem).get(opportunity, frozenset())

    def allowed(
        self,
        action: Action,
        ecosystem: str,
        kind: str,
        id: str = "",
        team: frozenset[str] | None = None,
    ) -> bool:
        if self.principal.role_in(ecosystem) is None:
            return False
        resource = Resource(ecosystem, kind, id, team)
        return self.authorizer.allowed(self.principal, action, resource, self.access(ecosystem))

    def require_role(self, ecosystem: str) -> Role:
        """The caller's role in ``ecosystem``; without one a 404, as for an ecosystem
        that does not exist, so names do not leak from one ecosystem to another."""
        role = self.principal.role_in(ecosystem)
        if role is None:
            raise ApiProblem(
                404,
                "Unknown ecosystem",
                f"no ecosystem named '{ecosystem}' that you hold a role in",
                "unknown-ecosystem",
            )
        return role

    def require(
        self,
        action: Action,
        ecosystem: str,
        kind: str,
        id: str = "",
        team: frozenset[str] | None = None,
    ) -> None:
        """Go on when allowed; otherwise raise a 404 (no role there) or 403 problem."""
        role = self.require_role(ecosystem)
        if not self.allowed(action, ecosystem, kind, id, team):
            what = f"{kind} '{id}'" if id else kind
            raise ApiProblem(
                403,
                "Forbidden",
                f"{_article(role.role)} {role.role} of '{ecosystem}' may not {action} {what}",
                "forbidden",
            )

    def require_opportunity(
        self, action: Action, ecosystem: str, opportunity: str, kind: str = "opportunity"
    ) -> None:
        """``require`` for a thing of one opportunity's swarm (its ledger, agreement...)."""
        self.require(action, ecosystem, kind, opportunity, self.team(ecosystem, opportunity))

    def visible_opportunities(self, ecosystem: str, ids: list[str]) -> list[str]:
        """Those of ``ids`` whose swarm's records the principal may read."""
        return [
            o
            for o in ids
            if self.allowed("read", ecosystem, "opportunity", o, self.team(ecosystem, o))
        ]

    def require_writer(self, ecosystem: str) -> None:
        """Go on when the caller's role may write anything in ``ecosystem`` at all (an
        orchestrator, or a member acting for their own participant); otherwise 404 (no
        role there) or 403 (an observer, say)."""
        role = self.require_role(ecosystem)
        own = frozenset({role.participant}) if role.participant else frozenset()
        if not (
            self.allowed("manage", ecosystem, "ecosystem", ecosystem)
            or self.allowed("act", ecosystem, "any", team=own)
        ):
            raise ApiProblem(
                403,
                "Forbidden",
                f"{_article(role.role)} {role.role} of '{ecosystem}' may not write there",
                "forbidden",
            )

    def recorder(self, ecosystem: str, given: str | None = None) -> str:
        """Who records a write: ``given`` (an orchestrator's choice; others may name only
        themselves), else the caller's participant, else their username."""
        if given:
            return self.acting_as(ecosystem, given)
        return self.principal.participant_in(ecosystem) or self.principal.username

    def visible_events(self, ecosystem: str, events: Iterable[Event]) -> list[Event]:
        """Those of ``events`` the caller may read: each belongs to its opportunity's
        swarm and its participant (an event of no opportunity, to its participant alone).

        The policies decide by the team, so each team is asked about once.
        """
        teams = self.teams(ecosystem)
        decided: dict[frozenset[str], bool] = {}
        out = []
        for e in events:
            swarm = teams.get(e.opportunity, frozenset()) if e.opportunity else frozenset()
            team = swarm | {e.agent}
            ok = decided.get(team)
            if ok is None:
                ok = decided[team] = self.allowed("read", ecosystem, "ledger", str(e.seq), team)
            if ok:
                out.append(e)
        return out

    def acting_as(self, ecosystem: str, given: str | None = None) -> str:
        """The participant a write is made as.

        A member or observer acts as the participant their account is; only an
        orchestrator may name another (``given``), to record on someone's behalf.
        """
        role = self.principal.role_in(ecosystem)
        own = role.participant if role else None
        if role is not None and role.role == "orchestrator" and given:
            return given
        if given and given != own:
            raise ApiProblem(
                403,
                "Forbidden",
                f"only an orchestrator may act as another participant ('{given}')",
                "forbidden",
            )
        if own is None:
            raise ApiProblem(
                422,
                "No participant",
                f"your account is no participant of '{ecosystem}'; an orchestrator links it "
                "with `glia user grant --participant`",
                "no-participant",
            )
        return own


async def ecosystem_scope(request: Request) -> None:
    """Applied to every API route: a route under ``/ecosystems/{ecosystem}`` first checks
    that the caller holds a role there (404 otherwise), and for a write that the role
    may write anything there at all (an observer may not: 403), before the request's
    body is even read. The route itself then asks about the precise resource.
    """
    name = request.path_params.get("ecosystem")
    if name is None:
        return
    principal = await authenticated(request)
    scope = Guard(get_store(request), principal, request.app.state.authorizer)
    if request.method in _SAFE:
        scope.require_role(name)
    else:
        scope.require_writer(name)


def guard(
    request: Request,
    principal: Annotated[Principal, Depends(authenticated)],
) -> Guard:
    return Guard(get_store(request), principal, request.app.state.authorizer)


CurrentGuard = Annotated[Guard, Depends(guard)]
