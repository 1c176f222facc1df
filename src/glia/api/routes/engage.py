"""Routes: the engagement, from a lead to a reviewed opportunity.

What ``glia opportunity``, ``glia agreement``, ``glia commitment`` and ``glia
conversation`` do, on the same :class:`~glia.store.Store` methods. A rule of the
engagement that says no (a pipeline guard, an operation by the wrong party, a
message out of protocol order) answers 409 and changes nothing.

Who may do what:

- reading an opportunity, its agreement, its loop, a commitment or a
  conversation is reading what one swarm touches (its team and client, the
  commitment's debtor and creditor, the conversation's two sides): in a
  controlled-access ecosystem a member sees only their own swarms';
- the orchestrator's writes (``manage``): creating, advancing, picking a team,
  drafting an agreement, sweeping the commitments;
- a member's writes on their own swarms (``act``): consenting, commitments and
  their operations, conversations; the store then enforces which party may
  perform which operation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ...engage import (
    COMMITMENT_STATES,
    OPERATIONS,
    STAGES,
    TEMPLATES,
    Agreement,
    Commitment,
    Refused,
)
from ...model import Opportunity
from ...store import Conversation, OpportunityState, Owed, StoredAgreement
from .._deps import CurrentGuard, Guard
from .._pages import Page, PageQuery, paginate
from .._problems import ApiProblem

__all__ = [
    "Amount",
    "Slug",
    "Words",
    "check_values",
    "router",
]

router = APIRouter()

# -- input types: what the databases accept (PostgreSQL refuses NUL, VARCHAR(200)) --------
_SLUG = r"^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
_NO_NUL = r"^[^\x00]*$"

Slug = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_SLUG)]
"""An id as the map writes it: a participant, an opportunity (1-200 characters)."""
Words = Annotated[str, StringConstraints(max_length=20_000, pattern=_NO_NUL)]
"""Text in words (why, a note)."""
Amount = Annotated[
    Decimal, Field(allow_inf_nan=False, max_digits=24, decimal_places=6, ge=-(10**18), le=10**18)
]
"""Money: an exact decimal, at most 18 digits before the point and 6 after."""
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Hours = Annotated[float, Field(ge=0, le=168, description="Hours per week")]

OpportunityId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=_SLUG, description="The opportunity's id")
]
Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="The commitment's number")]
ConversationNumber = Annotated[
    int, Path(ge=1, le=2**31 - 1, description="The conversation's number")
]
Today = Annotated[
    dt.date | None,
    Query(description="The day to judge due dates by (default: today)"),
]

Stage = Literal[
    "lead",
    "qualified",
    "swarming",
    "agreed",
    "delivering",
    "delivered",
    "accepted",
    "paid",
    "reviewed",
    "lost",
    "cancelled",
]
State = Literal[
    "conditional", "detached", "discharged", "expired", "violated", "cancelled", "released"
]
Operation = Literal[
    "detach", "discharge", "violate", "expire", "cancel", "release", "delegate", "assign"
]
TemplateName = Literal["request", "offer"]
assert get_args(Stage) == STAGES
assert get_args(State) == COMMITMENT_STATES
assert get_args(Operation) == OPERATIONS
assert set(get_args(TemplateName)) == set(TEMPLATES)

_MAX_DECIMAL = Decimal(10) ** 18
_MAX_TEXT = 20_000


def check_values(value: Any, where: str = "body") -> None:
    """Refuse (422) what pydantic lets through a foreign model and no database stores:
    text with NUL or longer than 20,000 characters, numbers not finite or out of range."""
    problem: str | None = None
    if isinstance(value, str):
        if "\x00" in value:
            problem = "text must not contain NUL characters"
        elif len(value) > _MAX_TEXT:
            problem = f"text must be at most {_MAX_TEXT} characters"
    elif isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if (
            not value.is_finite()
            or abs(value) >= _MAX_DECIMAL
            or (isinstance(exponent, int) and exponent < -12)
        ):
            problem = "a decimal with at most 18 digits before the point and 12 after"
    elif isinstance(value, float) and not math.isfinite(value):
        problem = "a finite number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_values(key, where)
            check_values(item, f"{where}.{key}")
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            check_values(item, f"{where}.{i}")
    if problem is not None:
        raise ApiProblem(
            422,
            "Invalid request",
            f"{where}: {problem}",
            "invalid-request",
            problems=[{"location": where, "message": problem, "type": "value_error"}],
        )


# -- authorization helpers ----------------------------------------------------------------
def _known_opportunity(
    guard: Guard,
    ecosystem: str,
    opportunity: str,
    action: Literal["read", "act", "manage"],
    kind: str = "opportunity",
) -> None:
    """Allowed (403 otherwise), then known (404 otherwise): a member of a
    controlled-access ecosystem learns nothing of other swarms' ids."""
    guard.require_opportunity(action, ecosystem, opportunity, kind)
    if opportunity not in guard.teams(ecosystem):
        raise ApiProblem(
            404,
            "Unknown opportunity",
            f"no opportunity '{opportunity}' in '{ecosystem}'",
            "unknown-opportunity",
        )


def _manages(guard: Guard, ecosystem: str, kind: str) -> bool:
    return guard.allowed("manage", ecosystem, kind)


def _people(guard: Guard, ecosystem: str, c: Commitment) -> frozenset[str]:
    """Whose a commitment is: its debtor and creditor, and its opportunity's swarm."""
    team = guard.team(ecosystem, c.opportunity) if c.opportunity else frozenset()
    return team | {c.debtor, c.creditor}


def _commitment(guard: Guard, ecosystem: str, number: int) -> Commitment:
    found = next((c for c in guard.store.commitments(ecosystem) if c.number == number), None)
    if found is None:
        raise ApiProblem(
            404,
            "Unknown commitment",
            f"no commitment C{number} in '{ecosystem}'",
            "unknown-commitment",
        )
    return found


def _conversation(guard: Guard, ecosystem: str, number: int) -> Conversation:
    try:
        return guard.store.conversation(ecosystem, number)
    except Refused:  # the only refusal of a read: no such conversation
        raise ApiProblem(
            404,
            "Unknown conversation",
            f"no conversation {number} in '{ecosystem}'",
            "unknown-conversation",
        ) from None


def _sides(c: Conversation) -> frozenset[str]:
    return frozenset({c.requester, c.provider})


# -- opportunities --------------------------------------------------------------------------
class Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class OpportunityRow(Out):
    id: str
    name: str | None
    stage: Stage


class TransitionOut(Out):
    source: str = Field(alias="from", description="The stage left ('' when created)")
    target: str = Field(alias="to", description="The stage reached")
    by: str
    why: str | None
    at: dt.datetime


class OpportunityOut(Out):
    id: str
    name: str | None
    client: str
    stage: Stage
    budget: str | None = Field(description="A decimal, as text")
    currency: str | None
    team: dict[str, str | None] = Field(description="Member -> role (or null)")
    agreement_version: int | None
    waiting_for: list[str] | None = Field(
        description="Parties whose consent the latest agreement waits for (null: no agreement)"
    )
    income: str = Field(description="Income received in the ledger, a decimal as text")
    satisfaction: int | None
    next: list[Stage]
    history: list[TransitionOut]


def opportunity_out(state: OpportunityState) -> OpportunityOut:
    return OpportunityOut.model_validate(state.to_json())


class OpportunityIn(Opportunity):
    """A new opportunity: the map's opportunity record, and why and by whom."""

    why: Words | None = Field(default=None, description="Where it came from")
    by: Slug | None = Field(default=None, description="Who adds it (orchestrators only)")


class AdvanceIn(BaseModel):
    stage: Stage = Field(description="The stage to reach")
    why: Words | None = Field(default=None, description="Why, in words")
    by: Slug | None = Field(default=None, description="Who moves it (orchestrators only)")


class TeamIn(BaseModel):
    members: dict[Slug, Words | None] = Field(
        min_length=1, max_length=1000, description="Member -> role in words (or null)"
    )
    by: Slug | None = None


class TeamOut(Out):
    opportunity: str
    team: dict[str, str | None]


class SatisfactionIn(BaseModel):
    score: int = Field(ge=0, le=10, description="The client's score, 0 to 10")
    note: Words | None = None
    by: Slug | None = Field(default=None, description="The client (or an orchestrator's pick)")


class SatisfactionOut(Out):
    opportunity: str
    score: int
    by: str
    note: str | None


class LoopOut(Out):
    opportunity: str
    stage: Stage
    closed: bool = Field(description="Whether the opportunity was reviewed and its loop closed")
    ties: list[dict[str, Any]]
    flows: list[dict[str, Any]]
    satisfaction: int | None


@router.get(
    "/ecosystems/{ecosystem}/opportunities",
    response_model=Page[OpportunityRow],
    tags=["opportunities"],
)
def list_opportunities(
    ecosystem: str,
    guard: CurrentGuard,
    page: PageQuery,
    request: Request,
    stage: Annotated[Stage | None, Query(description="Only at this stage")] = None,
) -> Page[OpportunityRow]:
    """The opportunities you may see, by stage in pipeline order."""
    guard.require("read", ecosystem, "opportunities")
    rows = guard.store.opportunities(ecosystem)
    visible = set(guard.visible_opportunities(ecosystem, [r[0] for r in rows]))
    items = [
        OpportunityRow(id=i, name=n, stage=s)
        for i, n, s in sorted(rows, key=lambda r: (STAGES.index(r[2]), r[0]))
        if i in visible and (stage is None or s == stage)
    ]
    return paginate(items, page, request)


@router.post(
    "/ecosystems/{ecosystem}/opportunities",
    response_model=OpportunityOut,
    status_code=201,
    tags=["opportunities"],
)
def create_opportunity(ecosystem: str, body: OpportunityIn, guard: CurrentGuard) -> OpportunityOut:
    """Add a client opportunity to the map, at lead (orchestrator)."""
    guard.require("manage", ecosystem, "opportunity", body.id)
    by = guard.acting_as(ecosystem, body.by)
    fields = {name: getattr(body, name) for name in Opportunity.model_fields}
    check_values(fields)
    record = Opportunity.model_validate(fields)
    return opportunity_out(guard.store.create_opportunity(ecosystem, record, by, body.why))


@router.get(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}",
    response_model=OpportunityOut,
    tags=["opportunities"],
)
def show_opportunity(
    ecosystem: str, opportunity: OpportunityId, guard: CurrentGuard
) -> OpportunityOut:
    """Where an opportunity stands: stage, next stages, guards' facts, team, history."""
    _known_opportunity(guard, ecosystem, opportunity, "read")
    return opportunity_out(guard.store.opportunity(ecosystem, opportunity))


@router.post(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/advance",
    response_model=OpportunityOut,
    tags=["opportunities"],
)
def advance_opportunity(
    ecosystem: str, opportunity: OpportunityId, body: AdvanceIn, guard: CurrentGuard
) -> OpportunityOut:
    """Move an opportunity to a next stage if its guard allows (orchestrator; 409 if not)."""
    _known_opportunity(guard, ecosystem, opportunity, "manage")
    by = guard.acting_as(ecosystem, body.by)
    state = guard.store.advance(ecosystem, opportunity, body.stage, by, body.why)
    return opportunity_out(state)


@router.put(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/team",
    response_model=TeamOut,
    tags=["opportunities"],
)
def pick_team(
    ecosystem: str, opportunity: OpportunityId, body: TeamIn, guard: CurrentGuard
) -> TeamOut:
    """Set the swarm picked for an opportunity, before its agreement (orchestrator)."""
    _known_opportunity(guard, ecosystem, opportunity, "manage")
    by = guard.acting_as(ecosystem, body.by)
    team = guard.store.pick_team(ecosystem, opportunity, body.members, by)
    return TeamOut(opportunity=opportunity, team=team)


@router.post(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/satisfaction",
    response_model=SatisfactionOut,
    tags=["opportunities"],
)
def record_satisfaction(
    ecosystem: str, opportunity: OpportunityId, body: SatisfactionIn, guard: CurrentGuard
) -> SatisfactionOut:
    """Record the client's satisfaction, 0 to 10, with a delivered opportunity (client)."""
    if _manages(guard, ecosystem, "satisfaction"):
        _known_opportunity(guard, ecosystem, opportunity, "manage")
        by = guard.acting_as(ecosystem, body.by)
    else:
        _known_opportunity(guard, ecosystem, opportunity, "act")
        by = guard.acting_as(ecosystem, body.by)
        client = guard.store.opportunity(ecosystem, opportunity).client
        if by != client:
            raise ApiProblem(
                403,
                "Forbidden",
                f"the satisfaction with {opportunity} is its client's, {client}, to record "
                "(or an orchestrator's)",
                "forbidden",
            )
    score = guard.store.record_satisfaction(ecosystem, opportunity, body.score, by, body.note)
    return SatisfactionOut(opportunity=opportunity, score=score, by=by, note=body.note)


@router.get(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/loop",
    response_model=LoopOut,
    tags=["opportunities"],
)
def opportunity_loop(ecosystem: str, opportunity: OpportunityId, guard: CurrentGuard) -> LoopOut:
    """What reviewing the opportunity taught the map (empty before its review)."""
    _known_opportunity(guard, ecosystem, opportunity, "read")
    state = guard.store.opportunity(ecosystem, opportunity)
    done = guard.store.loop(ecosystem, opportunity)
    return LoopOut(
        opportunity=opportunity,
        stage=state.stage,
        closed=done is not None,
        ties=list((done or {}).get("ties", [])),
        flows=list((done or {}).get("flows", [])),
        satisfaction=(done or {}).get("satisfaction"),
    )


# -- agreements ------------------------------------------------------------------------------
class AgreementOut(Out):
    opportunity: str
    version: int
    parties: list[str]
    consents: dict[str, dt.datetime] = Field(description="Party -> when they consented")
    waiting_for: list[str]
    equation_version: int | None
    drafted_by: str
    drafted_at: dt.datetime
    agreement: dict[str, Any] = Field(description="The agreement, without its value equation")
    equation: dict[str, Any] | None = Field(description="Its value equation, if any")


def agreement_out(s: StoredAgreement) -> AgreementOut:
    eq = s.agreement.equation
    return AgreementOut.model_validate(
        {
            **s.to_json(),
            "equation": None
            if eq is None
            else eq.model_dump(mode="json", exclude={"version", "consents"}),
        }
    )


class AgreementDraft(Agreement):
    """The next version of an opportunity's agreement for results (the file
    ``glia agreement draft`` reads), and who drafts it."""

    by: Slug | None = Field(default=None, description="Who drafts it (orchestrators only)")


class ConsentIn(BaseModel):
    by: Slug | None = Field(
        default=None, description="The party who consents (an orchestrator may name one)"
    )
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The version (default: the latest)"
    )


@router.get(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/agreements",
    response_model=Page[AgreementOut],
    tags=["agreements"],
)
def list_agreements(
    ecosystem: str,
    opportunity: OpportunityId,
    guard: CurrentGuard,
    page: PageQuery,
    request: Request,
) -> Page[AgreementOut]:
    """Every version of an opportunity's agreement, oldest first, with its consents."""
    _known_opportunity(guard, ecosystem, opportunity, "read", "agreement")
    items = [agreement_out(a) for a in guard.store.agreements(ecosystem, opportunity)]
    return paginate(items, page, request)


@router.post(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/agreements",
    response_model=AgreementOut,
    status_code=201,
    tags=["agreements"],
)
def draft_agreement(
    ecosystem: str, opportunity: OpportunityId, body: AgreementDraft, guard: CurrentGuard
) -> AgreementOut:
    """Record the next version of the agreement; its swarm becomes the team (orchestrator)."""
    _known_opportunity(guard, ecosystem, opportunity, "manage", "agreement")
    by = guard.acting_as(ecosystem, body.by)
    data = body.model_dump(exclude={"by"}, exclude_unset=True)
    check_values(data)
    draft = Agreement.model_validate(data)
    return agreement_out(guard.store.draft_agreement(ecosystem, opportunity, draft, by))


@router.post(
    "/ecosystems/{ecosystem}/opportunities/{opportunity}/agreements/consent",
    response_model=AgreementOut,
    tags=["agreements"],
)
def consent_agreement(
    ecosystem: str, opportunity: OpportunityId, body: ConsentIn, guard: CurrentGuard
) -> AgreementOut:
    """Consent to the latest agreement (and so to its value equation), as yourself."""
    _known_opportunity(guard, ecosystem, opportunity, "act", "agreement")
    party = guard.acting_as(ecosystem, body.by)
    recorder = guard.principal.participant_in(ecosystem) or party
    stored = guard.store.consent_agreement(ecosystem, opportunity, party, recorder, body.version)
    return agreement_out(stored)


# -- commitments -----------------------------------------------------------------------------
class CommitmentOut(Out):
    number: int
    debtor: str
    creditor: str
    antecedent: str
    consequent: str
    state: State
    due: dt.date | None
    overdue: bool = Field(description="Active and past its due date")
    opportunity: str | None
    hours_per_week: float
    value: str | None = Field(description="A decimal, as text")
    currency: str | None
    agreement_version: int | None


def commitment_out(c: Commitment, today: dt.date | None = None) -> CommitmentOut:
    return CommitmentOut(
        number=c.number,
        debtor=c.debtor,
        creditor=c.creditor,
        antecedent=c.antecedent,
        consequent=c.consequent,
        state=c.state,
        due=c.due,
        overdue=c.overdue(today or dt.date.today()),
        opportunity=c.opportunity,
        hours_per_week=c.hours_per_week,
        value=None if c.value is None else format(c.value, "f"),
        currency=c.currency,
        agreement_version=c.agreement_version,
    )


class CommitmentIn(BaseModel):
    debtor: Slug = Field(description="Who promises")
    creditor: Slug = Field(description="To whom")
    consequent: Annotated[Words, StringConstraints(min_length=1)] = Field(
        description="What the debtor brings about"
    )
    antecedent: Annotated[Words, StringConstraints(min_length=1)] = Field(
        default="true", description="On what condition (true: none)"
    )
    due: dt.date | None = None
    opportunity: Slug | None = Field(default=None, description="The opportunity it serves")
    hours_per_week: Hours = 0.0
    value: Amount | None = None
    currency: Currency | None = None
    note: Words | None = None
    by: Slug | None = Field(
        default=None, description="Who records it: the debtor (an orchestrator may name them)"
    )


class OperationIn(BaseModel):
    by: Slug | None = Field(default=None, description="Who does it (an orchestrator may name)")
    party: Slug | None = Field(
        default=None, description="The new debtor (delegate) or creditor (assign)"
    )
    note: Words | None = None
    today: dt.date | None = Field(default=None, description="The day (default: today)")


class SweepIn(BaseModel):
    by: Slug | None = None
    today: dt.date | None = Field(default=None, description="The day (default: today)")


class SweepOut(Out):
    changed: list[CommitmentOut] = Field(description="Those violated or expired")


class CommitmentEventOut(Out):
    operation: str
    by: str
    source: str | None = Field(alias="from")
    target: str = Field(alias="to")
    party: str | None
    note: str | None
    at: dt.datetime


class OwedOut(Out):
    debtor: str
    creditor: str
    detached: int
    conditional: int
    value: str = Field(description="A decimal, as text")
    hours_per_week: float


def owed_out(o: Owed) -> OwedOut:
    return OwedOut(
        debtor=o.debtor,
        creditor=o.creditor,
        detached=o.detached,
        conditional=o.conditional,
        value=format(o.value, "f"),
        hours_per_week=o.hours_per_week,
    )


SlugQuery = Annotated[str | None, Query(min_length=1, max_length=200, pattern=_SLUG)]


@router.get(
    "/ecosystems/{ecosystem}/commitments",
    response_model=Page[CommitmentOut],
    tags=["commitments"],
)
def list_commitments(
    ecosystem: str,
    guard: CurrentGuard,
    page: PageQuery,
    request: Request,
    opportunity: SlugQuery = None,
    state: Annotated[State | None, Query(description="Only in this state")] = None,
    debtor: SlugQuery = None,
    creditor: SlugQuery = None,
    overdue: Annotated[bool, Query(description="Only active ones past their due date")] = False,
    today: Today = None,
) -> Page[CommitmentOut]:
    """Commitments by number, filtered; those of swarms you may see."""
    if opportunity is not None:
        _known_opportunity(guard, ecosystem, opportunity, "read", "commitments")
    else:
        guard.require("read", ecosystem, "commitments")
    day = today or dt.date.today()
    rows = guard.store.commitments(
        ecosystem, opportunity, state, debtor, creditor, day if overdue else None
    )
    items = [
        commitment_out(c, day)
        for c in rows
        if guard.allowed(
            "read", ecosystem, "commitment", str(c.number), _people(guard, ecosystem, c)
        )
    ]
    return paginate(items, page, request)


@router.post(
    "/ecosystems/{ecosystem}/commitments",
    response_model=CommitmentOut,
    status_code=201,
    tags=["commitments"],
)
def create_commitment(ecosystem: str, body: CommitmentIn, guard: CurrentGuard) -> CommitmentOut:
    """Record a commitment C(debtor, creditor, antecedent, consequent), made by its debtor."""
    manages = _manages(guard, ecosystem, "commitment")
    if body.opportunity is not None:
        _known_opportunity(guard, ecosystem, body.opportunity, "manage" if manages else "act")
    elif not manages:
        guard.require("act", ecosystem, "commitment", "", frozenset({body.debtor, body.creditor}))
    by = guard.acting_as(ecosystem, body.by or (body.debtor if manages else None))
    c = guard.store.create_commitment(
        ecosystem,
        body.debtor,
        body.creditor,
        body.consequent,
        by=by,
        antecedent=body.antecedent,
        due=body.due,
        opportunity=body.opportunity,
        hours_per_week=body.hours_per_week,
        value=body.value,
        currency=body.currency,
        note=body.note,
    )
    return commitment_out(c)


@router.get(
    "/ecosystems/{ecosystem}/commitments/owes",
    response_model=Page[OwedOut],
    tags=["commitments"],
)
def owes(ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request) -> Page[OwedOut]:
    """Who owes whom: active commitments by debtor and creditor."""
    guard.require("read", ecosystem, "commitments")
    rows = guard.store.owes(ecosystem)
    if not guard.allowed("read", ecosystem, "commitments", team=frozenset()):
        own = guard.principal.participant_in(ecosystem)
        rows = [o for o in rows if own in (o.debtor, o.creditor)]
    return paginate([owed_out(o) for o in rows], page, request)


@router.post(
    "/ecosystems/{ecosystem}/commitments/sweep",
    response_model=SweepOut,
    tags=["commitments"],
)
def sweep(
    ecosystem: str, guard: CurrentGuard, body: Annotated[SweepIn | None, Body()] = None
) -> SweepOut:
    """Violate (or expire) every active commitment past its due date (orchestrator)."""
    guard.require("manage", ecosystem, "commitments")
    body = body or SweepIn()
    by = guard.acting_as(ecosystem, body.by)
    changed = guard.store.sweep(ecosystem, by, body.today)
    return SweepOut(changed=[commitment_out(c, body.today) for c in changed])


@router.get(
    "/ecosystems/{ecosystem}/commitments/{number}/history",
    response_model=Page[CommitmentEventOut],
    tags=["commitments"],
)
def commitment_history(
    ecosystem: str, number: Number, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[CommitmentEventOut]:
    """Every operation on a commitment, in order: who, when, from which state to which."""
    guard.require("read", ecosystem, "commitments")
    c = _commitment(guard, ecosystem, number)
    guard.require("read", ecosystem, "commitment", str(number), _people(guard, ecosystem, c))
    events = guard.store.commitment_history(ecosystem, number)
    return paginate([CommitmentEventOut.model_validate(e) for e in events], page, request)


@router.get(
    "/ecosystems/{ecosystem}/commitments/{number}",
    response_model=CommitmentOut,
    tags=["commitments"],
)
def show_commitment(
    ecosystem: str, number: Number, guard: CurrentGuard, today: Today = None
) -> CommitmentOut:
    """One commitment and where it stands."""
    guard.require("read", ecosystem, "commitments")
    c = _commitment(guard, ecosystem, number)
    guard.require("read", ecosystem, "commitment", str(number), _people(guard, ecosystem, c))
    return commitment_out(c, today)


@router.post(
    "/ecosystems/{ecosystem}/commitments/{number}/{operation}",
    response_model=CommitmentOut,
    tags=["commitments"],
)
def operate(
    ecosystem: str,
    number: Number,
    operation: Operation,
    guard: CurrentGuard,
    body: Annotated[OperationIn | None, Body()] = None,
) -> CommitmentOut:
    """Apply an operation to a commitment, as yourself; one the rules refuse answers 409."""
    body = body or OperationIn()
    guard.require("read", ecosystem, "commitments")
    c = _commitment(guard, ecosystem, number)
    guard.require("act", ecosystem, "commitment", str(number), _people(guard, ecosystem, c))
    if operation in ("delegate", "assign") and not body.party:
        role = "debtor" if operation == "delegate" else "creditor"
        raise ApiProblem(
            422,
            "Invalid request",
            f"{operation} needs party: the new {role}",
            "invalid-request",
            problems=[{"location": "body.party", "message": "required", "type": "missing"}],
        )
    by = guard.acting_as(ecosystem, body.by)
    after = guard.store.operate(ecosystem, number, operation, by, body.party, body.note, body.today)
    return commitment_out(after, body.today)


# -- conversations ---------------------------------------------------------------------------
class StepOut(Out):
    message: str
    sender: Literal["requester", "provider"]
    after: list[str] = Field(description="Messages it may follow ('' is the start)")
    effect: str | None = Field(description="What it does to the conversation's commitment")
    final: bool


class TemplateOut(Out):
    name: str
    description: str
    steps: list[StepOut]


class MessageOut(Out):
    message: str
    sender: str = Field(alias="from")
    note: str | None


class ConversationOut(Out):
    number: int
    template: str
    requester: str
    provider: str
    subject: str
    last: str = Field(description="The last message ('' before the first)")
    next: list[str] = Field(description="The messages that may come next")
    commitment: int | None = Field(description="The commitment it made, by number")
    messages: list[MessageOut]


def conversation_out(c: Conversation) -> ConversationOut:
    return ConversationOut.model_validate(c.to_json())


class ConversationIn(BaseModel):
    template: TemplateName
    requester: Slug = Field(description="Who asks (the creditor)")
    provider: Slug = Field(description="Who provides (the debtor)")
    subject: Annotated[Words, StringConstraints(min_length=1)] = Field(
        description="What is asked or offered"
    )
    opportunity: Slug | None = None
    due: dt.date | None = None
    hours_per_week: Hours = 0.0
    value: Amount | None = None
    currency: Currency | None = None
    note: Words | None = None
    by: Slug | None = Field(
        default=None, description="Who sends the first message (an orchestrator may name)"
    )


class MessageIn(BaseModel):
    message: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=_SLUG)] = Field(
        description="The message, e.g. offer, accept, deliver"
    )
    note: Words | None = None
    by: Slug | None = Field(default=None, description="Who sends it (an orchestrator may name)")


@router.get(
    "/ecosystems/{ecosystem}/conversations/templates",
    response_model=Page[TemplateOut],
    tags=["conversations"],
)
def conversation_templates(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[TemplateOut]:
    """The protocol templates: each message, who sends it, what may come before it."""
    guard.require("read", ecosystem, "conversation-templates")
    items = [
        TemplateOut(
            name=t.name,
            description=t.description,
            steps=[
                StepOut(
                    message=s.message,
                    sender=s.sender,
                    after=list(s.after),
                    effect=s.effect,
                    final=s.final,
                )
                for s in t.steps
            ],
        )
        for t in TEMPLATES.values()
    ]
    return paginate(items, page, request)


def _may_act(guard: Guard, ecosystem: str, kind: str, people: Iterable[str]) -> None:
    guard.require("act", ecosystem, kind, "", frozenset(people))


@router.post(
    "/ecosystems/{ecosystem}/conversations",
    response_model=ConversationOut,
    status_code=201,
    tags=["conversations"],
)
def start_conversation(
    ecosystem: str, body: ConversationIn, guard: CurrentGuard
) -> ConversationOut:
    """Open a conversation on a protocol template with its first message, as yourself."""
    manages = _manages(guard, ecosystem, "conversation")
    if body.opportunity is not None:
        _known_opportunity(guard, ecosystem, body.opportunity, "manage" if manages else "act")
    elif not manages:
        _may_act(guard, ecosystem, "conversation", (body.requester, body.provider))
    by = guard.acting_as(ecosystem, body.by)
    c = guard.store.start_conversation(
        ecosystem,
        body.template,
        body.requester,
        body.provider,
        body.subject,
        by=by,
        opportunity=body.opportunity,
        due=body.due,
        hours_per_week=body.hours_per_week,
        value=body.value,
        currency=body.currency,
        note=body.note,
    )
    return conversation_out(c)


@router.get(
    "/ecosystems/{ecosystem}/conversations/{number}",
    response_model=ConversationOut,
    tags=["conversations"],
)
def show_conversation(
    ecosystem: str, number: ConversationNumber, guard: CurrentGuard
) -> ConversationOut:
    """A conversation: its messages, what may come next, the commitment it made."""
    guard.require("read", ecosystem, "conversations")
    c = _conversation(guard, ecosystem, number)
    guard.require("read", ecosystem, "conversation", str(number), _sides(c))
    return conversation_out(c)


@router.post(
    "/ecosystems/{ecosystem}/conversations/{number}/messages",
    response_model=ConversationOut,
    tags=["conversations"],
)
def send_message(
    ecosystem: str, number: ConversationNumber, body: MessageIn, guard: CurrentGuard
) -> ConversationOut:
    """Send the next message of a conversation, as yourself; out of order, 409."""
    guard.require("read", ecosystem, "conversations")
    c = _conversation(guard, ecosystem, number)
    guard.require("act", ecosystem, "conversation", str(number), _sides(c))
    by = guard.acting_as(ecosystem, body.by)
    return conversation_out(guard.store.send(ecosystem, number, body.message, by, body.note))
