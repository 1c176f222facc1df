"""Pages: signing in and out, the ecosystems, the dashboard, the map, a participant,
the analysis.

Each page asks the same guard as the API (``guard.require("read", eco, ...)``)
and calls the same Store methods and engines as the command line; a refusal
is answered as a readable page (see :func:`glia.web._common.render_error`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

import numpy as np
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..analysis import AnalysisError
from ..api._deps import SESSION_COOKIE, Guard, authenticated
from ..api._problems import ApiProblem
from ..api.routes.auth import SESSION_HOURS
from ..api.routes.maps import map_data, participant_detail
from ..engage import STAGES
from ._common import PageGuard, analysis_of, render

router = APIRouter()

#: Commitments and aspirations due within this many days count as "due soon".
SOON_DAYS = 14


# -- signing in and out -----------------------------------------------------------------
def _local(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", next=_local(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Sign in with a password: the same session cookie as ``POST /api/v1/auth/session``."""
    store = request.app.state.store
    account = store.authenticate(username, password) if username and password else None
    if account is None:
        return render(
            request,
            "login.html",
            status_code=401,
            message="Unknown username or wrong password.",
            username=username,
            next=_local(next),
        )
    secret, _csrf = store.open_session(account.username, SESSION_HOURS)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_HOURS * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the browser session (the form carries the session's CSRF token)."""
    try:
        await authenticated(request)  # checks the CSRF token of the form
    except ApiProblem as exc:
        if exc.status != 401:
            raise
    else:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            request.app.state.store.close_session(secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- ecosystems and the dashboard -------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request, guard: PageGuard) -> Response:
    """The ecosystems the viewer holds a role in; with only one, its dashboard."""
    mine = guard.principal.roles
    items = [
        {
            "name": info.name,
            "role": mine[info.name].role,
            "counts": info.counts,
            "updated_at": info.updated_at,
        }
        for info in guard.store.list()
        if info.name in mine
    ]
    if len(items) == 1:
        return RedirectResponse(f"/e/{_quote(items[0]['name'])}", status_code=303)
    return render(request, "home.html", guard, items=items)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@dataclass
class Attention:
    """What the dashboard asks the viewer to look at, each list only what they may read."""

    agreements: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    ledger: dict[str, Any] | None = None
    aspirations: list[dict[str, Any]] | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.agreements
            or self.commitments
            or (self.ledger and not self.ledger["intact"])
            or self.aspirations
        )


def _attention(guard: Guard, eco: str, today: dt.date, me: str | None) -> Attention:
    store = guard.store
    found = Attention()
    names = {oid: name for oid, name, _ in store.opportunities(eco)}
    for opp in guard.visible_opportunities(eco, list(names)):
        if not guard.allowed("read", eco, "agreement", opp, guard.team(eco, opp)):
            continue
        versions = store.agreements(eco, opp)
        if versions and versions[-1].waiting_for:
            latest = versions[-1]
            found.agreements.append(
                {
                    "opportunity": opp,
                    "name": names[opp] or opp,
                    "version": latest.version,
                    "waiting_for": latest.waiting_for,
                    "yours": me in latest.waiting_for,
                }
            )
    soon = today + dt.timedelta(days=SOON_DAYS)
    for c in store.commitments(eco):
        if not c.active or c.due is None or c.due > soon:
            continue
        team = guard.team(eco, c.opportunity) if c.opportunity else frozenset()
        team = team | {c.debtor, c.creditor}
        if not guard.allowed("read", eco, "commitment", str(c.number), team):
            continue
        found.commitments.append(
            {
                "number": c.number,
                "debtor": c.debtor,
                "creditor": c.creditor,
                "consequent": c.consequent,
                "due": c.due,
                "overdue": c.overdue(today),
                "days": (c.due - today).days,
                "opportunity": c.opportunity,
                "yours": me in (c.debtor, c.creditor),
            }
        )
    found.commitments.sort(key=lambda c: (c["due"], c["number"]))
    # The whole ledger's status: for those who may read every swarm's records.
    if guard.allowed("read", eco, "ledger", "", frozenset()):
        check = store.check_ledger(eco)
        found.ledger = {
            "events": check.events,
            "intact": check.intact,
            "message": check.broken.message if check.broken else None,
            "last_hash": check.last_hash,
        }
    if guard.allowed("read", eco, "aspirations"):
        found.aspirations = [
            {
                "key": a.key,
                "text": a.text,
                "next_review": a.next_review,
                "due": a.due(today),
                "days": a.overdue_days(today),
            }
            for a in store.aspirations(eco)
            if a.next_review <= soon
        ]
    return found


def _health(guard: Guard, eco: str) -> dict[str, Any] | None:
    """Figures of the network and of its money flows (``glia analyze``'s health)."""
    if not guard.allowed("read", eco, "analysis"):
        return None
    from scipy.sparse import csgraph

    from ..analysis import health, money_flows
    from ..graph import build

    snap = guard.store.snapshot(eco)
    if snap.n_participants == 0:
        return None
    mx = build(snap)
    combined = mx.combined
    _, parts = csgraph.connected_components(combined.edge_matrix, directed=False)
    largest = int(np.bincount(parts).max()) if len(parts) else 0
    figures: dict[str, Any] = {
        "participants": mx.n,
        "ties": combined.n_edges,
        "mean_degree": 2 * combined.n_edges / mx.n,
        "connected_share": largest / mx.n,
        "exchanges": len(snap.exchange_source),
        "alpha": None,
    }
    if len(snap.exchange_source):
        try:
            h = health(mx, money_flows(snap))
        except AnalysisError as exc:
            figures["note"] = str(exc)
        else:
            label = {
                pid: (name or pid)
                for pid, name in zip(snap.participant_ids, snap.participant_names, strict=True)
            }
            alpha = float(h.sustainability.alpha)
            figures.update(
                alpha=alpha if math.isfinite(alpha) else None,
                robustness=float(h.sustainability.robustness),
                keystones=[label.get(k, k) for k in h.keystones],
                dominators=[label.get(d, d) for d in h.dominators],
                niches=h.niche_count,
                verdict=_verdict(alpha),
            )
    return figures


def _verdict(alpha: float) -> str:
    """The report's reading of alpha (Ulanowicz's window of vitality)."""
    if not math.isfinite(alpha):
        return "too few flows to judge"
    if alpha < 1 / math.e:
        return "redundant: many parallel paths, little organisation"
    return "efficient but brittle: few paths carry the value"


@router.get("/e/{eco}", response_class=HTMLResponse)
def dashboard(request: Request, eco: str, guard: PageGuard) -> HTMLResponse:
    """The dashboard: counts, health, and what needs attention."""
    guard.require("read", eco, "ecosystem", eco)
    store = guard.store
    summary = store.summary(eco)
    today = dt.date.today()
    role = guard.principal.role_in(eco)
    me = role.participant if role else None
    stages = Counter(stage for _, _, stage in store.opportunities(eco))
    return render(
        request,
        "dashboard.html",
        guard,
        eco,
        summary=summary,
        counts=summary.info.counts,
        stages=sorted(stages.items(), key=lambda kv: _STAGE_ORDER.get(kv[0], 99)),
        health=_health(guard, eco),
        attention=_attention(guard, eco, today, me),
        today=today,
        soon_days=SOON_DAYS,
        access=guard.access(eco),
    )


_STAGE_ORDER = {s: i for i, s in enumerate(STAGES)}


# -- the map, a participant, the analysis -----------------------------------------------
@router.get("/e/{eco}/map", response_class=HTMLResponse)
def map_page(request: Request, eco: str, guard: PageGuard) -> HTMLResponse:
    """The interactive map (sigma.js, WebGL): layers, size by a measure, search."""
    guard.require("read", eco, "map")
    return render(request, "map.html", guard, eco, api=f"/api/v1/ecosystems/{_quote(eco)}/map")


@router.get("/e/{eco}/participants/{pid}", response_class=HTMLResponse)
def participant_page(request: Request, eco: str, pid: str, guard: PageGuard) -> HTMLResponse:
    """One participant: capabilities, clusters, ties by layer, measures."""
    guard.require("read", eco, "map")
    data = map_data(guard.store, eco)
    detail = participant_detail(data, pid)
    by_layer: dict[str, list[Any]] = {"formal": [], "informal": [], "exchange": []}
    for tie in detail.ties:
        by_layer[tie.layer].append(tie)
    ranks = {
        m: int((values > values[data.index[pid]]).sum()) + 1 for m, values in data.measures.items()
    }
    return render(
        request,
        "participant.html",
        guard,
        eco,
        p=detail,
        by_layer=by_layer,
        ranks=ranks,
        n=data.n,
    )


@router.get("/e/{eco}/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, eco: str, guard: PageGuard) -> HTMLResponse:
    """The analysis report's sections, each with its picture, meaning and advice."""
    guard.require("read", eco, "analysis")
    from ..report import findings

    try:
        result = analysis_of(guard.store, eco)
    except AnalysisError as exc:
        return render(request, "analysis.html", guard, eco, sections=[], refused=str(exc))
    return render(
        request,
        "analysis.html",
        guard,
        eco,
        sections=findings(result),
        settings=result.settings,
        refused=None,
    )
