"""Pages: the swarm builder, the engagement board, the ledger, governance.

Server-rendered with Jinja2; the interactive parts are HTMX forms. Every write
is an ``hx-post`` to a route here that asks the same :class:`~glia.api.Guard`
as the API, calls the same :class:`~glia.store.Store` method as the command
line, and answers the updated HTML fragment. A refusal by a rule (a pipeline
guard, a ledger check, a bad principles file) comes back as a readable message
in that fragment, and nothing changes; a refusal by the guard answers 403 (or
404 where the caller holds no role) with the reason. A plain form post, with
JavaScript off, gets the whole page back instead of the fragment.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..access import Action
from ..api._deps import Guard
from ..api._problems import ApiProblem
from ..engage import ACTIVE, OPERATIONS, STAGES, Commitment, Refused, apply
from ..govern import GovernError, read_principles
from ..ledger import ACTIONS, DistributionError, FormulaError, ValueEquation
from ..ledger._allocate import NOT_CONTRIBUTIONS
from ..model import NO_VALUE, InvalidInput, format_value
from ..store import EquationError, LedgerError, NewEvent, Snapshot, UnknownEcosystem
from ..swarm import RequestError, Swarm, form_swarm, parse_need
from ._common import PageGuard, render, render_error, templates

__all__ = ["router"]

router = APIRouter()


def _path_part(value: object) -> str:
    """A value quoted as one segment of a path (ids may hold spaces, ``?``, ``#``)."""
    return quote(str(value), safe="")


templates.env.filters["pathpart"] = _path_part

#: The kinds of contribution a member records (glia.ledger's actions that count
#: as contributions); an orchestrator may also record income, payouts and leaving.
CONTRIBUTION_KINDS = tuple(a for a in ACTIONS if a not in NOT_CONTRIBUTIONS)
ORCHESTRATOR_KINDS = tuple(a for a in ACTIONS if a != "allocation")
#: Commitment operations offered as buttons (delegate and assign need a new party).
BUTTON_OPERATIONS = tuple(op for op in OPERATIONS if op not in ("delegate", "assign"))
#: How many need rows the swarm builder offers.
NEED_ROWS = 3
#: Most events the ledger page lists.
RECENT_EVENTS = 50
#: Longest principles text accepted from the page.
MAX_PRINCIPLES_TEXT = 200_000

Text = Annotated[str, Form(max_length=MAX_PRINCIPLES_TEXT)]


# -- what every route here shares ------------------------------------------------------------
def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refusal(request: Request, guard: Guard, ecosystem: str, exc: ApiProblem) -> HTMLResponse:
    """The guard's refusal as HTML: a fragment for HTMX, the error page otherwise."""
    if not _htmx(request):
        return render_error(request, exc.status, exc.title, exc.detail)
    eco = ecosystem if guard.principal.role_in(ecosystem) else None
    return render(
        request,
        "work/_problem.html",
        guard,
        eco,
        status_code=exc.status,
        problem_title=exc.title,
        problem_detail=exc.detail or exc.title,
    )


def _html_errors(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Answer an :class:`ApiProblem` raised by the route as HTML, not JSON."""

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Response:
        try:
            return fn(**kwargs)
        except ApiProblem as exc:
            return _refusal(kwargs["request"], kwargs["guard"], kwargs["ecosystem"], exc)
        except UnknownEcosystem as exc:
            problem = ApiProblem(404, "Unknown ecosystem", f"no ecosystem named '{exc.name}'")
            return _refusal(kwargs["request"], kwargs["guard"], kwargs["ecosystem"], problem)

    return wrapper


def _may(guard: Guard, action: Action, ecosystem: str, kind: str, id: str = "") -> bool:
    return guard.allowed(action, ecosystem, kind, id)


def _answer(
    request: Request,
    guard: Guard,
    ecosystem: str,
    page: str,
    fragment: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    """The fragment for HTMX, the whole page for a plain form post."""
    name = fragment if _htmx(request) else page
    return render(request, name, guard, ecosystem, status_code=status_code, **context)


def _decimal(label: str, text: str | None) -> tuple[Decimal | None, str | None]:
    """A decimal from a form field, or the problem in words (as ``glia ledger record`` says)."""
    if text is None or not text.strip():
        return None, None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None, f"{label} {text.strip()!r}: expected a decimal number such as 7.5"
    if not value.is_finite():
        return None, f"{label} {text.strip()!r}: expected a finite decimal number"
    return value, None


def _problems(exc: InvalidInput) -> list[str]:
    """Every problem of ``exc`` by item, line and field (the file is the text typed)."""
    out = []
    for p in exc.problems:
        loc = p.location
        where = [
            f"item {loc.row}" if loc.row is not None else "",
            f"line {loc.line}" if loc.line else "",
        ]
        where.append(p.column or "")
        said = f"expected {p.expected}"
        if p.value is not NO_VALUE:
            said = f"got {format_value(p.value)}, {said}"
        head = ", ".join(w for w in where if w)
        out.append(f"{head}: {said}" if head else said)
    if exc.total > len(exc.problems):
        out.append(f"... and {exc.total - len(exc.problems)} more")
    return out


# -- the swarm builder -----------------------------------------------------------------------
def _swarm_request(request: Request) -> tuple[str | None, list[str], str | None, list[str]]:
    """(opportunity, needs as CAP:LEVEL:COUNT, region, problems) from the query string."""
    q = request.query_params
    opportunity = (q.get("opportunity") or "").strip() or None
    region = (q.get("region") or "").strip() or None
    needs: list[str] = []
    problems: list[str] = []
    for i in range(1, NEED_ROWS + 1):
        cap = (q.get(f"capability{i}") or "").strip()
        if not cap:
            continue
        level = (q.get(f"level{i}") or "1").strip() or "1"
        count = (q.get(f"count{i}") or "1").strip() or "1"
        text = f"{cap}:{level}:{count}"
        try:
            parse_need(text)
        except RequestError as exc:
            problems.append(str(exc))
            continue
        needs.append(text)
    return opportunity, needs, region, problems


def _form_teams(
    guard: Guard,
    snapshot: Snapshot,
    opportunity: str | None,
    needs: list[str],
    region: str | None,
) -> tuple[Swarm, dict[str, float]]:
    """The same engine call as ``glia swarm NAME``: the store's snapshot, and the
    hours already promised in open commitments (of participants still on the map)."""
    ecosystem = snapshot.ecosystem
    known = set(snapshot.participant_ids)
    committed = {
        who: h for who, h in sorted(guard.store.committed_hours(ecosystem).items()) if who in known
    }
    result = form_swarm(snapshot, opportunity, needs, region=region, committed=committed)
    return result, committed


def _swarm_context(guard: Guard, ecosystem: str, request: Request) -> dict[str, Any]:
    opportunities = guard.store.opportunities(ecosystem)
    snapshot = guard.store.snapshot(ecosystem)
    opportunity, needs, region, problems = _swarm_request(request)
    asked = "opportunity" in request.query_params or bool(needs) or bool(problems)
    result: Swarm | None = None
    committed: dict[str, float] = {}
    if asked and not problems:
        if opportunity is None and not needs:
            problems.append("say what the team is for: choose an opportunity or state a need")
        else:
            try:
                result, committed = _form_teams(guard, snapshot, opportunity, needs, region)
            except (RequestError, InvalidInput) as exc:
                problems.append(str(exc))
    stage = dict((o, s) for o, _, s in opportunities)
    can_pick = (
        result is not None
        and result.request.opportunity is not None
        and stage.get(result.request.opportunity) in ("lead", "qualified", "swarming")
        and _may(guard, "manage", ecosystem, "team", result.request.opportunity)
    )
    q = request.query_params
    return {
        "opportunities": opportunities,
        "capabilities": snapshot.capabilities,
        "regions": snapshot.regions,
        "chosen": opportunity,
        "region": region,
        "need_rows": [
            {
                "i": i,
                "capability": q.get(f"capability{i}") or "",
                "level": q.get(f"level{i}") or "",
                "count": q.get(f"count{i}") or "",
            }
            for i in range(1, NEED_ROWS + 1)
        ],
        "asked": asked,
        "result": result,
        "committed": committed,
        "problems": problems,
        "can_pick": can_pick,
    }


@router.get("/e/{ecosystem}/swarm", response_class=HTMLResponse)
@_html_errors
def swarm_page(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """The swarm builder: choose an opportunity or state needs, see the teams."""
    guard.require("read", ecosystem, "swarm")
    context = _swarm_context(guard, ecosystem, request)
    return render(request, "work/swarm.html", guard, ecosystem, **context)


@router.get("/e/{ecosystem}/swarm/teams", response_class=HTMLResponse)
@_html_errors
def swarm_teams(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """The teams the swarm engine proposes (the fragment the builder's form asks for)."""
    guard.require("read", ecosystem, "swarm")
    context = _swarm_context(guard, ecosystem, request)
    return _answer(request, guard, ecosystem, "work/swarm.html", "work/_teams.html", context)


@router.post("/e/{ecosystem}/opportunities/{opportunity}/team", response_class=HTMLResponse)
@_html_errors
def pick_team(
    ecosystem: str,
    opportunity: str,
    request: Request,
    guard: PageGuard,
    member: Annotated[list[str] | None, Form(max_length=200)] = None,
) -> Response:
    """Pick a team the builder proposed for an opportunity (orchestrator)."""
    guard.require_writer(ecosystem)
    guard.require("manage", ecosystem, "team", opportunity)
    members = list(dict.fromkeys(m.strip() for m in member or [] if m.strip()))
    context: dict[str, Any] = {"opportunity": opportunity, "picked": None, "error": None}
    status = 200
    try:
        context["picked"] = guard.store.pick_team(
            ecosystem, opportunity, dict.fromkeys(members), guard.recorder(ecosystem)
        )
    except Refused as exc:
        context["error"], status = str(exc), 409
    return _answer(
        request, guard, ecosystem, "work/picked.html", "work/_picked.html", context, status
    )


# -- the engagement board ----------------------------------------------------------------------
def _today() -> dt.date:
    return dt.date.today()


def _commitment_visible(guard: Guard, ecosystem: str, c: Commitment) -> bool:
    if c.opportunity:
        team = guard.team(ecosystem, c.opportunity)
        return guard.allowed("read", ecosystem, "commitment", c.opportunity, team)
    team = frozenset({c.debtor, c.creditor})
    return guard.allowed("read", ecosystem, "commitment", str(c.number), team)


@router.get("/e/{ecosystem}/board", response_class=HTMLResponse)
@_html_errors
def board_page(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """The engagement board: opportunities by stage, consents and commitments waiting."""
    guard.require("read", ecosystem, "pipeline")
    rows = guard.store.opportunities(ecosystem)
    visible = set(guard.visible_opportunities(ecosystem, [o for o, _, _ in rows]))
    states = {o: guard.store.opportunity(ecosystem, o) for o, _, _ in rows if o in visible}
    columns = [
        (stage, [states[o] for o, _, s in rows if s == stage and o in states])
        for stage in STAGES
        if stage not in ("lost", "cancelled") or any(s == stage for o, _, s in rows if o in states)
    ]
    me = guard.principal.participant_in(ecosystem)
    waiting = []
    if me:
        for o in states:
            versions = guard.store.agreements(ecosystem, o)
            if versions and me in versions[-1].waiting_for:
                waiting.append((states[o], versions[-1]))
    everyone = _may(guard, "manage", ecosystem, "commitment")
    today = _today()
    due = [
        c
        for c in guard.store.commitments(ecosystem)
        if c.state in ACTIVE
        and c.due is not None
        and (everyone or me in (c.debtor, c.creditor))
        and _commitment_visible(guard, ecosystem, c)
    ]
    due.sort(key=lambda c: (not c.overdue(today), c.due, c.number))
    hidden = len(rows) - len(states)
    return render(
        request,
        "work/board.html",
        guard,
        ecosystem,
        columns=columns,
        hidden=hidden,
        waiting=waiting,
        due=due,
        today=today,
    )


def _operations(c: Commitment, me: str | None, today: dt.date) -> list[str]:
    """The operations ``me`` may perform on ``c`` now (the engine's own rules, dry run)."""
    if me is None:
        return []
    out = []
    for op in BUTTON_OPERATIONS:
        try:
            apply(c, op, me, today)
        except Refused:
            continue
        out.append(op)
    return out


def _opportunity_context(
    guard: Guard,
    ecosystem: str,
    opportunity: str,
    notice: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    guard.require_opportunity("read", ecosystem, opportunity)
    store = guard.store
    try:
        state = store.opportunity(ecosystem, opportunity)
    except Refused as exc:
        raise ApiProblem(404, "Not Found", str(exc), "unknown-opportunity") from None
    versions = store.agreements(ecosystem, opportunity)
    me = guard.principal.participant_in(ecosystem)
    acts = guard.allowed(
        "act", ecosystem, "agreement", opportunity, guard.team(ecosystem, opportunity)
    )
    manages = _may(guard, "manage", ecosystem, "opportunity", opportunity)
    today = _today()
    commitments = store.commitments(ecosystem, opportunity=opportunity)
    latest = versions[-1] if versions else None
    if latest is None:
        consent_for: list[str] = []
    elif manages:
        consent_for = list(latest.waiting_for)
    elif acts and me in latest.waiting_for:
        consent_for = [me] if me else []
    else:
        consent_for = []
    return {
        "opp": state,
        "versions": versions,
        "latest": latest,
        "consent_for": consent_for,
        "me": me,
        "commitments": [(c, _operations(c, me, today) if acts else []) for c in commitments],
        "today": today,
        "manages": manages,
        "notice": notice,
        "error": error,
        "ledger_readable": guard.allowed(
            "read", ecosystem, "ledger", opportunity, guard.team(ecosystem, opportunity)
        ),
    }


@router.get("/e/{ecosystem}/opportunities/{opportunity}", response_class=HTMLResponse)
@_html_errors
def opportunity_page(
    ecosystem: str, opportunity: str, request: Request, guard: PageGuard
) -> Response:
    """One opportunity: history, team, agreement and consents, commitments, next stages."""
    context = _opportunity_context(guard, ecosystem, opportunity)
    return render(request, "work/opportunity.html", guard, ecosystem, **context)


def _opportunity_answer(
    request: Request,
    guard: Guard,
    ecosystem: str,
    opportunity: str,
    notice: str | None,
    error: str | None,
    status: int,
) -> HTMLResponse:
    context = _opportunity_context(guard, ecosystem, opportunity, notice, error)
    return _answer(
        request,
        guard,
        ecosystem,
        "work/opportunity.html",
        "work/_opportunity.html",
        context,
        status,
    )


@router.post("/e/{ecosystem}/opportunities/{opportunity}/advance", response_class=HTMLResponse)
@_html_errors
def advance(
    ecosystem: str,
    opportunity: str,
    request: Request,
    guard: PageGuard,
    stage: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Move the opportunity to its next stage, if the stage's guard allows (orchestrator)."""
    guard.require_writer(ecosystem)
    guard.require("manage", ecosystem, "opportunity", opportunity)
    notice = error = None
    status = 200
    try:
        state = guard.store.advance(ecosystem, opportunity, stage, guard.recorder(ecosystem))
        notice = f"{opportunity} is {state.stage} now."
    except Refused as exc:
        error, status = str(exc), 409
    return _opportunity_answer(request, guard, ecosystem, opportunity, notice, error, status)


@router.post("/e/{ecosystem}/opportunities/{opportunity}/consent", response_class=HTMLResponse)
@_html_errors
def consent(
    ecosystem: str,
    opportunity: str,
    request: Request,
    guard: PageGuard,
    party: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Consent to the latest version of the agreement (a party; the orchestrator may
    record a party's consent on their behalf)."""
    guard.require_writer(ecosystem)
    guard.require_opportunity("act", ecosystem, opportunity, "agreement")
    who = guard.acting_as(ecosystem, party.strip() or None)
    notice = error = None
    status = 200
    try:
        done = guard.store.consent_agreement(ecosystem, opportunity, who, guard.recorder(ecosystem))
        waiting = ", ".join(done.waiting_for) or "nobody: every party consented"
        notice = f"{who} consented to version {done.version}; waiting for {waiting}."
    except (Refused, EquationError) as exc:
        error, status = str(exc), 409
    return _opportunity_answer(request, guard, ecosystem, opportunity, notice, error, status)


@router.post(
    "/e/{ecosystem}/opportunities/{opportunity}/commitments/{number}",
    response_class=HTMLResponse,
)
@_html_errors
def operate(
    ecosystem: str,
    opportunity: str,
    number: int,
    request: Request,
    guard: PageGuard,
    operation: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Apply an operation to one of the opportunity's commitments, as its debtor or creditor."""
    guard.require_writer(ecosystem)
    guard.require_opportunity("act", ecosystem, opportunity, "commitment")
    who = guard.acting_as(ecosystem)
    mine = {c.number for c in guard.store.commitments(ecosystem, opportunity=opportunity)}
    notice = error = None
    status = 200
    if number not in mine:
        error, status = f"{opportunity} has no commitment C{number}", 404
    elif operation not in BUTTON_OPERATIONS:
        error = f"{operation!r}: expected one of {', '.join(BUTTON_OPERATIONS)}"
        status = 422
    else:
        try:
            after = guard.store.operate(ecosystem, number, operation, who)
            notice = f"C{number} is {after.state} now."
        except Refused as exc:
            error, status = str(exc), 409
    return _opportunity_answer(request, guard, ecosystem, opportunity, notice, error, status)


# -- the ledger --------------------------------------------------------------------------------
def _ledger_context(
    guard: Guard,
    ecosystem: str,
    notice: str | None = None,
    error: str | None = None,
    problems: Iterable[str] = (),
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    store = guard.store
    me = guard.principal.participant_in(ecosystem)
    manages = _may(guard, "manage", ecosystem, "ledger")
    try:
        guard.require_writer(ecosystem)
        writer = True
    except ApiProblem:
        writer = False
    actable = [
        (o, name)
        for o, name, _ in store.opportunities(ecosystem)
        if guard.allowed("act", ecosystem, "ledger", o, guard.team(ecosystem, o))
    ]
    own = me is not None and guard.allowed("act", ecosystem, "ledger", team=frozenset({me}))
    can_record = writer and (manages or own)
    events = guard.visible_events(ecosystem, store.events(ecosystem))
    chain = None
    if guard.allowed("read", ecosystem, "ledger", team=frozenset()):
        chain = store.check_ledger(ecosystem)
    people = sorted({e.agent for e in events} | ({me} if me else set()))
    statements = [
        p for p in people if guard.allowed("read", ecosystem, "statement", p, frozenset({p}))
    ]
    participants: list[str] = []
    if manages:
        participants = list(store.snapshot(ecosystem).participant_ids)
    return {
        "me": me,
        "manages": manages,
        "can_record": can_record,
        "actable": actable,
        "kinds": ORCHESTRATOR_KINDS if manages else CONTRIBUTION_KINDS,
        "participants": participants,
        "events": list(reversed(events[-RECENT_EVENTS:])),
        "visible_events": len(events),
        "chain": chain,
        "statements": statements,
        "distributions": sorted({e.opportunity for e in events if e.opportunity}),
        "notice": notice,
        "error": error,
        "problems": list(problems),
        "form": dict(form or {}),
    }


@router.get("/e/{ecosystem}/ledger", response_class=HTMLResponse)
@_html_errors
def ledger_page(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """The ledger: record a contribution, the recent events you may see, the chain."""
    guard.require("read", ecosystem, "ecosystem", ecosystem)
    return render(
        request, "work/ledger.html", guard, ecosystem, **_ledger_context(guard, ecosystem)
    )


@router.post("/e/{ecosystem}/ledger", response_class=HTMLResponse)
@_html_errors
def record_contribution(
    ecosystem: str,
    request: Request,
    guard: PageGuard,
    opportunity: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=100)] = "",
    hours: Annotated[str, Form(max_length=100)] = "",
    amount: Annotated[str, Form(max_length=100)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    participant: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record a contribution in the ledger, as ``glia ledger record`` does."""
    guard.require_writer(ecosystem)
    agent = guard.acting_as(ecosystem, participant.strip() or None)
    opp = opportunity.strip() or None
    if opp is not None:
        guard.require_opportunity("act", ecosystem, opp, "ledger")
    else:
        guard.require("act", ecosystem, "ledger", team=frozenset({agent}))
    if kind not in CONTRIBUTION_KINDS:
        guard.require("manage", ecosystem, "ledger", kind)
    form = {
        "opportunity": opportunity,
        "kind": kind,
        "hours": hours,
        "amount": amount,
        "description": description,
        "participant": participant,
    }
    quantity, bad_hours = _decimal("Hours", hours)
    value, bad_amount = _decimal("Amount", amount)
    problems = [p for p in (bad_hours, bad_amount) if p]
    notice = error = None
    status = 200
    if not problems:
        event = NewEvent(
            action=kind,
            agent=agent,
            recorded_by=guard.recorder(ecosystem),
            opportunity=opp,
            quantity=quantity,
            unit="hour" if quantity is not None else None,
            value=value,
            note=description.strip() or None,
        )
        try:
            (recorded,) = guard.store.record(ecosystem, [event])
        except LedgerError as exc:
            error = "Nothing was recorded:"
            problems = [p.describe() for p in exc.problems] or [str(exc)]
            status = 422
        else:
            notice = f"Recorded event {recorded.seq} ({recorded.action} by {recorded.agent})."
            form = {}
    else:
        error, status = "Nothing was recorded:", 422
    context = _ledger_context(guard, ecosystem, notice, error, problems, form)
    return _answer(
        request, guard, ecosystem, "work/ledger.html", "work/_ledger.html", context, status
    )


@router.get("/e/{ecosystem}/statements/{participant}", response_class=HTMLResponse)
@_html_errors
def statement_page(
    ecosystem: str, participant: str, request: Request, guard: PageGuard
) -> Response:
    """A participant's statement: contributions, allocations, payouts, balance."""
    guard.require("read", ecosystem, "statement", participant, frozenset({participant}))
    try:
        statement = guard.store.statement(ecosystem, participant)
    except DistributionError as exc:
        raise ApiProblem(404, "Not Found", str(exc), "unknown-participant") from None
    return render(request, "work/statement.html", guard, ecosystem, statement=statement)


def _distribution_context(guard: Guard, ecosystem: str, opportunity: str) -> dict[str, Any]:
    guard.require_opportunity("read", ecosystem, opportunity, "distribution")
    try:
        state = guard.store.opportunity(ecosystem, opportunity)
    except Refused as exc:
        raise ApiProblem(404, "Not Found", str(exc), "unknown-opportunity") from None
    plan = None
    refused = None
    try:
        plan = guard.store.plan_distribution(ecosystem, opportunity)
    except (DistributionError, EquationError, FormulaError) as exc:
        refused = str(exc)
    return {"opp": state, "plan": plan, "refused": refused}


@router.get("/e/{ecosystem}/distribution/{opportunity}", response_class=HTMLResponse)
@_html_errors
def distribution_page(
    ecosystem: str, opportunity: str, request: Request, guard: PageGuard
) -> Response:
    """The distribution plan of an opportunity's undistributed income."""
    context = _distribution_context(guard, ecosystem, opportunity)
    return render(request, "work/distribution.html", guard, ecosystem, **context)


@router.post("/e/{ecosystem}/distribution/{opportunity}/preview", response_class=HTMLResponse)
@_html_errors
def distribution_preview(
    ecosystem: str,
    opportunity: str,
    request: Request,
    guard: PageGuard,
    equation: Text = "",
) -> Response:
    """Each participant's share under another equation against the agreed one (writes nothing)."""
    context = _distribution_context(guard, ecosystem, opportunity)
    preview = None
    problems: list[str] = []
    status = 200
    try:
        data = yaml.safe_load(equation) if equation.strip() else None
    except yaml.YAMLError as exc:
        data, problems = None, [f"not valid YAML ({exc})"]
    if not problems and not isinstance(data, dict):
        problems = ["expected a mapping with name, buckets and formulas"]
    if not problems:
        try:
            other = ValueEquation.model_validate(data)
            preview = guard.store.preview(ecosystem, opportunity, other)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(x) for x in err['loc']) or '(top)'}: {err['msg']}"
                for err in exc.errors()
            ]
        except (DistributionError, EquationError, FormulaError) as exc:
            problems = [str(exc)]
    if problems:
        status = 422
    context.update(preview=preview, problems=problems, equation=equation)
    return _answer(
        request,
        guard,
        ecosystem,
        "work/distribution.html",
        "work/_preview.html",
        context,
        status,
    )


# -- governance ---------------------------------------------------------------------------------
def principles_yaml(principles: Iterable[Any]) -> str:
    """Principles in the format of ``examples/principles.yaml`` (``glia principles set``)."""
    items = []
    for p in principles:
        item: dict[str, Any] = {"key": p.key, "text": p.text}
        if p.rule is not None:
            rule = dict(p.rule)
            item["rule"] = {"check": rule.pop("check"), **rule}
        items.append(item)
    if not items:
        return "principles:\n  - key: \n    text: \n"
    return yaml.safe_dump({"principles": items}, sort_keys=False, allow_unicode=True, width=100)


def _governance_context(
    guard: Guard,
    ecosystem: str,
    notice: str | None = None,
    problems: Sequence[str] = (),
    text: str | None = None,
) -> dict[str, Any]:
    store = guard.store
    principles = store.principles(ecosystem)
    results = {r.principle.key: r for r in store.check_principles(ecosystem)}
    today = _today()
    aspirations = store.aspirations(ecosystem)
    return {
        "principles": [(p, results.get(p.key)) for p in principles],
        "aspirations": sorted(aspirations, key=lambda a: (a.next_review, a.key)),
        "today": today,
        "manages": _may(guard, "manage", ecosystem, "principles"),
        "review_readable": guard.allowed("read", ecosystem, "review", team=frozenset()),
        "principles_text": principles_yaml(principles) if text is None else text,
        "notice": notice,
        "error": _nothing_saved(len(problems)) if problems else None,
        "problems": list(problems),
    }


def _nothing_saved(n: int) -> str:
    return f"{n} problem{'s' if n != 1 else ''} found; nothing was saved."


@router.get("/e/{ecosystem}/governance", response_class=HTMLResponse)
@_html_errors
def governance_page(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """Principles with their checks, aspirations and which are due."""
    guard.require("read", ecosystem, "principles")
    context = _governance_context(guard, ecosystem)
    return render(request, "work/governance.html", guard, ecosystem, **context)


@router.post("/e/{ecosystem}/principles", response_class=HTMLResponse)
@_html_errors
def save_principles(
    ecosystem: str, request: Request, guard: PageGuard, principles: Text = ""
) -> Response:
    """Replace the principles with those written as YAML, all or nothing (orchestrator)."""
    guard.require_writer(ecosystem)
    guard.require("manage", ecosystem, "principles")
    notice = None
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="glia-principles-") as tmp:
        path = Path(tmp) / "principles.yaml"
        path.write_text(principles, encoding="utf-8")
        try:
            items = read_principles(path)
        except InvalidInput as exc:
            problems = _problems(exc)
    if not problems:
        try:
            stored = guard.store.set_principles(ecosystem, items, guard.recorder(ecosystem))
        except GovernError as exc:
            problems = [str(exc)]
        else:
            checked = sum(p.rule is not None for p in stored)
            notice = (
                f"Saved {len(stored)} principles: {checked} checked, "
                f"{len(stored) - checked} in words only."
            )
    context = _governance_context(
        guard, ecosystem, notice, problems, principles if problems else None
    )
    return _answer(
        request,
        guard,
        ecosystem,
        "work/governance.html",
        "work/_governance.html",
        context,
        422 if problems else 200,
    )


def _review_context(
    guard: Guard, ecosystem: str, notice: str | None = None, error: str | None = None
) -> dict[str, Any]:
    guard.require("read", ecosystem, "review", team=frozenset())
    pack = guard.store.review(ecosystem)
    return {
        "pack": pack,
        "manages": _may(guard, "manage", ecosystem, "review"),
        "notice": notice,
        "error": error,
    }


@router.get("/e/{ecosystem}/review", response_class=HTMLResponse)
@_html_errors
def review_page(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """The review pack: what changed, sweet spot, health, fairness, principles, aspirations."""
    context = _review_context(guard, ecosystem)
    return render(request, "work/review.html", guard, ecosystem, **context)


@router.post("/e/{ecosystem}/review", response_class=HTMLResponse)
@_html_errors
def record_review(ecosystem: str, request: Request, guard: PageGuard) -> Response:
    """Hold the review: store its figures and mark the aspirations due (orchestrator)."""
    guard.require_writer(ecosystem)
    guard.require("manage", ecosystem, "review")
    notice = error = None
    status = 200
    try:
        pack = guard.store.record_review(ecosystem, guard.recorder(ecosystem))
        due = ", ".join(a.key for a in pack.due) or "none"
        notice = (
            f"Recorded review {pack.number} on {pack.today.isoformat()}; "
            f"aspirations reviewed: {due}."
        )
    except GovernError as exc:
        error, status = str(exc), 409
    context = _review_context(guard, ecosystem, notice, error)
    return _answer(
        request, guard, ecosystem, "work/review.html", "work/_review.html", context, status
    )
