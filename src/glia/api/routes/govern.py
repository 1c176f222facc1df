"""Routes: governance, what ``glia principles``, ``glia aspirations`` and ``glia review`` do.

Principles and aspirations are the ecosystem's common picture: everyone with
a role reads them, the orchestrator sets them (the whole set at once, all or
nothing: every problem answers 422 with its item and field). The review pack
reads the whole network, ledger and fairness included, so it is ledger-level:
in a controlled-access ecosystem only the orchestrator sees it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, StringConstraints

from ...govern import (
    CHECKS,
    Aspiration,
    PastReview,
    Principle,
    PrincipleResult,
    ReviewPack,
    parse_aspirations,
    parse_principles,
)
from .._deps import CurrentGuard, Guard
from .._pages import Page, PageQuery, paginate
from .engage import Out, Slug, Words, check_values

__all__ = ["router"]

router = APIRouter(tags=["governance"])

Key = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
On = Annotated[dt.date | None, Query(description="The day, YYYY-MM-DD (default: today)")]


def _review_level(guard: Guard, ecosystem: str) -> None:
    """The review reads the whole network, the ledger included: ledger-level."""
    guard.require("read", ecosystem, "review", team=frozenset())


# -- principles ------------------------------------------------------------------------------
class PrincipleIn(BaseModel):
    key: Key
    text: Annotated[Words, StringConstraints(min_length=1)] = Field(description="In words")
    rule: dict[str, Any] | None = Field(
        default=None,
        description="The check that enforces it, e.g. {check: max-work-share, limit: 0.4}; "
        "none: stated in words only",
    )


class PrinciplesIn(BaseModel):
    principles: list[PrincipleIn] = Field(min_length=1, max_length=1000)
    by: Slug | None = Field(default=None, description="Who sets them (orchestrators only)")


class PrincipleOut(Out):
    key: str
    text: str
    rule: dict[str, Any] | None
    check: str | None = Field(description="The check's name; null: in words only")


def principle_out(p: Principle) -> PrincipleOut:
    return PrincipleOut(**p.to_json(), check=p.check)


class PrincipleSetOut(Out):
    ecosystem: str
    principles: list[PrincipleOut]
    checked: int = Field(description="How many have a rule that checks them")


class ViolationOut(Out):
    principle: str
    subject: str
    message: str
    figures: dict[str, Any]


class PrincipleResultOut(Out):
    key: str
    text: str
    rule: dict[str, Any] | None
    status: str = Field(description="violated, kept, nothing to check, not checked")
    checked: int = Field(description="How many subjects the check looked at")
    note: str | None
    violations: list[ViolationOut]


def result_out(r: PrincipleResult) -> PrincipleResultOut:
    return PrincipleResultOut.model_validate(r.to_json())


class ParamOut(Out):
    name: str
    expected: str
    required: bool


class CheckOut(Out):
    name: str
    rule: str = Field(description="The rule, in words")
    params: list[ParamOut]


@router.get("/ecosystems/{ecosystem}/principles", response_model=Page[PrincipleOut])
def list_principles(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[PrincipleOut]:
    """The ecosystem's principles, with the rule that checks each."""
    guard.require("read", ecosystem, "principles")
    items = [principle_out(p) for p in guard.store.principles(ecosystem)]
    return paginate(items, page, request)


@router.put("/ecosystems/{ecosystem}/principles", response_model=PrincipleSetOut)
def set_principles(ecosystem: str, body: PrinciplesIn, guard: CurrentGuard) -> PrincipleSetOut:
    """Replace the principles with these, all or nothing (orchestrator)."""
    guard.require("manage", ecosystem, "principles")
    by = guard.acting_as(ecosystem, body.by)
    data = [p.model_dump(exclude_unset=True) for p in body.principles]
    check_values(data, "body.principles")
    stored = guard.store.set_principles(ecosystem, parse_principles(data, "body"), by)
    return PrincipleSetOut(
        ecosystem=ecosystem,
        principles=[principle_out(p) for p in stored],
        checked=sum(p.rule is not None for p in stored),
    )


@router.get("/ecosystems/{ecosystem}/principles/check", response_model=Page[PrincipleResultOut])
def check_principles(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[PrincipleResultOut]:
    """Every principle checked against the network as it stands, with its violations."""
    guard.require("read", ecosystem, "principles")
    items = [result_out(r) for r in guard.store.check_principles(ecosystem)]
    return paginate(items, page, request)


@router.get("/ecosystems/{ecosystem}/principles/checks", response_model=Page[CheckOut])
def list_checks(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[CheckOut]:
    """The checks a principle's rule can name: their parameters and rules."""
    guard.require("read", ecosystem, "principles")
    items = [
        CheckOut(
            name=c.name,
            rule=c.rule,
            params=[
                ParamOut(name=p.name, expected=p.expected, required=p.required) for p in c.params
            ],
        )
        for c in CHECKS.values()
    ]
    return paginate(items, page, request)


# -- aspirations -----------------------------------------------------------------------------
class AspirationIn(BaseModel):
    key: Key
    text: Annotated[Words, StringConstraints(min_length=1)]
    cadence: int | Annotated[str, StringConstraints(max_length=40)] = Field(
        description="weekly, monthly (30 days), quarterly (91), yearly, or a number of days"
    )
    since: dt.date | None = Field(default=None, description="Adopted on (default: on, or today)")
    last_reviewed: dt.date | None = None


class AspirationsIn(BaseModel):
    aspirations: list[AspirationIn] = Field(min_length=1, max_length=1000)
    by: Slug | None = Field(default=None, description="Who sets them (orchestrators only)")
    on: dt.date | None = Field(default=None, description="The day they start without since")


class AspirationOut(Out):
    key: str
    text: str
    cadence: str
    cadence_days: int
    since: dt.date
    last_reviewed: dt.date | None
    next_review: dt.date
    due: bool
    overdue_days: int = Field(description="Days since its review fell due (0: not yet)")


def aspiration_out(a: Aspiration, today: dt.date) -> AspirationOut:
    return AspirationOut.model_validate(a.to_json(today))


class AspirationSetOut(Out):
    ecosystem: str
    aspirations: list[AspirationOut]


def _today(on: dt.date | None) -> dt.date:
    return on or dt.datetime.now(dt.UTC).date()


@router.get("/ecosystems/{ecosystem}/aspirations", response_model=Page[AspirationOut])
def list_aspirations(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request, on: On = None
) -> Page[AspirationOut]:
    """The aspirations: cadence, last review, next review, and which are due."""
    guard.require("read", ecosystem, "aspirations")
    day = _today(on)
    items = [aspiration_out(a, day) for a in guard.store.aspirations(ecosystem)]
    return paginate(items, page, request)


@router.put("/ecosystems/{ecosystem}/aspirations", response_model=AspirationSetOut)
def set_aspirations(ecosystem: str, body: AspirationsIn, guard: CurrentGuard) -> AspirationSetOut:
    """Replace the aspirations with these, all or nothing (orchestrator)."""
    guard.require("manage", ecosystem, "aspirations")
    by = guard.acting_as(ecosystem, body.by)
    data = [a.model_dump(mode="json", exclude_none=True) for a in body.aspirations]
    check_values(data, "body.aspirations")
    day = _today(body.on)
    items = parse_aspirations(data, "body", today=day)
    stored = guard.store.set_aspirations(ecosystem, items, by, day)
    return AspirationSetOut(
        ecosystem=ecosystem, aspirations=[aspiration_out(a, day) for a in stored]
    )


# -- the review ------------------------------------------------------------------------------
class ReviewOut(Out):
    ecosystem: str
    review: int = Field(description="The number it gets (has, when recorded)")
    today: dt.date
    previous: dict[str, Any] | None = Field(description="The last review held, if any")
    changes: list[dict[str, Any]] = Field(description="Figures changed since the last review")
    transitions: list[dict[str, Any]] = Field(description="Pipeline moves since then")
    figures: dict[str, Any]
    sweet_spot: dict[str, Any]
    health: dict[str, Any]
    fairness: dict[str, Any]
    principles: list[dict[str, Any]]
    aspirations_due: list[dict[str, Any]]
    aspirations: list[dict[str, Any]]
    notes: list[str]
    marks: dict[str, int]


def review_out(pack: ReviewPack) -> ReviewOut:
    return ReviewOut.model_validate(pack.to_json())


class ReviewIn(BaseModel):
    by: Slug | None = Field(default=None, description="Who holds it (orchestrators only)")
    on: dt.date | None = Field(default=None, description="The day it is held (default: today)")


class PastReviewOut(Out):
    number: int
    held_on: dt.date
    held_by: str
    figures: dict[str, Any]
    recorded_at: dt.datetime | None
    marks: dict[str, int]


def past_review_out(r: PastReview) -> PastReviewOut:
    return PastReviewOut(
        number=r.number,
        held_on=r.held_on,
        held_by=r.held_by,
        figures=dict(r.figures),
        recorded_at=r.recorded_at,
        marks=dict(r.marks),
    )


@router.get("/ecosystems/{ecosystem}/review", response_model=ReviewOut)
def review_pack(ecosystem: str, guard: CurrentGuard, on: On = None) -> ReviewOut:
    """The review pack for a reflective session (what changed, health, fairness...)."""
    _review_level(guard, ecosystem)
    return review_out(guard.store.review(ecosystem, on))


@router.post("/ecosystems/{ecosystem}/reviews", response_model=ReviewOut, status_code=201)
def record_review(ecosystem: str, body: ReviewIn, guard: CurrentGuard) -> ReviewOut:
    """Hold the review: store its figures, mark the aspirations due reviewed (orchestrator)."""
    guard.require("manage", ecosystem, "review")
    by = guard.acting_as(ecosystem, body.by)
    return review_out(guard.store.record_review(ecosystem, by, body.on))


@router.get("/ecosystems/{ecosystem}/reviews", response_model=Page[PastReviewOut])
def past_reviews(
    ecosystem: str, guard: CurrentGuard, page: PageQuery, request: Request
) -> Page[PastReviewOut]:
    """Every review held, oldest first, with the figures it stored (ledger-level)."""
    _review_level(guard, ecosystem)
    items = [past_review_out(r) for r in guard.store.reviews(ecosystem)]
    return paginate(items, page, request)
