"""The facts governance looks at: a plain view of the network, built by the store.

Principles are checked, and the review pack is put together, from this view
and nothing else, so both can be tested without a database: a test writes the
view by hand. :func:`glia.store.Store.check_principles` and
:func:`glia.store.Store.review` build it with bulk reads.

Participants, opportunities and clusters are named by their ids (slugs), as
in the ledger and the engagement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "CommitmentView",
    "GovernView",
    "LedgerView",
    "OpportunityView",
    "TransitionView",
    "Work",
]


@dataclass(frozen=True)
class OpportunityView:
    """An opportunity: its client, pipeline stage, swarm, and when its agreement was complete.

    ``team``: the swarm picked for it (the store's ``team_member`` rows).
    ``agreed_at``: the earliest moment at which some version of its agreement
    had the consent of every party (the last of those consents), or None when
    no version ever had.
    """

    id: str
    client: str
    stage: str = "lead"
    team: tuple[str, ...] = ()
    agreed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Work:
    """Hours of one ``work`` event of the ledger (reversed events and their
    reversals are left out, so a correction takes the work back out)."""

    seq: int
    agent: str
    opportunity: str | None
    hours: float
    at: dt.datetime


@dataclass(frozen=True)
class CommitmentView:
    """A commitment: who owes whom, for which opportunity, its state and weekly hours."""

    number: int
    debtor: str
    creditor: str
    opportunity: str | None
    state: str
    hours_per_week: float = 0.0


@dataclass(frozen=True)
class TransitionView:
    """A step of an opportunity's pipeline, as recorded."""

    opportunity: str
    source: str
    target: str
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class LedgerView:
    """The ledger in figures: events by action, money, and the chain's state.

    ``income``: the value of ``income`` events (net of reversals); ``allocated``
    and ``paid``: of ``allocation`` and ``payout`` events. ``contributed``:
    each participant's contributions credited in money (see
    :func:`glia.govern.credited_value`); ``uncredited``: contribution events
    with no money value (an intangible help without a value, a referral), not
    counted there; ``shares``: each participant's allocations.
    """

    events: int = 0
    last_seq: int = 0
    by_action: Mapping[str, int] = field(default_factory=dict)
    currency: str | None = None
    income: Decimal = Decimal(0)
    allocated: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    intact: bool = True
    broken: str | None = None
    contributed: Mapping[str, Decimal] = field(default_factory=dict)
    uncredited: int = 0
    shares: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class GovernView:
    """Everything the checks and the review pack need, as plain data.

    ``clusters``: the clusters each participant belongs to (at least the
    clients and team members); ``cluster_kinds``: each cluster's kind;
    ``transitions``: pipeline steps since the last review (all of them before
    the first); ``last_step``: the number (store id) of the last pipeline step
    recorded, kept with a review so that the next lists the steps after it.
    """

    ecosystem: str
    opportunities: tuple[OpportunityView, ...] = ()
    clusters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cluster_kinds: Mapping[str, str] = field(default_factory=dict)
    work: tuple[Work, ...] = ()
    commitments: tuple[CommitmentView, ...] = ()
    ledger: LedgerView = field(default_factory=LedgerView)
    transitions: tuple[TransitionView, ...] = ()
    last_step: int = 0
