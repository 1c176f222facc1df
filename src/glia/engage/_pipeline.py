"""The opportunity's pipeline: one conductor moves it from lead to reviewed.

The stages and transitions are a python-statemachine machine whose state is
the opportunity's ``stage`` (the store keeps it in the opportunity's row).
The guards say *why* a transition is refused, in words a person can act on:
:func:`refusal` returns that reason, or None, and :func:`advance` raises
:class:`Refused` with it before the machine is asked, so a refused transition
changes nothing.

Stages, in order: lead, qualified, swarming, agreed, delivering, delivered,
accepted, paid, reviewed; an opportunity may be ``lost`` before it is agreed,
and ``cancelled`` at any stage before it is paid. ``reviewed``, ``lost`` and
``cancelled`` are final.

Guards:

- ``agreed`` needs an agreement whose latest version every party consented to
  (its value equation included);
- ``paid`` needs income recorded in the ledger for the opportunity;
- ``accepted`` needs the client's satisfaction record.

A stage written in an imported file that is not one of these (a CRM's
``proposal`` or ``won``) is read as ``lead`` until the first transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

__all__ = [
    "FINAL",
    "STAGES",
    "Facts",
    "Pipeline",
    "Refused",
    "advance",
    "next_stages",
    "refusal",
    "stage_of",
]

#: The stages of the pipeline, in order, then the two ways out.
STAGES = (
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
)

#: Stages an opportunity never leaves.
FINAL = ("reviewed", "lost", "cancelled")


class Refused(ValueError):
    """A transition (or an operation) that is not allowed now, and why; nothing changed."""


class Pipeline(StateMachine):
    """The pipeline of one opportunity (python-statemachine).

    Transitions are named after the stage they reach, so ``advance("agreed")``
    is the ``agreed`` event here.
    """

    lead = State(initial=True)
    qualified = State()
    swarming = State()
    agreed = State()
    delivering = State()
    delivered = State()
    accepted = State()
    paid = State()
    reviewed = State(final=True)
    lost = State(final=True)
    cancelled = State(final=True)

    to_qualified = lead.to(qualified)
    to_swarming = qualified.to(swarming)
    to_agreed = swarming.to(agreed)
    to_delivering = agreed.to(delivering)
    to_delivered = delivering.to(delivered)
    to_accepted = delivered.to(accepted)
    to_paid = accepted.to(paid)
    to_reviewed = paid.to(reviewed)
    to_lost = lead.to(lost) | qualified.to(lost) | swarming.to(lost)
    to_cancelled = (
        lead.to(cancelled)
        | qualified.to(cancelled)
        | swarming.to(cancelled)
        | agreed.to(cancelled)
        | delivering.to(cancelled)
        | delivered.to(cancelled)
        | accepted.to(cancelled)
    )


def stage_of(stored: str | None) -> str:
    """The pipeline stage of a stored ``stage`` (unknown or missing: ``lead``)."""
    return stored if stored in STAGES else "lead"


def next_stages(stage: str) -> list[str]:
    """The stages reachable from ``stage`` in one transition, in pipeline order."""
    machine = Pipeline(start_value=stage_of(stage))
    names = {e.id.removeprefix("to_") for e in machine.allowed_events}
    return [s for s in STAGES if s in names]


@dataclass(frozen=True)
class Facts:
    """What the guards look at, read from the store for one opportunity.

    ``waiting_for``: the parties who have not consented to the latest version
    of the agreement (None when there is no agreement); ``income``: money
    received for it in the ledger; ``satisfaction``: whether the client's
    satisfaction was recorded.
    """

    waiting_for: tuple[str, ...] | None = None
    income: Decimal = Decimal(0)
    satisfaction: bool = False
    agreement_version: int | None = None


def refusal(opportunity: str, stage: str, target: str, facts: Facts) -> str | None:
    """Why ``opportunity`` cannot go from ``stage`` to ``target`` now, or None."""
    current = stage_of(stage)
    if target not in STAGES:
        return f"{target!r} is not a stage; the stages are {', '.join(STAGES)}"
    if current in FINAL:
        return f"{opportunity} is {current}, a final stage: nothing follows it"
    reachable = next_stages(current)
    if target not in reachable:
        return (
            f"{opportunity} is {current}; from {current} it can go to "
            f"{', '.join(reachable)}, not {target}"
        )
    if target == "agreed":
        if facts.waiting_for is None:
            return (
                f"{opportunity} has no agreement yet: draft one (glia agreement draft) "
                "and have every party consent"
            )
        if facts.waiting_for:
            return (
                f"agreed needs every party's consent to version {facts.agreement_version} "
                f"of the agreement; still waiting for {', '.join(facts.waiting_for)}"
            )
    if target == "accepted" and not facts.satisfaction:
        return (
            f"accepted needs the client's satisfaction record for {opportunity} "
            "(glia opportunity satisfaction)"
        )
    if target == "paid" and facts.income <= 0:
        return (
            f"paid needs an income event for {opportunity} in the ledger "
            "(glia ledger record income ...)"
        )
    return None


def advance(opportunity: str, stage: str, target: str, facts: Facts) -> str:
    """The stage after the transition to ``target``; raises :class:`Refused` with the reason.

    >>> advance("o1", "lead", "qualified", Facts())
    'qualified'
    >>> waiting = Facts(waiting_for=("ana",), agreement_version=1)
    >>> advance("o1", "swarming", "agreed", waiting)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glia.engage._pipeline.Refused: agreed needs every party's consent ... waiting for ana
    """
    reason = refusal(opportunity, stage, target, facts)
    if reason is not None:
        raise Refused(reason)
    machine = Pipeline(start_value=stage_of(stage))
    try:
        machine.send(f"to_{target}")
    except TransitionNotAllowed as exc:  # the guards above should have said why
        raise Refused(f"{opportunity}: {exc}") from None
    return str(machine.current_state_value)
