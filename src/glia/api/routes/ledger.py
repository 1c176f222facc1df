"""Routes: the ledger (contributions, events, CSV import, reversal, verification),
value equations and consents, distribution, statements and the transparency report.

The same :class:`~glia.store.Store` methods as ``glia ledger``, ``glia equation``,
``glia distribute`` and ``glia statement``. Who sees an event: the swarm of its
opportunity (team and client) and the participant it is about, or, for an event of
no opportunity, that participant; in a shared-access ecosystem everyone with a role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, File, Form, Path, Query, Request, UploadFile
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from ...ledger import ACTIONS, OPPORTUNITY, DistributionError, Event, ValueEquation
from ...ledger._allocate import NOT_CONTRIBUTIONS
from ...model import InvalidInput
from ...store import ANY_OPPORTUNITY, NewEvent, Plan, StoredEquation
from .._deps import CurrentGuard, Guard
from .._pages import Page, PageParams, PageQuery, paginate
from .._problems import ApiProblem

router = APIRouter()

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: Largest CSV file of events accepted.
MAX_UPLOAD = 64 * 1024 * 1024
#: Ids in the ledger are at most this long (``glia.store._ledger.NAME_LIMIT``).
NAME_LIMIT = 200
#: A seq is a 32-bit integer in the store.
MAX_SEQ = 2**31 - 1
#: Peer adjustments in one request.
MAX_ADJUSTMENTS = 1000

_NO_NUL = r"^[^\x00]*$"

Name = Annotated[str, Field(min_length=1, max_length=NAME_LIMIT, pattern=_NO_NUL)]
PathName = Annotated[str, Path(min_length=1, max_length=NAME_LIMIT, pattern=_NO_NUL)]
QueryName = Annotated[str | None, Query(min_length=1, max_length=NAME_LIMIT, pattern=_NO_NUL)]
Text = Annotated[str, Field(min_length=1, max_length=20_000, pattern=_NO_NUL)]
#: An amount given: exact, not negative, as the store keeps it (6 places, 18 digits).
AmountIn = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6, allow_inf_nan=False)]
#: A peer adjustment, in percent.
Percent = Annotated[
    Decimal, Field(ge=-100, le=100, max_digits=12, decimal_places=6, allow_inf_nan=False)
]
Adjustments = Annotated[
    dict[Name, Percent],
    Field(
        max_length=MAX_ADJUSTMENTS,
        description="Peer adjustments: percent per participant, within the agreed bound",
    ),
]
Level = Literal["network", "opportunity", "organisation"]
#: Every action of the ledger (``glia.ledger.ACTIONS``).
ActionName = Literal[
    "work",
    "deliverService",
    "use",
    "cite",
    "transfer",
    "income",
    "payout",
    "referral",
    "introduction",
    "help",
    "allocation",
    "leave",
    "leaveAtFault",
]
#: The actions a member records for themselves; the others are the orchestrator's.
CONTRIBUTIONS = frozenset(ACTIONS) - NOT_CONTRIBUTIONS


def _plain(value: Decimal) -> str:
    """A decimal in plain notation, exactly as stored (``7.5``, never ``7.5E+0``)."""
    return format(value, "f")


#: An amount answered: text, exact.
Amount = Annotated[Decimal, PlainSerializer(_plain, return_type=str)]


# -- models ------------------------------------------------------------------------------
class EventOut(BaseModel):
    """One ledger event, with its place in the hash chain."""

    seq: int
    action: str
    agent: str
    opportunity: str | None
    quantity: Amount | None
    unit: str | None
    value: Amount | None
    currency: str | None
    note: str | None
    evidence: str | None
    reverses: int | None
    recorded_by: str
    recorded_at: dt.datetime
    prev_hash: str
    hash: str


def _event_out(e: Event) -> EventOut:
    return EventOut(
        seq=e.seq,
        action=e.action,
        agent=e.agent,
        opportunity=e.opportunity,
        quantity=e.quantity,
        unit=e.unit,
        value=e.value,
        currency=e.currency,
        note=e.note,
        evidence=e.evidence,
        reverses=e.reverses,
        recorded_by=e.recorded_by,
        recorded_at=e.recorded_at,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


class ContributionIn(BaseModel):
    """A contribution to record (``glia ledger record``)."""

    model_config = ConfigDict(extra="forbid")

    action: ActionName = Field(
        description="The kind of contribution (income, payout, allocation, leave and "
        "leaveAtFault are recorded by an orchestrator)"
    )
    participant: Name | None = Field(
        default=None,
        description="Who contributed (default: yourself; an orchestrator may name anyone)",
    )
    opportunity: Name | None = Field(default=None, description="The opportunity it serves")
    quantity: AmountIn | None = Field(default=None, description="How much, e.g. 7.5 (hours)")
    unit: Annotated[str, Field(min_length=1, max_length=60, pattern=_NO_NUL)] | None = Field(
        default=None, description="Unit of the quantity, e.g. hour"
    )
    value: AmountIn | None = Field(default=None, description="Money value")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="Currency of the value (default: the ecosystem's)"
    )
    note: Text | None = Field(default=None, description="What was done")
    evidence: Text | None = Field(default=None, description="Where to see it, e.g. a URL")
    recorded_at: AwareDatetime | None = Field(
        default=None, description="When, ISO 8601 with a zone (default: now)"
    )

    @field_validator("recorded_at")
    @classmethod
    def _in_utc_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                raise ValueError("a time that exists in UTC (years 1 to 9999)") from None
        return value


class ReverseIn(BaseModel):
    """Why an event is reversed (``glia ledger reverse``)."""

    model_config = ConfigDict(extra="forbid")

    note: Text = Field(description="Why it is reversed")
    by: Name | None = Field(
        default=None, description="Who records it (default: yourself; an orchestrator may name)"
    )


class ImportedOut(BaseModel):
    """What an import of events recorded."""

    ecosystem: str
    count: int
    first_seq: int
    last_seq: int
    last_hash: str


class BreakOut(BaseModel):
    seq: int
    kind: str = Field(description="altered, removed, reordered, relinked or added")
    message: str


class VerifyOut(BaseModel):
    """The state of the ledger's hash chain (``glia ledger verify``)."""

    ecosystem: str
    events: int
    last_hash: str = Field(description="Keep it elsewhere: the anchor of a later verification")
    intact: bool
    broken: BreakOut | None


def _safe_decimals(value: Any, where: str = "equation") -> None:
    """Refuse text with NUL characters (no database keeps them) and amounts beyond any
    sane scale (an exact split over them would not end), anywhere in an equation."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where}: text without NUL characters")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{where}: a finite number")
        digits = value.as_tuple().digits
        if value and (not -12 <= value.adjusted() <= 18 or len(digits) > 30):
            raise ValueError(f"{where}: a number between 1e-12 and 1e18, of at most 30 digits")
    elif isinstance(value, dict):
        for key, item in value.items():
            _safe_decimals(key, where)
            _safe_decimals(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _safe_decimals(item, f"{where}.{i}")


class EquationIn(BaseModel):
    """An equation to store as the next version of its level (``glia equation add``)."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    subject: Name | None = Field(
        default=None,
        description="The opportunity's id ('*': every opportunity without one) or the "
        "organisation's; none for the network",
    )
    equation: ValueEquation
    by: Name | None = Field(default=None, description="Who records it (default: yourself)")

    @model_validator(mode="after")
    def _safe(self) -> EquationIn:
        _safe_decimals(self.equation.model_dump(), "equation")
        return self


class ConsentIn(BaseModel):
    """A party's consent to a version of an equation (``glia equation consent``)."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    subject: Name | None = None
    party: Name | None = Field(
        default=None, description="Who consents (default: yourself; an orchestrator may name)"
    )
    version: int | None = Field(default=None, ge=1, le=MAX_SEQ, description="Default: latest")
    on: dt.date | None = Field(default=None, description="Date of the consent (default: today)")


class EquationOut(BaseModel):
    """One stored version of an equation, with who consented and who is still awaited."""

    level: str
    subject: str
    version: int
    label: str
    recorded_by: str
    recorded_at: dt.datetime
    waiting_for: list[str] = Field(description="Named parties who have not consented yet")
    equation: ValueEquation


def _equation_out(s: StoredEquation) -> EquationOut:
    return EquationOut(
        level=s.level,
        subject=s.subject,
        version=s.equation.version,
        label=s.label(),
        recorded_by=s.recorded_by,
        recorded_at=s.recorded_at,
        waiting_for=s.equation.waiting_for(besides=[OPPORTUNITY]),
        equation=s.equation,
    )


class ClaimOut(BaseModel):
    id: str | None
    kind: str
    claim: Amount


class PartOut(BaseModel):
    bucket: str
    claim: float
    of_claims: float
    amount: float
    capped: bool
    contributions: list[ClaimOut]


class ShareOut(BaseModel):
    agent: str
    amount: Amount
    parts: list[PartOut]


class LostOut(BaseModel):
    agent: str
    kind: str
    claim: Amount


class LevelOut(BaseModel):
    level: str
    equation: str
    version: int
    income: Amount
    shares: list[ShareOut]
    lost: list[LostOut]
    adjustments: dict[str, Amount]


class UncreditedOut(BaseModel):
    id: str | None
    agent: str
    kind: str


class AllocationOut(BaseModel):
    income: Amount
    amounts: dict[str, Amount]
    levels: list[LevelOut]
    uncredited: list[UncreditedOut]


class PlanOut(BaseModel):
    """What distributing the opportunity's undistributed income allocates, and why."""

    ecosystem: str
    opportunity: str
    income: Amount
    allocated_before: Amount
    to_distribute: Amount
    currency: str | None
    equations: list[str]
    notes: list[str]
    allocation: AllocationOut | None


def _plan_out(plan: Plan) -> PlanOut:
    return PlanOut.model_validate(plan.to_json())


class DistributeIn(BaseModel):
    """A distribution to record (``glia distribute``)."""

    model_config = ConfigDict(extra="forbid")

    by: Name | None = Field(default=None, description="Who records it (default: yourself)")
    adjustments: Adjustments = Field(default_factory=dict)


class DistributionOut(BaseModel):
    plan: PlanOut
    events: list[EventOut] = Field(description="The allocation events appended to the ledger")


class PreviewIn(BaseModel):
    """Another equation to compare with the agreed one (``glia distribute --preview
    --equation``); it needs no consent."""

    model_config = ConfigDict(extra="forbid")

    equation: ValueEquation
    adjustments: Adjustments = Field(default_factory=dict)

    @model_validator(mode="after")
    def _safe(self) -> PreviewIn:
        _safe_decimals(self.equation.model_dump(), "equation")
        return self


class ChangeOut(BaseModel):
    agent: str
    agreed: Amount
    other: Amount
    delta: Amount


class PreviewOut(BaseModel):
    """Each participant's share of the income so far, agreed equation against another."""

    opportunity: str
    income: Amount
    agreed: list[str]
    other: str
    notes: list[str]
    changes: list[ChangeOut]


class ActionTotalOut(BaseModel):
    events: int
    quantity: Amount
    value: Amount


class StatementOut(BaseModel):
    """A participant's account (``glia statement``)."""

    ecosystem: str
    participant: str
    currency: str | None
    contributions: dict[str, ActionTotalOut] = Field(description="Totals per action")
    allocated: dict[str, Amount] = Field(description="Allocated per opportunity")
    total_allocated: Amount
    paid: Amount
    balance: Amount
    contribution_events: list[EventOut]
    payouts: list[EventOut]


class ChainOut(BaseModel):
    events: int
    last_hash: str
    intact: bool
    broken: str | None


class OpportunityTotalsOut(BaseModel):
    income: Amount
    allocated: Amount
    undistributed: Amount


class ParticipantTotalsOut(BaseModel):
    contributions: Amount
    contributed_value: Amount
    allocated: Amount
    paid: Amount
    balance: Amount


class EquationConsentsOut(BaseModel):
    equation: str
    level: str
    subject: str
    version: int
    consents: dict[str, dt.date]


class TransparencyOut(BaseModel):
    """The network's transparency report (``glia statement`` without a participant)."""

    ecosystem: str
    chain: ChainOut
    opportunities: dict[str, OpportunityTotalsOut]
    participants: dict[str, ParticipantTotalsOut]
    equations: list[EquationConsentsOut]


# -- helpers -----------------------------------------------------------------------------
def _invalid(field: str, message: str) -> ApiProblem:
    """A 422 naming the field at fault, shaped as pydantic's own refusals are."""
    return ApiProblem(
        422,
        "Invalid request",
        f"{field}: {message}",
        "invalid-request",
        problems=[{"location": field, "message": message, "type": "value_error"}],
    )


def _paged(
    items: Sequence[T], page: PageParams, request: Request, out: Callable[[T], M]
) -> Page[M]:
    """The page of ``items`` asked for, only that page converted by ``out``."""
    found = paginate(items, page, request)
    return Page[M](
        items=[out(x) for x in found.items],
        total=found.total,
        limit=found.limit,
        offset=found.offset,
        next=found.next,
    )


def _equation_team(level: str, subject: str, guard: Guard, ecosystem: str) -> frozenset[str] | None:
    """Whose an equation is: an opportunity's, its swarm; any other, the common picture."""
    if level == "opportunity" and subject != ANY_OPPORTUNITY:
        return guard.team(ecosystem, subject)
    return None


def _concerned(guard: Guard, ecosystem: str, subject: str, party: str) -> bool:
    """Whether ``party`` is concerned by the equation of opportunity ``subject``: named
    by a version of it, or a contributor in the opportunity's ledger."""
    for s in guard.store.equations(ecosystem, "opportunity", subject):
        eq = s.equation
        named = {*eq.parties, *eq.consents, *eq.members}
        named |= {b.to for b in eq.buckets if b.to is not None}
        if party in named:
            return True
    return any(e.agent == party for e in guard.store.events(ecosystem, subject))


def _adjustments(items: list[str] | None) -> dict[str, Decimal]:
    """``PARTICIPANT=PERCENT`` items (as ``glia distribute --adjust``), checked."""
    out: dict[str, Decimal] = {}
    items = items or []
    if len(items) > MAX_ADJUSTMENTS:
        raise _invalid("query.adjust", f"at most {MAX_ADJUSTMENTS} adjustments")
    for item in items:
        agent, sep, text = item.partition("=")
        try:
            value = Decimal(text.strip().rstrip("%"))
        except InvalidOperation:
            value = Decimal("NaN")
        agent = agent.strip()
        if (
            not sep
            or not agent
            or len(agent) > NAME_LIMIT
            or "\x00" in agent
            or not value.is_finite()
            or not -100 <= value <= 100
        ):
            raise _invalid(
                "query.adjust",
                f"{item[:60]!r}: expected PARTICIPANT=PERCENT within -100 to 100, e.g. ann=+5",
            )
        out[agent] = value
    return out


# -- the ledger --------------------------------------------------------------------------
@router.get("/ecosystems/{ecosystem}/ledger/events", response_model=Page[EventOut], tags=["ledger"])
def list_events(
    ecosystem: str,
    guard: CurrentGuard,
    page: PageQuery,
    request: Request,
    opportunity: QueryName = None,
    participant: QueryName = None,
) -> Page[EventOut]:
    """The ledger's events in seq order, those you may see (of one opportunity, one participant)."""
    if opportunity is not None:
        guard.require_opportunity("read", ecosystem, opportunity, "ledger")
    events = guard.visible_events(ecosystem, guard.store.events(ecosystem, opportunity))
    if participant is not None:
        events = [e for e in events if e.agent == participant]
    return _paged(events, page, request, _event_out)


@router.post(
    "/ecosystems/{ecosystem}/ledger/contributions",
    response_model=EventOut,
    status_code=201,
    tags=["ledger"],
)
def record_contribution(ecosystem: str, body: ContributionIn, guard: CurrentGuard) -> EventOut:
    """Record one contribution: yours, or (orchestrator) anyone's; answers the stored event."""
    agent = guard.acting_as(ecosystem, body.participant)
    if not guard.store.has_participant(ecosystem, agent):
        raise _invalid("body.participant", f"'{agent}' is no participant of {ecosystem}")
    if body.opportunity is not None and body.opportunity not in {
        o for o, _, _ in guard.store.opportunities(ecosystem)
    }:
        raise _invalid("body.opportunity", f"'{body.opportunity}' is no opportunity of {ecosystem}")
    if body.action not in CONTRIBUTIONS:
        guard.require("manage", ecosystem, "ledger", body.action)
    if body.opportunity is not None:
        guard.require_opportunity("act", ecosystem, body.opportunity, "ledger")
    else:
        guard.require("act", ecosystem, "ledger", agent, frozenset({agent}))
    extra: dict[str, Any] = {} if body.recorded_at is None else {"recorded_at": body.recorded_at}
    event = NewEvent(
        action=body.action,
        agent=agent,
        recorded_by=guard.recorder(ecosystem),
        opportunity=body.opportunity,
        quantity=body.quantity,
        unit=body.unit,
        value=body.value,
        currency=body.currency,
        note=body.note,
        evidence=body.evidence,
        **extra,
    )
    (recorded,) = guard.store.record(ecosystem, [event])
    return _event_out(recorded)


@router.post(
    "/ecosystems/{ecosystem}/ledger/events/{seq}/reverse",
    response_model=EventOut,
    status_code=201,
    tags=["ledger"],
)
def reverse_event(
    ecosystem: str,
    seq: Annotated[int, Path(ge=1, le=MAX_SEQ, description="The event to reverse")],
    body: ReverseIn,
    guard: CurrentGuard,
) -> EventOut:
    """Reverse an event: append its opposite, quantity and value negated (orchestrator)."""
    guard.require("manage", ecosystem, "ledger", str(seq))
    by = guard.recorder(ecosystem, body.by)
    return _event_out(guard.store.reverse(ecosystem, seq, by, body.note))


@router.post(
    "/ecosystems/{ecosystem}/ledger/import",
    response_model=ImportedOut,
    status_code=201,
    tags=["ledger"],
)
def import_events(
    ecosystem: str,
    guard: CurrentGuard,
    file: Annotated[
        UploadFile,
        File(
            description="CSV: action, agent, recorded_by, opportunity, quantity, unit, "
            "value, currency, note, evidence, reverses, recorded_at"
        ),
    ],
    by: Annotated[
        str | None,
        Form(
            min_length=1,
            max_length=NAME_LIMIT,
            pattern=_NO_NUL,
            description="Who records the rows that do not say (default: yourself)",
        ),
    ] = None,
) -> ImportedOut:
    """Record a CSV file of events: all of them or, on any problem, none (orchestrator)."""
    guard.require("manage", ecosystem, "ledger")
    recorded_by = guard.recorder(ecosystem, by)
    shown = FilePath((file.filename or "").replace("\x00", "")).name or "events.csv"
    with tempfile.TemporaryDirectory(prefix="glia-events-") as tmp:
        path = FilePath(tmp) / "events.csv"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        if path.stat().st_size > MAX_UPLOAD:
            raise ApiProblem(413, "File too large", f"'{shown}' is over {MAX_UPLOAD} bytes")
        try:
            events = guard.store.import_events(ecosystem, path, recorded_by)
        except InvalidInput as exc:
            # Name the file as it was sent, not where it was put for reading.
            fixed = [
                dataclasses.replace(p, location=p.location._replace(source=shown))
                for p in exc.problems
            ]
            raise InvalidInput(fixed, exc.total) from None
    return ImportedOut(
        ecosystem=ecosystem,
        count=len(events),
        first_seq=events[0].seq,
        last_seq=events[-1].seq,
        last_hash=events[-1].hash,
    )


@router.get("/ecosystems/{ecosystem}/ledger/verify", response_model=VerifyOut, tags=["ledger"])
def verify_ledger(ecosystem: str, guard: CurrentGuard) -> VerifyOut:
    """Check the hash chain: intact, or the first altered, removed or reordered event."""
    guard.require("read", ecosystem, "ledger")
    result = guard.store.check_ledger(ecosystem)
    broken = result.broken
    return VerifyOut(
        ecosystem=ecosystem,
        events=result.events,
        last_hash=result.last_hash,
        intact=broken is None,
        broken=None
        if broken is None
        else BreakOut(seq=broken.seq, kind=broken.kind, message=broken.message),
    )


# -- value equations ---------------------------------------------------------------------
@router.get(
    "/ecosystems/{ecosystem}/equations", response_model=Page[EquationOut], tags=["equations"]
)
def list_equations(
    ecosystem: str,
    guard: CurrentGuard,
    page: PageQuery,
    request: Request,
    level: Level | None = None,
    subject: QueryName = None,
) -> Page[EquationOut]:
    """Every version of the equations you may see, with who consented and when."""
    guard.require("read", ecosystem, "equation")
    stored = guard.store.equations(ecosystem)
    shown = [
        s
        for s in stored
        if (level is None or s.level == level)
        and (subject is None or s.subject == subject)
        and guard.allowed(
            "read",
            ecosystem,
            "equation",
            s.subject,
            _equation_team(s.level, s.subject, guard, ecosystem),
        )
    ]
    return _paged(shown, page, request, _equation_out)


@router.post(
    "/ecosystems/{ecosystem}/equations",
    response_model=EquationOut,
    status_code=201,
    tags=["equations"],
)
def add_equation(ecosystem: str, body: EquationIn, guard: CurrentGuard) -> EquationOut:
    """Store an equation as the next version of its level and subject (orchestrator)."""
    guard.require("manage", ecosystem, "equation", body.subject or "")
    by = guard.recorder(ecosystem, body.by)
    stored = guard.store.add_equation(ecosystem, body.level, body.subject, body.equation, by)
    return _equation_out(stored)


@router.post(
    "/ecosystems/{ecosystem}/equations/consent",
    response_model=EquationOut,
    status_code=201,
    tags=["equations"],
)
def consent_equation(ecosystem: str, body: ConsentIn, guard: CurrentGuard) -> EquationOut:
    """Consent to a version of an equation: yours, or (orchestrator) a party's."""
    party = guard.acting_as(ecosystem, body.party)
    subject = (body.subject or "").strip()
    team = _equation_team(body.level, subject, guard, ecosystem)
    if team is None:
        team = frozenset({party})
    elif party not in team and _concerned(guard, ecosystem, subject, party):
        team = team | {party}
    guard.require("act", ecosystem, "equation", subject, team)
    stored = guard.store.consent(
        ecosystem,
        body.level,
        body.subject,
        party,
        guard.recorder(ecosystem),
        body.on,
        body.version,
    )
    return _equation_out(stored)


# -- distribution ------------------------------------------------------------------------
@router.get(
    "/ecosystems/{ecosystem}/distribution/{opportunity}/plan",
    response_model=PlanOut,
    tags=["distribution"],
)
def plan_distribution(
    ecosystem: str,
    opportunity: PathName,
    guard: CurrentGuard,
    adjust: Annotated[
        list[str] | None,
        Query(description="Peer adjustment PARTICIPANT=PERCENT, e.g. ann=+5 (repeatable)"),
    ] = None,
) -> PlanOut:
    """What distributing the opportunity's undistributed income would allocate (nothing written)."""
    guard.require_opportunity("read", ecosystem, opportunity, "distribution")
    adjustments = _adjustments(adjust)
    return _plan_out(guard.store.plan_distribution(ecosystem, opportunity, adjustments))


@router.post(
    "/ecosystems/{ecosystem}/distribution/{opportunity}",
    response_model=DistributionOut,
    status_code=201,
    tags=["distribution"],
)
def distribute(
    ecosystem: str,
    opportunity: PathName,
    guard: CurrentGuard,
    body: Annotated[DistributeIn | None, Body()] = None,
) -> DistributionOut:
    """Distribute the income not yet shared: records allocation events (orchestrator)."""
    guard.require("manage", ecosystem, "distribution", opportunity)
    given = body or DistributeIn()
    by = guard.recorder(ecosystem, given.by)
    plan, events = guard.store.distribute(ecosystem, opportunity, by, given.adjustments)
    return DistributionOut(plan=_plan_out(plan), events=[_event_out(e) for e in events])


@router.post(
    "/ecosystems/{ecosystem}/distribution/{opportunity}/preview",
    response_model=PreviewOut,
    tags=["distribution"],
)
def preview_distribution(
    ecosystem: str, opportunity: PathName, body: PreviewIn, guard: CurrentGuard
) -> PreviewOut:
    """Each participant's share under another equation against the agreed one (nothing written)."""
    guard.require_opportunity("read", ecosystem, opportunity, "distribution")
    result = guard.store.preview(ecosystem, opportunity, body.equation, body.adjustments)
    data = result.to_json()
    return PreviewOut(
        opportunity=data["opportunity"],
        income=data["income"],
        agreed=data["agreed"],
        other=f"{body.equation.name} v{body.equation.version}",
        notes=data["notes"],
        changes=[ChangeOut.model_validate(c) for c in data["changes"]],
    )


# -- statements --------------------------------------------------------------------------
@router.get(
    "/ecosystems/{ecosystem}/statements/{participant}",
    response_model=StatementOut,
    tags=["distribution"],
)
def statement(ecosystem: str, participant: PathName, guard: CurrentGuard) -> StatementOut:
    """A participant's account: yours, or anyone's in a shared-access ecosystem."""
    guard.require("read", ecosystem, "statement", participant, frozenset({participant}))
    try:
        result = guard.store.statement(ecosystem, participant)
    except DistributionError as exc:
        raise ApiProblem(404, "Unknown participant", str(exc), "unknown-participant") from None
    data = result.to_json()
    return StatementOut(
        **data,
        contribution_events=[_event_out(e) for e in result.contributions],
        payouts=[_event_out(e) for e in result.payouts],
    )


@router.get(
    "/ecosystems/{ecosystem}/transparency", response_model=TransparencyOut, tags=["distribution"]
)
def transparency(ecosystem: str, guard: CurrentGuard) -> TransparencyOut:
    """The network's transparency report (shared-access, or the orchestrator)."""
    guard.require("read", ecosystem, "transparency", team=frozenset())
    return TransparencyOut.model_validate(guard.store.transparency(ecosystem).to_json())
