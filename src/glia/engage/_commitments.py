"""Commitments between participants, after Singh: C(debtor, creditor, antecedent, consequent).

A commitment says: if the *antecedent* comes to hold, the *debtor* owes the
*creditor* the *consequent* (by ``due``, when given). Its lifecycle is a
python-statemachine machine; the store keeps the state in the commitment's row
and every operation as an event.

States:

- ``conditional``: created, the antecedent does not hold yet (a commitment
  whose antecedent is ``true`` starts ``detached``);
- ``detached``: the antecedent holds, the debtor now owes the consequent;
- ``discharged``: the consequent was brought about (the creditor records it);
- ``expired``: the antecedent never held before the due date;
- ``violated``: detached and the due date passed without discharge, or
  cancelled by the debtor after it was detached;
- ``cancelled``: withdrawn by the debtor before it was detached;
- ``released``: the creditor let the debtor off.

Operations: create, detach, discharge, violate, expire, cancel, release, and
two that keep the state and change a party: delegate (a new debtor, asked by
the debtor) and assign (a new creditor, asked by the creditor). Who may do
what: cancel and delegate, the debtor; release, assign and discharge, the
creditor; detach, either party; violate and expire, anyone, once the due date
has passed. Each refusal says why and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from statemachine import State, StateMachine

from ._pipeline import Refused

__all__ = [
    "ACTIVE",
    "COMMITMENT_STATES",
    "OPERATIONS",
    "Commitment",
    "CommitmentMachine",
    "apply",
    "create",
]

#: Every state, the active ones first.
COMMITMENT_STATES = (
    "conditional",
    "detached",
    "discharged",
    "expired",
    "violated",
    "cancelled",
    "released",
)
#: States in which a commitment still binds its debtor.
ACTIVE = ("conditional", "detached")
#: Operations on an existing commitment.
OPERATIONS = (
    "detach",
    "discharge",
    "violate",
    "expire",
    "cancel",
    "release",
    "delegate",
    "assign",
)

#: Antecedents that hold from the start.
_TRUE = {"", "true", "none", "-"}


class CommitmentMachine(StateMachine):
    """The lifecycle of one commitment (python-statemachine)."""

    conditional = State(initial=True)
    detached = State()
    discharged = State(final=True)
    expired = State(final=True)
    violated = State(final=True)
    cancelled = State(final=True)
    released = State(final=True)

    detach = conditional.to(detached)
    discharge = conditional.to(discharged) | detached.to(discharged)
    violate = detached.to(violated)
    expire = conditional.to(expired)
    cancel = conditional.to(cancelled) | detached.to(violated)
    release = conditional.to(released) | detached.to(released)
    delegate = conditional.to(conditional, internal=True) | detached.to(detached, internal=True)
    assign = conditional.to(conditional, internal=True) | detached.to(detached, internal=True)


@dataclass(frozen=True)
class Commitment:
    """A commitment as stored; ``number`` is its id within the ecosystem.

    ``hours_per_week`` is the debtor's time it takes while active (the swarm
    reads availability from it); ``value`` and ``currency`` what the
    consequent is worth, when known.
    """

    number: int
    debtor: str
    creditor: str
    antecedent: str
    consequent: str
    state: str = "conditional"
    due: dt.date | None = None
    opportunity: str | None = None
    hours_per_week: float = 0.0
    value: Decimal | None = None
    currency: str | None = None
    agreement_version: int | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def overdue(self, today: dt.date) -> bool:
        """Active and past its due date."""
        return self.active and self.due is not None and self.due < today

    def describe(self) -> str:
        when = f" by {self.due}" if self.due else ""
        cond = "" if self.antecedent.lower() in _TRUE else f" if {self.antecedent}"
        return (
            f"C{self.number} {self.debtor} owes {self.creditor} {self.consequent}{when}{cond} "
            f"[{self.state}]"
        )


def create(
    number: int,
    debtor: str,
    creditor: str,
    antecedent: str,
    consequent: str,
    **details: object,
) -> Commitment:
    """A new commitment: ``detached`` when the antecedent is ``true`` (or empty)."""
    debtor, creditor = debtor.strip(), creditor.strip()
    if not debtor or not creditor:
        raise Refused("a commitment needs a debtor and a creditor")
    if debtor == creditor:
        raise Refused(f"{debtor} cannot owe a commitment to themself")
    if not consequent.strip():
        raise Refused("a commitment needs a consequent: what the debtor brings about")
    hours = details.get("hours_per_week", 0.0)
    if not isinstance(hours, int | float) or hours < 0 or hours > 168:
        raise Refused(f"hours per week {hours!r}: expected a number from 0 to 168")
    state = "detached" if antecedent.strip().lower() in _TRUE else "conditional"
    return Commitment(
        number,
        debtor,
        creditor,
        antecedent.strip() or "true",
        consequent.strip(),
        state,
        **details,  # type: ignore[arg-type]
    )


def _who_may(op: str, c: Commitment) -> tuple[str, ...] | None:
    if op in ("cancel", "delegate"):
        return (c.debtor,)
    if op in ("release", "assign", "discharge"):
        return (c.creditor,)
    if op == "detach":
        return (c.debtor, c.creditor)
    return None


def apply(
    c: Commitment,
    op: str,
    actor: str,
    today: dt.date,
    party: str | None = None,
) -> Commitment:
    """The commitment after ``op`` by ``actor``; raises :class:`Refused` with the reason.

    ``party`` is the new debtor of ``delegate`` or the new creditor of ``assign``.

    >>> c = create(1, "ana", "ben", "ben sends the data", "a cleaned dataset")
    >>> c = apply(c, "detach", "ben", dt.date(2025, 5, 1))
    >>> apply(c, "discharge", "ana", dt.date(2025, 5, 2))
    Traceback (most recent call last):
    ...
    glia.engage._pipeline.Refused: discharge of C1 is for ben (the creditor), not ana
    >>> apply(c, "discharge", "ben", dt.date(2025, 5, 2)).state
    'discharged'
    """
    if op not in OPERATIONS:
        raise Refused(f"{op!r} is not an operation; expected one of {', '.join(OPERATIONS)}")
    allowed = _who_may(op, c)
    if allowed is not None and actor not in allowed:
        whose = {
            "cancel": "the debtor",
            "delegate": "the debtor",
            "release": "the creditor",
            "assign": "the creditor",
            "discharge": "the creditor",
            "detach": "the debtor or the creditor",
        }[op]
        raise Refused(f"{op} of C{c.number} is for {' or '.join(allowed)} ({whose}), not {actor}")
    machine = CommitmentMachine(start_value=c.state)
    if op not in {e.id for e in machine.allowed_events}:
        doable = sorted({e.id for e in machine.allowed_events})
        can = f"; it can be {', '.join(doable)}" if doable else ", a final state"
        raise Refused(f"C{c.number} is {c.state}: it cannot {op}{can}")
    if op in ("violate", "expire") and (c.due is None or c.due >= today):
        due = f"is due {c.due}" if c.due else "has no due date"
        raise Refused(f"C{c.number} {due}: it can {op} only once its due date has passed")
    changes: dict[str, object] = {}
    if op in ("delegate", "assign"):
        new = (party or "").strip()
        role = "debtor" if op == "delegate" else "creditor"
        if not new:
            raise Refused(f"{op} needs the new {role}")
        other = c.creditor if op == "delegate" else c.debtor
        if new == other:
            raise Refused(f"{op} of C{c.number}: {new} cannot owe a commitment to themself")
        if new == (c.debtor if op == "delegate" else c.creditor):
            raise Refused(f"{op} of C{c.number}: {new} is already its {role}")
        changes[role] = new
    machine.send(op)
    return replace(c, state=str(machine.current_state_value), **changes)  # type: ignore[arg-type]
