"""Closing the loop: what an engagement teaches the map.

When an opportunity is reviewed, three things flow back into the ecosystem:

1. **Ties.** Each commitment that was kept (discharged) strengthens the
   informal ``collaboration`` tie between its debtor and its creditor. The rule
   is saturating reinforcement: with ``k`` commitments kept between a pair in
   the engagement, a weight ``w`` (0 when there was no tie) becomes
   ``1 - (1 - w) * (1 - RATE) ** k``, with ``RATE`` = 0.25. It never exceeds 1,
   never falls, and the first kept promise between strangers makes a tie of
   0.25. Broken promises do not weaken ties here: one engagement is too little
   evidence, and the review pack shows them instead.
2. **Planned against actual.** Every promise of the agreement is a planned
   exchange (debtor to creditor, the consequent as deliverable, its value);
   the commitments kept are the actual ones; the client's payment is planned at
   the agreed budget and actual at the income received; the allocations of the
   ledger are actual exchanges from the client's payment to each member.
3. **Satisfaction.** The client's score (0 to 10) is attached to the
   opportunity and becomes the perceived value (score - 5, so -5..+5 as in the
   map's exchanges) of the actual deliveries to the client.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ._commitments import Commitment

__all__ = ["RATE", "Flow", "kept_pairs", "perceived_value", "planned_against_actual", "strengthen"]

#: How much of the distance to a full tie one kept commitment closes.
RATE = 0.25


def strengthen(weight: float | None, kept: int, rate: float = RATE) -> float:
    """The tie's weight after ``kept`` commitments kept between its ends.

    >>> strengthen(None, 1)
    0.25
    >>> round(strengthen(0.5, 2), 4)
    0.7188
    """
    w = 0.0 if weight is None else weight
    return round(1.0 - (1.0 - w) * (1.0 - rate) ** kept, 6)


def kept_pairs(commitments: Iterable[Commitment]) -> Counter[tuple[str, str]]:
    """Discharged commitments per unordered pair of participants (sorted ids)."""
    pairs: Counter[tuple[str, str]] = Counter()
    for c in commitments:
        if c.state == "discharged":
            a, b = sorted((c.debtor, c.creditor))
            pairs[(a, b)] += 1
    return pairs


def perceived_value(score: int) -> int:
    """A satisfaction score (0-10) as a perceived value (-5..+5).

    >>> perceived_value(9), perceived_value(5), perceived_value(0)
    (4, 0, -5)
    """
    if not 0 <= score <= 10:
        raise ValueError(f"satisfaction {score}: expected 0 to 10")
    return score - 5


@dataclass(frozen=True)
class Flow:
    """One line of planned against actual: a deliverable from ``source`` to ``target``.

    ``status``: ``kept`` (planned and happened), ``broken`` (planned, violated,
    expired or cancelled), ``open`` (planned, still active), ``released``, or
    ``unplanned`` (happened without a plan).
    """

    source: str
    target: str
    deliverable: str
    kind: str  # the exchange type: service or money
    planned: Decimal | None
    actual: Decimal | None
    status: str
    commitment: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "from": self.source,
            "to": self.target,
            "deliverable": self.deliverable,
            "type": self.kind,
            "planned": None if self.planned is None else str(self.planned),
            "actual": None if self.actual is None else str(self.actual),
            "status": self.status,
            "commitment": self.commitment,
        }


_STATUS = {
    "discharged": "kept",
    "violated": "broken",
    "expired": "broken",
    "cancelled": "broken",
    "released": "released",
    "conditional": "open",
    "detached": "open",
}


def planned_against_actual(
    commitments: Sequence[Commitment],
    client: str,
    budget: Decimal | None,
    income: Decimal,
    allocations: Iterable[tuple[str, Decimal]],
) -> list[Flow]:
    """The engagement's flows: each commitment, the client's payment, the allocations.

    ``allocations``: (participant, amount) from the ledger's allocation events.
    """
    flows = []
    for c in commitments:
        status = _STATUS[c.state]
        actual = c.value if c.state == "discharged" else None
        flows.append(
            Flow(c.debtor, c.creditor, c.consequent, "service", c.value, actual, status, c.number)
        )
    paid = "kept" if budget is not None and income >= budget else "open"
    if budget is None:
        paid = "unplanned" if income > 0 else "open"
    flows.append(
        Flow(client, "swarm", "payment", "money", budget, income if income else None, paid)
    )
    for who, amount in sorted(allocations):
        flows.append(Flow(client, who, "share of income", "money", None, amount, "unplanned"))
    return flows
