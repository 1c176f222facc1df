"""Value equations and the exact distribution of income.

A value equation is the agreed principle for sharing one opportunity's income
(after Sensorica's NRP): ordered **buckets**, each a percentage either of the
income (``straight``) or of what earlier buckets left (``remaining``), paid to a
fixed recipient or shared among contributors in proportion to their *claims*.
A contribution's claim is the formula of its kind (``work: hours * rate``),
times the kind's multiplier (Slicing Pie's 2x for at-risk work, 4x for cash).
A cap bounds what one participant may take from a bucket; what the cap holds
back goes to the others in proportion to their claims.

Arithmetic is exact: shares are computed as fractions, then rounded to the
currency's smallest unit once, by the largest-remainder method (ties broken by
participant id), so the shares always sum to the income, none is negative, and
the same input gives the same output. Every share is explained: which bucket,
which contributions, which formula and numbers.

Written here because no library implements value equations; the rounding is
the textbook largest-remainder (Hamilton) method.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._expr import Formula, FormulaError, compile_formula

__all__ = [
    "Bucket",
    "Change",
    "Contribution",
    "Distribution",
    "DistributionError",
    "Share",
    "ValueEquation",
    "distribute",
    "largest_remainder",
    "preview",
]

#: Event fields a formula may name.
FIELDS = ("quantity", "value", "hours", "rate")


class DistributionError(ValueError):
    """An equation or a distribution that cannot be carried out, and why."""


class Bucket(BaseModel):
    """One slice of the income: a percentage, and who receives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    percent: Decimal = Field(ge=0, le=100)
    of: Literal["straight", "remaining"] = "remaining"
    to: str | None = Field(default=None, description="a fixed recipient")
    kinds: tuple[str, ...] | None = Field(
        default=None, description="kinds of contribution shared in this bucket (default: all)"
    )

    @model_validator(mode="after")
    def _one_way(self) -> Bucket:
        if self.to is not None and self.kinds is not None:
            raise ValueError("a bucket has a fixed recipient (to) or shares kinds, not both")
        return self


class ValueEquation(BaseModel):
    """The agreed principles for sharing an opportunity's income; versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int = Field(default=1, ge=1)
    currency: str | None = None
    unit: Decimal = Field(default=Decimal("0.01"), gt=0, description="smallest amount paid")
    buckets: tuple[Bucket, ...]
    formulas: dict[str, str] = Field(description="a formula per kind of contribution")
    multipliers: dict[str, Decimal] = Field(default_factory=dict)
    cap: Decimal | None = Field(
        default=None, gt=0, le=1, description="most one participant may take of a bucket"
    )
    parties: tuple[str, ...] = Field(
        default=(), description="who must consent, besides everyone who would receive a share"
    )
    consents: dict[str, dt.date] = Field(
        default_factory=dict, description="who consented to this version, and when"
    )

    def waiting_for(self, recipients: Iterable[str] = ()) -> list[str]:
        """Parties and recipients who have not consented to this version."""
        everyone = set(self.parties) | set(recipients)
        everyone |= {b.to for b in self.buckets if b.to is not None}
        return sorted(p for p in everyone if p not in self.consents)

    @model_validator(mode="after")
    def _check(self) -> ValueEquation:
        if not self.buckets:
            raise ValueError("an equation needs at least one bucket")
        straight = sum((b.percent for b in self.buckets if b.of == "straight"), Decimal(0))
        if straight > 100:
            raise ValueError(f"straight buckets take {straight}% of the income, more than 100%")
        for kind, text in self.formulas.items():
            try:
                compile_formula(text, FIELDS)
            except FormulaError as exc:
                raise ValueError(f"formula for {kind}: {exc}") from None
        for kind, m in self.multipliers.items():
            if m < 0:
                raise ValueError(f"multiplier for {kind} is negative")
        for b in self.buckets:
            unknown = [k for k in b.kinds or () if k not in self.formulas]
            if unknown:
                raise ValueError(f"bucket {b.name}: no formula for {', '.join(unknown)}")
        return self

    def compiled(self) -> dict[str, Formula]:
        return {kind: compile_formula(text, FIELDS) for kind, text in self.formulas.items()}


@dataclass(frozen=True)
class Contribution:
    """A contribution as the distribution sees it (a ledger event's fields)."""

    agent: str
    kind: str
    quantity: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    hours: Decimal = Decimal(0)
    rate: Decimal = Decimal(0)
    id: str | None = None


@dataclass(frozen=True)
class Part:
    """Why a participant receives part of a bucket."""

    bucket: str
    claim: Fraction
    bucket_claims: Fraction
    amount: Fraction
    capped: bool
    contributions: tuple[tuple[str | None, str, Decimal], ...]  # (id, kind, claim)


@dataclass(frozen=True)
class Share:
    """What one participant receives, exactly, and why."""

    agent: str
    amount: Decimal
    exact: Fraction
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Distribution:
    """The split of one income under one equation version."""

    equation: str
    version: int
    income: Decimal
    shares: tuple[Share, ...]

    def amounts(self) -> dict[str, Decimal]:
        return {s.agent: s.amount for s in self.shares}

    def to_json(self) -> dict[str, Any]:
        return {
            "equation": self.equation,
            "version": self.version,
            "income": str(self.income),
            "shares": [
                {
                    "agent": s.agent,
                    "amount": str(s.amount),
                    "parts": [
                        {
                            "bucket": p.bucket,
                            "claim": float(p.claim),
                            "of_claims": float(p.bucket_claims),
                            "amount": float(p.amount),
                            "capped": p.capped,
                            "contributions": [
                                {"id": i, "kind": k, "claim": str(c)} for i, k, c in p.contributions
                            ],
                        }
                        for p in s.parts
                    ],
                }
                for s in self.shares
            ],
        }


def _claims(
    equation: ValueEquation, contributions: Sequence[Contribution]
) -> list[tuple[Contribution, Decimal]]:
    formulas = equation.compiled()
    out = []
    for i, c in enumerate(contributions):
        formula = formulas.get(c.kind)
        if formula is None:
            known = ", ".join(sorted(formulas)) or "none"
            raise DistributionError(
                f"contribution {c.id or i + 1} ({c.agent}): no formula for kind {c.kind!r} "
                f"in {equation.name} v{equation.version} (kinds: {known})"
            )
        fields = {"quantity": c.quantity, "value": c.value, "hours": c.hours, "rate": c.rate}
        claim = formula.evaluate(fields) * equation.multipliers.get(c.kind, Decimal(1))
        if claim < 0:
            raise DistributionError(
                f"contribution {c.id or i + 1} ({c.agent}): the formula {formula.text!r} "
                f"gives a negative claim ({claim})"
            )
        out.append((c, claim))
    return out


def _capped(
    claims: Mapping[str, Fraction], amount: Fraction, cap: Fraction | None
) -> dict[str, Fraction]:
    """Proportional shares of ``amount`` with no one above ``cap * amount`` (water-filling)."""
    shares: dict[str, Fraction] = {}
    open_ = {a: c for a, c in claims.items() if c > 0}
    left = amount
    limit = None if cap is None else cap * amount
    while open_:
        total = sum(open_.values(), Fraction(0))
        trial = {a: left * c / total for a, c in open_.items()}
        over = [a for a, s in trial.items() if limit is not None and s > limit]
        if not over:
            shares.update(trial)
            return shares
        for a in over:
            assert limit is not None
            shares[a] = limit
            left -= limit
            del open_[a]
    if left > 0:
        raise DistributionError(
            f"the cap of {float(cap or 0):.0%} per participant leaves {float(left):.2f} "
            "of a bucket that no one may take"
        )
    return shares


def largest_remainder(
    exact: Mapping[str, Fraction], total: Decimal, unit: Decimal
) -> dict[str, Decimal]:
    """Largest remainder: floors in units, the leftover units to the largest remainders."""
    units = {a: (v / Fraction(unit)) for a, v in exact.items()}
    floors = {a: int(u // 1) for a, u in units.items()}
    leftover = int(Fraction(total) / Fraction(unit)) - sum(floors.values())
    order = sorted(units, key=lambda a: (-(units[a] - floors[a]), a))
    for a in order[:leftover]:
        floors[a] += 1
    return {a: unit * n for a, n in floors.items()}


def distribute(
    income: Decimal | int | str,
    equation: ValueEquation,
    contributions: Iterable[Contribution],
    *,
    require_consent: bool = True,
) -> Distribution:
    """Split ``income`` under ``equation`` among the contributors, exactly.

    Refuses an equation that a party, or anyone who would receive a share, has
    not consented to, unless ``require_consent`` is false (a preview).

    >>> eq = ValueEquation(
    ...     name="demo",
    ...     buckets=[{"name": "fund", "percent": 10, "of": "straight", "to": "hub"},
    ...              {"name": "team", "percent": 100}],
    ...     formulas={"work": "hours * rate"},
    ...     consents={"ann": "2025-01-06", "bob": "2025-01-06", "hub": "2025-01-07"},
    ... )
    >>> work = [Contribution("ann", "work", hours=Decimal(10), rate=Decimal(50)),
    ...         Contribution("bob", "work", hours=Decimal(20), rate=Decimal(50))]
    >>> distribute("1000", eq, work).amounts()
    {'ann': Decimal('300.00'), 'bob': Decimal('600.00'), 'hub': Decimal('100.00')}
    """
    amount = Decimal(str(income))
    if amount < 0:
        raise DistributionError(f"income {amount}: only income received, zero or more, is shared")
    if amount % equation.unit:
        raise DistributionError(f"income {amount} is not a whole number of {equation.unit}")
    items = _claims(equation, list(contributions))
    if require_consent:
        waiting = equation.waiting_for(c.agent for c, q in items if q > 0)
        if waiting:
            raise DistributionError(
                f"{equation.name} v{equation.version} is not agreed: waiting for the consent "
                f"of {', '.join(waiting)}"
            )
    total = Fraction(amount)
    remaining = total
    exact: dict[str, Fraction] = {}
    parts: dict[str, list[Part]] = {}
    cap = None if equation.cap is None else Fraction(equation.cap)
    last = len(equation.buckets) - 1
    for position, bucket in enumerate(equation.buckets):
        base = total if bucket.of == "straight" else remaining
        size = base * Fraction(bucket.percent) / 100
        size = min(size, remaining)
        if bucket.to is not None:
            exact[bucket.to] = exact.get(bucket.to, Fraction(0)) + size
            parts.setdefault(bucket.to, []).append(
                Part(bucket.name, Fraction(0), Fraction(0), size, False, ())
            )
            remaining -= size
            continue
        kinds = set(bucket.kinds) if bucket.kinds is not None else None
        mine = [(c, q) for c, q in items if kinds is None or c.kind in kinds]
        claims: dict[str, Fraction] = {}
        for c, q in mine:
            claims[c.agent] = claims.get(c.agent, Fraction(0)) + Fraction(q)
        if sum(claims.values(), Fraction(0)) == 0:
            if position == last and remaining > 0:
                raise DistributionError(
                    f"bucket {bucket.name}: no contribution claims anything, so "
                    f"{float(remaining):.2f} of the income would have no recipient"
                )
            continue
        got = _capped(claims, size, cap)
        all_claims = sum(claims.values(), Fraction(0))
        for agent, value in got.items():
            exact[agent] = exact.get(agent, Fraction(0)) + value
            parts.setdefault(agent, []).append(
                Part(
                    bucket.name,
                    claims[agent],
                    all_claims,
                    value,
                    cap is not None and value == cap * size,
                    tuple((c.id, c.kind, q) for c, q in mine if c.agent == agent),
                )
            )
        remaining -= size
    if remaining > 0:
        raise DistributionError(
            f"the buckets of {equation.name} v{equation.version} leave {float(remaining):.2f} "
            "of the income unassigned: end with a bucket of 100% of the remaining"
        )
    rounded = largest_remainder(exact, amount, equation.unit)
    shares = tuple(Share(a, rounded[a], exact[a], tuple(parts.get(a, ()))) for a in sorted(rounded))
    return Distribution(equation.name, equation.version, amount, shares)


@dataclass(frozen=True)
class Change:
    """What one participant would get under another equation."""

    agent: str
    agreed: Decimal
    other: Decimal

    @property
    def delta(self) -> Decimal:
        return self.other - self.agreed


def preview(
    income: Decimal | int | str,
    agreed: ValueEquation,
    other: ValueEquation,
    contributions: Iterable[Contribution],
) -> list[Change]:
    """Per participant, the share under ``agreed`` and under ``other``, before anyone agrees.

    ``other`` needs no consent (that is the point of a preview); ``agreed`` does.
    """
    items = list(contributions)
    now = distribute(income, agreed, items).amounts()
    then = distribute(income, other, items, require_consent=False).amounts()
    agents = sorted(set(now) | set(then))
    zero = Decimal("0.00")
    return [Change(a, now.get(a, zero), then.get(a, zero)) for a in agents]
