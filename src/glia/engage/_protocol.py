"""Protocol templates: the choreography of a common exchange between two participants.

A conversation follows a template: which message may come after which, and
who sends it (the ``requester`` or the ``provider``). A message out of order,
or from the wrong side, is refused with the messages that would be accepted
now. Messages act on the commitment the conversation makes:

- ``offer`` creates C(provider, requester, "requester accepts", subject);
- ``accept`` detaches it; ``reject`` releases it (the creditor lets it go);
- ``deliver`` is the provider's word that the subject was delivered;
- ``acknowledge`` is the requester's receipt, which discharges it.

Templates are data, not a state-machine class each: a table of steps is what
a user would write to add their own, and the refusal lists the next steps
straight from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._pipeline import Refused

__all__ = ["TEMPLATES", "Step", "Template", "next_messages", "step"]


@dataclass(frozen=True)
class Step:
    """A message: who sends it, what may come before it, what it does to the commitment."""

    message: str
    sender: str  # "requester" or "provider"
    after: tuple[str, ...]  # "" is the start of the conversation
    effect: str | None = None  # create, detach, release, discharge
    final: bool = False


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    steps: tuple[Step, ...]

    def step(self, message: str) -> Step | None:
        return next((s for s in self.steps if s.message == message), None)


_AFTER_OFFER = (
    Step("accept", "requester", ("offer",), "detach"),
    Step("reject", "requester", ("offer",), "release", final=True),
    Step("deliver", "provider", ("accept",)),
    Step("acknowledge", "requester", ("deliver",), "discharge", final=True),
)

#: The templates Glia knows, by name.
TEMPLATES: dict[str, Template] = {
    "request": Template(
        "request",
        "request, offer (or decline), accept (or reject), deliver, acknowledge",
        (
            Step("request", "requester", ("",)),
            Step("decline", "provider", ("request",), final=True),
            Step("offer", "provider", ("request",), "create"),
            *_AFTER_OFFER,
        ),
    ),
    "offer": Template(
        "offer",
        "offer, accept (or reject), deliver, acknowledge",
        (Step("offer", "provider", ("",), "create"), *_AFTER_OFFER),
    ),
}


def next_messages(template: Template, last: str) -> list[str]:
    """The messages that may follow ``last`` ("" at the start)."""
    return [s.message for s in template.steps if last in s.after]


def step(template: Template, last: str, message: str, sender_side: str) -> Step:
    """The step of ``message`` after ``last``, sent by ``sender_side``; raises
    :class:`Refused` when it is out of order or from the wrong side.

    >>> t = TEMPLATES["request"]
    >>> step(t, "request", "offer", "provider").effect
    'create'
    >>> step(t, "request", "accept", "requester")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glia.engage._pipeline.Refused: accept is out of order ...: after request comes decline or offer
    """
    found = template.step(message)
    expected = next_messages(template, last)
    if found is None:
        known = ", ".join(s.message for s in template.steps)
        raise Refused(f"{message!r} is not a message of the {template.name} template ({known})")
    if last not in found.after:
        if not expected:
            raise Refused(
                f"{message} is out of order: the {template.name} conversation ended with {last}"
            )
        where = f"after {last}" if last else "first"
        raise Refused(
            f"{message} is out of order in a {template.name} conversation: "
            f"{where} comes {' or '.join(expected)}"
        )
    if found.sender != sender_side:
        raise Refused(f"{message} is sent by the {found.sender}, not the {sender_side}")
    return found
