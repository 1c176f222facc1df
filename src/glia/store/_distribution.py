"""Distribution, preview and statements, read from the ledger and the stored equations.

:func:`plan` reads one opportunity's events (and the network's ``leave``
events), works out what is still to distribute (:func:`glia.ledger.pending`)
and splits it across the levels (:func:`glia.ledger.allocate`) under the
newest version of each level's equation that everyone it concerns has
agreed to. When the newest version still waits for someone's consent, the
version before it applies, and the plan says so; when no version is agreed,
the distribution is refused. :func:`record_distribution` appends the result
to the ledger as ``allocation`` events (one per recipient and kind of
contribution, the kind in ``unit``), so every distribution is itself in the
hash chain, and the next one shares only income received since.

Statements (:func:`statement`, :func:`transparency`) sum the ledger exactly,
in :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from ..ledger import (
    Allocation,
    DistributionError,
    Event,
    Levels,
    NotAgreed,
    Pending,
    ValueEquation,
    allocate,
    pending,
)
from ._equations import Found, StoredEquation, equations_for
from ._ledger import _EVENT_COLUMNS, NewEvent, _event, check, read_events, record
from ._reader import ecosystem_id
from ._tables import ecosystem, ledger_event, participant

__all__ = [
    "Plan",
    "Preview",
    "Statement",
    "Transparency",
    "check_currency",
    "plan",
    "plan_from",
    "preview",
    "record_distribution",
    "statement",
    "transparency",
]


@dataclass(frozen=True)
class Plan:
    """What distributing an opportunity now would do, and under which equations."""

    ecosystem: str
    opportunity: str
    pending: Pending
    currency: str | None
    allocation: Allocation | None
    equations: tuple[StoredEquation, ...]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "opportunity": self.opportunity,
            "income": str(self.pending.income),
            "allocated_before": str(self.pending.allocated),
            "to_distribute": str(self.pending.to_distribute),
            "currency": self.currency,
            "equations": [e.label() for e in self.equations],
            "notes": list(self.notes),
            "allocation": None if self.allocation is None else self.allocation.to_json(),
        }


def _rates(conn: Connection, eco: int) -> dict[str, Decimal]:
    rows = conn.execute(
        select(participant.c.slug, participant.c.rate_per_hour).where(
            participant.c.ecosystem_id == eco, participant.c.rate_per_hour.is_not(None)
        )
    )
    return {slug: rate for slug, rate in rows}


def _events(conn: Connection, name: str, opportunity: str) -> list[Event]:
    """The opportunity's events and the network's ``leave`` events, in seq order."""
    own = read_events(conn, name, opportunity)
    eco = ecosystem_id(conn, name)
    leaves = conn.execute(
        select(*_EVENT_COLUMNS).where(
            ledger_event.c.ecosystem_id == eco,
            ledger_event.c.opportunity.is_(None),
            ledger_event.c.action.in_(("leave", "leaveAtFault")),
        )
    )
    network = [_event(row, name) for row in leaves]
    return sorted([*own, *network], key=lambda e: e.seq)


def _eco_currency(conn: Connection, name: str) -> str | None:
    return conn.execute(select(ecosystem.c.currency).where(ecosystem.c.name == name)).scalar()


def _allocate_agreed(
    name: str,
    opportunity: str,
    amount: Decimal,
    found: Found,
    state: Pending,
    adjustments: Mapping[str, Decimal],
    override: ValueEquation | None,
) -> tuple[Allocation, tuple[StoredEquation, ...], tuple[str, ...]]:
    """Allocate under the newest agreed version of each level (see the module's notes)."""
    network, own, orgs = found
    if override is None and not own:
        raise DistributionError(
            f"no value equation for opportunity {opportunity} in {name} (nor one for every "
            f"opportunity): add one with glia equation add {name} FILE --opportunity "
            f"{opportunity}"
        )
    choice: dict[str, int] = {"network": 0, "opportunity": 0, **{o: 0 for o in orgs}}
    notes: list[str] = []
    while True:
        chosen_net = network[choice["network"]] if network else None
        chosen_own = own[choice["opportunity"]] if own else None
        chosen_orgs = {o: vs[choice[o]] for o, vs in orgs.items()}
        opp_eq = override if override is not None else chosen_own.equation  # type: ignore[union-attr]
        levels = Levels(
            opp_eq,
            None if chosen_net is None else chosen_net.equation,
            {o: s.equation for o, s in chosen_orgs.items()},
        )
        try:
            result = allocate(
                amount,
                levels,
                state.contributions,
                require_consent=override is None,
                received=state.received,
                adjustments=adjustments,
                leavers=state.leavers,
            )
        except NotAgreed as exc:
            slots: list[tuple[str, list[StoredEquation]]] = [
                ("network", network),
                ("opportunity", own),
                *orgs.items(),
            ]
            for key, versions in slots:
                if versions and versions[choice[key]].equation is exc.equation:
                    stored = versions[choice[key]]
                    if choice[key] + 1 >= len(versions):
                        older = (
                            " (no earlier version is agreed either)" if len(versions) > 1 else ""
                        )
                        raise DistributionError(
                            f"{stored.label()} is not agreed: waiting for the consent of "
                            f"{', '.join(exc.waiting)}{older}"
                        ) from None
                    choice[key] += 1
                    notes.append(
                        f"{stored.label()} waits for the consent of {', '.join(exc.waiting)}; "
                        f"version {versions[choice[key]].equation.version} applies"
                    )
                    break
            else:  # pragma: no cover - every equation allocated comes from a slot
                raise
            continue
        used = [s for s in (chosen_net, None if override else chosen_own) if s is not None]
        used += [chosen_orgs[o] for o in sorted(chosen_orgs)]
        return result, tuple(used), tuple(notes)


def check_currency(
    opportunity: str,
    currency: str | None,
    found: Found,
) -> None:
    """Refuse income in another currency than the newest network and opportunity equations'."""
    named = {s.equation.currency for v in (found[0], found[1]) for s in v[:1]}
    named.discard(None)
    if currency and named and named != {currency}:
        raise DistributionError(
            f"opportunity {opportunity}: income in {currency}, equation in "
            f"{', '.join(sorted(c for c in named if c))}"
        )


def plan_from(
    name: str,
    state: Pending,
    found: Found,
    default_currency: str | None,
    adjustments: Mapping[str, Decimal] | None = None,
) -> Plan:
    """The plan for what ``state`` says is to distribute, under the ``found`` equations."""
    opportunity = state.opportunity
    currency = state.currency or default_currency
    amount = state.to_distribute
    if amount < 0:
        raise DistributionError(
            f"opportunity {opportunity}: {-amount} more was allocated than received "
            f"(income {state.income}, allocated {state.allocated}); an income was reversed "
            "after it was distributed"
        )
    if amount == 0:
        return Plan(name, opportunity, state, currency, None, ())
    check_currency(opportunity, currency, found)
    allocation, used, notes = _allocate_agreed(
        name, opportunity, amount, found, state, adjustments or {}, None
    )
    return Plan(name, opportunity, state, currency, allocation, used, notes)


def plan(
    conn: Connection,
    name: str,
    opportunity: str,
    *,
    adjustments: Mapping[str, Decimal] | None = None,
) -> Plan:
    """What distributing ``opportunity`` now would allocate (nothing is written)."""
    eco = ecosystem_id(conn, name)
    state = pending(_events(conn, name, opportunity), opportunity, _rates(conn, eco))
    found = equations_for(conn, name, opportunity)
    return plan_from(name, state, found, _eco_currency(conn, name), adjustments)


def record_distribution(
    conn: Connection,
    name: str,
    opportunity: str,
    recorded_by: str,
    *,
    adjustments: Mapping[str, Decimal] | None = None,
    at: dt.datetime | None = None,
) -> tuple[Plan, list[Event]]:
    """Distribute what ``opportunity`` has received and not yet shared: append one
    ``allocation`` event per recipient and kind. All or nothing."""
    result = plan(conn, name, opportunity, adjustments=adjustments)
    if result.allocation is None:
        raise DistributionError(
            f"nothing to distribute for {opportunity}: income received "
            f"{result.pending.income}, already allocated {result.pending.allocated}"
        )
    labels = ", ".join(e.label() for e in result.equations)
    adjusted = ""
    if adjustments:
        adjusted = "; peer adjustments " + ", ".join(
            f"{a} {p:+}%" for a, p in sorted(adjustments.items())
        )
    when = at or dt.datetime.now(dt.UTC)
    events = [
        NewEvent(
            action="allocation",
            agent=agent,
            recorded_by=recorded_by,
            opportunity=opportunity,
            value=value,
            currency=result.currency,
            unit=kind,
            note=f"share of {result.allocation.income} under {labels}{adjusted}",
            recorded_at=when,
        )
        for (agent, kind), value in sorted(
            result.allocation.by_kind.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        )
        if value
    ]
    return result, record(conn, name, events)


@dataclass(frozen=True)
class Preview:
    """Per participant, the share of the income received so far under the agreed
    equation and under another, as if split today in one distribution."""

    opportunity: str
    income: Decimal
    agreed: Allocation
    other: Allocation
    equations: tuple[StoredEquation, ...]
    notes: tuple[str, ...]

    def changes(self) -> list[tuple[str, Decimal, Decimal]]:
        agents = sorted(set(self.agreed.amounts) | set(self.other.amounts))
        zero = Decimal("0.00")
        return [
            (a, self.agreed.amounts.get(a, zero), self.other.amounts.get(a, zero)) for a in agents
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "opportunity": self.opportunity,
            "income": str(self.income),
            "agreed": [e.label() for e in self.equations],
            "notes": list(self.notes),
            "changes": [
                {"agent": a, "agreed": str(x), "other": str(y), "delta": str(y - x)}
                for a, x, y in self.changes()
            ],
        }


def preview(
    conn: Connection,
    name: str,
    opportunity: str,
    other: ValueEquation,
    *,
    adjustments: Mapping[str, Decimal] | None = None,
) -> Preview:
    """What each participant would get under ``other`` instead of the agreed equation
    of the opportunity (``other`` needs no consent: that is the point)."""
    eco = ecosystem_id(conn, name)
    state = pending(_events(conn, name, opportunity), opportunity, _rates(conn, eco))
    if state.income <= 0:
        raise DistributionError(f"no income recorded for {opportunity} to preview a split of")
    fresh = replace(
        state,
        allocated=Decimal(0),
        received={},
        contributions=tuple(replace(c, counted=False) for c in state.contributions),
    )
    found = equations_for(conn, name, opportunity)
    agreed, used, notes = _allocate_agreed(
        name, opportunity, state.income, found, fresh, adjustments or {}, None
    )
    then, _, _ = _allocate_agreed(
        name, opportunity, state.income, found, fresh, adjustments or {}, other
    )
    return Preview(opportunity, state.income, agreed, then, used, notes)


# -- statements --------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """One participant's account: contributions, allocations (claims settled in
    money), payouts, and the balance still owed to them."""

    ecosystem: str
    participant: str
    contributions: tuple[Event, ...]
    allocated: dict[str, Decimal]  # per opportunity
    payouts: tuple[Event, ...]
    currency: str | None = None
    by_action: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)

    @property
    def total_allocated(self) -> Decimal:
        return sum(self.allocated.values(), Decimal(0))

    @property
    def total_paid(self) -> Decimal:
        return sum((e.value or Decimal(0) for e in self.payouts), Decimal(0))

    @property
    def balance(self) -> Decimal:
        return self.total_allocated - self.total_paid

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "participant": self.participant,
            "currency": self.currency,
            "contributions": {
                a: {"events": n, "quantity": str(q), "value": str(v)}
                for a, (n, q, v) in sorted(self.by_action.items())
            },
            "allocated": {o: str(v) for o, v in sorted(self.allocated.items())},
            "total_allocated": str(self.total_allocated),
            "paid": str(self.total_paid),
            "balance": str(self.balance),
        }


_NOT_CONTRIBUTIONS = frozenset({"income", "allocation", "payout", "leave", "leaveAtFault"})


def statement(conn: Connection, name: str, who: str) -> Statement:
    """The account of participant ``who`` in the ledger of ``name``."""
    eco = ecosystem_id(conn, name)
    mine = [e for e in read_events(conn, name) if e.agent == who]
    known = conn.execute(
        select(participant.c.slug).where(
            participant.c.ecosystem_id == eco, participant.c.slug == who
        )
    ).scalar_one_or_none()
    if known is None and not mine:
        raise DistributionError(f"{who} is neither a participant of {name} nor in its ledger")
    contributions = tuple(e for e in mine if e.action not in _NOT_CONTRIBUTIONS)
    by_action: dict[str, tuple[int, Decimal, Decimal]] = {}
    for e in contributions:  # a reversal takes its event back out of the count
        n, q, v = by_action.get(e.action, (0, Decimal(0), Decimal(0)))
        step = -1 if e.reverses is not None else 1
        by_action[e.action] = (n + step, q + (e.quantity or 0), v + (e.value or 0))
    allocated: dict[str, Decimal] = {}
    for e in mine:
        if e.action == "allocation":
            key = e.opportunity or ""
            allocated[key] = allocated.get(key, Decimal(0)) + (e.value or 0)
    payouts = tuple(e for e in mine if e.action == "payout")
    return Statement(
        name,
        who,
        contributions,
        allocated,
        payouts,
        _eco_currency(conn, name),
        by_action,
    )


@dataclass(frozen=True)
class Transparency:
    """The network's report: every opportunity's income and distribution, every
    participant's account, the equations and who consented, and the chain."""

    ecosystem: str
    events: int
    last_hash: str
    intact: bool
    broken: str | None
    opportunities: dict[str, dict[str, Decimal]]
    participants: dict[str, dict[str, Decimal]]
    equations: tuple[StoredEquation, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "chain": {
                "events": self.events,
                "last_hash": self.last_hash,
                "intact": self.intact,
                "broken": self.broken,
            },
            "opportunities": {
                o: {k: str(v) for k, v in row.items()} for o, row in self.opportunities.items()
            },
            "participants": {
                p: {k: str(v) for k, v in row.items()} for p, row in self.participants.items()
            },
            "equations": [
                {
                    "equation": e.label(),
                    "level": e.level,
                    "subject": e.subject,
                    "version": e.equation.version,
                    "consents": {p: d.isoformat() for p, d in sorted(e.equation.consents.items())},
                }
                for e in self.equations
            ],
        }


def transparency(conn: Connection, name: str) -> Transparency:
    """Everything, for everyone who may see it (see the module's notes)."""
    from ._equations import equations

    chain_state = check(conn, name)
    opportunities: dict[str, dict[str, Decimal]] = {}
    people: dict[str, dict[str, Decimal]] = {}
    zero = Decimal(0)
    for e in read_events(conn, name):
        row = people.setdefault(
            e.agent,
            {"contributions": zero, "contributed_value": zero, "allocated": zero, "paid": zero},
        )
        if e.action == "allocation":
            row["allocated"] += e.value or 0
        elif e.action == "payout":
            row["paid"] += e.value or 0
        elif e.action not in ("income", "leave", "leaveAtFault"):
            row["contributions"] += -1 if e.reverses is not None else 1
            row["contributed_value"] += e.value or 0
        if e.opportunity is not None and e.action in ("income", "allocation"):
            opp = opportunities.setdefault(e.opportunity, {"income": zero, "allocated": zero})
            key = "income" if e.action == "income" else "allocated"
            opp[key] += e.value or 0
    for opp in opportunities.values():
        opp["undistributed"] = opp["income"] - opp["allocated"]
    for row in people.values():
        row["balance"] = row["allocated"] - row["paid"]
    people = {p: r for p, r in sorted(people.items()) if any(r.values())}
    return Transparency(
        name,
        chain_state.events,
        chain_state.last_hash,
        chain_state.intact,
        None if chain_state.broken is None else chain_state.broken.message,
        dict(sorted(opportunities.items())),
        people,
        tuple(equations(conn, name)),
    )
