"""From the ledger to money: what is still to distribute, and the split across levels.

**What is to distribute** (:func:`pending`) is read from an opportunity's
events and nothing else, so anyone can recompute it:

* the income still to share is the income received (``income`` events, net of
  reversals) minus what earlier distributions allocated (``allocation``
  events): only money actually received is ever shared;
* every other event with a quantity or a value is a contribution. A reversed
  event and the event reversing it drop out together, so a correction counts
  from the next distribution on. An event recorded before the last
  allocation was *counted*; a claim of kind *once* counts only while it is not;
* the formula fields of an event: ``quantity`` and ``value`` as recorded,
  ``hours`` the quantity when the unit is an hour (``hour``, ``hours``, ``h``),
  ``rate`` the participant's rate per hour from the map at the time of
  distribution (record a ``value`` to fix a money value once and for all);
* what each participant already received per kind (the allocation events'
  unit) is what a debt-like claim has been paid;
* ``leave`` and ``leaveAtFault`` events (for the opportunity, or for the whole
  network when they name none) say who left: at fault, non-cash claims are
  lost and cash claims count without multiplier; otherwise every claim is kept.

**Levels** (:func:`allocate`): the network's equation, when there is one,
takes its buckets off every income first (a network fund, say), and its
bucket to the recipient ``opportunity`` goes on to the opportunity's own
equation. An organisation with an equation of its own receives its share at
the opportunity level, counting its members' contributions as its own, and
splits it among its members by its own equation. Each level rounds to the
unit exactly, so the shares of every level sum to what that level received.

Written here because the levels, the claim kinds and the ledger's history are
Glia's own rules; the arithmetic is :func:`~glia.ledger.distribute`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ._chain import Event
from ._distribute import Contribution, Distribution, DistributionError, ValueEquation, distribute

__all__ = [
    "HOURS",
    "OPPORTUNITY",
    "Allocation",
    "Levels",
    "Pending",
    "allocate",
    "pending",
]

#: The recipient, in a network equation's bucket, that stands for the opportunity's equation.
OPPORTUNITY = "opportunity"
#: Units whose quantity is hours (the formula field ``hours``).
HOURS = frozenset({"hour", "hours", "h"})
#: Actions that are not contributions.
NOT_CONTRIBUTIONS = frozenset({"income", "payout", "allocation", "leave", "leaveAtFault"})


@dataclass(frozen=True)
class Pending:
    """What an opportunity's ledger says is to distribute now."""

    opportunity: str
    income: Decimal  # received, net of reversals
    allocated: Decimal  # by earlier distributions
    currency: str | None
    contributions: tuple[Contribution, ...]
    received: dict[tuple[str, str], Decimal]
    leavers: dict[str, bool]
    last_allocation: int | None  # seq of the last allocation event

    @property
    def to_distribute(self) -> Decimal:
        return self.income - self.allocated


def _hours(event: Event) -> Decimal:
    if event.quantity is not None and (event.unit or "").strip().lower() in HOURS:
        return event.quantity
    return Decimal(0)


def pending(
    events: Iterable[Event],
    opportunity: str,
    rates: Mapping[str, Decimal] | None = None,
) -> Pending:
    """What is to distribute for ``opportunity``, from its events (and the network's
    ``leave`` events), in seq order. See the module's notes for the rules.

    >>> import datetime as dt
    >>> t = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    >>> ev = [Event(1, "N", "work", "ann", "hub", t, "opp", Decimal(10), "hour"),
    ...       Event(2, "N", "income", "client", "hub", t, "opp", value=Decimal(500))]
    >>> p = pending(ev, "opp", rates={"ann": Decimal(40)})
    >>> p.to_distribute, p.contributions[0].hours, p.contributions[0].rate
    (Decimal('500'), Decimal('10'), Decimal('40'))
    """
    rates = rates or {}
    mine = [
        e
        for e in events
        if e.opportunity == opportunity
        or (e.action in ("leave", "leaveAtFault") and e.opportunity is None)
    ]
    mine.sort(key=lambda e: e.seq)
    reversed_ = {e.reverses for e in mine if e.reverses is not None}
    income = allocated = Decimal(0)
    currencies: set[str] = set()
    received: dict[tuple[str, str], Decimal] = {}
    leavers: dict[str, bool] = {}
    last_allocation: int | None = None
    for e in mine:
        if e.action == "allocation":
            last_allocation = e.seq
    contributions: list[Contribution] = []
    for e in mine:
        if e.action == "income":
            income += e.value or 0
            if e.value is not None and e.currency:
                currencies.add(e.currency)
        elif e.action == "allocation":
            allocated += e.value or 0
            if e.unit and e.value is not None:
                key = (e.agent, e.unit)
                received[key] = received.get(key, Decimal(0)) + e.value
        elif e.action in ("leave", "leaveAtFault"):
            if e.seq not in reversed_ and e.reverses is None:
                at_fault = e.action == "leaveAtFault"
                leavers[e.agent] = leavers.get(e.agent, False) or at_fault
        elif e.action not in NOT_CONTRIBUTIONS:
            if e.seq in reversed_ or e.reverses is not None:
                continue  # a correction and what it corrects drop out together
            if e.quantity is None and e.value is None:
                continue
            contributions.append(
                Contribution(
                    agent=e.agent,
                    kind=e.action,
                    quantity=e.quantity or Decimal(0),
                    value=e.value or Decimal(0),
                    hours=_hours(e),
                    rate=rates.get(e.agent, Decimal(0)),
                    id=str(e.seq),
                    counted=last_allocation is not None and e.seq < last_allocation,
                )
            )
    if len(currencies) > 1:
        raise DistributionError(
            f"opportunity {opportunity}: income in several currencies "
            f"({', '.join(sorted(currencies))}); record each opportunity's income in one"
        )
    currency = next(iter(currencies), None)
    return Pending(
        opportunity,
        income,
        allocated,
        currency,
        tuple(contributions),
        received,
        leavers,
        last_allocation,
    )


@dataclass(frozen=True)
class Levels:
    """The equations that apply to one opportunity, one per level."""

    opportunity: ValueEquation
    network: ValueEquation | None = None
    organisations: Mapping[str, ValueEquation] = field(default_factory=dict)

    def member_of(self) -> dict[str, str]:
        """Person -> the organisation whose equation counts them as a member."""
        found: dict[str, str] = {}
        for org, eq in sorted(self.organisations.items()):
            for person in eq.members:
                if person in found:
                    raise DistributionError(
                        f"{person} is a member in the equations of both {found[person]} and "
                        f"{org}: a person's contribution counts for one organisation"
                    )
                found[person] = org
        return found


@dataclass(frozen=True)
class Allocation:
    """An income split across the levels: each level's distribution, the final
    amounts per recipient, and those amounts per kind of contribution."""

    income: Decimal
    levels: tuple[tuple[str, Distribution], ...]
    amounts: dict[str, Decimal]
    by_kind: dict[tuple[str, str | None], Decimal]
    uncredited: tuple[Contribution, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "income": str(self.income),
            "amounts": {a: str(v) for a, v in sorted(self.amounts.items())},
            "levels": [{"level": name, **d.to_json()} for name, d in self.levels],
            "uncredited": [{"id": c.id, "agent": c.agent, "kind": c.kind} for c in self.uncredited],
        }


def _credited(
    equation: ValueEquation, items: Sequence[Contribution]
) -> tuple[list[Contribution], list[Contribution]]:
    kinds = set(equation.compiled())
    return [c for c in items if c.kind in kinds], [c for c in items if c.kind not in kinds]


def _only(mapping: Mapping[str, Any], agents: Iterable[str]) -> dict[str, Any]:
    wanted = set(agents)
    return {a: v for a, v in mapping.items() if a in wanted}


def allocate(
    income: Decimal | int | str,
    levels: Levels,
    contributions: Iterable[Contribution],
    *,
    require_consent: bool = True,
    received: Mapping[tuple[str, str], Decimal] | None = None,
    adjustments: Mapping[str, Decimal] | None = None,
    leavers: Mapping[str, bool] | None = None,
) -> Allocation:
    """Split ``income`` across the levels (network, opportunity, organisations).

    Contributions of kinds an equation has no formula for are not credited by
    it, and are listed as such. Peer adjustments and leavers apply at the
    level where the person is a recipient.

    >>> team = ValueEquation(name="team", buckets=[{"name": "all", "percent": 100}],
    ...                      formulas={"work": "hours"})
    >>> net = ValueEquation(name="net", buckets=[
    ...     {"name": "fund", "percent": 10, "of": "straight", "to": "fund"},
    ...     {"name": "rest", "percent": 100, "to": "opportunity"}], formulas={})
    >>> work = [Contribution("ann", "work", hours=Decimal(1)),
    ...         Contribution("bob", "work", hours=Decimal(2))]
    >>> allocate("90", Levels(team, net), work, require_consent=False).amounts
    {'ann': Decimal('27.00'), 'bob': Decimal('54.00'), 'fund': Decimal('9.00')}
    """
    amount = Decimal(str(income))
    items = list(contributions)
    got = dict(received or {})
    adjust = dict(adjustments or {})
    left = dict(leavers or {})
    member_of = levels.member_of()
    results: list[tuple[str, Distribution]] = []
    finals: list[Distribution] = []
    unused: list[Contribution] = []
    opp_amount = amount
    if levels.network is not None:
        net = levels.network
        if any(b.to is None for b in net.effective_buckets()):
            raise DistributionError(
                f"network equation {net.name}: every bucket has a fixed recipient (a fund, or "
                f"{OPPORTUNITY!r} for the opportunity's own equation)"
            )
        top = distribute(amount, net, [], require_consent=require_consent, besides=[OPPORTUNITY])
        results.append(("network", top))
        opp_amount = top.amounts().get(OPPORTUNITY, Decimal(0))
        kept = tuple(s for s in top.shares if s.agent != OPPORTUNITY)
        finals.append(replace(top, shares=kept))
    opp_eq = levels.opportunity
    as_org = (
        [replace(c, agent=member_of[c.agent]) if c.agent in member_of else c for c in items]
        if member_of
        else items
    )
    credited, skipped = _credited(opp_eq, as_org)
    unused += skipped
    org_got: dict[tuple[str, str], Decimal] = {}
    for (agent, kind), value in got.items():
        key = (member_of.get(agent, agent), kind)
        org_got[key] = org_got.get(key, Decimal(0)) + value
    present = {c.agent for c in credited}
    middle = distribute(
        opp_amount,
        opp_eq,
        credited,
        require_consent=require_consent,
        received=org_got,
        adjustments=_only(adjust, present),
        leavers=_only(left, present),
    )
    results.append(("opportunity", middle))
    passed_down = {s.agent: s.amount for s in middle.shares if s.agent in levels.organisations}
    finals.append(
        replace(middle, shares=tuple(s for s in middle.shares if s.agent not in passed_down))
    )
    for org, org_amount in sorted(passed_down.items()):
        eq = levels.organisations[org]
        people = [c for c in items if member_of.get(c.agent) == org]
        mine, skipped = _credited(eq, people)
        unused += skipped
        names = {c.agent for c in mine}
        below = distribute(
            org_amount,
            eq,
            mine,
            require_consent=require_consent,
            received={k: v for k, v in got.items() if k[0] in names},
            adjustments=_only(adjust, names),
            leavers=_only(left, names),
        )
        results.append((f"organisation {org}", below))
        finals.append(below)
    everyone = set(member_of) | {c.agent for c in items}
    strangers = sorted(a for a in adjust if a not in everyone)
    if strangers:
        raise DistributionError(
            f"peer adjustment for {', '.join(strangers)}: no contribution of theirs is shared here"
        )
    amounts: dict[str, Decimal] = {}
    by_kind: dict[tuple[str, str | None], Decimal] = {}
    for d in finals:
        for s in d.shares:
            amounts[s.agent] = amounts.get(s.agent, Decimal(0)) + s.amount
            for label, value in s.by_kind(d.unit).items():
                slot = (s.agent, label)
                by_kind[slot] = by_kind.get(slot, Decimal(0)) + value
    amounts = {a: v for a, v in sorted(amounts.items()) if v}
    return Allocation(amount, tuple(results), amounts, by_kind, tuple(unused))
