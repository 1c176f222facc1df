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
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._expr import Formula, FormulaError, compile_formula

__all__ = [
    "Bucket",
    "Change",
    "Contribution",
    "Distribution",
    "DistributionError",
    "NotAgreed",
    "Share",
    "ValueEquation",
    "distribute",
    "largest_remainder",
    "preview",
]

#: Event fields a formula may name.
FIELDS = ("quantity", "value", "hours", "rate")


#: Decimal sums of claims are exact (Decimal is much faster than Fraction): a
#: context wide enough for any claim, where any rounding raises.
_EXACT = Context(prec=200, Emin=-999_999, Emax=999_999, traps=[Inexact, InvalidOperation])


def _total(values: Iterable[Fraction | int]) -> Fraction:
    """The exact sum of ``values``, over their least common denominator.

    Adding :class:`~fractions.Fraction` objects one by one normalises every
    partial sum (a gcd and a new object each time), which is most of the time of
    a split; one sum over the common denominator gives the same fraction.
    """
    items = list(values)
    if len(items) == 1 and type(items[0]) is Fraction:
        return items[0]
    pairs = [(v.numerator, v.denominator) for v in items]
    common = 1
    for _, d in pairs:
        if common % d:
            common = common // gcd(common, d) * d
    return Fraction(sum(n * (common // d) for n, d in pairs), common)


def _common(
    values: Mapping[tuple[str, str], Fraction],
) -> tuple[dict[tuple[str, str], int], int]:
    """``values`` as integer numerators over their least common denominator, and
    that denominator."""
    common = 1
    for v in values.values():
        d = v.denominator
        if common % d:
            common = common // gcd(common, d) * d
    return {k: v.numerator * (common // v.denominator) for k, v in values.items()}, common


def _not_below_zero(value: Fraction) -> Fraction:
    """``max(0, value)``. Here and below, a fraction's sign is read from its
    numerator: comparing a Fraction with 0 goes through generic type checks that
    cost more than the rest of a split's arithmetic."""
    return value if value.numerator > 0 else Fraction(0)


@lru_cache(maxsize=4096)
def _compile(text: str) -> Formula:
    """A formula over the event fields, compiled once (formulas are immutable)."""
    return compile_formula(text, FIELDS)


class DistributionError(ValueError):
    """An equation or a distribution that cannot be carried out, and why."""


class NotAgreed(DistributionError):
    """An equation version that someone it concerns has not consented to."""

    def __init__(self, equation: ValueEquation, waiting: Sequence[str]) -> None:
        self.equation = equation
        self.waiting = list(waiting)
        super().__init__(
            f"{equation.name} v{equation.version} is not agreed: waiting for the consent "
            f"of {', '.join(waiting)}"
        )


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
    claims: dict[str, Literal["equity", "debt", "once"]] = Field(
        default_factory=dict,
        description="claim kind per kind of contribution (default equity): equity counts in "
        "every distribution, debt until it has been paid, once in one distribution",
    )
    cash: tuple[str, ...] = Field(
        default=("transfer",),
        description="kinds of contribution that are cash (kept by people who leave at fault)",
    )
    peer_adjustment: Decimal | None = Field(
        default=None,
        gt=0,
        le=100,
        description="bound N of the peer adjustment: claims may be raised or lowered by at "
        "most N percent",
    )
    referral: Decimal | None = Field(
        default=None,
        gt=0,
        le=100,
        description="percent of the income, straight, shared by the referral contributions",
    )
    members: tuple[str, ...] = Field(
        default=(),
        description="an organisation's equation: the people whose contributions are the "
        "organisation's",
    )
    parties: tuple[str, ...] = Field(
        default=(), description="who must consent, besides everyone who would receive a share"
    )
    consents: dict[str, dt.date] = Field(
        default_factory=dict, description="who consented to this version, and when"
    )

    def waiting_for(
        self, recipients: Iterable[str] = (), *, besides: Iterable[str] = ()
    ) -> list[str]:
        """Parties and recipients who have not consented to this version
        (``besides``: recipients that are not people, such as a level below)."""
        everyone = set(self.parties) | set(recipients)
        everyone |= {b.to for b in self.buckets if b.to is not None}
        everyone -= set(besides)
        return sorted(p for p in everyone if p not in self.consents)

    def effective_buckets(self) -> tuple[Bucket, ...]:
        """The buckets, with the referral share (if any) first."""
        if self.referral is None:
            return self.buckets
        first = Bucket(name="referral", percent=self.referral, of="straight", kinds=("referral",))
        return (first, *self.buckets)

    def claim_kind(self, kind: str) -> str:
        return self.claims.get(kind, "equity")

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
        straight += self.referral or 0
        if straight > 100:
            raise ValueError(
                f"the referral share and the straight buckets take {straight}% of the income, "
                "more than 100%"
            )
        credited = set(self.formulas) | ({"referral"} if self.referral is not None else set())
        unknown_claims = [k for k in self.claims if k not in credited]
        if unknown_claims:
            raise ValueError(
                f"claim kinds given for {', '.join(unknown_claims)}, which have no formula"
            )
        for b in self.buckets:
            unknown = [k for k in b.kinds or () if k not in self.formulas]
            if unknown:
                raise ValueError(f"bucket {b.name}: no formula for {', '.join(unknown)}")
        return self

    def compiled(self) -> dict[str, Formula]:
        """The formulas, compiled; a referral share without a formula counts each referral as 1."""
        formulas = dict(self.formulas)
        if self.referral is not None:
            formulas.setdefault("referral", "1")
        return {kind: _compile(text) for kind, text in formulas.items()}


@dataclass(frozen=True)
class Contribution:
    """A contribution as the distribution sees it (a ledger event's fields).

    ``claim``, when given, is the formula's value already computed (by the
    store, set-based, for many events of one participant and kind at once),
    or a mapping from each formula's text to its value: the formula is then
    not applied again; multipliers, the rules for people
    who leave and peer adjustments still are. ``events`` counts the ledger
    events it stands for; ``counted`` says that an earlier distribution already
    counted it (a claim of kind *once* then claims nothing).
    """

    agent: str
    kind: str
    quantity: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    hours: Decimal = Decimal(0)
    rate: Decimal = Decimal(0)
    id: str | None = None
    claim: Decimal | Mapping[str, Decimal] | None = None
    events: int = 1
    counted: bool = False


@dataclass(frozen=True)
class Part:
    """Why a participant receives part of a bucket.

    ``kinds`` splits the exact amount by kind of contribution (what a debt-like
    claim has been paid is counted from it); ``capped`` is true when the
    participant was held at the cap or a debt at what was still owed.
    """

    bucket: str
    claim: Fraction
    bucket_claims: Fraction
    amount: Fraction
    capped: bool
    contributions: tuple[tuple[str | None, str, Decimal], ...]  # (id, kind, claim)
    kinds: tuple[tuple[str, Fraction], ...] = ()


@dataclass(frozen=True)
class Share:
    """What one participant receives, exactly, and why."""

    agent: str
    amount: Decimal
    exact: Fraction
    parts: tuple[Part, ...]

    def by_kind(self, unit: Decimal) -> dict[str | None, Decimal]:
        """The rounded amount split by kind of contribution (None: a fixed bucket),
        summing exactly to :attr:`amount`."""
        pieces: dict[str, list[Fraction]] = {}
        for part in self.parts:
            if part.kinds:
                for kind, amount in part.kinds:
                    pieces.setdefault(kind, []).append(amount)
            else:
                pieces.setdefault("", []).append(part.amount)
        if len(pieces) == 1:
            (only,) = pieces
            return {(only or None): self.amount} if self.amount else {}
        exact = {k: v[0] if len(v) == 1 else _total(v) for k, v in pieces.items()}
        rounded = largest_remainder(exact, self.amount, unit)
        return {(k or None): v for k, v in rounded.items() if v}


@dataclass(frozen=True)
class Distribution:
    """The split of one income under one equation version.

    ``lost`` lists the claims that people who left at fault gave up, and
    ``adjustments`` the peer adjustments applied (percent per participant).
    """

    equation: str
    version: int
    income: Decimal
    shares: tuple[Share, ...]
    unit: Decimal = Decimal("0.01")
    lost: tuple[tuple[str, str, Decimal], ...] = ()  # (agent, kind, claim)
    adjustments: tuple[tuple[str, Decimal], ...] = ()

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
            "lost": [{"agent": a, "kind": k, "claim": str(c)} for a, k, c in self.lost],
            "adjustments": {a: str(p) for a, p in self.adjustments},
        }


class _Claim(NamedTuple):
    contribution: Contribution
    claim: Decimal


def _claims(
    equation: ValueEquation,
    contributions: Sequence[Contribution],
    leavers: Mapping[str, bool],
    adjustments: Mapping[str, Decimal],
) -> tuple[list[_Claim], list[tuple[str, str, Decimal]]]:
    formulas = equation.compiled()
    multipliers = equation.multipliers
    out: list[_Claim] = []
    lost: list[tuple[str, str, Decimal]] = []
    for i, c in enumerate(contributions):
        if c.counted and equation.claim_kind(c.kind) == "once":
            continue
        formula = formulas.get(c.kind)
        if formula is None:
            known = ", ".join(sorted(formulas)) or "none"
            raise DistributionError(
                f"contribution {c.id or i + 1} ({c.agent}): no formula for kind {c.kind!r} "
                f"in {equation.name} v{equation.version} (kinds: {known})"
            )
        if isinstance(c.claim, Mapping):
            if formula.text not in c.claim:
                raise DistributionError(
                    f"contribution {c.id or i + 1} ({c.agent}): no claim computed for the "
                    f"formula {formula.text!r}"
                )
            base = c.claim[formula.text]
        elif c.claim is not None:
            base = c.claim
        else:
            fields = {"quantity": c.quantity, "value": c.value, "hours": c.hours, "rate": c.rate}
            base = formula.evaluate(fields)
        if base < 0:
            raise DistributionError(
                f"contribution {c.id or i + 1} ({c.agent}): the formula {formula.text!r} "
                f"gives a negative claim ({base})"
            )
        multiplier = multipliers.get(c.kind)
        if leavers.get(c.agent):  # left at fault: cash without multiplier, the rest lost
            if c.kind not in equation.cash:
                if base:
                    lost.append(
                        (c.agent, c.kind, base if multiplier is None else base * multiplier)
                    )
                continue
            multiplier = None
        claim = base if multiplier is None else base * multiplier
        if c.agent in adjustments:
            claim = claim * (1 + adjustments[c.agent] / 100)
        out.append(_Claim(c, claim))
    return out, lost


def _fill(
    claims: Mapping[tuple[str, str], Fraction],
    amount: Fraction,
    cap: Fraction | None,
    owed: Mapping[tuple[str, str], Fraction],
) -> tuple[dict[tuple[str, str], Fraction], set[tuple[str, str]], Fraction]:
    """Proportional shares of ``amount`` among claimants (participant, kind), with no
    debt-like claimant above what it is still owed and no participant above ``cap``
    (water-filling: those held at a limit are fixed, the rest share what is left).

    Returns the shares, the claimants held at a limit, and what no one may take
    (it stays unassigned: the caller passes it on).

    Each round computes the trial shares ``left * claim / sum(claims)`` as integer
    numerators over one denominator and compares them with the limits by cross
    multiplication: the same exact rationals as Fraction arithmetic, without
    normalising every intermediate (most of the time of a split otherwise).
    """
    fixed: dict[tuple[str, str], Fraction] = {}
    taken: dict[str, Fraction] = {}  # per participant, of the fixed shares
    held: set[tuple[str, str]] = set()
    open_ = {k: c for k, c in claims.items() if c.numerator > 0}
    left = amount

    def room(agent: str) -> Fraction | None:
        return None if cap is None else cap - taken.get(agent, 0)

    def fix(k: tuple[str, str], value: Fraction) -> None:
        fixed[k] = value
        taken[k[0]] = taken.get(k[0], 0) + value

    while open_ and left > 0:
        # trial share of k: left * claim_k / sum(claims) = num * scaled[k] / den
        scaled, _ = _common(open_)
        num, den = left.numerator, left.denominator * sum(scaled.values())
        over = [
            k
            for k, s in scaled.items()
            if k in owed and num * s * owed[k].denominator > owed[k].numerator * den
        ]
        if over:  # debts paid in full (within the cap), the rest share again
            for k in sorted(over):
                limit = room(k[0])
                fix(k, owed[k] if limit is None else min(owed[k], limit))
                left -= fixed[k]
                held.add(k)
                del open_[k]
            continue
        if cap is not None:
            per_agent: dict[str, int] = {}
            for k, s in scaled.items():
                per_agent[k[0]] = per_agent.get(k[0], 0) + s
            capped = []
            for agent, s in per_agent.items():
                r = cap - taken[agent] if agent in taken else cap
                if num * s * r.denominator > r.numerator * den:
                    capped.append(agent)
            if capped:  # participants at the cap, the rest share again
                for agent in sorted(capped):
                    mine = [k for k in open_ if k[0] == agent]
                    limit = room(agent)
                    assert limit is not None
                    weight = _total(open_[k] for k in mine)
                    for k in mine:
                        fix(k, limit * open_[k] / weight)
                        held.add(k)
                    for k in mine:
                        left -= fixed[k]
                        del open_[k]
                continue
        for k, s in scaled.items():
            fixed[k] = Fraction(num * s, den)
        left = Fraction(0)
    return fixed, held, left


def largest_remainder(
    exact: Mapping[str, Fraction], total: Decimal, unit: Decimal
) -> dict[str, Decimal]:
    """Largest remainder: floors in units, the leftover units to the largest remainders.

    The remainders are ranked as integers over their common denominator (the
    same order as comparing them as fractions, ties to the smaller id).
    """
    step_num, step_den = unit.as_integer_ratio()
    floors: dict[str, int] = {}
    remainders: dict[str, tuple[int, int]] = {}
    for a, v in exact.items():
        den = v.denominator * step_num
        floors[a], rest = divmod(v.numerator * step_den, den)
        remainders[a] = (rest, den)
    total_num, total_den = total.as_integer_ratio()
    num, den = total_num * step_den, total_den * step_num
    units = num // den if num >= 0 else -(-num // den)  # int(): toward zero
    leftover = units - sum(floors.values())
    if leftover:
        common = 1
        for _, den in remainders.values():
            if common % den:
                common = common // gcd(common, den) * den
        order = sorted(
            remainders, key=lambda a: (-(common // remainders[a][1]) * remainders[a][0], a)
        )
        for a in order[:leftover]:
            floors[a] += 1
    return {a: unit * n for a, n in floors.items()}


def _check_adjustments(
    equation: ValueEquation, adjustments: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    checked: dict[str, Decimal] = {}
    for agent, raw in sorted(adjustments.items()):
        percent = Decimal(str(raw))
        if equation.peer_adjustment is None:
            raise DistributionError(
                f"peer adjustment for {agent}: {equation.name} v{equation.version} allows none "
                "(set peer_adjustment: N in the equation to allow plus or minus N percent)"
            )
        bound = equation.peer_adjustment
        if not percent.is_finite() or abs(percent) > bound:
            raise DistributionError(
                f"peer adjustment for {agent}: {percent}% is outside the agreed bound of "
                f"plus or minus {bound}%"
            )
        if percent:
            checked[agent] = percent
    return checked


def distribute(
    income: Decimal | int | str,
    equation: ValueEquation,
    contributions: Iterable[Contribution],
    *,
    require_consent: bool = True,
    received: Mapping[tuple[str, str], Decimal] | None = None,
    adjustments: Mapping[str, Decimal] | None = None,
    leavers: Mapping[str, bool] | None = None,
    besides: Iterable[str] = (),
) -> Distribution:
    """Split ``income`` under ``equation`` among the contributors, exactly.

    Refuses an equation that a party, or anyone who would receive a share, has
    not consented to, unless ``require_consent`` is false (a preview);
    ``besides`` names fixed recipients that need no consent (a level below,
    which has an equation of its own).

    * ``received``: what each (participant, kind) already received in earlier
      distributions; a debt-like kind claims only what is still owed, and is
      never paid more than that.
    * ``adjustments``: peer adjustments in percent per participant, each within
      the equation's ``peer_adjustment`` bound; a participant's claims are
      multiplied by ``1 + percent / 100``.
    * ``leavers``: participants who left, and whether at fault. At fault, their
      non-cash claims are lost and cash claims count without multiplier;
      otherwise they keep every claim.

    A contribution of a kind that counts *once* claims nothing when it is
    marked ``counted`` (by an earlier distribution).

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
    adjust = _check_adjustments(equation, adjustments or {})
    items, lost = _claims(equation, list(contributions), leavers or {}, adjust)
    paid = {k: Fraction(v) for k, v in (received or {}).items()}
    sums: dict[tuple[str, str], Decimal] = {}
    with localcontext(_EXACT):  # exact: any rounding raises Inexact
        for item in items:
            key = (item.contribution.agent, item.contribution.kind)
            sums[key] = sums[key] + item.claim if key in sums else +item.claim
    totals = {k: Fraction(*v.as_integer_ratio()) for k, v in sums.items()}
    owed = {
        k: _not_below_zero(v - paid[k] if k in paid else v)
        for k, v in totals.items()
        if equation.claim_kind(k[1]) == "debt"
    }
    if require_consent:
        claimants = {
            k[0]
            for k, v in totals.items()
            if v.numerator > 0 and (k not in owed or owed[k].numerator > 0)
        }
        waiting = equation.waiting_for(claimants, besides=besides)
        if waiting:
            raise NotAgreed(equation, waiting)
    total = Fraction(amount)
    remaining = total
    exact: dict[str, Fraction] = {}
    parts: dict[str, list[Part]] = {}
    cap = None if equation.cap is None else Fraction(equation.cap)
    buckets = equation.effective_buckets()
    for bucket in buckets:
        base = total if bucket.of == "straight" else remaining
        percent, hundreds = bucket.percent.as_integer_ratio()
        size = min(base * Fraction(percent, hundreds * 100), remaining)
        if bucket.to is not None:
            exact[bucket.to] = exact[bucket.to] + size if bucket.to in exact else size
            parts.setdefault(bucket.to, []).append(
                Part(bucket.name, Fraction(0), Fraction(0), size, False, ())
            )
            remaining -= size
            continue
        kinds = set(bucket.kinds) if bucket.kinds is not None else None
        if kinds is None and equation.referral is not None:  # referrals share the referral only
            kinds = {k for k in equation.formulas if k != "referral"}
        mine = [i for i in items if kinds is None or i.contribution.kind in kinds]
        weights = {k: owed.get(k, v) for k, v in totals.items() if kinds is None or k[1] in kinds}
        scaled, common = _common(weights)
        scaled_sum = sum(scaled.values())
        if scaled_sum == 0 or size == 0:
            continue
        all_claims = Fraction(scaled_sum, common)
        # the referral share is a finder's fee: the cap does not apply to it
        limit = None if cap is None or bucket.name == "referral" else cap * size
        got, held, unassigned = _fill(weights, size, limit, owed)
        by_agent: dict[str, list[tuple[str, Fraction]]] = {}
        for (agent, kind), value in sorted(got.items()):
            by_agent.setdefault(agent, []).append((kind, value))
        per_agent: dict[str, int] = {}
        for (agent, _), w in scaled.items():
            per_agent[agent] = per_agent.get(agent, 0) + w
        agent_claims = {agent: Fraction(w, common) for agent, w in per_agent.items()}
        behind: dict[str, list[tuple[str | None, str, Decimal]]] = {}
        for i in mine:
            c = i.contribution
            behind.setdefault(c.agent, []).append((c.id, c.kind, i.claim))
        held_agents = {k[0] for k in held}
        for agent, pieces in by_agent.items():
            value = _total(v for _, v in pieces)
            exact[agent] = exact[agent] + value if agent in exact else value
            parts.setdefault(agent, []).append(
                Part(
                    bucket.name,
                    agent_claims[agent],
                    all_claims,
                    value,
                    agent in held_agents,
                    tuple(behind.get(agent, ())),
                    tuple(pieces),
                )
            )
        for k, value in got.items():  # a debt paid here is owed less in later buckets
            if k in owed:
                owed[k] = _not_below_zero(owed[k] - value)
        remaining -= size - unassigned
    if remaining > 0:
        last = buckets[-1]
        left = f"{float(remaining):.2f} of the income"
        if last.of != "remaining" or last.percent != 100:
            reason = (
                f"the buckets of {equation.name} v{equation.version} leave {left} unassigned: "
                "end with a bucket of 100% of the remaining"
            )
        elif not any(w for k, w in totals.items() if last.kinds is None or k[1] in last.kinds):
            reason = f"no contribution claims anything, so {left} would have no recipient"
        else:
            reason = (
                "the cap per participant and the debts still owed leave "
                f"{left} that no one may take"
            )
        raise DistributionError(reason)
    rounded = largest_remainder(exact, amount, equation.unit)
    shares = tuple(Share(a, rounded[a], exact[a], tuple(parts.get(a, ()))) for a in sorted(rounded))
    return Distribution(
        equation.name,
        equation.version,
        amount,
        shares,
        equation.unit,
        tuple(lost),
        tuple(sorted(adjust.items())),
    )


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
