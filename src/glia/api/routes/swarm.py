"""Routes: form the team for an opportunity or for stated needs (``glia swarm``).

``GET .../swarm?opportunity=ID`` (or ``need=CAP:LEVEL[:COUNT]``, repeated) takes
every option of ``glia swarm`` as a query parameter; ``POST .../swarm`` takes
the same request as a JSON body with structured needs, for a hypothetical
request. Both read the common picture (``read`` on ``swarm``), write nothing,
and answer what ``glia swarm --format json`` prints: ranked teams with each
member's needs covered, ties, load and cost, every component of the
objective, the certified gap, why the runners-up lost, and, when no team
exists, the shortfalls with who comes closest. As on the command line, the
hours already promised in active commitments (``Store.committed_hours``) load
people; ``committed`` answers them for the members of the teams shown.

Picking a team is ``PUT /opportunities/{id}/team`` (the engagement routes).
Bad input answers 422 naming the parameter (``query.need``, ``body.needs.0.level``...).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ...model import Need
from ...store import Snapshot
from ...swarm import RequestError, Weights, form_swarm, parse_need, parse_weights
from .._deps import CurrentGuard, Guard
from .._problems import ApiProblem

__all__ = ["SwarmIn", "SwarmOut", "router"]

router = APIRouter(tags=["swarm"])

IdText = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[float, Field(allow_inf_nan=False)]
MAX_TEAMS = 10
MAX_SECONDS = 30.0


# -- models ---------------------------------------------------------------------------------
class WeightsIn(BaseModel):
    """The weight of each component of the objective (zero or more)."""

    model_config = ConfigDict(extra="forbid")

    distance: float = Field(default=1.0, ge=0, le=1e6, allow_inf_nan=False)
    cost: float = Field(default=0.0, ge=0, le=1e6, allow_inf_nan=False)
    load: float = Field(default=0.0, ge=0, le=1e6, allow_inf_nan=False)
    bridge: float = Field(default=0.0, ge=0, le=1e6, allow_inf_nan=False)
    region: float = Field(default=1.0, ge=0, le=1e6, allow_inf_nan=False)


class SwarmIn(BaseModel):
    """A request for a team: an opportunity of the ecosystem, needs stated here, or both
    (stated needs then replace the opportunity's; every other field overrides it)."""

    model_config = ConfigDict(extra="forbid")

    opportunity: IdText | None = Field(default=None, description="Id of an opportunity")
    needs: list[Need] = Field(
        default_factory=list,
        max_length=100,
        description="Capabilities needed: level 1-5 (default 1), count (default 1)",
    )
    region: IdText | None = Field(default=None, description="Preferred region")
    region_required: bool = Field(default=False, description="Only people of the region")
    budget: float | None = Field(
        default=None, gt=0, le=1e15, allow_inf_nan=False, description="Most the team may cost"
    )
    hours: float | None = Field(
        default=None, ge=0, le=1e6, allow_inf_nan=False, description="Hours each member works"
    )
    capital: float | None = Field(
        default=None, ge=0, le=1e15, allow_inf_nan=False, description="Capital to bring"
    )
    min_size: int | None = Field(default=None, ge=1, le=1000)
    max_size: int | None = Field(default=None, ge=1, le=1000)
    include: list[IdText] = Field(default_factory=list, max_length=1000)
    exclude: list[IdText] = Field(default_factory=list, max_length=1000)
    forbidden: list[Annotated[list[IdText], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, max_length=1000, description="Pairs who must not share a team"
    )
    weights: WeightsIn | None = None
    teams: int = Field(default=3, ge=1, le=MAX_TEAMS, description="How many distinct teams")
    exact: bool | None = Field(
        default=None, description="Prove the optimum with the exact model (default: small pools)"
    )
    time_limit: float = Field(default=10.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    per_need: int = Field(default=12, ge=1, le=100, description="Candidates kept per need")
    horizon: (
        Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)] | Literal["auto"] | None
    ) = Field(
        default="auto",
        description="Working distance beyond which all are strangers; null: none",
    )


class SwarmNeedOut(BaseModel):
    capability: str
    level: int
    count: int


class SwarmRequestOut(BaseModel):
    """The request as the engine understood it (an opportunity's fields filled in)."""

    opportunity: str | None
    needs: list[SwarmNeedOut]
    region: str | None
    region_required: bool
    budget: float | None
    hours: float
    capital_needed: float | None
    min_size: int
    max_size: int | None
    include: list[str]
    exclude: list[str]


class SwarmTieOut(BaseModel):
    """A member's working distance to another member, and their direct tie if any."""

    model_config = ConfigDict(populate_by_name=True)

    with_: str = Field(alias="with")
    distance: float | None = Field(description="None: unreachable")
    direct: float | None = Field(description="Strength of a direct tie, else None")


class SwarmMemberOut(BaseModel):
    """A member of a team, and why they are there."""

    id: str
    name: str | None
    region: str | None
    covers: list[str] = Field(description="The needs this member covers")
    levels: dict[str, int]
    ties: list[SwarmTieOut]
    load: float | None = Field(description="Hours already committed over capacity")
    load_penalty: float | None
    cost: float | None
    rate: float | None
    rate_assumed: bool = Field(description="Rate unknown: the median rate assumed")
    bridge: float | None
    capital: float | None
    included: bool = Field(description="Pinned in by the request")


class SwarmTeamOut(BaseModel):
    """A team: members, each component of the objective, total, gap to the bound, and why."""

    rank: int
    members: list[SwarmMemberOut]
    components: dict[str, float | None]
    weighted: dict[str, float | None]
    total: float | None
    gap: float | None
    optimal: bool
    found_by: str
    why: str | None = Field(description="Why not first (runners-up)")


class SwarmNearOut(BaseModel):
    id: str
    name: str | None
    level: int | None
    region: str | None
    reason: str


class SwarmShortfallOut(BaseModel):
    """A need (or the capital, or a constraint) no team can meet, and who comes closest."""

    need: str
    message: str
    nearest: list[SwarmNearOut]


class SwarmOut(BaseModel):
    """What ``glia swarm --format json`` prints (documented in docs/swarm.md)."""

    glia_swarm: int
    ecosystem: str
    request: SwarmRequestOut
    weights: dict[str, float]
    feasible: bool
    candidates: int
    bound: float | None
    gap: float | None
    optimal: bool
    rarest_need: str | None
    teams: list[SwarmTeamOut]
    shortfalls: list[SwarmShortfallOut]
    solver: dict[str, Any]
    timings: dict[str, float]
    committed: dict[str, float] = Field(
        description="Hours per week already promised in active commitments, for the "
        "members of the teams shown"
    )


# -- forming --------------------------------------------------------------------------------
@dataclass
class _Ask:
    """One request, from the query or the body; ``names`` maps fields to their names there."""

    where: Literal["query", "body"]
    opportunity: str | None
    needs: list[Need]
    region: str | None = None
    region_required: bool = False
    budget: float | None = None
    hours: float | None = None
    capital: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    forbidden: list[tuple[str, str]] = field(default_factory=list)
    weights: Weights | None = None
    teams: int = 3
    exact: bool | None = None
    time_limit: float = 10.0
    per_need: int = 12
    horizon: float | str | None = "auto"
    names: dict[str, str] = field(default_factory=dict)

    def location(self, name: str) -> str:
        return f"{self.where}.{self.names.get(name, name)}"


def invalid(location: str, message: str, title: str = "Invalid swarm request") -> ApiProblem:
    """A 422 problem naming the parameter at fault."""
    return ApiProblem(
        422,
        title,
        f"{location}: {message}",
        "invalid-swarm-request",
        problems=[{"location": location, "message": message, "type": "value_error"}],
    )


#: Which parameter an engine refusal is about, by the start of its message.
_FIELDS = (
    ("opportunity", "opportunity"),
    ("a request needs", "needs"),
    ("need", "needs"),
    ("weight", "weights"),
    ("budget", "budget"),
    ("capital", "capital"),
    ("hours", "hours"),
    ("region", "region"),
    ("minimum team size", "min_size"),
    ("maximum team size", "max_size"),
    ("both included and excluded", "include"),
    ("include", "include"),
    ("exclude", "exclude"),
    ("forbidden pair", "forbidden"),
    ("horizon", "horizon"),
    ("per need", "per_need"),
    ("top", "teams"),
)


def _check(ask: _Ask, snap: Snapshot) -> None:
    """Refuse, naming the parameter, what the engine would not answer with a team."""
    if ask.opportunity is not None and ask.opportunity not in snap.opportunity_ids:
        known = ", ".join(snap.opportunity_ids) or "none"
        raise invalid(
            ask.location("opportunity"),
            f"no opportunity {ask.opportunity!r} in {snap.ecosystem!r} (opportunities: {known})",
        )
    if ask.opportunity is None and not ask.needs:
        raise invalid(
            ask.location("needs"),
            "say what the team is for: an opportunity, or needs (CAP:LEVEL[:COUNT])",
        )
    known_caps = set(snap.capabilities)
    for i, need in enumerate(ask.needs):
        if need.capability not in known_caps:
            close = difflib.get_close_matches(need.capability, snap.capabilities, 3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            where = (
                f"{ask.location('needs')}.{i}.capability"
                if ask.where == "body"
                else ask.location("needs")
            )
            raise invalid(
                where,
                f"unknown capability {need.capability!r}: no one in the ecosystem has it" + hint,
            )


def _form(guard: Guard, ecosystem: str, ask: _Ask) -> SwarmOut:
    guard.require("read", ecosystem, "swarm")
    store = guard.store
    snap = store.snapshot(ecosystem)
    _check(ask, snap)
    ids = set(snap.participant_ids)  # a commitment may outlive its debtor's place in the map
    committed = {
        who: hours for who, hours in sorted(store.committed_hours(ecosystem).items()) if who in ids
    }
    try:
        result = form_swarm(
            snap,
            ask.opportunity,
            ask.needs,
            region=ask.region,
            region_required=ask.region_required or None,
            budget=ask.budget,
            hours=ask.hours,
            capital=ask.capital,
            min_size=ask.min_size,
            max_size=ask.max_size,
            include=ask.include,
            exclude=ask.exclude,
            forbidden=ask.forbidden,
            weights=ask.weights,
            top=ask.teams,
            exact=ask.exact,
            time_limit=ask.time_limit,
            per_need=ask.per_need,
            horizon=ask.horizon,
            committed=committed,
        )
    except RequestError as exc:
        message = str(exc)
        name = next((n for start, n in _FIELDS if message.startswith(start)), None)
        if name is None:
            raise
        raise invalid(ask.location(name), message) from None
    payload = result.to_json()
    members = {m.id for team in result.teams for m in team.members}
    payload["committed"] = {who: h for who, h in committed.items() if who in members}
    return SwarmOut.model_validate(payload)


def _split(values: list[str] | None) -> list[str]:
    return [x.strip() for v in values or [] for x in v.split(",") if x.strip()]


# -- routes ---------------------------------------------------------------------------------
_QUERY_NAMES = {"needs": "need", "forbidden": "forbid"}


@router.get("/ecosystems/{ecosystem}/swarm", response_model=SwarmOut)
def swarm_for(
    ecosystem: str,
    guard: CurrentGuard,
    opportunity: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Id of an opportunity")
    ] = None,
    need: Annotated[
        list[str] | None,
        Query(description="CAP:LEVEL[:COUNT], e.g. legal:4 or data-engineering:3:2 (repeat)"),
    ] = None,
    region: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Preferred region")
    ] = None,
    region_required: Annotated[bool, Query(description="Only people of the region")] = False,
    budget: Annotated[
        float | None,
        Query(gt=0, le=1e15, allow_inf_nan=False, description="Most the team may cost"),
    ] = None,
    hours: Annotated[
        float | None,
        Query(ge=0, le=1e6, allow_inf_nan=False, description="Hours each member works"),
    ] = None,
    capital: Annotated[
        float | None,
        Query(ge=0, le=1e15, allow_inf_nan=False, description="Capital members must bring"),
    ] = None,
    min_size: Annotated[int | None, Query(ge=1, le=1000, description="Fewest members")] = None,
    max_size: Annotated[int | None, Query(ge=1, le=1000, description="Most members")] = None,
    include: Annotated[
        list[str] | None, Query(description="Participant ids who must be in (repeat or a,b)")
    ] = None,
    exclude: Annotated[
        list[str] | None, Query(description="Participant ids who must be out (repeat or a,b)")
    ] = None,
    forbid: Annotated[
        list[str] | None, Query(description="A pair A,B who must not share a team (repeat)")
    ] = None,
    weights: Annotated[
        str | None,
        Query(
            max_length=500,
            description="Objective weights, e.g. distance=1,cost=0,load=0,bridge=0,region=1",
        ),
    ] = None,
    teams: Annotated[int, Query(ge=1, le=MAX_TEAMS, description="How many distinct teams")] = 3,
    exact: Annotated[
        bool | None, Query(description="Prove the optimum with the exact model")
    ] = None,
    time_limit: Annotated[
        float,
        Query(gt=0, le=MAX_SECONDS, allow_inf_nan=False, description="Seconds for the exact model"),
    ] = 10.0,
    per_need: Annotated[int, Query(ge=1, le=100, description="Candidates kept per need")] = 12,
    horizon: Annotated[
        str,
        Query(
            max_length=40,
            description="Working distance beyond which all are strangers: a number, "
            "'none' or 'auto'",
        ),
    ] = "auto",
) -> SwarmOut:
    """Form teams for an opportunity (or for needs given as CAP:LEVEL[:COUNT]), explained."""
    names = dict(_QUERY_NAMES)
    needs: list[Need] = []
    for text in need or []:
        try:
            needs.append(parse_need(text))
        except RequestError as exc:
            raise invalid("query.need", str(exc)) from None
    pairs: list[tuple[str, str]] = []
    for text in forbid or []:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 2 or not all(parts):
            raise invalid("query.forbid", f"{text!r}: expected two participant ids, A,B")
        pairs.append((parts[0], parts[1]))
    try:
        w = parse_weights(weights) if weights is not None else None
    except RequestError as exc:
        raise invalid("query.weights", str(exc)) from None
    cap: float | str | None = horizon
    if horizon.strip().lower() == "none":
        cap = None
    elif horizon.strip() != "auto":
        try:
            cap = float(horizon)
        except ValueError:
            cap = None
        if cap is None or not (0 < cap < float("inf")):
            raise invalid(
                "query.horizon", f"{horizon!r}: expected a positive number, 'none' or 'auto'"
            )
    ask = _Ask(
        "query",
        opportunity,
        needs,
        region=region,
        region_required=region_required,
        budget=budget,
        hours=hours,
        capital=capital,
        min_size=min_size,
        max_size=max_size,
        include=_split(include),
        exclude=_split(exclude),
        forbidden=pairs,
        weights=w,
        teams=teams,
        exact=exact,
        time_limit=time_limit,
        per_need=per_need,
        horizon=cap,
        names=names,
    )
    return _form(guard, ecosystem, ask)


@router.post("/ecosystems/{ecosystem}/swarm", response_model=SwarmOut)
def swarm_for_request(ecosystem: str, body: SwarmIn, guard: CurrentGuard) -> SwarmOut:
    """Form teams for a request stated in the body (a hypothetical opportunity); writes nothing."""
    try:
        w = Weights(**body.weights.model_dump()) if body.weights is not None else None
    except RequestError as exc:
        raise invalid("body.weights", str(exc)) from None
    ask = _Ask(
        "body",
        body.opportunity,
        list(body.needs),
        region=body.region,
        region_required=body.region_required,
        budget=body.budget,
        hours=body.hours,
        capital=body.capital,
        min_size=body.min_size,
        max_size=body.max_size,
        include=list(body.include),
        exclude=list(body.exclude),
        forbidden=[(p[0], p[1]) for p in body.forbidden],
        weights=w,
        teams=body.teams,
        exact=body.exact,
        time_limit=body.time_limit,
        per_need=body.per_need,
        horizon=body.horizon,
    )
    return _form(guard, ecosystem, ask)
